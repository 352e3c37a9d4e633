/**
 * Small differences by characteristic polynomials (protocol/native/charPoly.ts, recon.ts's
 * `rpoly`/`rpwant`): field arithmetic against BigInt; a decode is the exact difference or
 * undefined, never another one, whatever the evaluations (sets of any difference, garbage); the
 * messages on the wire; rounds of a few differences settled in two round trips with evaluations in
 * place of symbols, and a wrong polynomial caught and settled by symbols.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { decode, evaluations, FIELD_PRIME, monicAt, mulmod, packField, rootsIn, unpackField, VERIFY_POINTS } from '../../src/protocol/native/charPoly.ts'
import { ReconPeer } from '../../src/protocol/native/recon.ts'
import { POLY_MAX_ESTIMATE, polyPoints } from '../../src/protocol/native/reconSizing.ts'
import { decodeReconFrame, encodeReconFrame, parseReconMessage, RECON_LIMITS, type CodedRoundMessage } from '../../src/protocol/native/reconMessages.ts'
import { Packr } from 'msgpackr'
import { isEngramError } from '../../src/core/errors.ts'
import { encodeRows } from '../../src/protocol/native/rows.ts'
import { RoundPair, tripleInput } from '../support/roundPair.ts'
import { assertProperty, seedFor } from '../unit/arbitraries.ts'

const P = BigInt(FIELD_PRIME)

/** The ids only in `of` and not in `other` (pairs hi, lo). */
function only (of: Uint32Array, other: Uint32Array): string[] {
  const seen = new Set<string>()
  for (let i = 0; i < other.length; i += 2) seen.add(`${other[i]}:${other[i + 1]}`)
  const out: string[] = []
  for (let i = 0; i < of.length; i += 2) if (!seen.has(`${of[i]}:${of[i + 1]}`)) out.push(`${of[i]}:${of[i + 1]}`)
  return out.sort()
}

const idsAt = (ids: Uint32Array, indices: number[]): string[] => indices.map(k => `${ids[2 * k]}:${ids[2 * k + 1]}`).sort()

/** A decode as recon.ts accepts it: decoded, and every root of P one of the own elements' values. */
function accepted (own: Uint32Array, theirs: Uint32Array, salt: number, m: number, evalsOfTheirs?: Uint32Array): { local: string[], remote: string[] } | undefined {
  const e = evalsOfTheirs ?? evaluations(theirs, salt, m)
  const found = decode(evaluations(own, salt, e.length), e, own.length / 2 - theirs.length / 2)
  if (found === undefined) return undefined
  const roots = rootsIn(own, salt, found.own)
  if (roots.distinct !== found.own.length) return undefined
  return { local: idsAt(own, roots.indices), remote: idsAt(theirs, rootsIn(theirs, salt, found.theirs).indices) }
}

const idArb = (max: number): fc.Arbitrary<number[]> => fc.array(fc.tuple(fc.nat({ max: 2 ** 32 - 1 }), fc.nat({ max: 2 ** 32 - 1 })), { maxLength: max }).map(xs => xs.flat())

describe('characteristic polynomials: arithmetic', () => {
  test(`property: mulmod is a · b mod 2^31 − 1 (seed ${seedFor(17_031)})`, () => {
    const el = fc.oneof(fc.nat({ max: FIELD_PRIME - 1 }), fc.constantFrom(0, 1, 65_535, 65_536, FIELD_PRIME - 1, FIELD_PRIME - 2, 2 ** 30))
    assertProperty(fc.property(el, el, (a, b) => {
      assert.equal(BigInt(mulmod(a, b)), (BigInt(a) * BigInt(b)) % P)
    }), seedFor(17_031), 20_000)
  })

  test('field elements round-trip on the wire; a monic polynomial is evaluated by Horner', () => {
    const xs = Uint32Array.of(0, 1, FIELD_PRIME - 1, 123_456_789)
    assert.deepEqual(unpackField(packField(xs)), xs)
    // (z − 3)(z − 5) = z² − 8z + 15
    const c = Uint32Array.of(15, FIELD_PRIME - 8)
    assert.equal(monicAt(c, 3), 0)
    assert.equal(monicAt(c, 5), 0)
    assert.equal(monicAt(c, 0), 15)
    assert.equal(monicAt(new Uint32Array(0), 7), 1)
  })
})

