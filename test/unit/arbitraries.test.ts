/**
 * The shared generators (arbitraries.ts): textArb draws, for a seed, the very strings fast-check's
 * `fc.string({ unit: 'binary' })` draws, and maps back (for shrinking) every string fast-check's
 * unit does: the fixed seeds of the properties cover the cases they covered with fast-check's unit.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import { seedFor, textArb } from './arbitraries.ts'

it(`textArb draws what fc.string({ unit: 'binary' }) draws for a seed (seed ${seedFor(5)})`, () => {
  const seed = seedFor(5)
  for (const [min, max] of [[0, 24], [1, 8], [0, 40]] as const) {
    const ours = fc.sample(textArb(min, max), { seed, numRuns: 2_000 })
    const theirs = fc.sample(fc.string({ unit: 'binary', minLength: min, maxLength: max }), { seed, numRuns: 2_000 })
    assert.deepEqual(ours, theirs)
  }
})

it('textArb takes back (to shrink them) exactly the strings fast-check\'s binary unit takes back', () => {
  const ours = textArb(0, 40)
  const theirs = fc.string({ unit: 'binary', maxLength: 40 })
  const values = ['', 'a', '__proto__', '\u0000', '\ud7ff', '\ue000', '\u{10ffff}', '\u{1f600}x', '\ud800', 'a\udc00', '\udbff\udfff', 'x'.repeat(40), 'x'.repeat(41)]
  for (const v of values) assert.equal(ours.canShrinkWithoutContext(v), theirs.canShrinkWithoutContext(v), JSON.stringify(v))
  for (const v of [7, null, ['a'], undefined]) assert.equal(ours.canShrinkWithoutContext(v), false)
  // and shrinks them the same way
  const shrunk = (arb: fc.Arbitrary<string>): string[] => [...arb.shrink('b\u{1f600}\ue001z', undefined).take(50)].map(v => v.value)
  assert.deepEqual(shrunk(ours), shrunk(theirs))
})
