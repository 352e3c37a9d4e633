/**
 * The arrival index of the legacy delta shape: whatever the pattern of writes, the feed after
 * `seqBefore(t)` holds every record that arrived at or after t; thinning and a restart (the
 * marks saved and read back, or lost) only make answers earlier. A clock stepped back by d can
 * make it late by d at most (the legacy server asks with a margin of minutes for that, and for
 * the clients' clocks).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ArrivalIndex } from '../../src/sync/polled/ArrivalIndex.ts'
import { seedFor } from '../support/seed.ts'

/** A run: steps of the clock (possibly backwards) each followed by some commits. */
const runArb = fc.array(fc.record({ dt: fc.integer({ min: -2000, max: 5000 }), commits: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 300 })

describe('ArrivalIndex', () => {
  it(`never answers a seq past a record that arrived at or after the time asked (seed ${seedFor(0xa771)})`, () => {
    fc.assert(fc.property(runArb, fc.integer({ min: 2, max: 64 }), fc.boolean(), (steps, maxMarks, restart) => {
      let now = 1_000_000
      let saved: string | undefined
      const make = (): ArrivalIndex => new ArrivalIndex({ load: () => saved, save: t => { saved = t }, now: () => now, resolutionMs: 1000, maxMarks, saveEveryMs: 10_000 })
      let index = make()
      let seq = 0
      // how far the clock ever went back below a time it had shown
      let peak = now
      let backStep = 0
      for (let t = now, i = 0; i < steps.length; i++) { t += steps[i]!.dt; peak = Math.max(peak, t); backStep = Math.max(backStep, peak - t) }
      const arrivals: Array<{ seq: number, at: number }> = []
      index.observe(seq)
      steps.forEach((s, i) => {
        now += s.dt
        for (let c = 0; c < s.commits; c++) {
          seq++
          arrivals.push({ seq, at: now })
          index.observe(seq)
        }
        if (restart && i === Math.floor(steps.length / 2)) { index = make(); index.observe(seq) }
      })
      // every time asked: each record that arrived at or after it lies after the answer
      const times = [...new Set([...arrivals.map(a => a.at), ...arrivals.map(a => a.at - 1), now + 1, 0])]
      for (const t of times) {
        const from = index.seqBefore(t - backStep)
        for (const a of arrivals) if (a.at >= t) assert.ok(a.seq > from, `record ${a.seq} arrived at ${a.at} ≥ ${t}, answer starts after ${from}`)
      }
      assert.ok(index.view().length <= maxMarks + 1)
    }), { seed: seedFor(0xa771), numRuns: 300 })
  })

  it('answers the last seq before a time, and reads its saved marks back', () => {
    let now = 10_000
    let saved: string | undefined
    const index = new ArrivalIndex({ load: () => saved, save: t => { saved = t }, now: () => now, saveEveryMs: 0 })
    index.observe(0)
    now += 5000; index.observe(10)
    now += 5000; index.observe(25)
    assert.deepEqual([index.seqBefore(10_000), index.seqBefore(10_001), index.seqBefore(16_000), index.seqBefore(20_001), index.seqBefore(99_999)], [0, 0, 10, 25, 25])
    const again = new ArrivalIndex({ load: () => saved, save: () => {}, now: () => now })
    assert.deepEqual(again.view(), index.view())
    assert.deepEqual(new ArrivalIndex({ load: () => '{broken', save: () => {}, now: () => now }).view(), [], 'unreadable marks are none')
  })

  it('saves the marks read back at a start only saveEveryMs after it, not at the first commit', () => {
    let now = 50_000
    const saves: string[] = []
    const index = new ArrivalIndex({ load: () => JSON.stringify([[40_000, 100]]), save: t => { saves.push(t) }, now: () => now, saveEveryMs: 30_000 })
    index.observe(100) // the start: nothing new
    now += 10; index.observe(200) // the first commit after the start (a peer's catch-up page)
    assert.deepEqual(saves, [], 'no save on the first commit after a start')
    now += 29_990; index.observe(300)
    assert.equal(saves.length, 1, 'saved once saveEveryMs passed since the start')
    assert.deepEqual(JSON.parse(saves[0]!), [[40_000, 100], [50_010, 200], [80_000, 300]])
    now += 10; index.observe(400)
    index.flush() // a stop
    assert.equal(saves.length, 2)
  })
})
