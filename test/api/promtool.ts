/**
 * Prometheus's own parser and linter for tests: `promtool check metrics` reads an exposition
 * text and exits 0 only when it parses and follows the naming rules (counters end in _total,
 * units in base units, HELP on every family). `.ci/run` installs promtool (from Debian's
 * prometheus package); without it these tests fail, saying so.
 */
import { spawnSync } from 'node:child_process'
import assert from 'node:assert/strict'

export function promtoolCheck (text: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 60_000 })
  if (r.error !== undefined) {
    throw new Error(`promtool is needed to check GET /metrics (${r.error.message}); install it: apt-get install prometheus, or run .ci/run as root`)
  }
  assert.equal(r.status, 0, `promtool check metrics refused the answer:\n${r.stdout}${r.stderr}`)
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '', `promtool check metrics complained:\n${r.stdout}${r.stderr}`)
}

/** The families of an exposition text, from its TYPE lines: name → type. */
export function families (text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!)
  return out
}

/** The value of one sample (`name{labels}` exactly as written, labels in order), or undefined. */
export function sample (text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1))
  }
  return undefined
}

/** The metric names documented in docs/METRICS.md (the first column of its tables). */
export function documentedMetrics (doc: string): string[] {
  return [...doc.matchAll(/^\| `([a-z_:][a-z0-9_:]*)` \|/gm)].map(m => m[1]!)
}
