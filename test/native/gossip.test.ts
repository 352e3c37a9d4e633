import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { isEngramError } from '../../src/core/errors.ts'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import { recordToPlain } from '../../src/core/records.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { BloomFilter, type BloomWire } from '../../src/protocol/native/bloom.ts'
import { GossipPeer, type GossipPeerOptions } from '../../src/protocol/native/gossip.ts'
import {
  decodeGossipFrame, encodeGossipFrame, GOSSIP_LIMITS, parseBloom, parseBuckets, parseDigest, parseGossipMessage, parseRecords,
  toWire, type BloomMessage, type GossipMessage
} from '../../src/protocol/native/gossipMessages.ts'
import { WindowIndex } from '../../src/protocol/native/WindowIndex.ts'
import { assertProperty, FUZZ_RUNS, seedFor } from '../unit/arbitraries.ts'
import { mulberry32 as seeded } from '../../src/util/random.ts'

const T0 = 1_763_631_000_000
const TTL = 24 * 3_600_000

interface Node { id: NodeId, store: MemoryStore, engine: Engine, index: WindowIndex, peer: GossipPeer }

function makeNode (name: string, clock: { now: number }, opts: Partial<GossipPeerOptions> = {}, seed = 1): Node {
  const id = asNodeId(name)
  const store = new MemoryStore()
  const engine = new Engine({ store, node: id, maxDriftMs: 60_000, now: () => clock.now })
  const index = new WindowIndex({ store, ttlMs: TTL, now: () => clock.now })
  engine.on('change', e => index.observe(e.entries))
  const peer = new GossipPeer({ index, fpr: 0.01, random: seeded(seed), maxRecordsPerMessage: 500, ...opts })
  return { id, store, engine, index, peer }
}

/** Two nodes that gossip with each other by passing frames (encoded and decoded, as on the wire). */
class Pair {
  readonly clock = { now: T0 }
  readonly a: Node
  readonly b: Node
  bytes = 0
  messages: { from: string, msg: GossipMessage }[] = []

  constructor (opts: Partial<GossipPeerOptions> = {}, seed = 1) {
    this.a = makeNode('node-a', this.clock, opts, seed)
    this.b = makeNode('node-b', this.clock, opts, seed + 1)
  }

  /** Delivers messages (and everything they cause) until both sides are quiet. */
  deliver (from: Node, msgs: GossipMessage[]): void {
    const queue = msgs.map(msg => ({ from, msg }))
    for (let q = queue.shift(); q !== undefined; q = queue.shift()) {
      const frame = encodeGossipFrame(q.msg)
      this.bytes += frame.byteLength
      this.messages.push({ from: q.from.id, msg: q.msg })
      const to = q.from === this.a ? this.b : this.a
      const out = to.peer.onMessage(decodeGossipFrame(frame))
      if (out.apply.length > 0) to.engine.applyRemote(out.apply, { via: q.from.id })
      for (const msg of out.send) queue.push({ from: to, msg })
    }
  }

  converged (): boolean {
    const x = this.a.index.digest()
    const y = this.b.index.digest()
    return x.n === y.n && Buffer.compare(x.x, y.x) === 0
  }

  /** Runs intervals (each node starts one round) until the window sets agree; returns how many it took. */
  gossip (maxIntervals: number): number {
    for (let i = 0; i < maxIntervals; i++) {
      if (this.converged()) return i
      this.deliver(this.a, [this.a.peer.startRound()])
      this.deliver(this.b, [this.b.peer.startRound()])
      this.clock.now += 5_000
    }
    return this.converged() ? maxIntervals : Infinity
  }

  /** Copies every record of `from` to the other node (a shared starting point). */
  share (from: Node): void {
    const to = from === this.a ? this.b : this.a
    const plain = from.store.dump().map(recordToPlain)
    for (let i = 0; i < plain.length; i += 1000) to.engine.applyRemote(plain.slice(i, i + 1000), { via: from.id })
  }

  assertSameDumps (): void {
    assert.deepEqual(this.a.store.dump(), this.b.store.dump())
  }
}

const tripleInput = (s: string, i: number): { subject: string, predicate: string, object: string } => ({ subject: `user:${s}${i}`, predicate: 'knows', object: `v${i}` })

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

// ---- the round state machine ----

