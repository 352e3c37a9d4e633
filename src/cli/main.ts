#!/usr/bin/env node
/**
 * The `engram` executable. Everything happens in run.ts; this file only binds it to the process
 * (on an older Node.js it first hands over to the Node 24 installed with engram).
 */
import { relaunchIfNeeded } from './launch.ts'

const relaunched = await relaunchIfNeeded(process.argv[1]!, process.argv.slice(2))
if (relaunched !== undefined) {
  process.exitCode = relaunched
} else {
  const { processIo } = await import('./io.ts')
  const { runCli } = await import('./run.ts')
  process.exitCode = await runCli(process.argv.slice(2), processIo())
}
