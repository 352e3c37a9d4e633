/**
 * A P2P peer's budget (native/PeerBudget.ts, docs/LIMITS.md): a flood of requests is ignored
 * before the session is cut, at any rate and in any mix, and an honest peer is never limited.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { PEER_BUDGET_DEFAULTS, PeerBudget } from '../../src/sync/native/PeerBudget.ts'

const SEED = 40_411

describe('PeerBudget', () => {
  it(`a flood that gets cut had its requests ignored first, at any rate and mix (seed ${SEED})`, () => {
    fc.assert(fc.property(
      fc.integer({ min: 100, max: 5_000 }), // p2p.maxMessagesPerSecond
      fc.double({ min: 1.2, max: 50, noNaN: true }), // the flood's rate, in multiples of it
      fc.integer({ min: 1, max: 4 }), // every k-th message is not a request (k = 1: none is)
      (mps, over, k) => {
        const rate = mps * over
        let t = 0
        const b = new PeerBudget({ ...PEER_BUDGET_DEFAULTS, messagesPerSecond: mps }, () => t)
        const stepMs = 1_000 / rate
        for (let i = 0; i < 20 * mps + 1_000; i++) {
          t += stepMs
          if (b.frame(64) !== undefined) {
            // half or more of the flood were requests
            if (k > 1) assert.ok(b.dropped > 0, `cut after ${i} messages with none ignored`)
            return
          }
          b.admit(i % k === k - 1 ? 'ack' : 'digest')
        }
        assert.fail(`a flood of ${over.toFixed(2)} × p2p.maxMessagesPerSecond was never cut`)
      }), { seed: SEED, numRuns: 100 })
  })

  it('an honest peer (a gossip round a second, a page stream paced by acknowledgements) is never limited', () => {
    let t = 0
    const b = new PeerBudget(PEER_BUDGET_DEFAULTS, () => t)
    for (let s = 0; s < 600; s++) {
      for (const type of ['digest', 'buckets', 'bloom', 'cursor']) {
        assert.equal(b.frame(1_000), undefined)
        assert.equal(b.admit(type), true)
      }
      for (let p = 0; p < 200; p++) { assert.equal(b.frame(64 * 1024), undefined); assert.equal(b.admit('ack'), true) }
      t += 1_000
    }
    assert.equal(b.dropped, 0)
  })
})
