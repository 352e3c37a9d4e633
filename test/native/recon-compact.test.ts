/**
 * Version 2 of coded rounds (protocol/native/reconMessages.ts, recon.ts, diffEstimate.ts): the
 * compact forms on the wire (valid ones round-trip, every bad field refused with a PROTOCOL error
 * naming it, hostile maps fuzzed), the narrow sketch (an estimate equal to the wide one while the
 * sums fit, and still the largest first batch where they wrap), rounds of both versions
 * converging alike, a peer answering each message in the version it came in, and what one
 * difference costs.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { estimateDifference, NARROW_SKETCH_BYTES, narrowSketch, SKETCH_BYTES, SKETCH_COUNT, sketchOf } from '../../src/protocol/native/diffEstimate.ts'
import { encodeRows } from '../../src/protocol/native/rows.ts'
import { ReconPeer, type ReconVersion } from '../../src/protocol/native/recon.ts'
import { FIRST_BATCH_MAX, firstBatch } from '../../src/protocol/native/reconSizing.ts'
import { decodeReconFrame, encodeReconFrame, packHighs, parseCodedRoundMessage, parseReconMessage, RECON_LIMITS, unpackHighs, type CodedRoundMessage } from '../../src/protocol/native/reconMessages.ts'
import { decodeFrame, encodeMessage } from '../../src/protocol/native/messages.ts'
import { idHi, idLo, SYMBOL_BYTES } from '../../src/protocol/native/riblt.ts'
import { mulberry32 as seeded } from '../../src/util/random.ts'
import { RoundPair, T0, tripleInput } from '../support/roundPair.ts'
import { assertProperty, FUZZ_RUNS, seedFor } from '../unit/arbitraries.ts'
import { assertHostileMapsRefused, assertProtocol } from './reconChecks.ts'

const packr = new Packr({ useRecords: false })

function pair (versions: [ReconVersion, ReconVersion]): RoundPair<CodedRoundMessage, ReconPeer> {
  return new RoundPair({ peer: (index, n) => new ReconPeer({ index, maxRecordsPerMessage: 500, version: versions[n] }), encode: encodeReconFrame, decode: decodeReconFrame, stepMs: 1_000 })
}

/** The wire map of a frame (version byte, then msgpack). */
const wireOf = (frame: Uint8Array): Record<string, unknown> => packr.unpack(frame.subarray(1)) as Record<string, unknown>

const digest = { t: 'rdigest', v: 2, round: 3, ws: 2 ** 32 - 1, s: new Uint8Array(SYMBOL_BYTES), e: new Uint8Array(NARROW_SKETCH_BYTES), now: T0 } as const
const symbols = { t: 'rsymbols', v: 2, round: 3, from: 7, s: new Uint8Array(SYMBOL_BYTES * 4) } as const
const more = { t: 'rmore', v: 2, round: 3, to: 40 } as const
const want = { t: 'rwant', v: 2, round: 3, ids: new Uint8Array(16) } as const

