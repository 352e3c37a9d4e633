/**
 * Bundles the `engram` executable (run by `npm run build`, after tsc has written dist/):
 *
 *   src/cli/main.ts + every module it imports, engram's and its packages' ──esbuild──►
 *     dist/src/cli/main.js (the entry, in place of tsc's) + dist/src/cli/chunk-<hash>.js
 *
 * Why: Node.js resolves, reads and compiles each ES module on its own (package.json lookups,
 * realpath, stat, one compile each). Unbundled, a daemon loads some 700 modules before it does
 * anything, and every CLI call pays its share; bundled, it loads a few files.
 * What stays lazy: every dynamic `import()` of the sources is a split point, so a chunk is
 * loaded only when that import runs — the P2P transport (libp2p, QUIC) only with p2p.enabled,
 * the daemon only for `engram start`, each CLI command only when it runs (src/cli/commands.ts).
 * What is not bundled: node: builtins, and the modules that load native addons from beside
 * their own files (msgpackr-extract, the QUIC library's binding): they load from node_modules.
 * Every file is written in dist/src/cli/, beside where tsc put the entry, so `import.meta.url`
 * names the same directory for every chunk (src/cli/entry.ts) and the package's files are found
 * by walking up as from the sources. Source maps (.map beside each file) name the src/ files;
 * main.ts turns them on before it loads anything else, so a stack trace names src/ lines.
 * The rest of dist/src (the library entry dist/src/index.js, its types) is tsc's, unbundled.
 *
 * The benchmarks' engram peer (bench/peers/engram.ts, a node driven in its own process) is
 * bundled the same way into dist/bench/peers/engram.js and chunks beside it, so that a benchmark
 * measures a node that loads as `engram start` does, not tsc's some 1,200 separate modules.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Plugin } from 'esbuild'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** Each bundle: its entry (a source file) and the directory it is written to, as `name`.js and chunks. */
const BUNDLES = [
  { name: 'main', entry: join(ROOT, 'src', 'cli', 'main.ts'), out: join(ROOT, 'dist', 'src', 'cli'), what: 'cli' },
  { name: 'engram', entry: join(ROOT, 'bench', 'peers', 'engram.ts'), out: join(ROOT, 'dist', 'bench', 'peers'), what: 'bench peer' }
] as const

/** Loaded from node_modules, not bundled: it loads its native addon from beside its own files. */
const EXTERNAL = ['msgpackr-extract']

/**
 * The QUIC library is bundled but for its native binding (napi.js, which loads the addon from
 * beside itself): that one module is imported at run time from the installed package, found as
 * any package is, so it is the very module src/transport/libp2p/quicReads.ts tunes.
 */
const quicBinding: Plugin = {
  name: 'quic-binding',
  setup (b) {
    b.onResolve({ filter: /^\.\/napi\.js$/ }, args => /[\\/]@chainsafe[\\/]libp2p-quic[\\/]/.test(args.importer) ? { path: 'napi', namespace: 'quic-binding' } : undefined)
    b.onLoad({ filter: /.*/, namespace: 'quic-binding' }, () => ({
      contents: 'const napi = await import(new URL(\'./napi.js\', import.meta.resolve(\'@chainsafe/libp2p-quic\')).href)\n' +
        'export const { Client, Connection, ConnectionStats, EndpointStats, QuinnConfig, Server, Stream, SocketFamily } = napi\n',
      loader: 'js'
    }))
  }
}

/**
 * `node:http` is loaded through `require`, not as an ES module. Node.js builds the ES module face
 * of a builtin by reading every export, and node:http's WebSocket, CloseEvent and MessageEvent
 * are getters that load the built-in fetch (undici, some 40–60 ms of CPU) to answer: an
 * `import … from 'node:http'` anywhere in the bundle made every daemon and every CLI call that
 * loads it pay for a fetch it never uses. Through `require` the getters are left alone.
 */
const httpByRequire: Plugin = {
  name: 'http-by-require',
  setup (b) {
    b.onResolve({ filter: /^(node:)?http$/ }, args => args.kind === 'import-statement' || args.kind === 'dynamic-import' ? { path: 'http', namespace: 'http-by-require' } : undefined)
    b.onLoad({ filter: /.*/, namespace: 'http-by-require' }, () => ({ contents: 'module.exports = require(\'node:http\')\n', loader: 'js' }))
  }
}

/**
 * fastify's lib/server.js loads node:http2 at its top (`require('node:http2')`), for the HTTP/2
 * server it makes only when asked (`http2: true`), which engram never does (its API is HTTP/1.1,
 * with or without TLS). Node.js's http2 module takes 15–20 ms of CPU to load, on the main thread
 * of every daemon start. Here that line becomes an object whose two functions, the only ones
 * server.js calls, load node:http2 when called. The build fails if the line is not found (a
 * fastify that changed it), rather than bundling it unchanged.
 */
const FASTIFY_HTTP2 = 'const http2 = require(\'node:http2\')'
const http2WhenUsed: Plugin = {
  name: 'http2-when-used',
  setup (b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]server\.js$/ }, args => {
      const text = readFileSync(args.path, 'utf8')
      if (!text.includes(FASTIFY_HTTP2)) throw new Error(`${args.path} has no \`${FASTIFY_HTTP2}\`: see http2WhenUsed in scripts/build-cli.ts`)
      const lazy = 'const http2 = { createServer: (...a) => require(\'node:http2\').createServer(...a), createSecureServer: (...a) => require(\'node:http2\').createSecureServer(...a) }'
      return { contents: text.replace(FASTIFY_HTTP2, lazy), loader: 'js' }
    })
  }
}

async function bundle ({ name, entry, out, what }: typeof BUNDLES[number]): Promise<void> {
  // chunks of an earlier build
  for (const f of readdirSync(out)) if (/^chunk-[\w-]+\.js(\.map)?$/.test(f)) rmSync(join(out, f))
  const started = performance.now()
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: { [name]: entry },
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    external: EXTERNAL,
    plugins: [quicBinding, httpByRequire, http2WhenUsed],
    // hash-wasm's ES module build, not its UMD one (its package.json's main): only the two
    // functions engram uses are bundled (BLAKE3, Argon2id), not every hash's WebAssembly
    alias: { 'hash-wasm': 'hash-wasm/dist/index.esm.js' },
    // CommonJS packages inside an ES module bundle call require() for builtins
    banner: { js: 'import { createRequire as __engramRequire } from \'node:module\'; const require = __engramRequire(import.meta.url);' },
    chunkNames: 'chunk-[hash]',
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    // Without comments and indentation: V8 keeps each loaded file's source text for as long as
    // the process runs, and the comments' non-ASCII characters made it two bytes a character.
    // An idle node's RSS was 9 MB smaller (bench peer, 108 → 99.5 MB); identifiers stay as they
    // are, and stack traces are mapped to src/ lines as before.
    minifyWhitespace: true,
    allowOverwrite: true,
    metafile: true,
    write: true,
    logLevel: 'warning'
  })
  const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'))
  const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0)
  const inputs = Object.keys(result.metafile.inputs).length
  process.stdout.write(`${what}: ${inputs} modules into ${outputs.length} files (${bytes} bytes) in ${out} in ${Math.round(performance.now() - started)} ms\n`)
}

async function main (): Promise<void> {
  for (const b of BUNDLES) await bundle(b)
}

await main()