describe('characteristic polynomials: decode', () => {
  test(`property: the exact difference, or undefined; always decoded when it fits the points (seed ${seedFor(17_032)})`, () => {
    const arb = fc.record({ shared: idArb(60), a: idArb(14), b: idArb(14), m: fc.integer({ min: 1, max: 40 }), salt: fc.nat({ max: 2 ** 32 - 1 }) })
    assertProperty(fc.property(arb, ({ shared, a, b, m, salt }) => {
      const A = Uint32Array.from([...shared, ...a])
      const B = Uint32Array.from([...shared, ...b])
      const local = only(A, B)
      const remote = only(B, A)
      const d = local.length + remote.length
      fc.pre(new Set([...local, ...remote]).size === d && only(A, new Uint32Array(0)).length === A.length / 2 && only(B, new Uint32Array(0)).length === B.length / 2)
      const got = accepted(A, B, salt, m)
      if (got !== undefined) {
        assert.deepEqual(got.local, local)
        assert.deepEqual(got.remote, remote)
      }
      const zeros = [...evaluations(A, salt, m), ...evaluations(B, salt, m)].filter(x => x === 0).length
      if (d >= 1 && d + VERIFY_POINTS <= m && zeros === 0) assert.ok(got !== undefined, `d = ${d}, ${m} points: not decoded`)
    }), seedFor(17_032), 1_500)
  })

  test(`property: garbage evaluations never decode to a difference the own set passes (seed ${seedFor(17_033)})`, () => {
    const arb = fc.record({
      own: idArb(40),
      e: fc.array(fc.nat({ max: 2 ** 32 - 1 }), { minLength: 1, maxLength: RECON_LIMITS.maxPolyPoints }),
      delta: fc.integer({ min: -128, max: 127 }),
      salt: fc.nat({ max: 2 ** 32 - 1 })
    })
    assertProperty(fc.property(arb, ({ own, e, delta, salt }) => {
      const ids = Uint32Array.from(own)
      const found = decode(evaluations(ids, salt, e.length), Uint32Array.from(e), delta)
      if (found === undefined) return
      const roots = rootsIn(ids, salt, found.own)
      assert.ok(roots.distinct !== found.own.length || found.own.length === 0, `accepted ${found.own.length} own roots from garbage`)
    }), seedFor(17_033), 1_500)
  })

  test('a difference larger than the points allow is not decoded (undefined, not a part of it)', () => {
    const rnd = (i: number): number => Math.imul(i + 1, 0x9e3779b1) >>> 0
    const shared = Uint32Array.from({ length: 400 }, (_, i) => rnd(i))
    for (const d of [5, 9, 20, 40]) {
      const A = Uint32Array.from([...shared, ...Array.from({ length: 2 * d }, (_, i) => rnd(10_000 + i))])
      assert.equal(accepted(A, shared, 3, d + VERIFY_POINTS - 1), undefined, `d = ${d}`)
      assert.deepEqual(accepted(A, shared, 3, d + VERIFY_POINTS)?.local.length, d)
    }
  })
})

function pair (): RoundPair<CodedRoundMessage, ReconPeer> {
  return new RoundPair({ peer: index => new ReconPeer({ index, maxRecordsPerMessage: 500, version: 2 }), encode: encodeReconFrame, decode: decodeReconFrame, stepMs: 1_000 })
}