describe('coded rounds version 2: messages', () => {
  test('compact forms on the wire, unknown fields ignored, frames round-trip (through the session codec too)', () => {
    const expected: Record<string, string[]> = { rdigest: ['t', 'r', 'w', 's', 'n'], rsymbols: ['t', 'r', 'f', 's'], rmore: ['t', 'r', 'o'], rwant: ['t', 'r', 'i'] }
    for (const m of [digest, symbols, more, want]) {
      const frame = encodeReconFrame(m)
      assert.deepEqual(Object.keys(wireOf(frame)), expected[m.t])
      assert.deepEqual(decodeReconFrame(frame), m)
      assert.deepEqual(parseReconMessage({ ...wireOf(frame), extra: 1 }), m)
      assert.deepEqual(decodeFrame(encodeMessage(m)), m)
    }
    // `rr` has no round: 0 in memory
    const parsed = parseCodedRoundMessage({ t: 'records', round: 0, nodes: ['node-x'], records: [[1, 'k', 1, T0, 0, 0, false]] })
    assert.equal(parsed.t, 'records')
    const records = { ...parsed, v: 2 } as CodedRoundMessage
    const frame = encodeReconFrame(records)
    assert.deepEqual(Object.keys(wireOf(frame)), ['t', 'n', 'w'])
    assert.equal(wireOf(frame).t, 'rr')
    assert.deepEqual(decodeReconFrame(frame), records)
    assert.deepEqual(decodeFrame(encodeMessage(records)), records)
    // version 1's forms are unchanged: no `v`, named fields
    const v1 = { t: 'rmore', round: 3, to: 40 } as const
    assert.deepEqual(wireOf(encodeReconFrame(v1)), v1)
    assert.deepEqual(decodeReconFrame(encodeReconFrame(v1)), v1)
  })

  test('every bad field is refused with a PROTOCOL error naming it', () => {
    const wire = (m: CodedRoundMessage): Record<string, unknown> => wireOf(encodeReconFrame(m))
    assertProtocol(() => parseReconMessage({ ...wire(digest), s: new Uint8Array(SYMBOL_BYTES) }), 'rd.s')
    assertProtocol(() => parseReconMessage({ ...wire(digest), s: new Uint8Array(SYMBOL_BYTES + SKETCH_BYTES) }), 'rd.s')
    assertProtocol(() => parseReconMessage({ ...wire(digest), w: 2 ** 32 }), 'rd.w')
    assertProtocol(() => parseReconMessage({ ...wire(digest), r: -1 }), 'rd.r')
    assertProtocol(() => parseReconMessage({ ...wire(digest), n: 'now' }), 'rd.n')
    assertProtocol(() => parseReconMessage({ ...wire(symbols), s: new Uint8Array(SYMBOL_BYTES - 1) }), 'rs.s')
    assertProtocol(() => parseReconMessage({ ...wire(symbols), f: RECON_LIMITS.maxSymbols - 2 }), 'rs.s')
    assertProtocol(() => parseReconMessage({ ...wire(symbols), f: RECON_LIMITS.maxSymbols }), 'rs.f')
    assertProtocol(() => parseReconMessage({ ...wire(more), o: 0 }), 'rm.o')
    assertProtocol(() => parseReconMessage({ ...wire(more), o: RECON_LIMITS.maxSymbols + 1 }), 'rm.o')
    assertProtocol(() => parseReconMessage({ ...wire(want), i: new Uint8Array(9) }), 'rw.i')
    assertProtocol(() => parseReconMessage({ ...wire(want), i: new Uint8Array(0) }), 'rw.i')
    assertProtocol(() => parseReconMessage({ ...wire(want), i: new Uint8Array(4 * (RECON_LIMITS.maxIdsPerMessage + 1)) }), 'rw.i')
    assertProtocol(() => parseCodedRoundMessage({ t: 'rr', r: 1, n: ['node-x'], w: 'rows' }), 'records')
    assertProtocol(() => parseCodedRoundMessage({ t: 'rr', w: [] }), 'records')
    assertProtocol(() => parseReconMessage({ t: 'rx' }), 't must be one of')
  })

  test(`fuzz: hostile compact maps only ever throw PROTOCOL errors (${FUZZ_RUNS} cases, seed ${seedFor(17_021)})`, () => {
    const field = fc.oneof(fc.anything(), fc.uint8Array({ maxLength: 80 }), fc.integer({ min: -2, max: 2 ** 33 }), fc.array(fc.anything(), { maxLength: 3 }))
    assertHostileMapsRefused(['rd', 'rs', 'rm', 'rw', 'rr', 'rp', 'rq', 'x'], ['r', 'w', 's', 'e', 'f', 'o', 'i', 'c', 'q', 'n', 'b', 'vd'], field, seedFor(17_021))
  })
})

/** `count` random ids as pairs (hi, lo). */
function randomIds (count: number, rnd: () => number): Uint32Array {
  return Uint32Array.from({ length: 2 * count }, () => Math.floor(rnd() * 2 ** 32))
}

describe('coded rounds version 2: the narrow sketch', () => {
  test(`property: the narrow estimate equals the wide one while every sum differs by at most 255 (seed ${seedFor(17_022)})`, () => {
    // sketches made of sums directly: any value mod 2^16, differences within ±255
    const arb = fc.tuple(
      fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: SKETCH_COUNT, maxLength: SKETCH_COUNT }),
      fc.array(fc.integer({ min: -255, max: 255 }), { minLength: SKETCH_COUNT, maxLength: SKETCH_COUNT })
    )
    const bytesOf = (sums: number[]): Uint8Array => {
      const out = new Uint8Array(SKETCH_BYTES)
      sums.forEach((v, s) => new DataView(out.buffer).setUint16(2 * s, v & 0xffff, true))
      return out
    }
    assertProperty(fc.property(arb, ([base, diff]) => {
      const a = bytesOf(base)
      const b = bytesOf(base.map((v, s) => v + diff[s]!))
      assert.equal(narrowSketch(a).byteLength, NARROW_SKETCH_BYTES)
      assert.equal(estimateDifference(narrowSketch(a), narrowSketch(b)), estimateDifference(a, b))
    }), seedFor(17_022), 2_000)
  })

  test('sets apart: the same estimate up to a few thousand differences; at 10,000 and more, still the largest first batch', () => {
    const rnd = seeded(31)
    for (const d of [0, 1, 5, 40, 300, 2_000, 10_000, 40_000]) {
      for (let run = 0; run < 3; run++) {
        const shared = randomIds(500, rnd)
        const onlyA = randomIds(Math.ceil(d / 2), rnd)
        const onlyB = randomIds(Math.floor(d / 2), rnd)
        const a = sketchOf(Uint32Array.from([...shared, ...onlyA]))
        const b = sketchOf(Uint32Array.from([...shared, ...onlyB]))
        const wide = estimateDifference(a, b)
        const narrow = estimateDifference(narrowSketch(a), narrowSketch(b))
        if (d <= 2_000) assert.equal(narrow, wide, `d = ${d}`)
        else assert.equal(firstBatch(narrow), FIRST_BATCH_MAX, `d = ${d}: narrow estimate ${narrow} (wide ${wide})`)
      }
    }
    assertProtocol(() => estimateDifference(new Uint8Array(NARROW_SKETCH_BYTES), new Uint8Array(SKETCH_BYTES)), 'estimate')
  })
})

