/**
 * Conformance: seals and signed batches, history of replaced states, as-of reads, and the reads
 * that revert and migration use (touchedBy, unsealed).
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { NodeId } from '../../../src/core/ids.ts'
import { proveLeaves, rootFromProof } from '../../../src/core/merkle.ts'
import type { MemoryRecord, NoteRecord, TripleRecord } from '../../../src/core/model.ts'
import { KnownHashes } from '../../../src/core/merkle.ts'
import { leafHash, sealBatch, type SignedBatch } from '../../../src/core/signing.ts'
import type { ApplySeals } from '../../../src/store/Store.ts'
import { parseQuery } from '../../../src/text/query.ts'
import { A, at, B, C, episode, mark, note, noteTomb, put, tomb, trace, triple, type StoreRef } from './fixtures.ts'

/** A batch "signed" by `node` with a fixed signature (stores keep signatures; they do not check them). */
const batchOf = (records: MemoryRecord[], node: NodeId = A): SignedBatch =>
  sealBatch(records, { node, sign: () => new Uint8Array(64).fill(7) }, { wall: 1000, counter: 0 })

const sealsOf = (batch: SignedBatch, leaves: number[]): ApplySeals => ({ batches: [batch], refs: leaves.map(leaf => ({ batch: 0, leaf })) })

/** The same batch as a receiver of only some of its leaves stores it. */
function partOf (batch: SignedBatch, records: MemoryRecord[], leaves: number[]): SignedBatch {
  const proof = proveLeaves(batch.known, leaves)
  const rebuilt = rootFromProof(batch.header.n, leaves, leaves.map(l => leafHash(records[l]!)), proof)!
  const known = new KnownHashes(batch.header.n, rebuilt.nodes)
  for (const l of leaves) known.add({ start: l, size: 1, hash: leafHash(records[l]!) })
  return { ...batch, known }
}

