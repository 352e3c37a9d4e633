/**
 * The files of the dashboard, served by the node itself (docs/UI.md): what `npm run build`
 * wrote to the package's `dist/web/` (scripts/build-web.ts) — the page, one bundled module with
 * the front-end libraries in it, the style sheet and the icon — and nothing from anywhere else.
 *
 *   /                      dist/web/index.html (no-cache: revalidated by ETag, so a browser
 *                          always runs the node's own version)
 *   /ui/<name>-<hash>.ext  dist/web/<name>-<hash>.ext (named by its content: kept for good)
 *
 * Every file is read once, when the API server is built, and kept in memory with its ETag and
 * its gzip and brotli forms (written beside it by the build), so a request never touches the
 * file system, never compresses anything, and no path from a request is ever joined to a
 * directory. The page's Content-Security-Policy allows scripts, styles and connections from the
 * node's own origin only and refuses being framed, so no other site can show the dashboard to
 * trick a click.
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join } from 'node:path'
import { packageRoot } from '../util/version.ts'

/** A compressed form of a file, with its own ETag (a different representation). */
export interface Encoded {
  readonly body: Buffer
  readonly etag: string
}

export interface Asset {
  readonly body: Buffer
  readonly type: string
  readonly etag: string
  /** The forms the build wrote beside it, by content coding. */
  readonly encoded: Readonly<Partial<Record<'br' | 'gzip', Encoded>>>
  /** Named by its content: a browser may keep it for good. */
  readonly immutable: boolean
}

export interface DashboardAssets {
  /** The page, or undefined when the package has no built dashboard. */
  readonly index: Asset | undefined
  /** Everything under /ui/, by the path after it. */
  readonly files: ReadonlyMap<string, Asset>
  /** Headers every dashboard answer carries (CSP, framing, sniffing, referrer). */
  readonly headers: Readonly<Record<string, string>>
  /** Where the files were looked for (for the not-found message). */
  readonly dir: string
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml'
}

/** The compressed forms the build writes, by file suffix. */
const ENCODINGS = [['br', '.br'], ['gzip', '.gz']] as const

/** What the build names by content: <name>-<16 hex digits>.<ext>. */
const HASHED = /-[0-9a-f]{16}\.[a-z]+$/

const etagOf = (body: Buffer, suffix = ''): string => `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}${suffix}"`

function asset (dir: string, name: string): Asset {
  const path = join(dir, name)
  const body = readFileSync(path)
  const etag = etagOf(body)
  const encoded: Partial<Record<'br' | 'gzip', Encoded>> = {}
  for (const [coding, suffix] of ENCODINGS) {
    if (existsSync(path + suffix)) encoded[coding] = { body: readFileSync(path + suffix), etag: `${etag.slice(0, -1)}-${coding}"` }
  }
  return { body, type: TYPES[extname(name)]!, etag, encoded, immutable: HASHED.test(name) }
}

export function loadDashboardAssets (dir = join(packageRoot() ?? '.', 'dist', 'web')): DashboardAssets {
  const files = new Map<string, Asset>()
  let index: Asset | undefined
  try {
    for (const name of readdirSync(dir)) {
      if (TYPES[extname(name)] === undefined || !statSync(join(dir, name)).isFile()) continue
      if (name === 'index.html') index = asset(dir, name)
      else files.set(name, asset(dir, name))
    }
  } catch {
    // not built (no dist/web/): the API still runs, the page answers 404
  }
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join('; ')
  return {
    index,
    files,
    dir,
    headers: {
      'content-security-policy': csp,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
      'cross-origin-opener-policy': 'same-origin'
    }
  }
}