describe('coded rounds version 2: rounds', () => {
  for (const d of [1, 2, 7, 60, 900]) {
    test(`${d} differences converge alike in both versions; version 2's messages are all compact, and fewer bytes`, () => {
      const bytes: number[] = []
      for (const v of [1, 2] as const) {
        const p = pair([v, v])
        p.a.engine.addTriples(Array.from({ length: 300 }, (_, i) => tripleInput('s', i)))
        p.share(p.a)
        p.a.engine.addTriples(Array.from({ length: Math.ceil(d / 2) }, (_, i) => tripleInput('a', i)))
        p.b.engine.addTriples(Array.from({ length: Math.floor(d / 2) }, (_, i) => tripleInput('b', i)))
        assert.equal(p.run(3), 1)
        p.assertSameDumps()
        assert.ok(p.messages.every(m => ((m.msg as { v?: number }).v === 2) === (v === 2)), p.messages.map(m => m.msg.t).join(' '))
        bytes.push(p.bytes)
      }
      assert.ok(bytes[1]! < bytes[0]!, `version 2: ${bytes[1]} bytes, version 1: ${bytes[0]}`)
    })
  }

  test('a peer answers each message in the version it came in, whatever version its own rounds use', () => {
    for (const [a, b] of [[1, 2], [2, 1]] as const) {
      const p = pair([a, b])
      p.a.engine.addTriples(Array.from({ length: 100 }, (_, i) => tripleInput('s', i)))
      p.share(p.a)
      p.a.engine.addTriples(Array.from({ length: 6 }, (_, i) => tripleInput('a', i)))
      p.b.engine.addTriples(Array.from({ length: 5 }, (_, i) => tripleInput('b', i)))
      p.deliver(p.a, [p.a.peer.startRound()!])
      assert.ok(p.converged())
      assert.ok(p.messages.length >= 4)
      for (const m of p.messages) assert.equal((m.msg as { v?: number }).v ?? 1, a, `${m.from} ${m.msg.t}`)
    }
  })

  test('rwant of version 2 asks by high halves: the records of the elements so starting are sent, unknown ones skipped', () => {
    const p = pair([2, 2])
    p.a.engine.addTriples(Array.from({ length: 30 }, (_, i) => tripleInput('s', i)))
    const held = [...p.a.index.elements()].slice(0, 3).map(e => e.element)
    const ids = Uint32Array.from(held.flatMap(e => [idHi(e), idLo(e)]))
    const asked = Uint32Array.from([...ids, 0x00000001, 0x2, ...ids.subarray(0, 2)])
    const out = p.a.peer.onMessage(decodeReconFrame(encodeReconFrame({ t: 'rwant', v: 2, round: 9, ids: packHighs(asked) }))).send
    assert.equal(out.length, 1)
    assert.equal(out[0]!.t, 'records')
    assert.equal(out[0]!.t === 'records' && out[0]!.records.length, 3)
    assert.equal((out[0] as { v?: number }).v, 2)
    assert.deepEqual(unpackHighs(packHighs(asked)), Uint32Array.from([...asked].filter((_, i) => i % 2 === 0)))
  })

  test('one difference costs at most 2.5 times its row, either side holding it', () => {
    for (const holder of ['a', 'b'] as const) {
      const p = pair([2, 2])
      p.a.engine.addTriples(Array.from({ length: 200 }, (_, i) => tripleInput('s', i)))
      p.share(p.a)
      const [added] = (holder === 'a' ? p.a : p.b).engine.addTriples([tripleInput('only', 1)])
      const floor = packr.pack(encodeRows([added!])).byteLength
      p.deliver(p.a, [p.a.peer.startRound()!])
      assert.ok(p.converged())
      assert.ok(p.bytes <= 2.5 * floor, `${p.bytes} bytes for a ${floor}-byte row (${p.messages.map(m => m.msg.t).join(' ')})`)
    }
  })
})
