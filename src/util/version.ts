/**
 * The package's own directory and version, read once from engram's package.json. Found by
 * walking up from this file, so it works from the sources (src/util) and from the build
 * (dist/src/util) alike.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: { root: string, version: string } | null | undefined

function find (): { root: string, version: string } | null {
  if (cached !== undefined) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown, version?: unknown }
      if (pkg.name === 'engram' && typeof pkg.version === 'string') return (cached = { root: dir, version: pkg.version })
    } catch { /* not here */ }
    const up = dirname(dir)
    if (up === dir) return (cached = null)
    dir = up
  }
}

export function packageVersion (): string {
  return find()?.version ?? '0.0.0'
}

/** The directory of engram's package.json, or undefined when it cannot be found. */
export function packageRoot (): string | undefined {
  return find()?.root
}
