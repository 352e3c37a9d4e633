/**
 * The bloom-round messages on the wire (protocol/native/gossipMessages.ts, bloom.ts): valid
 * messages pass and round-trip as frames, every bad field is refused with a PROTOCOL error naming
 * it, nothing is allocated for an announcement over its limits, and the decoders, fuzzed with
 * hostile maps and damaged frames, only ever throw PROTOCOL errors.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { isEngramError } from '../../src/core/errors.ts'
import { BloomFilter, type BloomWire } from '../../src/protocol/native/bloom.ts'
import {
  decodeGossipFrame, encodeGossipFrame, GOSSIP_LIMITS, parseBloom, parseBuckets, parseDigest, parseGossipMessage, parseRecords,
  toWire
} from '../../src/protocol/native/gossipMessages.ts'
import { T0, TTL } from '../support/roundPair.ts'
import { assertProperty, FUZZ_RUNS, seedFor } from '../unit/arbitraries.ts'

function assertProtocol (fn: () => unknown, mentions: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isEngramError(e) && e.code === 'PROTOCOL', `expected a PROTOCOL error, got ${String(e)}`)
    assert.ok(e.message.includes(mentions), `message ${JSON.stringify(e.message)} should mention ${mentions}`)
    return true
  })
}

// ---- message validators ----

const validDigest = { t: 'digest', round: 3, ws: T0 - TTL / 2, n: 10, x: new Uint8Array(16) }
const validBuckets = { t: 'buckets', round: 3, ws: T0, n: 10, b: 4, sel: Uint8Array.from([0b101, 0]), fp: new Uint8Array(16) }
const validBloom = { t: 'bloom', round: 3, ws: T0, salt: 7, k: 3, m: 64, bits: new Uint8Array(8), n: 2, reply: false }
const validRecords = { t: 'records', round: 3, nodes: ['node-x'], records: [[1, 'k', 1, T0, 0, 0, false]] }

describe('gossip messages', () => {
  test('valid messages pass; unknown fields are ignored; frames round-trip', () => {
    assert.deepEqual(parseDigest({ ...validDigest, extra: 1 }), validDigest)
    assert.deepEqual(parseBuckets(validBuckets), { t: 'buckets', round: 3, ws: T0, n: 10, b: 4, idx: [0, 2], fp: new Uint8Array(16) })
    assert.deepEqual(parseBuckets({ ...validBuckets, sel: undefined, fp: new Uint8Array(128) }).idx, Array.from({ length: 16 }, (_, j) => j))
    assert.deepEqual(parseBloom(validBloom), validBloom)
    assert.deepEqual(parseBloom({ ...validBloom, b: 3, sel: Uint8Array.from([0x81]) }).scope, { b: 3, idx: [0, 7] })
    assert.deepEqual(parseBloom({ ...validBloom, b: 12, idx: [5, 4095] }).scope, { b: 12, idx: [5, 4095] })
    assert.deepEqual(parseBuckets({ ...validBuckets, sel: undefined, idx: [3], fp: new Uint8Array(8) }).idx, [3])
    assert.deepEqual(parseRecords(validRecords), { t: 'records', round: 3, records: [{ kind: 'note', key: 'k', value: 1, hlc: { wall: T0, counter: 0, node: 'node-x' }, deleted: false }] })
    for (const wire of [validDigest, validBuckets, validBloom, { ...validBloom, b: 12, sel: new Uint8Array(512).fill(1) }, { ...validBloom, b: 12, idx: [7] }, validRecords]) {
      const msg = parseGossipMessage(wire)
      const back = decodeGossipFrame(encodeGossipFrame(msg))
      assert.deepEqual(back, msg)
    }
    const sparse = toWire(parseBloom({ ...validBloom, b: 12, idx: [7, 300] }))
    assert.deepEqual([sparse.idx, sparse.sel], [[7, 300], undefined], 'a sparse selection travels as a list')
    const dense = toWire(parseBloom({ ...validBloom, b: 12, sel: new Uint8Array(512).fill(1) }))
    assert.ok(dense.idx === undefined && dense.sel instanceof Uint8Array, 'a dense one as a bitmap')
    assert.equal(encodeGossipFrame(parseDigest(validDigest))[0], 0x01)
  })

  test('each bad field is refused with a PROTOCOL error naming it', () => {
    const cases: [unknown, string][] = [
      [null, 'must be a map'], [[1], 'must be a map'], [new Uint8Array(3), 'must be a map'],
      [{ ...validDigest, t: 'nope' }, 't must be one of'],
      [{ ...validDigest, round: -1 }, 'digest.round'], [{ ...validDigest, round: 2 ** 32 }, 'digest.round'],
      [{ ...validDigest, ws: 2 ** 48 }, 'digest.ws'], [{ ...validDigest, ws: 1.5 }, 'digest.ws'], [{ ...validDigest, ws: 10n }, 'digest.ws'],
      [{ ...validDigest, n: '1' }, 'digest.n'], [{ ...validDigest, x: new Uint8Array(15) }, 'digest.x'], [{ ...validDigest, x: [] }, 'digest.x'],
      [{ ...validBuckets, b: 0 }, 'buckets.b'], [{ ...validBuckets, b: 13 }, 'buckets.b'],
      [{ ...validBuckets, sel: new Uint8Array(3) }, 'buckets.sel'], [{ ...validBuckets, sel: new Uint8Array(2) }, 'selects no bucket'],
      [{ ...validBuckets, b: 2, sel: Uint8Array.from([0x10]), fp: new Uint8Array(8) }, 'past the 4 buckets'],
      [{ ...validBuckets, fp: new Uint8Array(24) }, 'buckets.fp'],
      [{ ...validBuckets, idx: [0, 2] }, 'exclusive'], [{ ...validBuckets, sel: undefined, idx: [2, 2] }, 'buckets.idx[1]'],
      [{ ...validBuckets, sel: undefined, idx: [16] }, 'buckets.idx[0]'], [{ ...validBuckets, sel: undefined, idx: [] }, 'buckets.idx'],
      [{ ...validBuckets, sel: undefined, idx: new Array(17).fill(0) }, 'buckets.idx'], [{ ...validBuckets, sel: undefined, idx: 'all' }, 'buckets.idx'],
      [{ ...validBloom, m: 2 ** 35 }, 'bloom.m'], [{ ...validBloom, k: 0 }, 'bloom.k'], [{ ...validBloom, k: 1e6 }, 'bloom.k'],
      [{ ...validBloom, salt: -1 }, 'bloom.salt'], [{ ...validBloom, bits: new Uint8Array(9) }, 'bloom.bits'],
      [{ ...validBloom, reply: 1 }, 'bloom.reply'], [{ ...validBloom, b: 2 }, 'bloom.sel'], [{ ...validBloom, sel: new Uint8Array(1) }, 'bloom.b'],
      [{ ...validRecords, records: {} }, 'records.records'],
      [{ ...validRecords, records: new Array(GOSSIP_LIMITS.maxRecordsPerMessage + 1).fill(0) }, 'over the limit of 10000'],
      [{ ...validRecords, nodes: undefined }, 'records.nodes'],
      [{ ...validRecords, records: [[1, 'k', 1, T0, 0, 1, false]] }, 'records.records[0][5]']
    ]
    for (const [input, mentions] of cases) assertProtocol(() => parseGossipMessage(input), mentions)
    const inherited = Object.create({ t: 'digest', round: 1, ws: 1, n: 1, x: new Uint8Array(16) }) as unknown
    assertProtocol(() => parseGossipMessage(inherited), 't must be one of')
    assertProtocol(() => decodeGossipFrame(Uint8Array.from([2, 0x80])), 'unsupported version 2')
    assertProtocol(() => decodeGossipFrame(Uint8Array.from([1])), 'too short')
    assertProtocol(() => decodeGossipFrame(Uint8Array.from([1, 0x92, 1])), 'msgpack')
    assertProtocol(() => decodeGossipFrame(Uint8Array.from([1, 0x01, 0x02])), 'msgpack')
  })

  test('a 4 GiB, a zero-hash and a million-hash announcement are refused before anything is allocated', () => {
    const packr = new Packr({ useRecords: false })
    const before = process.memoryUsage().arrayBuffers
    for (const patch of [{ m: 2 ** 35, bits: new Uint8Array(16) }, { k: 0 }, { k: 1_000_000 }, { m: 2 ** 35, bits: new Uint8Array(2 ** 20) }]) {
      const frame = Buffer.concat([Buffer.from([1]), packr.pack({ ...validBloom, ...patch })])
      assertProtocol(() => decodeGossipFrame(frame), 'bloom.')
    }
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024)
  })
})

// ---- fuzzing the decoders ----

/** Values msgpack can carry, leaning to the edges of every field's range. */
const scalarArb = fc.oneof(
  fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
  fc.constantFrom(0, -1, 1, 2 ** 32, 2 ** 32 - 1, 2 ** 35, 2 ** 48, 2 ** 53, 1e6, 64, 72, 4096, 16, 17, 12, 13, -0, NaN, Infinity),
  fc.string({ maxLength: 12 }), fc.constantFrom('digest', 'buckets', 'bloom', 'records', '__proto__'),
  fc.uint8Array({ maxLength: 40 }), fc.constantFrom(new Uint8Array(16), new Uint8Array(512), new Uint8Array(8))
)
const valueArb: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>(tie => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarArb,
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(fc.constantFrom('t', 'round', 'ws', 'n', 'x', 'b', 'sel', 'idx', 'fp', 'salt', 'k', 'm', 'bits', 'reply', 'records', 'z'), tie('v'), { maxKeys: 6 }))
})).v

const validArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ t: fc.constant('digest'), round: fc.nat(), ws: fc.integer({ min: 0, max: 2 ** 48 - 1 }), n: fc.nat(), x: fc.uint8Array({ minLength: 16, maxLength: 16 }) }),
  fc.integer({ min: 1, max: 12 }).chain(b => fc.uniqueArray(fc.integer({ min: 0, max: 2 ** b - 1 }), { minLength: 1, maxLength: Math.min(64, 2 ** b) }).map(idx => {
    const sel = new Uint8Array(Math.ceil(2 ** b / 8))
    for (const j of idx) sel[j >>> 3]! |= 1 << (j & 7)
    const sorted = [...idx].sort((x, y) => x - y)
    return idx.length % 2 === 0
      ? { t: 'buckets', round: 1, ws: T0, n: 5, b, sel, fp: new Uint8Array(idx.length * 8) }
      : { t: 'buckets', round: 1, ws: T0, n: 5, b, idx: sorted, fp: new Uint8Array(idx.length * 8) }
  })),
  fc.record({ m: fc.integer({ min: 8, max: 512 }).map(x => x * 8), k: fc.integer({ min: 1, max: 16 }), salt: fc.nat(), reply: fc.boolean(), scope: fc.option(fc.integer({ min: 1, max: 12 })) })
    .map(({ scope, ...f }) => ({ t: 'bloom', round: 2, ws: T0, n: 3, bits: new Uint8Array(f.m / 8), ...f, ...(scope === null ? {} : { b: scope, idx: [0, 2 ** scope - 1] }) })),
  fc.array(valueArb, { maxLength: 8 }).map(records => ({ t: 'records', round: 4, records }))
)

