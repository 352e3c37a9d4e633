import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { canonicalJson } from '../../src/core/canonical.ts'
import { canonicalRecord, recordToPlain } from '../../src/core/records.ts'
import { anyRecordArb, assertProperty, recordArb, seedFor } from './arbitraries.ts'

describe('canonicalRecord', () => {
  it('is the canonical JSON of the plain form, for every kind (seed 7301)', () => {
    assertProperty(fc.property(fc.oneof(anyRecordArb, recordArb('triple'), recordArb('triple')), r => {
      assert.equal(canonicalRecord(r), canonicalJson(recordToPlain(r)))
    }), seedFor(7301), 20_000)
  })
})
