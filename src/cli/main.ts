#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 --heap-growing-percent=50
/**
 * The `engram` executable. Everything happens in run.ts; this file only binds it to the process
 * (on an older Node.js it first hands over to the Node 24 installed with engram).
 */
import { enableCompileCache } from './compileCache.ts'
import { execWithDaemonFlags, relaunchIfNeeded } from './launch.ts'
import { mapStackTraces } from './sourceMaps.ts'

const relaunched = await relaunchIfNeeded(process.argv[1]!, process.argv.slice(2))
if (relaunched !== undefined) {
  process.exitCode = relaunched
} else {
  // the daemon runs with V8 flags of its own (launch.ts DAEMON_V8_FLAGS): set as the process starts
  if (process.argv[2] === 'start') execWithDaemonFlags()
  // V8's code for the chunks loaded below is kept between runs (compileCache.ts)
  enableCompileCache()
  // The build is bundled (scripts/build-cli.ts): stack traces name the src/ files, through the
  // source maps beside this file and its chunks.
  mapStackTraces(new URL('.', import.meta.url).href)
  const { processIo } = await import('./io.ts')
  const { runCli } = await import('./run.ts')
  process.exitCode = await runCli(process.argv.slice(2), processIo())
}
