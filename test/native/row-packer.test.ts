/**
 * A `changes` frame with its rows written straight as msgpack (rowPacker.ts) is byte for byte the
 * frame msgpackr makes of the map with encodeRows' arrays (what every earlier version sent): for
 * any records (every kind, every object kind, strings around every header size and with
 * characters of one to four bytes and lone surrogates, numbers around every integer width,
 * negative and fractional), any seals, and every optional field of a page.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import type { MemoryRecord, TripleRecord } from '../../src/core/model.ts'
import type { BatchProof, PageSeals } from '../../src/core/seals.ts'
import { asNodeId, type TripleId } from '../../src/core/ids.ts'
import { changesTail, decodeFrame, encodeMessage, FRAME_VERSION, type ChangesMessage } from '../../src/protocol/native/messages.ts'
import { encodeRows } from '../../src/protocol/native/rows.ts'
import { anyRecordArb, assertProperty, hlcArb, nodeIdArb, seedFor, textArb } from '../unit/arbitraries.ts'

/** The frame as messages.ts made it before rowPacker.ts: encodeRows' arrays in the map (the fields after them as messages.ts lists them), packed by msgpackr. */
function reference (msg: ChangesMessage): Uint8Array {
  const { nodes, rows, batches } = encodeRows(msg.records, msg.seals)
  const { more, ...tail } = changesTail(msg)
  const out: Record<string, unknown> = { t: msg.t, from: msg.from, to: msg.to, nodes, records: rows, more }
  if (batches !== undefined) out.batches = batches
  Object.assign(out, tail)
  const body = new Packr({ useRecords: false, variableMapSize: true }).pack(out)
  return Uint8Array.from([FRAME_VERSION, ...body])
}

/** Strings around msgpack's header sizes and msgpackr's two ways of writing them (below and from 64 characters). */
const edgeText = fc.oneof(
  textArb(0, 40),
  fc.constantFrom(0, 1, 31, 32, 63, 64, 85, 86, 255, 256, 65_535, 65_536).chain(n => fc.constantFrom('a', 'é', '€', '😀', '\ud800', '\udc00x').map(c => c.repeat(n).slice(0, Math.max(n, 1)))),
  fc.tuple(fc.constantFrom(10, 21, 31, 62, 63, 84, 85, 254), fc.constantFrom('é', '€', '😀', '\ud800')).map(([n, c]) => 'a'.repeat(n) + c)
)
const edgeNumber = fc.oneof(
  fc.constantFrom(0, 1, 31, 32, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, -1, -32, -33, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1, 0.5, -2.25, 1e300, -0),
  fc.integer(), fc.double({ noNaN: true })
)
/** Triples with objects of every kind, strings and numbers at the edges. */
const tripleArb: fc.Arbitrary<TripleRecord> = fc.record({
  subject: edgeText,
  predicate: edgeText,
  object: fc.oneof(
    edgeText.map(value => ({ kind: 'string' as const, value })),
    edgeNumber.map(value => ({ kind: 'number' as const, value })),
    fc.boolean().map(value => ({ kind: 'boolean' as const, value })),
    edgeText.map(value => ({ kind: 'node' as const, value })),
    edgeText.map(value => ({ kind: 'datetime' as const, value })),
    fc.tuple(edgeText, textArb(0, 8)).map(([value, lang]) => ({ kind: 'lang' as const, value, lang })),
    fc.constant({ kind: 'json' as const, value: { a: [1, 'x', null, true], b: { c: -1.5 } } })
  ),
  hlc: fc.oneof(hlcArb, fc.record({ wall: edgeNumber, counter: edgeNumber, node: nodeIdArb })),
  deleted: fc.boolean()
}).map(t => ({ kind: 'triple', id: '0'.repeat(64) as TripleId, ...t }) as TripleRecord)

const batchArb: fc.Arbitrary<BatchProof> = fc.record({
  signer: fc.oneof(nodeIdArb, fc.constant(asNodeId('signer-x'))),
  at: fc.record({ wall: fc.nat(), counter: fc.nat(1000) }),
  n: fc.integer({ min: 1, max: 10_000 }),
  sig: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  proof: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 4 })
})

const pageArb: fc.Arbitrary<ChangesMessage> = fc.tuple(
  fc.array(fc.oneof(tripleArb, anyRecordArb as fc.Arbitrary<MemoryRecord>), { maxLength: 40 }),
  fc.array(batchArb, { maxLength: 3 }),
  fc.record({
    from: fc.nat(), to: fc.nat(), more: fc.boolean(), end: fc.option(fc.nat(), { nil: undefined }),
    snapshot: fc.option(fc.nat(), { nil: undefined }),
    k: fc.option(fc.array(fc.record({ node: nodeIdArb, wall: fc.nat(), counter: fc.nat(1000) }), { maxLength: 3 }), { nil: undefined }),
    lz: fc.option(fc.array(fc.record({ node: nodeIdArb, wall: fc.nat(), counter: fc.nat(1000) }), { maxLength: 2 }), { nil: undefined })
  }),
  fc.array(fc.option(fc.tuple(fc.nat(2), fc.nat(20_000)), { nil: undefined }), { maxLength: 40 })
).map(([records, batches, f, refs]): ChangesMessage => {
  const seals: PageSeals | undefined = batches.length === 0
    ? undefined
    : { batches, refs: records.map((_, i) => { const r = refs[i]; return r === undefined ? undefined : { batch: r[0] % batches.length, leaf: r[1] } }) }
  return {
    t: 'changes',
    from: f.from,
    to: f.to,
    records,
    more: f.more,
    ...(f.end !== undefined ? { end: f.end } : {}),
    ...(f.snapshot !== undefined ? { snapshot: true, peerCursor: f.snapshot } : {}),
    ...(seals !== undefined ? { seals } : {}),
    ...(f.k !== undefined ? { k: f.k } : {}),
    ...(f.lz !== undefined ? { lz: f.lz } : {})
  } as ChangesMessage
})

describe('changes frames with their rows packed directly', () => {
  const seed = seedFor(0x5e7d)
  it(`are the bytes msgpackr makes of encodeRows' arrays (seed ${seed})`, () => {
    assertProperty(fc.property(pageArb, msg => {
      assert.deepEqual(Buffer.from(encodeMessage(msg)), Buffer.from(reference(msg)))
    }), seed, 500)
  })

  it('of a large page too (the row buffer grows), and decode to the same records', () => {
    const records: TripleRecord[] = Array.from({ length: 5_000 }, (_, i) => ({
      kind: 'triple',
      id: '0'.repeat(64) as TripleId,
      subject: `ns${i % 16}:entity${i} ${'é'.repeat(i % 70)}`,
      predicate: `rel${i % 24}`,
      object: i % 3 === 0 ? { kind: 'node', value: `ns:e${i}` } : i % 3 === 1 ? { kind: 'number', value: i * 1.5 } : { kind: 'string', value: 'v'.repeat(i % 300) },
      hlc: { wall: 1_765_000_000_000 + i, counter: i % 70_000, node: asNodeId(`node-${i % 3}`) },
      deleted: i % 7 === 0
    }))
    const msg: ChangesMessage = { t: 'changes', from: 0, to: 5_000, records, more: true }
    const frame = encodeMessage(msg)
    assert.deepEqual(Buffer.from(frame), Buffer.from(reference(msg)))
    const back = decodeFrame(frame, { maxPageRecords: 10_000 }) as ChangesMessage
    assert.equal(back.records.length, 5_000)
    assert.deepEqual(back.records.map(r => ({ ...r, id: undefined })), records.map(r => ({ ...r, id: undefined })))
  })
})
