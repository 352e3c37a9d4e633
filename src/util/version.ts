/**
 * The package version, read once from engram's package.json. Found by walking up from this
 * file, so it works from the sources (src/util) and from the build (dist/src/util) alike.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

export function packageVersion (): string {
  if (cached !== undefined) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown, version?: unknown }
      if (pkg.name === 'engram' && typeof pkg.version === 'string') return (cached = pkg.version)
    } catch { /* not here */ }
    const up = dirname(dir)
    if (up === dir) return (cached = '0.0.0')
    dir = up
  }
}
