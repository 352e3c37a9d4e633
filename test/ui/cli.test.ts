/**
 * `engram ui` as the built binary against a running daemon that requires its API token: it
 * prints the dashboard's URL, the token in its fragment, and opens it with $BROWSER (here a
 * script that writes down what it was given, a real second process) through a file of the data
 * directory, so the token is on no command line; that file, in a real Chromium, leads to the
 * dashboard, which takes the token out of the address bar and sends it with every call; a tab
 * without it says how to open the dashboard. Without a display it prints the URL and says to
 * open it; --json says what it did; with no daemon it exits 3 and says how to start one.
 */
import assert from 'node:assert/strict'
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { engram, sandbox, startDaemon, waitFor, type Daemon, type Sandbox } from '../support/daemon.ts'
import { eventually } from '../support/eventually.ts'
import { launch, textOf } from './browser.ts'

describe('engram ui', () => {
  let box: Sandbox
  let daemon: Daemon
  let dataDir: string
  /** The dashboard's URL with the node's API token. */
  let url: string
  before(async () => {
    box = sandbox()
    dataDir = join(box.root, 'node')
    const config = join(box.root, 'config.json5')
    writeFileSync(config, JSON.stringify({ api: { requireToken: true } }))
    daemon = await startDaemon(dataDir, box.env, ['--config', config])
    url = `${daemon.url}/#token=${readFileSync(join(dataDir, 'api.token'), 'utf8').trim()}`
  })
  after(async () => {
    await daemon?.stop('SIGKILL')
    box.remove()
  })

  it('opens the dashboard with $BROWSER, the token on no command line, and the page uses it', async () => {
    const seen = join(box.root, 'opened.txt')
    const script = join(box.root, 'browser.sh')
    writeFileSync(script, `#!/bin/sh\nprintf '%s' "$1" > '${seen}'\n`)
    chmodSync(script, 0o755)
    const r = await engram(['ui', '--data-dir', dataDir], { ...box.env, BROWSER: script })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${url}\n`)
    assert.match(r.stderr, /opened the dashboard/)
    const opened = await waitFor(() => (existsSync(seen) ? readFileSync(seen, 'utf8') : undefined) || undefined, 20_000, 'the browser script to run')
    const link = join(dataDir, 'dashboard.html')
    assert.equal(opened, pathToFileURL(link).href)
    assert.equal(statSync(link).mode & 0o777, 0o600)
    assert.equal((await fetch(`${daemon.url}/api/v1/status`)).status, 401, 'the node requires its token')

    const added = await engram(['add', 'ui:token', 'opens', 'dashboard', '--data-dir', dataDir], box.env)
    assert.equal(added.code, 0, added.stderr)
    const browser = await launch()
    try {
      const page = await browser.open(opened)
      await eventually(async () => (await textOf(page, '[data-field="connection"]')) === 'live',
        async () => `the live stream; the header says ${await textOf(page, 'header')}`)
      assert.equal(page.url(), `${daemon.url}/#/sync`, 'the token is out of the address bar')
      await page.goto(`${daemon.url}/#/memory`)
      await eventually(async () => (await textOf(page, '[data-field="total"]')) === '1 triple',
        async () => `the triple, read with the token: ${await textOf(page, 'main')}`)

      const bare = await browser.open(`${daemon.url}/`)
      await eventually(async () => /needs the API token: open it with engram ui/.test(await textOf(bare, '[data-field="connection"]')),
        async () => `a tab without the token to say so: ${await textOf(bare, 'header')}`)
      assert.deepEqual(browser.errors.filter(e => !/401/.test(e)), [], 'no errors in the pages but the refusals')
    } finally {
      await browser.close()
    }
  })

  it('prints the URL when there is no display, and says what it did with --json', async () => {
    const env = { ...box.env }
    delete env.BROWSER
    delete env.DISPLAY
    delete env.WAYLAND_DISPLAY
    const r = await engram(['ui', '--data-dir', dataDir], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${url}\n`)
    assert.match(r.stderr, /open the URL above in a browser \(no display here/)
    const j = await engram(['ui', '--no-open', '--json', '--url', daemon.url, '--data-dir', dataDir], env)
    assert.equal(j.code, 0, j.stderr)
    assert.deepEqual(JSON.parse(j.stdout), { url, opened: false, reason: '--no-open' })
  })

  it('exits 3 when no daemon answers', async () => {
    const r = await engram(['ui', '--no-open', '--data-dir', join(box.root, 'nothing-here'), '--url', 'http://127.0.0.1:9'], box.env)
    assert.equal(r.code, 3, r.stderr)
    assert.match(r.stderr, /no engram daemon reachable at http:\/\/127\.0\.0\.1:9.*engram start/)
  })
})