export function provenanceTests (ref: StoreRef): void {
  it('keeps each state\'s seal and its batch; a batch arriving in parts knows every part', () => {
    const { store } = ref
    const recs = [triple('s:1', 'p', 'o', at(100)), note('n', 1, at(101)), episode('e', { a: 1 }, at(102)), trace('r', 't', 1, at(103))]
    const batch = batchOf(recs)
    const r1 = store.apply(recs.slice(0, 2), { clock: mark(200), via: B, seals: { batches: [partOf(batch, recs, [0, 1])], refs: [{ batch: 0, leaf: 0 }, { batch: 0, leaf: 1 }] } })
    const id = r1.changed[0]!.seal!.batch
    assert.deepEqual(r1.changed.map(e => e.seal), [{ batch: id, leaf: 0 }, { batch: id, leaf: 1 }])
    const r2 = store.apply(recs.slice(2), { clock: mark(200), via: B, seals: { batches: [partOf(batch, recs, [2, 3])], refs: [{ batch: 0, leaf: 2 }, { batch: 0, leaf: 3 }] } })
    assert.deepEqual(r2.changed.map(e => e.seal), [{ batch: id, leaf: 2 }, { batch: id, leaf: 3 }])
    const stored = store.getBatch(id)!
    assert.deepEqual(stored.header, batch.header)
    assert.deepEqual(stored.sig, batch.sig)
    // Both parts are known: the store can prove any subset to the next node.
    const all = [0, 1, 2, 3]
    assert.deepEqual(rootFromProof(4, all, recs.map(leafHash), proveLeaves(stored.known, all))?.root, batch.header.root)
    assert.deepEqual(rootFromProof(4, [1, 3], [leafHash(recs[1]!), leafHash(recs[3]!)], proveLeaves(stored.known, [1, 3]))?.root, batch.header.root)
    assert.deepEqual(store.changesSince(0, { limit: 10 }).entries.map(e => e.seal?.leaf), [0, 1, 2, 3])
    assert.deepEqual(store.getState('note', 'n'), { record: recs[1], via: B, seal: { batch: id, leaf: 1 } })
    assert.deepEqual(store.getState('trace', (recs[3] as { id: string }).id)?.seal, { batch: id, leaf: 3 })
    assert.equal(store.getState('note', 'missing'), undefined)
    assert.deepEqual(store.provenanceStats(), { history: 0, batches: 1, unsigned: 0 })
  })

  it('a signed copy of a state held unsigned adds its signature: a new seq, no history, found once by search', () => {
    const { store } = ref
    const t = triple('s:1', 'p', 'signed words', at(100))
    const n = note('n', { v: 'signed words' }, at(100))
    const tr = trace('r', 't', 'signed words', at(100))
    put(store, t, n, tr)
    assert.equal(store.provenanceStats().unsigned, 3)
    const batch = batchOf([t, n, tr])
    // The same state again, signed, from this node: that is how a node signs its old states (Engine.sealOwnStates).
    const local = store.apply([t], { clock: mark(200), seals: sealsOf(batch, [0]) })
    assert.equal(local.changed.length, 1)
    assert.equal(local.changed[0]!.seq, 4)
    const remote = store.apply([n, tr], { clock: mark(200), via: B, seals: { batches: [batch], refs: [{ batch: 0, leaf: 1 }, { batch: 0, leaf: 2 }] } })
    assert.deepEqual(remote.changed.map(e => e.seq), [5, 6])
    assert.equal(store.getState('note', 'n')?.via, B)
    // Signed again by another batch: nothing changes.
    const again = store.apply([n], { clock: mark(200), via: C, seals: sealsOf(batchOf([n], B), [0]) })
    assert.equal(again.changed.length, 0)
    assert.deepEqual(store.history('note', 'n').length, 1)
    assert.deepEqual(store.provenanceStats(), { history: 0, batches: 1, unsigned: 0 })
    // The full-text index follows each state to its new seq: every record found once, at its new seq.
    const hits = store.searchText({ query: parseQuery('signed words'), limit: 10 }).hits
    assert.deepEqual(hits.map(h => `${h.seq}:${h.record.kind}`).sort(), ['4:triple', '5:note', '6:trace'])
    assert.equal(store.textIndex().docs, 3)
  })

  it('keeps replaced states with what ended them, newest first, and collects them by that end', () => {
    const { store } = ref
    const t = triple('user:a', 'likes', 'tea', at(100))
    const b1 = batchOf([t])
    store.apply([t], { clock: mark(100), seals: sealsOf(b1, [0]) })
    store.apply([tomb(t, at(200, 0, B))], { clock: mark(200), via: B })
    store.apply([{ ...t, hlc: at(300) }], { clock: mark(300) })
    put(store, note('k', 1, at(100)), note('k', 2, at(150, 0, C)), noteTomb('k', at(250)))
    const ht = store.history('triple', t.id)
    assert.deepEqual(ht.map(s => [s.record.hlc.wall, (s.record as TripleRecord).deleted, s.until?.wall]), [[300, false, undefined], [200, true, 300], [100, false, 200]])
    assert.equal(ht[1]!.via, B)
    assert.equal(ht[2]!.seal?.leaf, 0, 'the replaced state keeps its seal')
    assert.equal(ht[0]!.seal, undefined)
    const hn = store.history('note', 'k')
    assert.deepEqual(hn.map(s => [(s.record as NoteRecord).value, s.record.hlc.node, s.until?.wall]), [[null, A, undefined], [2, C, 250], [1, A, 150]])
    assert.equal(store.provenanceStats().history, 4)
    assert.equal(store.provenanceStats().batches, 1)
    // Ended before 200: the first note state and the signed first triple state; its batch goes with it.
    assert.equal(store.collectHistory(201), 2)
    assert.deepEqual(store.history('triple', t.id).map(s => s.record.hlc.wall), [300, 200])
    assert.deepEqual(store.provenanceStats(), { history: 2, batches: 0, unsigned: 2 })
    assert.equal(store.collectHistory(10_000), 2)
    assert.deepEqual(store.history('note', 'k').map(s => s.record.hlc.wall), [250])
  })

  it('moves collected tombstones into history, where their content stays readable', () => {
    const { store } = ref
    const t = triple('user:a', 'likes', { kind: 'lang', value: 'thé', lang: 'fr' }, at(100))
    put(store, t, note('k', 'v', at(100)))
    put(store, tomb(t, at(200)), noteTomb('k', at(200)))
    assert.equal(store.collectTombstones(300), 2)
    assert.equal(store.get('triple', t.id), undefined)
    const h = store.history('triple', t.id)
    assert.deepEqual(h.map(s => [s.record, s.until?.wall]), [[tomb(t, at(200)), 200], [t, 200]])
    assert.deepEqual(store.history('note', 'k').map(s => s.record.hlc.wall), [200, 100])
    // As of before the delete the triple was there; after it, it was not.
    assert.deepEqual(store.queryTriples({ asOf: 150 }, { limit: 10, offset: 0 }).triples, [t])
    assert.deepEqual(store.queryTriples({ asOf: 250 }, { limit: 10, offset: 0 }).total, 0)
    assert.equal(store.collectHistory(200), 0)
    assert.equal(store.collectHistory(201), 4)
    assert.deepEqual(store.history('triple', t.id), [])
  })

  it('reads the past: per record the latest state stamped at or before the time', () => {
    const { store } = ref
    const tea = triple('user:a', 'likes', 'tea', at(100))
    const coffee = triple('user:a', 'likes', 'coffee', at(150, 0, B))
    const water = triple('user:b', 'likes', 'water', at(120))
    put(store, tea, coffee, water, note('cfg:x', 1, at(100)), note('cfg:y', 'a', at(110, 0, B)))
    put(store, tomb(tea, at(200)), { ...coffee, hlc: at(210) }, note('cfg:x', 2, at(220)), noteTomb('cfg:y', at(230)))
    const q = (asOf: number, extra = {}): string[] =>
      store.queryTriples({ asOf, ...extra }, { limit: 100, offset: 0 }).triples.map(t => `${t.subject} ${(t.object as { value: string }).value} ${t.hlc.wall}`)
    assert.deepEqual(q(99), [])
    assert.deepEqual(q(149), ['user:a tea 100', 'user:b water 120'])
    assert.deepEqual(q(150), ['user:a coffee 150', 'user:a tea 100', 'user:b water 120'])
    assert.deepEqual(q(205), ['user:a coffee 150', 'user:b water 120'])
    assert.deepEqual(q(1000), ['user:a coffee 210', 'user:b water 120'])
    assert.deepEqual(q(205, { subject: 'user:a' }), ['user:a coffee 150'])
    assert.deepEqual(q(205, { origin: B }), ['user:a coffee 150'])
    assert.deepEqual(q(205, { includeDeleted: true, subject: 'user:a' }), ['user:a coffee 150', 'user:a tea 200'])
    assert.deepEqual(q(205, { namespace: 'user', predicate: 'likes', object: { kind: 'string', value: 'water' } }), ['user:b water 120'])
    const page = store.queryTriples({ asOf: 150 }, { limit: 1, offset: 1 })
    assert.deepEqual([page.total, page.triples.length], [3, 1])
    const notes = (asOf: number): unknown[] => store.listNotes({ asOf, prefix: 'cfg:', limit: 10, offset: 0 }).notes.map(n => [n.key, n.value])
    assert.deepEqual(notes(105), [['cfg:x', 1]])
    assert.deepEqual(notes(225), [['cfg:x', 2], ['cfg:y', 'a']])
    assert.deepEqual(notes(1000), [['cfg:x', 2]])
    // The system namespace is listed only when the prefix asks for it.
    put(store, note('_engram:name:node-a', { name: 'laptop' }, at(90)))
    assert.deepEqual(store.listNotes({ limit: 10, offset: 0 }).notes.map(n => n.key), ['cfg:x'])
    assert.deepEqual(store.listNotes({ limit: 10, offset: 0, asOf: 1000 }).notes.map(n => n.key), ['cfg:x'])
    assert.deepEqual(store.listNotes({ prefix: '_engram:', limit: 10, offset: 0 }).notes.map(n => n.key), ['_engram:name:node-a'])
    // Without asOf: the current state, filtered by origin.
    assert.deepEqual(store.queryTriples({ origin: A }, { limit: 10, offset: 0 }).triples.map(t => t.subject), ['user:a', 'user:b'])
    assert.deepEqual(store.queryTriples({ origin: C }, { limit: 10, offset: 0 }).total, 0)
  })

  it('finds what one origin wrote in a window, and the states it has not signed yet', () => {
    const { store } = ref
    const t1 = triple('s:1', 'p', 'o', at(100, 0, B))
    const t2 = triple('s:2', 'p', 'o', at(150, 0, B))
    put(store, t1, t2, note('k', 1, at(160, 0, B)), episode('e', {}, at(170)), trace('r', 't', 1, at(180, 0, B)))
    put(store, note('k', 2, at(300)))
    const key = (r: { kind: string, key: string }): string => `${r.kind} ${r.key}`
    assert.deepEqual(store.touchedBy(B, 120, 200).map(key).sort(), ['note k', `trace ${(trace('r', 't', 1, at(180, 0, B))).id}`, `triple ${t2.id}`].sort())
    assert.deepEqual(store.touchedBy(B, 0, 99), [])
    assert.deepEqual(store.touchedBy(C, 0, 1000), [])
    assert.deepEqual(store.unsealed(B, 10), [t1, t2, trace('r', 't', 1, at(180, 0, B))])
    assert.deepEqual(store.unsealed(B, 1), [t1])
    assert.deepEqual(store.unsealed(A, 10).map(r => r.kind), ['episode', 'note'])
  })
}
