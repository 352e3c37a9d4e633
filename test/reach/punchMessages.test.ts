/**
 * The hole-punch messages (PROTOCOL.md §5 "Hole punch"): CONNECT with IPv4 and IPv6 candidates and
 * SYNC round-trip (a property over random addresses and ports, fixed seed); every malformed
 * message is a PROTOCOL error naming what is wrong; the largest message fits MAX_PUNCH_MESSAGE.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isEngramError } from '../../src/core/errors.ts'
import { decodePunch, encodePunch, MAX_PUNCH_CANDIDATES, MAX_PUNCH_MESSAGE, type Candidate } from '../../src/transport/relay/punch.ts'
import { seedFor } from '../support/seed.ts'

const SEED = seedFor(0x9e1c)
process.stderr.write(`punch message properties: fast-check seed ${SEED}\n`)

function protocolError (fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => isEngramError(e) && e.code === 'PROTOCOL' && pattern.test(e.message))
}

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map(b => b.join('.'))
/** IPv6 in the decoder's form: eight groups, lower-case hex, no zero compression. */
const v6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map(g => g.map(x => x.toString(16)).join(':'))
const candidate: fc.Arbitrary<Candidate> = fc.record({ host: fc.oneof(v4, v6), port: fc.integer({ min: 1, max: 65535 }) }).map(c => ({ ...c }))

describe('hole-punch messages', () => {
  it('round-trip CONNECT (IPv4 and IPv6 candidates) and SYNC', () => {
    fc.assert(fc.property(fc.array(candidate, { minLength: 1, maxLength: MAX_PUNCH_CANDIDATES }), (candidates) => {
      const bytes = encodePunch({ type: 'connect', candidates })
      assert.ok(bytes.byteLength <= MAX_PUNCH_MESSAGE)
      assert.deepEqual(decodePunch(bytes), { type: 'connect', candidates })
    }), { seed: SEED, numRuns: 500 })
    assert.deepEqual(decodePunch(encodePunch({ type: 'sync' })), { type: 'sync' })
    // a compressed IPv6 literal is sent in full
    assert.deepEqual(decodePunch(encodePunch({ type: 'connect', candidates: [{ host: '2001:db8::1', port: 443 }] })),
      { type: 'connect', candidates: [{ host: '2001:db8:0:0:0:0:0:1', port: 443 }] })
    const largest = encodePunch({ type: 'connect', candidates: Array.from({ length: MAX_PUNCH_CANDIDATES }, () => ({ host: 'ffff::1', port: 1 })) })
    assert.equal(largest.byteLength, MAX_PUNCH_MESSAGE)
  })

  it('refuses what it cannot send or read', () => {
    protocolError(() => encodePunch({ type: 'connect', candidates: [] }), /1 to 4 candidates, not 0/)
    protocolError(() => encodePunch({ type: 'connect', candidates: [{ host: 'relay.example', port: 1 }] }), /not an IP literal/)
    protocolError(() => encodePunch({ type: 'connect', candidates: [{ host: '10.0.0.1', port: 0 }] }), /port 0 is not 1–65535/)
    const good = encodePunch({ type: 'connect', candidates: [{ host: '10.0.0.1', port: 4000 }] })
    protocolError(() => decodePunch(Uint8Array.of(1)), /1 bytes/)
    protocolError(() => decodePunch(Uint8Array.of(2, 2)), /version 2 is not supported/)
    protocolError(() => decodePunch(Uint8Array.of(1, 9)), /type 9 is unknown/)
    protocolError(() => decodePunch(Uint8Array.of(1, 2, 0)), /SYNC carries nothing/)
    protocolError(() => decodePunch(Uint8Array.of(1, 1, 0)), /not 0/)
    protocolError(() => decodePunch(Uint8Array.of(1, 1, 5, ...new Array<number>(35).fill(4))), /not 5/)
    protocolError(() => decodePunch(good.subarray(0, good.byteLength - 1)), /cut short/)
    protocolError(() => decodePunch(Uint8Array.of(...good, 0)), /past its candidates/)
    protocolError(() => decodePunch(Uint8Array.of(1, 1, 1, 5, 10, 0, 0, 1, 1, 1)), /family 5/)
    protocolError(() => decodePunch(Uint8Array.of(1, 1, 1, 4, 10, 0, 0, 1, 0, 0)), /port 0/)
    protocolError(() => decodePunch(new Uint8Array(MAX_PUNCH_MESSAGE + 1).fill(1)), /bytes \(2–79\)/)
  })
})
