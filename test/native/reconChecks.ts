/**
 * What the tests of both versions of coded rounds (recon.test.ts, recon-compact.test.ts) check
 * alike on the wire: a bad field refused with a PROTOCOL error naming it, and hostile maps,
 * packed as coded-round frames, only ever refused with PROTOCOL errors.
 */
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { isEngramError } from '../../src/core/errors.ts'
import { decodeReconFrame } from '../../src/protocol/native/reconMessages.ts'
import { assertProperty, FUZZ_RUNS } from '../unit/arbitraries.ts'

export function assertProtocol (fn: () => unknown, mentions: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isEngramError(e) && e.code === 'PROTOCOL', `expected a PROTOCOL error, got ${String(e)}`)
    assert.ok(e.message.includes(mentions), `message ${JSON.stringify(e.message)} should mention ${mentions}`)
    return true
  })
}

/**
 * Maps whose `t` is one of `types` and whose `fields` (any of them, each absent or any value of
 * `field`) are hostile, packed as frames (version byte 1, then msgpack): decoding each only ever
 * throws a PROTOCOL error. FUZZ_RUNS cases from `seed`.
 */
export function assertHostileMapsRefused (types: readonly string[], fields: readonly string[], field: fc.Arbitrary<unknown>, seed: number): void {
  const packr = new Packr({ useRecords: false })
  const arb = fc.record<Record<string, unknown>>({ t: fc.constantFrom(...types), ...Object.fromEntries(fields.map(f => [f, field])) }, { requiredKeys: ['t'] })
  assertProperty(fc.property(arb, (m) => {
    try {
      decodeReconFrame(Uint8Array.from([1, ...packr.pack(m)]))
    } catch (e) {
      assert.ok(isEngramError(e) && e.code === 'PROTOCOL', String(e))
    }
  }), seed, FUZZ_RUNS)
}
