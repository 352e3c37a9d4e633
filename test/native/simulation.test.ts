/**
 * A seeded simulation: five nodes on MemoryStores over the in-memory network, with random frame
 * loss, delay and reordering, random disconnects, and random writes of every kind (adds,
 * deletes, notes, episodes, traces) on every node. Then the network calms down and every node
 * must end with the identical dump — with everything on, with the streams alone and with gossip
 * rounds alone. The seed is printed on failure; rerun one with
 * ENGRAM_FC_SEED=<seed> node --test test/native/simulation.test.ts (SIM_OPS=<n> for longer runs).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TripleId } from '../../src/core/ids.ts'
import { MemoryNetwork, mulberry32 } from '../../src/transport/memory/MemoryTransport.ts'
import { seedFor } from '../unit/arbitraries.ts'
import { canonicalDump, eventually, sameDumps, simNode, type SimNode } from './helpers.ts'

const NAMES = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e']

type Mode = 'full' | 'streams only' | 'gossip only'

async function simulate (seed: number, ops: number, mode: Mode): Promise<void> {
  const rnd = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const net = new MemoryNetwork({ random: mulberry32(seed ^ 0x5eed) })
  const chaos = { dropRate: 0.05, maxDelaySteps: 3, reorder: true }
  for (let i = 0; i < NAMES.length; i++) for (let j = i + 1; j < NAMES.length; j++) net.setLink(NAMES[i]!, NAMES[j]!, chaos)
  const nodes: SimNode[] = NAMES.map((n, i) => simNode(net, n, {
    logLevel: 'error',
    random: mulberry32(seed + i),
    // gossip only: no cursors, no pages, no push; streams only: no gossip round within the test
    ...(mode === 'gossip only' ? { stream: false, push: false } : {}),
    settings: { maxTriplesPerSync: 7, syncTimeoutMs: 200, ...(mode === 'streams only' ? { gossipIntervalMs: 60_000 } : {}) }
  }))
  try {
    for (const n of nodes) await n.sync.start()
    // a ring plus chords: every node dials two others
    nodes.forEach((n, i) => { n.sync.addPeer(`mem:${NAMES[(i + 1) % 5]}`); n.sync.addPeer(`mem:${NAMES[(i + 2) % 5]}`) })
    for (let op = 0; op < ops; op++) {
      const n = pick(nodes)
      const r = rnd()
      const k = Math.floor(rnd() * 40)
      if (r < 0.35) {
        n.engine.addTriples([{ subject: `user:s${k % 10}`, predicate: 'rel:p', object: { kind: 'number', value: k } }])
      } else if (r < 0.5) {
        const live = n.store.queryTriples({}, { limit: 100, offset: 0 }).triples
        if (live.length > 0) n.engine.deleteTriple(pick(live).id as TripleId)
      } else if (r < 0.65) {
        n.engine.setNote(`note:k${k % 8}`, { v: k, by: n.id })
      } else if (r < 0.72) {
        if (n.engine.getNote(`note:k${k % 8}`) !== undefined) n.engine.deleteNote(`note:k${k % 8}`)
      } else if (r < 0.82) {
        n.engine.putEpisode({ id: `ep:e${k % 6}`, data: { summary: `s${k}`, by: n.id } })
      } else if (r < 0.92) {
        n.engine.appendTraces([{ runId: `run:r${k % 3}`, type: 'step', data: { k } }])
      } else {
        const other = pick(nodes)
        if (other !== n) net.disconnect(n.id, other.id, 'simulated disconnect')
      }
      // let the event loop move frames and timers now and then
      if (rnd() < 0.3) await new Promise(resolve => setTimeout(resolve, Math.floor(rnd() * 4)))
    }
    // calm: no more loss or reordering; everything must converge
    for (let i = 0; i < NAMES.length; i++) for (let j = i + 1; j < NAMES.length; j++) net.setLink(NAMES[i]!, NAMES[j]!, {})
    await eventually(() => sameDumps(nodes), () => `identical dumps on all five nodes; sizes: ${nodes.map(n => canonicalDump(n.store).length).join(', ')}`, 60_000, 20)
    assert.ok(canonicalDump(nodes[0]!.store).length > 0)
    assert.ok(net.stats.dropped > 0, `frames were dropped (${JSON.stringify(net.stats)})`)
  } finally {
    await Promise.all(nodes.map(n => n.sync.stop()))
  }
}

const OPS = Number(process.env.SIM_OPS ?? 400)

describe('native sync simulation', () => {
  const runs: Array<[number, Mode]> = [[1, 'full'], [2, 'full'], [3, 'full'], [4, 'streams only'], [5, 'gossip only']]
  for (const [fixed, mode] of runs) {
    const seed = seedFor(fixed)
    it(`converges under loss, reordering and disconnects: ${mode} (seed ${seed})`, async () => {
      try {
        await simulate(seed, OPS, mode)
      } catch (e) {
        throw new Error(`simulation failed with seed ${seed} (rerun with ENGRAM_FC_SEED=${seed}): ${e instanceof Error ? e.message : String(e)}`, { cause: e })
      }
    })
  }
})
