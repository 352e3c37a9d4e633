/**
 * The full-text index's pending range (store/textPending.ts): the in-place step a deferring write
 * takes (extendsByOne) is exactly what deferAt gives, and only where it says so. Properties run
 * with fixed seeds, printed on failure.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { deferAt, extendsByOne, type TextPending } from '../../src/store/textPending.ts'
import { assertProperty, seedFor } from './arbitraries.ts'

/** A range as deferring writes build it: from nothing pending, writes at increasing seqs. */
const pendingArb: fc.Arbitrary<TextPending> = fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 12 })
  .map(steps => {
    let p: TextPending = { done: 0, upto: 0, kept: [] }
    let seq = 0
    for (const step of steps) { seq += step; p = deferAt(p, seq) }
    return p
  })

test('extendsByOne: deferAt moves only upto, exactly when it says so', () => {
  assertProperty(fc.property(pendingArb, fc.integer({ min: 1, max: 60 }), (p, seq) => {
    const next = deferAt(p, seq)
    const inPlace = next.done === p.done && next.kept === p.kept && next.upto === seq && seq !== p.upto
    assert.equal(extendsByOne(p, seq), inPlace && p.upto !== 0, `upto ${p.upto}, seq ${seq}`)
  }), seedFor(0x7e47), 500)
})

test('extendsByOne: nothing pending never extends', () => {
  assert.equal(extendsByOne({ done: 0, upto: 0, kept: [] }, 1), false)
  assert.equal(extendsByOne({ done: 3, upto: 7, kept: [] }, 8), true)
  assert.equal(extendsByOne({ done: 3, upto: 7, kept: [] }, 9), false)
})
