/**
 * The short chaos run (run.ts, about a minute and a half; part of `npm test` as root, alone: `npm
 * run chaos:short`): four daemons in network namespaces, concurrent writers, and a fixed seed's
 * schedule of kills, pauses, partitions, clock steps and tombstone expiry, its faults and quiet
 * gaps at 0.6 of the long run's lengths (time scale, schedule.ts: the same faults, a 5 s
 * tombstone TTL that the isolation still outlasts); nothing acknowledged may be lost, nothing
 * deleted may come back, the nodes must end identical and every heal must converge. Needs root, nftables and
 * libfaketime; elsewhere it says why it did not run. `ENGRAM_CHAOS_SEED` runs another seed; the
 * long run is `npm run chaos` (docs/SYNC.md, "Chaos testing").
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { cannotRun } from '../netns/Lab.ts'
import { faketimeLib } from './Cluster.ts'
import { passed, report, runChaos } from './run.ts'

const SKIP = cannotRun(true) ?? (faketimeLib() === undefined ? 'libfaketime is not installed (apt-get install libfaketime)' : undefined)
if (SKIP !== undefined) process.stderr.write(`test/chaos/short.test.ts does not run here: ${SKIP}\n`)

/** A seed whose schedule holds seven kinds of fault: clock steps within and far beyond the drift guard, a kill, a bridge, an isolation past the TTL, a split, a one-way cut. */
const SEED = Number(process.env.ENGRAM_CHAOS_SEED ?? 266)

describe('chaos: a short run', { skip: SKIP }, () => {
  // About 1.5 minutes when it passes; bounded (overrun, final wait) well within the timeout when it does not.
  it(`seed ${SEED}: nothing lost, nothing back, identical nodes, every heal converges`, { timeout: 420_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), `engram-chaos-${SEED}-`))
    const result = await runChaos({
      seed: SEED, durationMs: 60_000, timeScale: 0.6, nodes: 4, ttlSeconds: 5, maxDriftMs: 30_000, outDir: out, overrunMs: 40_000, finalLimitMs: 60_000,
      print: l => process.stderr.write(l + '\n')
    })
    const text = report(result, SEED).join('\n')
    const v = result.verdict
    assert.ok(passed(result), `${text}\n(history, verdict and the daemons' logs: ${out})`)
    assert.ok(v.ops.ok > 500, `the writers made progress: ${v.ops.ok} acknowledged writes`)
    rmSync(out, { recursive: true, force: true })
  })
})
