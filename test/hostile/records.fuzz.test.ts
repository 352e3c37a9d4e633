/**
 * checkRecord — the gate every record from outside passes (REST delta pages, native pages and
 * gossip batches, imports) — against hostile input: valid records of every kind with fields
 * replaced, removed and added at any depth, in the forms they arrive in (parsed JSON, decoded
 * msgpack), and arbitrary values. It either returns a record or throws INVALID_INPUT or
 * ID_MISMATCH, within 100 ms; what it returns is canonical (it passes again, unchanged).
 * Seeded: a failure prints the seed (rerun with ENGRAM_FC_SEED=<seed>).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { Packr, Unpackr } from 'msgpackr'
import type { ErrorCode } from '../../src/core/errors.ts'
import { canonicalRecord, checkRecord, recordToPlain } from '../../src/core/records.ts'
import { anyRecordArb, assertProperty, seedFor } from '../unit/arbitraries.ts'
import { RUNS, decodes, hostileJson, mutate, mutationArb } from './fuzz.ts'

const ALLOWED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['INVALID_INPUT', 'ID_MISMATCH'])
const packr = new Packr({ useRecords: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })

/** How the value reaches checkRecord: as built, through JSON, or through msgpack (as a peer's frame). */
const carrier = fc.constantFrom('plain', 'json', 'msgpack')

function carry (v: unknown, how: string): unknown {
  if (how === 'json') { const s = JSON.stringify(v); return s === undefined ? undefined : JSON.parse(s) as unknown }
  if (how === 'msgpack') return unpackr.unpack(packr.pack(v)) as unknown
  return v
}

const inputArb = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(anyRecordArb.map(recordToPlain), fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([r, m]) => mutate(r, m)) },
  { weight: 1, arbitrary: anyRecordArb.map(recordToPlain) },
  { weight: 2, arbitrary: hostileJson }
)

describe('checkRecord under fuzzing', () => {
  it(`accepts or refuses with INVALID_INPUT / ID_MISMATCH, under 100 ms (${RUNS} cases, seed ${seedFor(0xa9201)})`, (t) => {
    let accepted = 0
    let slowest = 0
    assertProperty(fc.property(inputArb, carrier, (input, how) => {
      const v = carry(input, how)
      let out: ReturnType<typeof checkRecord> | undefined
      const { ok, ms } = decodes(() => { out = checkRecord(v) }, ALLOWED, () => JSON.stringify(v)?.slice(0, 500) ?? String(v))
      slowest = Math.max(slowest, ms)
      if (!ok) return
      accepted++
      // what passes is canonical: its plain form passes again, to the same record
      const again = checkRecord(carry(recordToPlain(out!), how))
      assert.equal(canonicalRecord(again), canonicalRecord(out!))
    }), seedFor(0xa9201), RUNS)
    t.diagnostic(`${accepted} accepted, slowest ${slowest.toFixed(2)} ms`)
    assert.ok(accepted > RUNS / 20, 'too few inputs were valid: the generators miss the valid shapes')
  })
})