describe('characteristic polynomials: rounds', () => {
  test('rp and rq on the wire: compact, round-trip, bad sizes refused', () => {
    const rp = { t: 'rpoly', v: 2, round: 4, count: 200, e: new Uint8Array(12) } as const
    const rq = { t: 'rpwant', v: 2, round: 4, q: new Uint8Array(8) } as const
    for (const m of [rp, rq]) assert.deepEqual(decodeReconFrame(encodeReconFrame(m)), m)
    const refused = (o: Record<string, unknown>, field: string): void => {
      assert.throws(() => parseReconMessage(o), (e: unknown) => isEngramError(e) && e.code === 'PROTOCOL' && e.message.includes(field))
    }
    refused({ t: 'rp', r: 1, c: 256, e: new Uint8Array(4) }, 'rp.c')
    refused({ t: 'rp', r: 1, c: 0, e: new Uint8Array(6) }, 'rp.e')
    refused({ t: 'rp', r: 1, c: 0, e: new Uint8Array(4 * (RECON_LIMITS.maxPolyPoints + 1)) }, 'rp.e')
    refused({ t: 'rq', r: 1, q: new Uint8Array(0) }, 'rq.q')
    refused({ t: 'rq', r: 1, q: new Uint8Array(4 * (RECON_LIMITS.maxPolyPoints + 1)) }, 'rq.q')
  })

  for (const [da, db] of [[1, 1], [2, 0], [0, 3], [3, 2], [4, 4]] as const) {
    test(`${da} + ${db} differences: evaluations in place of symbols, settled in two round trips`, () => {
      const p = pair()
      p.a.engine.addTriples(Array.from({ length: 300 }, (_, i) => tripleInput('s', i)))
      p.share(p.a)
      p.a.engine.addTriples(Array.from({ length: da }, (_, i) => tripleInput('a', i)))
      p.b.engine.addTriples(Array.from({ length: db }, (_, i) => tripleInput('b', i)))
      p.deliver(p.a, [p.a.peer.startRound()!])
      assert.ok(p.converged(), p.messages.map(m => m.msg.t).join(' '))
      p.assertSameDumps()
      const types = p.messages.map(m => m.msg.t)
      assert.equal(types[1], 'rpoly')
      assert.ok(!types.includes('rsymbols') && !types.includes('rmore'), types.join(' '))
      assert.equal(types.includes('rpwant'), db > 0)
    })
  }

  test('2 to 5 differences cost at most 2.5 times their rows (bytes of every frame, as encoded; triples shaped as bench/recon.ts writes them)', () => {
    const packr = new Packr({ useRecords: false })
    for (const d of [2, 3, 4, 5]) {
      for (let run = 0; run < 3; run++) {
        const p = pair()
        p.a.engine.addTriples(Array.from({ length: 200 }, (_, i) => tripleInput('s', i)))
        p.share(p.a)
        const added = [
          ...p.a.engine.addTriples(Array.from({ length: Math.ceil(d / 2) }, (_, i) => ({ subject: `user:a${run}-${i}`, predicate: 'knows', object: `only on a ${i}` }))),
          ...p.b.engine.addTriples(Array.from({ length: Math.floor(d / 2) }, (_, i) => ({ subject: `user:b${run}-${i}`, predicate: 'knows', object: `only on b ${i}` })))
        ]
        const floor = packr.pack(encodeRows(added)).byteLength
        p.deliver(p.a, [p.a.peer.startRound()!])
        assert.ok(p.converged())
        assert.ok(p.bytes <= 2.5 * floor, `d = ${d}: ${p.bytes} bytes for ${floor} of rows (${p.messages.map(m => m.msg.t).join(' ')})`)
      }
    }
  })

  test('a wrong polynomial (evaluations of another set) is caught: symbols asked for, and the round converges', () => {
    const p = pair()
    p.a.engine.addTriples(Array.from({ length: 200 }, (_, i) => tripleInput('s', i)))
    p.share(p.a)
    p.a.engine.addTriples(Array.from({ length: 2 }, (_, i) => tripleInput('a', i)))
    p.b.engine.addTriples(Array.from({ length: 2 }, (_, i) => tripleInput('b', i)))
    const digest = p.a.peer.startRound()!
    const answer = p.b.peer.onMessage(decodeReconFrame(encodeReconFrame(digest))).send
    assert.equal(answer.length, 1)
    const poly = answer[0]!
    assert.ok(poly.t === 'rpoly')
    // the same number of points, of garbage
    const tampered = { ...poly, e: packField(Uint32Array.from({ length: poly.e.byteLength / 4 }, (_, i) => (i * 7_919 + 13) % FIELD_PRIME)) }
    const out = p.a.peer.onMessage(decodeReconFrame(encodeReconFrame(tampered))).send
    assert.equal(out.length, 1)
    assert.equal(out[0]!.t, 'rmore')
    p.deliver(p.a, out)
    assert.ok(p.converged(), p.messages.map(m => m.msg.t).join(' '))
    p.assertSameDumps()
  })

  test('a difference above the estimate the points were sized for falls back to symbols, and converges', () => {
    // the estimate is the peer's; a larger difference than polyPoints allows is made by hand
    assert.ok(polyPoints(POLY_MAX_ESTIMATE) <= RECON_LIMITS.maxPolyPoints)
    const p = pair()
    p.a.engine.addTriples(Array.from({ length: 200 }, (_, i) => tripleInput('s', i)))
    p.share(p.a)
    p.a.engine.addTriples(Array.from({ length: 30 }, (_, i) => tripleInput('a', i)))
    const digest = p.a.peer.startRound()!
    const poly = p.b.peer.onMessage(decodeReconFrame(encodeReconFrame(digest))).send[0]!
    if (poly.t !== 'rpoly') return // the sketch saw it as large: symbols at once
    const short = { ...poly, e: poly.e.subarray(0, 4 * 8) }
    const out = p.a.peer.onMessage(decodeReconFrame(encodeReconFrame(short))).send
    assert.equal(out[0]!.t, 'rmore')
    p.deliver(p.a, out)
    assert.ok(p.converged())
  })
})