describe('GossipPeer', () => {
  test('an idle round is one digest, not answered', () => {
    const p = new Pair()
    p.a.engine.addTriples(Array.from({ length: 200 }, (_, i) => tripleInput('s', i)))
    p.share(p.a)
    const digest = p.a.peer.startRound()
    assert.deepEqual(digest, { t: 'digest', round: 1, ...p.a.index.digest() })
    assert.ok(encodeGossipFrame(digest).byteLength <= 64, `${encodeGossipFrame(digest).byteLength} bytes`)
    assert.deepEqual(p.b.peer.onMessage(digest), { send: [], apply: [] })
    assert.equal(p.a.peer.startRound().round, 2)
  })

  test('a digest for another window start is ignored (the next round will agree)', () => {
    const p = new Pair()
    p.a.engine.setNote('k', 1)
    const digest = p.a.peer.startRound()
    assert.deepEqual(p.b.peer.onMessage({ ...digest, ws: digest.ws - TTL / 8 }), { send: [], apply: [] })
    const out = p.b.peer.onMessage(digest)
    assert.equal(out.send.length, 1)
  })

  test('small sets: whole-window filters both ways, the reply is never answered with a filter', () => {
    const p = new Pair()
    p.a.engine.addTriples(Array.from({ length: 20 }, (_, i) => tripleInput('a', i)))
    p.b.engine.addTriples(Array.from({ length: 10 }, (_, i) => tripleInput('b', i)))
    p.deliver(p.a, [p.a.peer.startRound()])
    const kinds = p.messages.map(m => `${m.from}:${m.msg.t}${m.msg.t === 'bloom' ? `(${m.msg.reply ? 'reply' : 'announce'})` : ''}`)
    assert.deepEqual(kinds, ['node-a:digest', 'node-b:bloom(announce)', 'node-a:bloom(reply)', 'node-a:records', 'node-b:records'])
    assert.equal((p.messages[1]!.msg as BloomMessage).scope, undefined)
    const sent = p.a.peer.stats().sent
    assert.ok(sent >= 18 && sent <= 20, 'what the filter lacks (a false positive may hide one for this round)')
    assert.deepEqual({ ...p.a.peer.stats(), bloomFpr: 0, sent: 0 }, { round: 1, pendingAnnouncements: 0, knownIds: 30, bloomItems: 20, bloomFpr: 0, sent: 0, received: 10 })
    assert.equal(p.b.peer.stats().pendingAnnouncements, 0, 'the announcement was answered')
    assert.ok(p.b.peer.stats().bloomFpr > 0 && p.b.peer.stats().bloomFpr < 0.02)
    assert.ok(p.gossip(5) <= 5)
    p.assertSameDumps()
  })

  test('large sets: bucket fingerprints narrow the filters to the buckets that differ', () => {
    const p = new Pair()
    p.a.engine.addTriples(Array.from({ length: 5_000 }, (_, i) => tripleInput('s', i)))
    p.share(p.a)
    p.a.engine.addTriples([tripleInput('only-a', 1)])
    p.b.engine.setNote('only-b', true)
    p.deliver(p.a, [p.a.peer.startRound()])
    assert.ok(p.converged())
    p.assertSameDumps()
    const types = p.messages.map(m => m.msg.t)
    assert.deepEqual(types.slice(0, 3), ['digest', 'buckets', 'buckets'])
    const blooms = p.messages.map(m => m.msg).filter((m): m is BloomMessage => m.t === 'bloom')
    assert.equal(blooms.length, 2)
    for (const b of blooms) {
      assert.ok(b.scope !== undefined && b.scope.idx.length <= 2, 'scoped to the differing buckets')
      assert.ok(b.n < 50, `${b.n} elements filtered, not 5,000`)
    }
    assert.ok(p.bytes < 2_000, `${p.bytes} bytes`)
  })

  test('a filter of an empty set is not answered with a filter; records go in bounded batches', () => {
    const p = new Pair({ maxRecordsPerMessage: 7 })
    p.a.engine.addTriples(Array.from({ length: 50 }, (_, i) => tripleInput('s', i)))
    const out = p.a.peer.onMessage({ ...p.b.peer.onMessage(p.a.peer.startRound()).send[0] as BloomMessage })
    assert.deepEqual(out.send.map(m => m.t), new Array(8).fill('records'))
    for (const m of out.send) assert.ok(m.t === 'records' && m.records.length <= 7)
    const bytes = new Pair({ maxRecordsBytes: 1 })
    bytes.a.engine.addTriples(Array.from({ length: 5 }, (_, i) => tripleInput('s', i)))
    const one = bytes.a.peer.onMessage(bytes.b.peer.onMessage(bytes.a.peer.startRound()).send[0]!)
    assert.deepEqual(one.send.map(m => m.t === 'records' ? m.records.length : -1), [1, 1, 1, 1, 1], 'a record over the byte budget goes alone')
    const capped = new Pair({ maxRecordsPerRound: 30 })
    capped.a.engine.addTriples(Array.from({ length: 50 }, (_, i) => tripleInput('s', i)))
    const answer = capped.a.peer.onMessage(capped.b.peer.onMessage(capped.a.peer.startRound()).send[0]!)
    assert.equal(answer.send.reduce((n, m) => n + (m.t === 'records' ? m.records.length : 0), 0), 30, 'at most maxRecordsPerRound per filter')
    assert.ok(capped.gossip(5) <= 5, 'the rest follows in later rounds')
    capped.assertSameDumps()
    const big = new Pair({ maxRecordsPerMessage: 50_000, maxRecordsPerRound: 20_000, maxRecordsBytes: 2 ** 30 })
    big.a.engine.addTriples(Array.from({ length: 10_000 }, (_, i) => tripleInput('s', i)))
    big.a.engine.addTriples(Array.from({ length: 500 }, (_, i) => tripleInput('t', i)))
    const sizes = big.a.peer.onMessage(big.b.peer.onMessage(big.a.peer.startRound()).send[0]!).send.map(m => m.t === 'records' ? m.records.length : -1)
    assert.deepEqual(sizes, [10_000, 500], 'never more than the protocol\'s 10,000 records per message')
  })

  test('announced filters are capped at maxBloomBits', () => {
    const p = new Pair({ maxBloomBits: 1024 })
    p.a.engine.addTriples(Array.from({ length: 2_000 }, (_, i) => tripleInput('s', i)))
    p.b.engine.setNote('k', 1)
    const announce = p.b.peer.onMessage(p.a.peer.startRound()).send[0]!
    const reply = p.a.peer.onMessage(announce).send[0]
    assert.ok(reply?.t === 'bloom' && reply.m === 1024 && reply.n === 2_000)
  })

  test('every filter gets a fresh salt; the same seeds give the same messages', () => {
    const run = (): { salts: number[], frames: string[] } => {
      const p = new Pair({}, 42)
      p.a.engine.addTriples(Array.from({ length: 300 }, (_, i) => tripleInput('s', i)))
      p.share(p.a)
      p.a.engine.addTriples(Array.from({ length: 5 }, (_, i) => tripleInput('x', i)))
      p.b.engine.addTriples(Array.from({ length: 5 }, (_, i) => tripleInput('y', i)))
      for (let r = 0; r < 3; r++) { p.deliver(p.a, [p.a.peer.startRound()]); p.deliver(p.b, [p.b.peer.startRound()]) }
      return {
        salts: p.messages.flatMap(m => m.msg.t === 'bloom' ? [m.msg.salt] : []),
        frames: p.messages.map(m => Buffer.from(encodeGossipFrame(m.msg)).toString('hex'))
      }
    }
    const first = run()
    assert.ok(first.salts.length >= 2)
    assert.equal(new Set(first.salts).size, first.salts.length, 'no salt repeats')
    assert.deepEqual(run(), first, 'deterministic')
  })

  test('unanswered announcements are counted as pending, then forgotten after two rounds', () => {
    const p = new Pair()
    p.a.engine.setNote('k', 1)
    const announce = p.b.peer.onMessage(p.a.peer.startRound()).send[0]
    assert.equal(announce?.t, 'bloom')
    assert.equal(p.b.peer.stats().pendingAnnouncements, 1)
    p.b.peer.startRound(); p.b.peer.startRound()
    assert.equal(p.b.peer.stats().pendingAnnouncements, 1)
    p.b.peer.startRound()
    assert.equal(p.b.peer.stats().pendingAnnouncements, 0)
  })

  test('refuses bad options', () => {
    const index = new WindowIndex({ store: new MemoryStore(), ttlMs: TTL })
    for (const opts of [{ fpr: 0 }, { fpr: 1 }, { maxRecordsPerMessage: 0 }, { maxRecordsPerRound: 1.5 }, { maxBloomBits: 2 ** 27 }]) {
      assert.throws(() => new GossipPeer({ index, fpr: 0.01, random: Math.random, maxRecordsPerMessage: 10, ...opts }),
        (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT')
    }
  })
})

// ---- two nodes reconciled by gossip alone ----

describe('two-node simulation', () => {
  test('10,000 differing triples, tombstones and updated notes converge by bloom rounds alone at a 10 % false-positive rate', (t) => {
    const p = new Pair({ fpr: 0.1 }, 7)
    const { a, b } = p
    a.engine.addTriples(Array.from({ length: 2_000 }, (_, i) => tripleInput('shared', i)))
    for (let i = 0; i < 400; i++) a.engine.setNote(`note:${i}`, { v: 0 })
    a.engine.putEpisode({ id: 'ep:1', data: { summary: 'shared' } })
    p.share(a)
    for (let i = 0; i < 5_000; i += 1_000) {
      a.engine.addTriples(Array.from({ length: 1_000 }, (_, j) => tripleInput('a', i + j)))
      b.engine.addTriples(Array.from({ length: 1_000 }, (_, j) => tripleInput('b', i + j)))
    }
    for (let i = 0; i < 300; i++) a.engine.deleteTriples({ subject: `user:shared${i}` })
    for (let i = 300; i < 600; i++) b.engine.deleteTriples({ subject: `user:shared${i}` })
    for (let i = 0; i < 500; i++) b.engine.deleteTriples({ subject: `user:b${i}` })
    for (let i = 0; i < 150; i++) a.engine.setNote(`note:${i}`, { v: 'a' })
    for (let i = 100; i < 250; i++) b.engine.setNote(`note:${i}`, { v: 'b' }) // 100 … 149 changed on both
    for (let i = 250; i < 300; i++) b.engine.deleteNote(`note:${i}`)
    a.engine.putEpisode({ id: 'ep:1', data: { summary: 'edited on a' } })
    b.engine.appendTraces([{ runId: 'run:1', type: 'step', data: { n: 1 } }])
    const differing = a.index.size + b.index.size
    t.diagnostic(`window sets: a ${a.index.size}, b ${b.index.size} elements`)

    const t0 = performance.now()
    const intervals = p.gossip(12)
    t.diagnostic(`converged in ${intervals} gossip intervals (${a.peer.stats().round + b.peer.stats().round} rounds: each node starts one per interval), ` +
      `${p.messages.length} messages, ${(p.bytes / 1024).toFixed(0)} KiB, ${(performance.now() - t0).toFixed(0)} ms`)
    assert.ok(intervals <= 8, `converged within 8 intervals (took ${intervals})`)
    p.assertSameDumps()
    assert.ok(differing > 10_000)
    assert.equal(a.store.stats().tripleTombstones, 1_100)
  })

  test(`random divergent states converge within a bounded number of rounds (property) (seed ${seedFor(0x5e1)})`, () => {
    const seed = seedFor(0x5e1)
    const side = fc.record({
      triples: fc.uniqueArray(fc.nat(60), { maxLength: 40 }),
      deletes: fc.uniqueArray(fc.nat(60), { maxLength: 15 }),
      notes: fc.array(fc.tuple(fc.nat(15), fc.nat(3)), { maxLength: 15 }),
      noteDeletes: fc.uniqueArray(fc.nat(15), { maxLength: 5 }),
      episodes: fc.array(fc.tuple(fc.nat(4), fc.nat(3)), { maxLength: 4 }),
      traces: fc.nat(3)
    })
    assertProperty(fc.property(
      fc.nat(400), side, side, fc.constantFrom(0.01, 0.1, 0.3), fc.boolean(), fc.integer({ min: 1, max: 50 }), fc.nat(),
      (shared, x, y, fpr, buckets, perMessage, salt) => {
        const p = new Pair({ fpr, buckets, maxRecordsPerMessage: perMessage }, salt)
        if (shared > 0) p.a.engine.addTriples(Array.from({ length: shared }, (_, i) => tripleInput('shared', i)))
        p.share(p.a)
        for (const [n, s] of [[p.a, x], [p.b, y]] as const) {
          if (s.triples.length > 0) n.engine.addTriples(s.triples.map(i => tripleInput('t', i)))
          for (const i of s.deletes) { try { n.engine.deleteTriples({ subject: `user:t${i}` }) } catch { /* absent */ } }
          for (const [k, v] of s.notes) n.engine.setNote(`note:${k}`, v)
          for (const k of s.noteDeletes) { try { n.engine.deleteNote(`note:${k}`) } catch { /* absent */ } }
          for (const [id, v] of s.episodes) n.engine.putEpisode({ id: `ep:${id}`, data: { v } })
          if (s.traces > 0) n.engine.appendTraces(Array.from({ length: s.traces }, (_, i) => ({ runId: 'r', type: 't', data: i })))
        }
        const intervals = p.gossip(20)
        assert.ok(intervals <= 20, `converged (took ${intervals})`)
        p.assertSameDumps()
      }), seed, 150)
  })
})
