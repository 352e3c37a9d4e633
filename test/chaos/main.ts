/**
 * `npm run chaos`: a chaos run against real daemons in network namespaces (run.ts), as root.
 *
 *   npm run chaos -- [--seed N] [--minutes M] [--nodes N] [--ttl-seconds S] [--max-drift-ms MS] [--time-scale F] [--eager-routes] [--out DIR] [--keep]
 *
 * `--eager-routes` starts every daemon with ENGRAM_P2P_EAGER_ROUTES=1 (p2p.eagerRoutes, docs/PROTOCOL.md
 * "Dissemination"): the streams prune duplicate paths and graft them back.
 *
 * Prints the seed and the schedule first (the same seed replays the same schedule), progress
 * while it runs, and the checker's figures at the end; writes history.json, verdict.json and
 * every daemon's log to the output directory. Exits 0 when nothing was lost, nothing came back,
 * the nodes agree and every heal converged; 1 otherwise; 2 when the run could not be made.
 *
 * Nightly: several seeds, 30 minutes in total, e.g.
 *   for s in 1 2 3 4 5 6; do npm run chaos -- --seed $s --minutes 5 || exit 1; done
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { cannotRun } from '../netns/Lab.ts'
import { faketimeLib } from './Cluster.ts'
import { passed, report, runChaos } from './run.ts'

function usage (why: string): never {
  process.stderr.write(`${why}\nusage: npm run chaos -- [--seed N] [--minutes M] [--nodes N] [--ttl-seconds S] [--max-drift-ms MS] [--time-scale F] [--eager-routes] [--out DIR] [--keep]\n  --eager-routes: the daemons run with ENGRAM_P2P_EAGER_ROUTES=1 (p2p.eagerRoutes)\n`)
  process.exit(2)
}

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    minutes: { type: 'string' },
    nodes: { type: 'string' },
    'ttl-seconds': { type: 'string' },
    'max-drift-ms': { type: 'string' },
    'time-scale': { type: 'string' },
    out: { type: 'string' },
    keep: { type: 'boolean' },
    'eager-routes': { type: 'boolean' }
  }
})
const num = (v: string | undefined, dflt: number, name: string, min: number, max: number): number => {
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isFinite(n) || n < min || n > max) usage(`--${name} must be a number from ${min} to ${max} (got ${v})`)
  return n
}
const seed = Math.floor(num(values.seed, Math.floor(Math.random() * 2 ** 31), 'seed', 0, 2 ** 32 - 1))
const minutes = num(values.minutes, 3, 'minutes', 0.5, 600)
const nodes = Math.floor(num(values.nodes, 5, 'nodes', 2, 9))
const ttlSeconds = num(values['ttl-seconds'], 10, 'ttl-seconds', 1, 3600)
const maxDriftMs = Math.floor(num(values['max-drift-ms'], 60_000, 'max-drift-ms', 1000, 86_400_000))
const timeScale = num(values['time-scale'], 1, 'time-scale', 0.1, 10)
const why = cannotRun(true) ?? (faketimeLib() === undefined ? 'libfaketime is not installed (apt-get install libfaketime)' : undefined)
if (why !== undefined) usage(`npm run chaos cannot run here: ${why}`)
const outDir = values.out ?? mkdtempSync(join(tmpdir(), `engram-chaos-${seed}-`))

try {
  const result = await runChaos({ seed, durationMs: Math.round(minutes * 60_000), nodes, ttlSeconds, maxDriftMs, timeScale, outDir, keep: values.keep === true, eagerRoutes: values['eager-routes'] === true, print: line => process.stdout.write(line + '\n') })
  for (const line of report(result, seed)) process.stdout.write(line + '\n')
  process.exit(passed(result) ? 0 : 1)
} catch (e) {
  process.stderr.write(`chaos run failed (seed ${seed}): ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`)
  process.exit(2)
}
