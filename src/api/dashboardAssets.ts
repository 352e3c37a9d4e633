/**
 * The files of the dashboard, served by the node itself (docs/UI.md): the page and its modules
 * from the package's `web/` directory, and the front-end libraries (Preact, its hooks, htm) from
 * the installed packages — nothing is fetched from anywhere else and nothing is built.
 *
 *   /                      web/index.html (its import map names the libraries below)
 *   /ui/<path>             web/<path>
 *   /ui/vendor/preact.mjs  preact's ES module build; hooks.mjs and htm.mjs likewise
 *
 * Every file is read once, when the API server is built, and kept in memory with its ETag (the
 * whole set is under 150 KiB), so a request never touches the file system and no path from a
 * request is ever joined to a directory. The page gets a `modulepreload` link for every module,
 * so the browser fetches the whole module graph at once instead of level by level as imports
 * are discovered (measured: docs/UI.md). The page's Content-Security-Policy allows scripts,
 * styles and connections from the node's own origin only (plus the inline import map, by its
 * hash) and refuses being framed, so no other site can show the dashboard to trick a click.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { packageRoot } from '../util/version.ts'

export interface Asset {
  readonly body: Buffer
  readonly type: string
  readonly etag: string
}

export interface DashboardAssets {
  /** The page, or undefined when the package has no web/ directory. */
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
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8'
}

/** The libraries the page imports, by the file name it asks for. */
const VENDOR: Readonly<Record<string, string>> = {
  'preact.mjs': 'preact',
  'hooks.mjs': 'preact/hooks',
  'htm.mjs': 'htm'
}

function asset (body: Buffer, file: string): Asset {
  return { body, type: TYPES[extname(file)] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }
}

function walk (dir: string, base: string, into: Map<string, Asset>): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path, base, into)
    else if (TYPES[extname(name)] !== undefined) into.set(relative(base, path).split(sep).join('/'), asset(readFileSync(path), name))
  }
}

/** The hash source of the page's inline import map, for the CSP. */
function importMapHash (html: string): string | undefined {
  const m = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)
  return m === null ? undefined : `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`
}

/** The page with a modulepreload link for each module, before </head>. */
function withPreloads (page: Asset, modules: readonly string[]): Asset {
  const links = [...modules].sort().map(m => `<link rel="modulepreload" href="/ui/${m}">`).join('\n')
  const html = page.body.toString('utf8').replace('</head>', `${links}\n</head>`)
  return asset(Buffer.from(html, 'utf8'), 'index.html')
}

export function loadDashboardAssets (dir = join(packageRoot() ?? '.', 'web')): DashboardAssets {
  const files = new Map<string, Asset>()
  let index: Asset | undefined
  try {
    walk(dir, dir, files)
    index = files.get('index.html')
    files.delete('index.html')
  } catch {
    // no web/ directory: the API still runs, the page answers 404
  }
  for (const [name, specifier] of Object.entries(VENDOR)) {
    try {
      const file = fileURLToPath(import.meta.resolve(specifier))
      files.set(`vendor/${name}`, asset(readFileSync(file), file))
    } catch { /* a missing library shows as a failed module in the page */ }
  }
  if (index !== undefined) index = withPreloads(index, [...files.keys()].filter(f => /\.m?js$/.test(f)))
  const mapHash = index === undefined ? undefined : importMapHash(index.body.toString('utf8'))
  const csp = [
    "default-src 'none'",
    `script-src 'self'${mapHash !== undefined ? ` ${mapHash}` : ''}`,
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
