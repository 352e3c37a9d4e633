/**
 * FeedProgress on a manual clock: a catch-up from its first page with more to its last (count,
 * total, fraction, rate, time left, kept at 100 % for a while), live pages that are no
 * catch-up, a sender that does not say its feed's end, and the lag of a reader in both
 * directions.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FeedProgress } from '../../src/telemetry/FeedProgress.ts'

const T0 = Date.UTC(2026, 0, 1)

function setup (): { p: FeedProgress, clock: { ms: number } } {
  const clock = { ms: T0 }
  return { p: new FeedProgress({ now: () => clock.ms, keepDoneMs: 60_000 }), clock }
}

describe('FeedProgress', () => {
  it('follows a catch-up to 100 % and keeps it shown for a while', () => {
    const { p, clock } = setup()
    assert.equal(p.catchUp(), undefined)
    p.page({ from: 0, to: 5000, end: 20_000, records: 5000, more: true })
    clock.ms += 1000
    p.page({ from: 5000, to: 10_000, end: 20_000, records: 5000, more: true })
    const half = p.catchUp()!
    assert.deepEqual(half, { records: 10_000, total: 20_000, fraction: 0.5, startedAt: new Date(T0).toISOString(), rate: 10_000, etaSeconds: 1, done: false })
    assert.deepEqual(p.lag(), { records: 10_000, seconds: 1 })
    clock.ms += 1000
    p.page({ from: 10_000, to: 20_000, end: 20_000, records: 9000, more: false })
    const done = p.catchUp()!
    assert.equal(done.done, true)
    assert.equal(done.fraction, 1)
    assert.equal(done.total, 19_000, 'done: the total is what came')
    assert.equal(done.etaSeconds, 0)
    assert.deepEqual(p.lag(), { records: 0, seconds: 0 })
    clock.ms += 60_001
    assert.equal(p.catchUp(), undefined, 'forgotten after keepDoneMs')
  })

  it('counts no catch-up for pages pushed one at a time', () => {
    const { p, clock } = setup()
    for (let i = 0; i < 5; i++) {
      clock.ms += 100
      p.page({ from: i, to: i + 1, end: i + 1, records: 1, more: false })
    }
    assert.equal(p.catchUp(), undefined)
    assert.deepEqual(p.lag(), { records: 0, seconds: 0 })
  })

  it('knows no total and no lag in records when the sender does not say its end', () => {
    const { p, clock } = setup()
    p.page({ from: 0, to: 100, records: 100, more: true })
    clock.ms += 2000
    const c = p.catchUp()!
    assert.equal(c.total, null)
    assert.equal(c.fraction, null)
    assert.equal(c.etaSeconds, null)
    assert.equal(c.rate, 50)
    assert.deepEqual(p.lag(), { records: null, seconds: 2 })
    p.page({ from: 100, to: 150, records: 50, more: false })
    assert.equal(p.catchUp()!.total, 150)
    assert.deepEqual(p.lag(), { records: 0, seconds: 0 })
  })

  it("gives the lag of a peer reading this node's feed, from its acknowledgements", () => {
    const { p, clock } = setup()
    assert.equal(p.lag(), undefined)
    p.feedEnd(40)
    clock.ms += 3000
    assert.deepEqual(p.lag(), { records: 40, seconds: 3 })
    p.page({ from: 0, to: 40, end: 40, records: 40, more: false })
    assert.deepEqual(p.lag(), { records: 0, seconds: 0 })
    p.feedEnd(41)
    clock.ms += 500
    assert.deepEqual(p.lag(), { records: 1, seconds: 0.5 })
  })
})
