/**
 * A real browser for the dashboard's tests: Debian's chromium (/usr/bin/chromium, which
 * .ci/run installs), driven by playwright-core, headless, in a fresh profile directory, with
 * everything that would reach out to the network off (this machine has none to reach).
 *
 * Waits are conditions polled with generous deadlines (test/support/eventually.ts); nothing
 * asserts speed.
 * `screenshot` renders a view to a PNG: into docs/screenshots/ (which docs/UI.md shows) when
 * ENGRAM_UI_SCREENSHOTS=1, otherwise into a temporary directory, so a test run leaves the
 * checkout as it found it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { eventually } from '../support/eventually.ts'

export const CHROMIUM = '/usr/bin/chromium'
export const SCREENSHOTS = process.env.ENGRAM_UI_SCREENSHOTS === '1'
  ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
  : join(tmpdir(), 'engram-ui-screenshots')

/** Chromium's switches here: headless-friendly, and nothing that reaches out to the network. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']

export interface Browser {
  readonly context: BrowserContext
  /** A new tab at `url`; console errors and page errors are collected in `errors`. */
  open (url: string): Promise<Page>
  /** Errors the pages logged (console errors, uncaught exceptions). */
  readonly errors: string[]
  close (): Promise<void>
}

export async function launch (): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'engram-chromium-'))
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 860 }, timeout: 120_000
    })
  } catch (e) {
    rmSync(profile, { recursive: true, force: true })
    throw new Error(`cannot start ${CHROMIUM} (install it: apt-get install chromium, or run .ci/run as root): ${e instanceof Error ? e.message : String(e)}`)
  }
  context.setDefaultTimeout(60_000)
  const errors: string[] = []
  return {
    context,
    errors,
    async open (url) {
      const page = await context.newPage()
      page.on('console', m => { if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`) })
      page.on('pageerror', e => { errors.push(`${page.url()}: ${e.message}`) })
      await page.goto(url)
      return page
    },
    async close () {
      await context.close().catch(() => {})
      rmSync(profile, { recursive: true, force: true })
    }
  }
}

/** The text of the first element matching `selector`, or '' when there is none. */
export async function textOf (page: Page, selector: string): Promise<string> {
  const el = page.locator(selector).first()
  return (await el.count()) === 0 ? '' : ((await el.textContent()) ?? '')
}

/** Writes the page as <SCREENSHOTS>/<name>.png (notices of earlier actions closed first). */
export async function screenshot (page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  // Closed one at a time, the first each time (a notice may also go away by itself meanwhile).
  const notices = page.locator('.notices .notice')
  await eventually(async () => {
    if ((await notices.count()) === 0) return true
    await notices.first().locator('button[aria-label="close"]').click({ timeout: 1000 }).catch(() => {})
    return false
  }, 'the notices closed before a screenshot')
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}
