/**
 * Record rows (src/protocol/native/rows.ts): every record survives rows → msgpack → check unchanged
 * (ids computed, not sent), the node table holds each node once, and rows are a fraction of the
 * size of plain records. Seeded: a failure prints the seed (rerun with ENGRAM_FC_SEED=<seed>).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { MAX_COUNTER, MAX_WALL } from '../../src/core/hlc.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { checkRecord, makeTrace, makeTriple, recordToPlain } from '../../src/core/records.ts'
import { checkRowAt, checkRows, encodeRows, rowsOf } from '../../src/protocol/native/rows.ts'
import { benchInput } from '../../bench/store.ts'
import { validateTripleContent } from '../../src/core/validate.ts'
import { anyRecordArb, assertProperty, seedFor, textArb } from '../unit/arbitraries.ts'

const packr = new Packr({ useRecords: false })
const through = (records: Parameters<typeof encodeRows>[0]): ReturnType<typeof checkRows> => {
  const wire = packr.unpack(packr.pack(encodeRows(records))) as { nodes: unknown, rows: unknown }
  const { nodes, rows } = rowsOf(wire.nodes, wire.rows, 'changes', 1000)
  return checkRows(nodes, rows, 'changes.records')
}

describe('record rows', () => {
  it('carry every record of every kind unchanged through msgpack (ids computed by the receiver)', () => {
    assertProperty(fc.property(fc.array(anyRecordArb, { maxLength: 20 }), records => {
      // as JSON: a -0 inside JSON data is the JSON number 0 (msgpack sends it so)
      const json = (rs: typeof records): unknown => JSON.parse(JSON.stringify(rs.map(recordToPlain)))
      assert.deepEqual(json(through(records)), json(records))
    }), seedFor(5101), 3_000)
  })

  it('check a triple row as checkRecord checks its plain form: the same record, or the same error naming the row', () => {
    // the fields at and around every limit and shape a triple row's check takes or refuses
    const name = fc.oneof(textArb(0, 8), fc.constant(''), fc.constant('\ud800x'), fc.constant('é'.repeat(683)), fc.constant('é'.repeat(1025)),
      fc.constant('a'.repeat(2049)), fc.integer(), fc.constant(null))
    const object = fc.oneof(textArb(0, 8), fc.constant(''), fc.constant('\udfff'), fc.constant('x'.repeat(22_000)), fc.constant('é'.repeat(33_000)),
      fc.double(), fc.constant(-0), fc.boolean(), fc.constant(null), fc.constant([1]),
      fc.record({ node: fc.oneof(textArb(0, 6), fc.constant(''), fc.integer()) }), fc.constant({ node: 'n', kind: 'node' }),
      fc.constant({ kind: 'node', value: 'n' }), fc.constant({ node: 'n', extra: 1 }), fc.constant(Object.create({ node: 'n' }) as object),
      fc.constant({ datetime: '2026-01-02T03:04:05Z' }), fc.constant({ text: 't', lang: 'EN' }), fc.constant({ json: { a: [1] } }))
    const stampPart = (max: number): fc.Arbitrary<unknown> => fc.oneof(fc.integer({ min: 0, max }), fc.constant(max + 1), fc.constant(-1), fc.constant(1.5), fc.constant('1'))
    const nodes = ['node-a', 'node-b']
    const row = fc.tuple(name, name, object, stampPart(MAX_WALL), stampPart(MAX_COUNTER), fc.oneof(fc.constantFrom(0, 1, 2, -1, 0.5)), fc.oneof(fc.boolean(), fc.constant(0)))
      .map(([subject, predicate, o, wall, counter, n, deleted]) => [0, subject, predicate, o, wall, counter, n, deleted] as unknown[])
    const outcome = (f: () => unknown): { record?: unknown, error?: string } => {
      try { return { record: f() } } catch (e) { return { error: (e as Error).message } }
    }
    assertProperty(fc.property(row, r => {
      const field = 'changes.records[3]'
      const got = outcome(() => checkRowAt(r, nodes, 'changes.records', 3))
      const n = r[6] as number
      const plain = { kind: 'triple', subject: r[1], predicate: r[2], object: r[3], hlc: { wall: r[4], counter: r[5], node: nodes[n] }, deleted: r[7] }
      const want = outcome(() => checkRecord(plain, field, { ids: 'derive' }))
      if (!(Number.isInteger(n) && n >= 0 && n < nodes.length)) {
        assert.match(got.error ?? '', /^changes\.records\[3\]\[6\]: must be an index into nodes/)
        return
      }
      if (want.error !== undefined) assert.equal(got.error, want.error.startsWith(field) ? want.error : `${field}: ${want.error}`)
      else assert.deepEqual(got, want)
    }), seedFor(5102), 3_000)
  })

  it('name each node once, and never carry a triple or trace id', () => {
    const a = asNodeId('node-a')
    const b = asNodeId('node-b')
    const t1 = makeTriple({ subject: 's', predicate: 'p', object: { kind: 'node', value: 'o' } }, { wall: 1, counter: 0, node: a })
    const t2 = makeTriple({ subject: 's', predicate: 'q', object: { kind: 'string', value: 'v' } }, { wall: 2, counter: 0, node: b })
    const t3 = makeTriple({ subject: 's', predicate: 'r', object: { kind: 'number', value: 3 } }, { wall: 3, counter: 1, node: a }, true)
    const tr = makeTrace('run', 'step', { n: 1 }, { wall: 4, counter: 0, node: b })
    const { nodes, rows } = encodeRows([t1, t2, t3, tr])
    assert.deepEqual(nodes, ['node-a', 'node-b'])
    assert.deepEqual(rows.map(r => r[0]), [0, 0, 0, 3])
    const text = JSON.stringify(rows)
    for (const r of [t1, t2, t3, tr]) assert.ok(!text.includes(r.id), `the id of ${r.kind} ${r.id} is on the wire`)
    assert.deepEqual(through([t1, t2, t3, tr]), [t1, t2, t3, tr])
  })

  it('refuse a JSON value whose key the codec renamed ("__proto__" arrives as "__proto_")', () => {
    // An older node may still send such a value; msgpack decoding renames the key, and the
    // renamed form is refused like the original, so no node stores a value its sender does not hold.
    const rows = [[1, 'n:k', JSON.parse('{"__proto__": {"x": 1}}'), 1, 0, 0, false]]
    const wire = packr.unpack(packr.pack({ nodes: ['node-a'], rows })) as { nodes: unknown, rows: unknown }
    assert.ok(Object.hasOwn((wire.rows as unknown[][])[0]![2] as object, '__proto_'), 'msgpackr renames the key')
    const { nodes, rows: got } = rowsOf(wire.nodes, wire.rows, 'changes', 1000)
    assert.throws(() => checkRows(nodes, got, 'changes.records'), (e: Error & { code?: string }) =>
      e.code === 'PROTOCOL' && /changes\.records\[0\].*__proto_/.test(e.message))
  })

  it('are under a third of the size of plain records for a typical store', () => {
    const node = asNodeId('12D3KooWGNBBcVTKGZsxVeP9n3Un3n8QQD43djvVc2jnHWRJjunn')
    const records = Array.from({ length: 1000 }, (_, i) => makeTriple(validateTripleContent(benchInput(i)), { wall: 1_795_000_000_000 + i, counter: 0, node }))
    const plain = packr.pack(records.map(recordToPlain)).byteLength
    const rows = packr.pack(encodeRows(records)).byteLength
    assert.ok(rows * 3 < plain, `rows ${rows} bytes, plain ${plain} bytes`)
  })
})
