/**
 * Builds the dashboard the node serves (run by `npm run build`, after the type checks):
 *
 *   web/main.js + every module it imports + Preact, its hooks, htm ──esbuild──► dist/web/app-<hash>.js
 *   web/style.css, web/icon.svg ─────────────────────────────────────────────► dist/web/<name>-<hash>.<ext>
 *   web/index.html, its /ui/main.js, /ui/style.css, /ui/icon.svg renamed ────► dist/web/index.html
 *
 * Each file is named by a hash of its content, so the node can let a browser keep it for good
 * (a new build has new names), and written with its gzip and brotli forms beside it (.gz, .br),
 * so the node sends the smallest form a browser accepts without compressing anything itself.
 * One module instead of forty: a cold first view is two requests after the page, not a waterfall
 * of module fetches (docs/UI.md, "What it costs"). Everything comes from the installed packages;
 * nothing is fetched. src/api/dashboardAssets.ts loads what this writes.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { build } from 'esbuild'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const WEB = join(ROOT, 'web')
const OUT = join(ROOT, 'dist', 'web')

/** The name a file is served under: its name with the first 16 hex digits of its content's SHA-256. */
function hashedName (name: string, body: Uint8Array): string {
  const ext = extname(name)
  return `${basename(name, ext)}-${createHash('sha256').update(body).digest('hex').slice(0, 16)}${ext}`
}

/** Writes `body` as `name` in OUT with its gzip and brotli forms. */
function emit (name: string, body: Uint8Array): void {
  writeFileSync(join(OUT, name), body)
  writeFileSync(join(OUT, `${name}.gz`), gzipSync(body, { level: 9 }))
  writeFileSync(join(OUT, `${name}.br`), brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength } }))
}

async function main (): Promise<void> {
  const bundle = await build({
    entryPoints: [join(WEB, 'main.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    charset: 'utf8',
    write: false,
    logLevel: 'warning'
  })
  const js = bundle.outputFiles[0]
  if (js === undefined || bundle.outputFiles.length !== 1) throw new Error(`expected one bundled file, esbuild wrote ${bundle.outputFiles.length}`)

  rmSync(OUT, { recursive: true, force: true })
  mkdirSync(OUT, { recursive: true })
  const names = new Map<string, string>()
  const add = (served: string, file: string, body: Uint8Array): void => {
    const name = hashedName(file, body)
    emit(name, body)
    names.set(served, `/ui/${name}`)
  }
  add('/ui/main.js', 'app.js', js.contents)
  for (const file of ['style.css', 'icon.svg']) add(`/ui/${file}`, file, readFileSync(join(WEB, file)))

  let html = readFileSync(join(WEB, 'index.html'), 'utf8')
  for (const [from, to] of names) {
    const parts = html.split(`"${from}"`)
    if (parts.length !== 2) throw new Error(`web/index.html must name "${from}" exactly once (found ${parts.length - 1})`)
    html = parts.join(`"${to}"`)
  }
  emit('index.html', Buffer.from(html, 'utf8'))
  process.stdout.write(`dashboard: ${[...names.values()].join(', ')} (${js.contents.byteLength} bytes of script) in ${OUT}\n`)
}

await main()
