/**
 * engram runs on Node.js 24 (node:sqlite and more). The project brings its own Node 24 as the npm
 * package `node`; when the `engram` executable is started by an older system Node, it hands the
 * command over to that Node 24 and passes its exit status back. Only builtins are imported here,
 * so this file loads on any Node that can parse it.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const MIN_NODE_MAJOR = 24

/** True when this runtime is new enough. */
export function supportedRuntime (version = process.versions.node): boolean {
  return Number(version.split('.')[0]) >= MIN_NODE_MAJOR
}

/** The Node 24 binary installed with the project, searched upward from this file. */
export function bundledNode (from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = from
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'node_modules', 'node', 'bin', 'node')
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return undefined
}

/**
 * Re-runs this command under the bundled Node 24 and resolves with its exit code, or resolves
 * undefined when the current runtime is already supported. Signals sent to this process are
 * passed on to the child.
 */
export async function relaunchIfNeeded (script: string, args: readonly string[]): Promise<number | undefined> {
  if (supportedRuntime()) return undefined
  const node = bundledNode()
  if (node === undefined) {
    process.stderr.write(`engram: needs Node.js ${MIN_NODE_MAJOR} or later, but this is Node.js ${process.versions.node}; ` +
      'run `npm install` in the engram directory (it installs Node 24 for engram) or install Node.js 24\n')
    return 1
  }
  return await new Promise<number>(resolve => {
    const child = spawn(node, [...DAEMON_V8_FLAGS, script, ...args], { stdio: 'inherit', env: withDaemonEnv(process.env) })
    const forward = (sig: NodeJS.Signals): void => { child.kill(sig) }
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, forward)
    child.on('error', e => { process.stderr.write(`engram: could not start ${node}: ${e.message}\n`); resolve(1) })
    child.on('exit', (code, signal) => resolve(code ?? (signal !== null ? 128 + 15 : 1)))
  })
}

/**
 * V8 flags the daemon (`engram start`) runs with. `--max-semi-space-size`: V8 sizes the young
 * generation after the heap limit, and on a machine with gigabytes to spare it let a node copying
 * 100,000 records from a peer grow it to 120 MB resident, a third of the node's peak, for objects
 * that die within a page. Eight megabytes a semi-space (16 MB of young generation, what Node.js 18
 * chose by itself) cut that copy's peak RSS by 80 MB at the same pace (peers bench: receiver CPU
 * 3.2–3.4 s against 3.7–3.8 s with V8's choice; 16 MB a semi-space did no better).
 * Re-measured with catch-up pages of 10,000 (peers bench, 100,000 records, against 8 in the same
 * run): 16 MB a semi-space peaked 15 MB higher, 32 MB 52 MB higher at 7 % more receiver CPU, and
 * 4 MB the same at 26 % more CPU. A page's records outlive several scavenges whatever the young
 * generation's size, so they are promoted; what sets the peak is how far V8 lets the old
 * generation grow before a full collection: V8 lets it grow to up to four times what was live at
 * the last one. `--heap-growing-percent=50` lets it grow by half: with the window index in typed
 * arrays (protocol/native/ElementTable.ts) a full collection marks little, and the peers bench
 * measured, in one run each against the same build without the flag, a 100,000-record copy's
 * peak at 180 MB against 233 MB for 6 % more receiver CPU (3.19 s against 3.00 s) and a
 * 1,000,000-record copy's at 303 MB against 357 MB for 10 % more (35.7 s against 32.6 s).
 */
export const DAEMON_V8_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=50']

/** The names of the flags (`--max-semi-space-size`), to see whether they were set. */
const flagName = (flag: string): string => flag.split('=')[0]!

/**
 * The DAEMON_V8_FLAGS a Node.js started with `execArgv` and `nodeOptions` (NODE_OPTIONS) lacks:
 * a flag given there, with any value, is the user's and wins.
 */
export function missingDaemonFlags (execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map(flagName)
  return DAEMON_V8_FLAGS.filter(f => !given.includes(flagName(f)))
}

/**
 * Environment variables the daemon runs with, read by the C library as the process starts.
 * `MALLOC_ARENA_MAX` (glibc): glibc gives each thread that allocates (Node.js's thread pool, the
 * QUIC transport's threads, V8's helpers) an arena of its own, up to eight per core, and memory
 * freed in one arena serves only that one; a 100,000-record copy left the receiver's arenas
 * holding some 25 MiB free (malloc_info). With one or two arenas a receiver of 100,000 records
 * peaked 5–10 MiB lower than with glibc's choice (medians of four receivers each, alternating
 * against one source, in three sessions) at the same CPU time; two, not one, so that threads
 * allocating at once do not all wait for one lock. A 1,000,000-record copy (two pairs, with the
 * 8 MiB page cache, store/sqlite/schema.ts CACHE_KIB): receiver CPU 23.2–23.3 s against
 * 25.8–26.0 s, the peak within noise. Other C libraries ignore the variable. The executable's
 * `#!` line and `npm start` set it; started otherwise, a daemon keeps a value the user gave.
 */
export const DAEMON_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' }

/** The DAEMON_ENV variables `env` lacks (a variable the user set, to any value, wins); none off Linux. */
export function missingDaemonEnv (env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform = process.platform): string[] {
  if (platform !== 'linux') return []
  return Object.keys(DAEMON_ENV).filter(name => env[name] === undefined)
}

/** `env` with the DAEMON_ENV variables it lacks. */
export function withDaemonEnv (env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const out = { ...env }
  for (const name of missingDaemonEnv(env)) out[name] = DAEMON_ENV[name]
  return out
}

/**
 * Replaces this process (same pid, same stdio) by the same command run with DAEMON_V8_FLAGS and
 * DAEMON_ENV, as V8 and the C library read them only as the process starts. Returns, and the
 * process goes on as it is, when both are already given (missingDaemonFlags, missingDaemonEnv)
 * or when this Node.js cannot replace a process (process.execve: not on Windows, nor before
 * Node.js 23.11). Where engram starts Node.js itself they are on its command line and in its
 * environment, and this second start is not needed: the executable's `#!` line (main.ts), `npm
 * start` (package.json), the hand-over to Node 24 (relaunchIfNeeded) and a daemon started for an
 * MCP client (cli/mcp/daemon.ts); test/cli/launch.test.ts checks that the first two name every
 * flag and variable.
 */
export function execWithDaemonFlags (argv: readonly string[] = process.argv): void {
  const missing = missingDaemonFlags(process.execArgv, process.env.NODE_OPTIONS)
  const execve = (process as Partial<Pick<typeof process, 'execve'>>).execve
  if ((missing.length === 0 && missingDaemonEnv(process.env).length === 0) || execve === undefined || process.platform === 'win32') return
  execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, ...argv.slice(1)], withDaemonEnv(process.env))
}
