/**
 * The file of the `engram` executable this code runs from, for starting another engram process
 * (a detached daemon). It sits beside this file: src/cli/main.ts when run from the sources,
 * dist/src/cli/main.js in the build, where this code is bundled into main.js or a chunk beside
 * it (scripts/build-cli.ts writes every chunk in that directory).
 */
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'

export function cliEntry (): string {
  return fileURLToPath(new URL(`./main${extname(fileURLToPath(import.meta.url))}`, import.meta.url))
}
