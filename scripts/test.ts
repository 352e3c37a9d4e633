/**
 * `npm test`'s runner: every test file (test/**\/*.test.ts), two at a time (--concurrency), the
 * longest first by the wall times recorded in test/durations.json. node --test alone runs files
 * in name order, which can leave one slot idle at the end behind a long multi-process file;
 * longest first, the long files overlap the many short ones and the run ends with short files in
 * both slots. A file not recorded yet goes first (it may be long). Prints the spec report; exits 1 when a test failed.
 *
 *   node scripts/test.ts                 run every test file
 *   node scripts/test.ts 'test/api/**'   run the files of these globs (relative to the repository)
 *   node scripts/test.ts --record        run them and record this run's times in test/durations.json
 *   node scripts/test.ts --concurrency=3 run three files at a time (default 2)
 *
 * The order only changes when files run, never what runs: every file, each in its own process.
 *
 * Every process of a run compiles the same modules: each test file's process strips the types of
 * the test/ and src/ files it imports and compiles them; the daemons and CLI commands they start
 * load dist/ and node_modules. The run shares one Node.js compile cache (NODE_COMPILE_CACHE, a
 * directory made for the run in the OS temp directory and removed after it), so each module is
 * stripped and compiled once per run, not once per process: the unit and API test files take a
 * fifth less CPU with it. An entry whose source changed is compiled afresh, never used stale.
 */
import { existsSync, globSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { run } from 'node:test'
import { spec } from 'node:test/reporters'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DURATIONS = fileURLToPath(new URL('../test/durations.json', import.meta.url))

/** Seconds of wall time per file (its path from the repository's root), as last recorded. */
function recorded (): Record<string, number> {
  try {
    return JSON.parse(readFileSync(DURATIONS, 'utf8')) as Record<string, number>
  } catch {
    return {}
  }
}

process.chdir(ROOT)
const before = recorded()
const globs = process.argv.slice(2).filter(a => !a.startsWith('--'))
const concurrencyArg = process.argv.find(a => a.startsWith('--concurrency='))?.slice('--concurrency='.length)
const concurrency = concurrencyArg === undefined ? 2 : Number(concurrencyArg)
if (!Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write(`--concurrency must be a whole number of files, 1 or more (got ${concurrencyArg})\n`)
  process.exit(2)
}
const files = [...new Set(globSync(globs.length > 0 ? globs : ['test/**/*.test.ts']))].filter(f => f.endsWith('.test.ts')).sort()
const order = (f: string): number => before[f] ?? Number.POSITIVE_INFINITY
// a stable sort: equal times keep name order
files.sort((a, b) => order(b) - order(a))

// inherited by the test files' processes, and by theirs (test/support/daemon.ts keeps it)
const cache = mkdtempSync(join(tmpdir(), 'engram-compile-cache-'))
process.env.NODE_COMPILE_CACHE = cache
process.once('exit', () => { rmSync(cache, { recursive: true, force: true }) })

const took: Record<string, number> = {}
const stream = run({ files, concurrency, timeout: 1_200_000 })
stream.on('test:fail', () => { process.exitCode = 1 })
stream.on('test:complete', d => {
  // a file's own entry: the whole file, in its own process
  if (d.nesting === 0 && d.file !== undefined && relative(ROOT, d.file) === d.name) took[d.name] = Math.round(d.details.duration_ms / 100) / 10
})
stream.compose(new spec()).pipe(process.stdout)
stream.once('end', () => {
  if (!process.argv.includes('--record')) return
  // files not run this time keep their last time; files that are gone are dropped
  const kept = Object.entries({ ...before, ...took }).filter(([f]) => existsSync(f))
  const sorted = Object.fromEntries(kept.sort(([a], [b]) => (a < b ? -1 : 1)))
  writeFileSync(DURATIONS, JSON.stringify(sorted, null, 2) + '\n')
  process.stderr.write(`recorded the wall time of ${Object.keys(sorted).length} files in ${relative(ROOT, DURATIONS)}\n`)
})
