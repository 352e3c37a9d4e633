/**
 * Stack traces of the bundled executable name the src/ files (src/cli/sourceMaps.ts): a file
 * bundled with esbuild as the build bundles the CLI (scripts/build-cli.ts), an error thrown in
 * it, and its stack read with the frames mapped; and the build's own files carry their maps.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { mapStackTraces } from '../../src/cli/sourceMaps.ts'
import { BIN } from '../support/daemon.ts'

describe('stack traces of the bundle', () => {
  it('name the source file, line and column of each frame in a bundled file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-sourcemaps-'))
    const before = Error.prepareStackTrace
    try {
      writeFileSync(join(dir, 'thrower.ts'), [
        'export function fail (why: string): never {',
        '  const padding: number = 1',
        '  throw new Error(`failed: ${why} ${padding}`)',
        '}',
        ''
      ].join('\n'))
      writeFileSync(join(dir, 'entry.ts'), [
        "import { fail } from './thrower.ts'",
        'export function run (): void { fail("on purpose") }',
        ''
      ].join('\n'))
      const out = join(dir, 'out')
      await build({ entryPoints: [join(dir, 'entry.ts')], outdir: out, bundle: true, format: 'esm', platform: 'node', sourcemap: 'linked', logLevel: 'silent' })
      const bundled = pathToFileURL(join(out, 'entry.js')).href
      mapStackTraces(pathToFileURL(out).href + '/')
      const { run } = await import(bundled) as { run: () => void }
      let stack = ''
      try { run() } catch (e) { stack = (e as Error).stack ?? '' }
      const lines = stack.split('\n')
      assert.equal(lines[0], 'Error: failed: on purpose 1')
      assert.match(lines[1]!, new RegExp(`at fail \\(${join(dir, 'thrower.ts').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:9\\)$`), stack)
      assert.match(lines[2]!, new RegExp(`at run \\(${join(dir, 'entry.ts').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:32\\)$`), stack)
      // a frame outside the bundle's directory (this test file) is left as it was
      assert.ok(lines.some(l => l.includes(import.meta.url)), stack)
    } finally {
      Error.prepareStackTrace = before
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('the built executable and each of its chunks has a source map naming src/ files', () => {
    const dir = join(BIN, '..')
    const files = readdirSync(dir).filter(f => f === 'main.js' || /^chunk-[\w-]+\.js$/.test(f))
    assert.ok(files.length > 1, `expected main.js and its chunks in ${dir}`)
    const fromSrc = new Set<string>()
    for (const f of files) {
      assert.match(readFileSync(join(dir, f), 'utf8'), new RegExp(`//# sourceMappingURL=${f.replace('.', '\\.')}\\.map\\n?$`), f)
      assert.ok(existsSync(join(dir, `${f}.map`)), `${f}.map`)
      const map = JSON.parse(readFileSync(join(dir, `${f}.map`), 'utf8')) as { sources: string[] }
      for (const s of map.sources) if (s.startsWith('../../../src/')) fromSrc.add(s)
    }
    assert.ok(fromSrc.has('../../../src/cli/main.ts') && fromSrc.has('../../../src/node/EngramNode.ts'), [...fromSrc].slice(0, 5).join(', '))
  })
})
