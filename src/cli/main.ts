#!/usr/bin/env node
/** The `engram` executable. Everything happens in run.ts; this file only binds it to the process. */
import { processIo } from './io.ts'
import { runCli } from './run.ts'

process.exitCode = await runCli(process.argv.slice(2), processIo())