/** A valid message with one field replaced, removed or added. */
const mutatedArb: fc.Arbitrary<unknown> = fc.tuple(validArb, fc.constantFrom('t', 'round', 'ws', 'n', 'x', 'b', 'sel', 'idx', 'fp', 'salt', 'k', 'm', 'bits', 'reply', 'records'), fc.option(valueArb))
  .map(([msg, key, v]) => {
    const out: Record<string, unknown> = { ...msg }
    if (v === null) delete out[key]
    else out[key] = v
    return out
  })

const packr = new Packr({ useRecords: false })
const frameArb: fc.Arbitrary<Uint8Array> = fc.tuple(fc.oneof(validArb, mutatedArb, valueArb), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }), fc.nat())
  .map(([v, flips, cut]) => {
    const body = packr.pack(v)
    const frame = new Uint8Array(body.byteLength + 1)
    frame[0] = 1
    frame.set(body, 1)
    for (const [at, byte] of flips) frame[at % frame.byteLength] = byte
    return cut % 4 === 0 ? frame.subarray(0, cut % frame.byteLength) : frame
  })

/** Decodes once; true when it returned, false when it threw PROTOCOL (anything else is rethrown). */
function decodes (decode: (input: never) => unknown, input: unknown): boolean {
  try {
    decode(input as never)
    return true
  } catch (e) {
    if (!isEngramError(e) || e.code !== 'PROTOCOL') throw e
    return false
  }
}

/**
 * Every input decodes or is refused with PROTOCOL. The slowest case is reported, never asserted:
 * speed is measured by npm run bench, where a loaded machine cannot fail a test.
 */
function fuzz (name: string, arb: fc.Arbitrary<unknown>, decode: (input: never) => unknown, seed: number): void {
  test(`fuzz: ${name} only ever throws PROTOCOL errors (${FUZZ_RUNS} cases, seed ${seedFor(seed)})`, (t) => {
    let slowest = 0
    let refused = 0
    assertProperty(fc.property(arb, (input) => {
      const t0 = performance.now()
      if (!decodes(decode, input)) refused++
      slowest = Math.max(slowest, performance.now() - t0)
    }), seedFor(seed), FUZZ_RUNS)
    t.diagnostic(`${name}: ${refused} refused, slowest ${slowest.toFixed(2)} ms`)
  })
}

describe('gossip decoders under fuzzing', () => {
  const anyInput = fc.oneof(valueArb, validArb, mutatedArb)
  fuzz('parseDigest', anyInput, parseDigest, 0xf001)
  fuzz('parseBuckets', anyInput, parseBuckets, 0xf002)
  fuzz('parseBloom', anyInput, parseBloom, 0xf003)
  fuzz('parseRecords', anyInput, parseRecords, 0xf004)
  fuzz('parseGossipMessage', anyInput, parseGossipMessage, 0xf005)
  fuzz('decodeGossipFrame', frameArb, decodeGossipFrame, 0xf006)
  fuzz('BloomFilter.decode', anyInput, (input: BloomWire) => BloomFilter.decode(input), 0xf007)
})
