/**
 * Record rows (src/protocol/native/rows.ts): every record survives rows → msgpack → check unchanged
 * (ids computed, not sent), the node table holds each node once, and rows are a fraction of the
 * size of plain records. Seeded: a failure prints the seed (rerun with ENGRAM_FC_SEED=<seed>).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { asNodeId } from '../../src/core/ids.ts'
import { makeTrace, makeTriple, recordToPlain } from '../../src/core/records.ts'
import { checkRows, encodeRows, rowsOf } from '../../src/protocol/native/rows.ts'
import { benchInput } from '../../bench/store.ts'
import { validateTripleContent } from '../../src/core/validate.ts'
import { anyRecordArb, assertProperty, seedFor } from '../unit/arbitraries.ts'

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
