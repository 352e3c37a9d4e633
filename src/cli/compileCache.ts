/**
 * Node.js's compile cache for the `engram` executable (and the benchmarks' engram peer, which
 * loads as `engram start` does): V8's code for the bundle's files (scripts/build-cli.ts) is kept
 * in the user's cache directory, `$XDG_CACHE_HOME/engram/compile` or else
 * `~/.cache/engram/compile`, so a start reads it instead of compiling some 4 MB of script again.
 * Measured on a restarted node holding 100,000 records (bench peer, 3 restarts each, interleaved):
 * ready 418–443 ms with the cache against 467–512 without, 80 ms less CPU by then; the idle
 * node's resident memory was 0.5 MB larger.
 *
 * What may go wrong, and why it does no harm:
 *  - the directory cannot be made or written: Node.js reports it in the status returned here,
 *    and the process runs on, compiling as without a cache;
 *  - two versions of engram, or of Node.js, share it: Node.js keeps one subdirectory per Node.js
 *    version and V8 flags, and checks each entry against the hash of its file's source, so an
 *    entry of another build is compiled afresh (and replaced), never run;
 *  - a process ends before writing: Node.js writes the entries as the process exits, so a killed
 *    process leaves none and the next start compiles, as without a cache;
 *  - Node.js never removes an entry: a build of engram names its chunks by their content, so each
 *    build used adds its own entries (some 1.5 MB per set of V8 flags); the directory is a cache,
 *    which the user may remove at any time.
 * NODE_COMPILE_CACHE, when set, wins (the test runner gives one cache to a whole run), and
 * NODE_DISABLE_COMPILE_CACHE=1 turns the cache off. The directory holds V8's code for engram's
 * own files, nothing of the user's data; whoever can write there can already run code as the user.
 */
import * as nodeModule from 'node:module'
import { join } from 'node:path'
import { defaultCacheDir, type Env } from '../util/xdg.ts'

/** The directory engram asks Node.js to keep its compiled code in. */
export function compileCacheDir (env: Env): string {
  return join(defaultCacheDir(env), 'compile')
}

/**
 * Turns the compile cache on for the modules this process loads from now on; answers Node.js's
 * status ('enabled', 'already-enabled', 'failed', 'disabled'), or 'unsupported' on a Node.js
 * without it (older than 22.1: the executable then hands over to Node 24 before loading more).
 */
export function enableCompileCache (env: Env = process.env): string {
  // a namespace import: an older Node.js has no enableCompileCache
  const enable = (nodeModule as Partial<typeof nodeModule>).enableCompileCache
  if (enable === undefined) return 'unsupported'
  try {
    const { status } = enable(compileCacheDir(env))
    const { constants } = nodeModule
    const names: Record<number, string> = {
      [constants.compileCacheStatus.ENABLED]: 'enabled',
      [constants.compileCacheStatus.ALREADY_ENABLED]: 'already-enabled',
      [constants.compileCacheStatus.FAILED]: 'failed',
      [constants.compileCacheStatus.DISABLED]: 'disabled'
    }
    return names[status] ?? String(status)
  } catch {
    return 'failed'
  }
}
