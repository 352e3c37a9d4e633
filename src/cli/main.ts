#!/usr/bin/env node
/**
 * The `engram` executable. Everything happens in run.ts; this file only binds it to the process
 * (on an older Node.js it first hands over to the Node 24 installed with engram).
 *
 * Node.js's compile cache is on, in the user's cache directory (`$XDG_CACHE_HOME/engram/compile`,
 * else `~/.cache/engram/compile`): V8's code for the bundle's chunks is kept between runs, so a
 * command or a daemon start does not compile the same megabytes again. Node checks each entry
 * against the source's hash (a changed file is compiled afresh); NODE_COMPILE_CACHE, when set,
 * takes precedence, and NODE_DISABLE_COMPILE_CACHE=1 turns it off.
 */
import * as nodeModule from 'node:module'
import { join } from 'node:path'
import { relaunchIfNeeded, supportedRuntime } from './launch.ts'
import { mapStackTraces } from './sourceMaps.ts'
import { defaultCacheDir } from '../util/xdg.ts'

// (a namespace import: an older Node.js, which hands over below, has no enableCompileCache)
if (supportedRuntime()) nodeModule.enableCompileCache?.(join(defaultCacheDir(process.env), 'compile'))

const relaunched = await relaunchIfNeeded(process.argv[1]!, process.argv.slice(2))
if (relaunched !== undefined) {
  process.exitCode = relaunched
} else {
  // The build is bundled (scripts/build-cli.ts): stack traces name the src/ files, through the
  // source maps beside this file and its chunks.
  mapStackTraces(new URL('.', import.meta.url).href)
  const { processIo } = await import('./io.ts')
  const { runCli } = await import('./run.ts')
  process.exitCode = await runCli(process.argv.slice(2), processIo())
}
