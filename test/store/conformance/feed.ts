/**
 * Conformance: the changes feed (paging, filters, lastSeq/hasMore) and tombstone collection.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { isEngramError } from '../../../src/core/errors.ts'
import { asNodeId, type NodeId } from '../../../src/core/ids.ts'
import { recordKey, type MemoryRecord, type RecordKind, type TripleRecord } from '../../../src/core/model.ts'
import type { ChangesOptions, Store } from '../../../src/store/Store.ts'
import { A, at, B, C, episode, mark, note, noteTomb, put, tomb, trace, triple, type StoreRef } from './fixtures.ts'

/** Reads the whole feed page by page. */
function readAll (store: Store, opts: ChangesOptions, after = 0): { seqs: number[], records: MemoryRecord[], pages: number, last: number } {
  const seqs: number[] = []
  const records: MemoryRecord[] = []
  let pages = 0
  for (;;) {
    const page = store.changesSince(after, opts)
    pages++
    assert.ok(page.entries.length <= opts.limit)
    assert.ok(page.lastSeq >= after)
    for (const e of page.entries) { seqs.push(e.seq); records.push(e.record) }
    after = page.lastSeq
    if (!page.hasMore) return { seqs, records, pages, last: after }
    assert.ok(pages < 1000, 'the feed ends')
  }
}

/** 24 records of every kind, interleaved, in namespaces a, b and none; every third from peer B. */
function fill (store: Store): MemoryRecord[] {
  const out: MemoryRecord[] = []
  for (let i = 0; i < 6; i++) {
    const ns = ['a', 'b', 'none'][i % 3]!
    const name = (s: string): string => (ns === 'none' ? `${s}${i}` : `${ns}:${s}${i}`)
    const hlc = at(100 + i, 0, i % 3 === 2 ? B : C)
    const batch = [triple(name('s'), 'p', 'o', hlc), note(name('n'), i, hlc), episode(name('e'), { i }, hlc), trace(name('r'), 't', i, hlc)]
    if (i % 3 === 2) store.apply(batch, { clock: mark(200), via: B })
    else put(store, ...batch)
    out.push(...batch)
  }
  return out
}

export function feedTests (ref: StoreRef): void {
  it('changesSince: pages in seq order with limit, lastSeq and hasMore', () => {
    const { store } = ref
    const all = fill(store)
    const one = store.changesSince(0, { limit: 1000 })
    assert.deepEqual(one.entries.map(e => e.seq), all.map((_, i) => i + 1))
    assert.deepEqual(one.entries.map(e => e.record), all)
    assert.equal(one.lastSeq, 24)
    assert.equal(one.hasMore, false)
    const first = store.changesSince(0, { limit: 5 })
    assert.deepEqual(first.entries.map(e => e.seq), [1, 2, 3, 4, 5])
    assert.equal(first.lastSeq, 5)
    assert.equal(first.hasMore, true)
    for (const limit of [1, 2, 3, 7, 24, 25]) {
      const r = readAll(store, { limit })
      assert.deepEqual(r.seqs, all.map((_, i) => i + 1), `limit ${limit}`)
      assert.equal(r.last, 24)
    }
    const end = store.changesSince(24, { limit: 5 })
    assert.deepEqual(end, { entries: [], lastSeq: 24, hasMore: false })
    assert.deepEqual(store.changesSince(30, { limit: 5 }), { entries: [], lastSeq: 30, hasMore: false })
  })

  it('changesSince: a changed record moves to its new seq and appears once', () => {
    const { store } = ref
    const t = triple('s:1', 'p', 'o', at(100))
    put(store, t, note('n', 1, at(100)))
    put(store, tomb(t, at(200)))
    const page = store.changesSince(0, { limit: 10 })
    assert.deepEqual(page.entries.map(e => [e.seq, e.record.kind]), [[2, 'note'], [3, 'triple']])
    assert.deepEqual(store.changesSince(2, { limit: 10 }).entries.map(e => e.seq), [3])
  })

  it('changesSince: namespace filter (subject, note key, episode id, trace run id)', () => {
    const { store } = ref
    const all = fill(store)
    const inA = readAll(store, { limit: 3, namespaces: ['a'] })
    const expected = all.filter(r => (r.kind === 'trace' ? r.runId : r.kind === 'triple' ? r.subject : recordKey(r)).startsWith('a:'))
    assert.deepEqual(inA.records, expected)
    assert.equal(inA.last, 24, 'lastSeq reaches the end even when the tail is filtered out')
    const none = readAll(store, { limit: 4, namespaces: [''] })
    assert.equal(none.records.length, 8)
    assert.ok(none.records.every(r => !(r.kind === 'trace' ? r.runId : r.kind === 'triple' ? r.subject : recordKey(r)).includes(':')))
    assert.equal(readAll(store, { limit: 5, namespaces: ['a', 'b'] }).records.length, 16)
    assert.equal(readAll(store, { limit: 5, namespaces: [] }).records.length, 24, 'empty: all namespaces')
    assert.deepEqual(store.changesSince(0, { limit: 5, namespaces: ['zzz'] }), { entries: [], lastSeq: 24, hasMore: false })
    // The system namespace (node names, revocations) goes with every selection.
    put(store, note('_engram:name:node-c', { name: 'laptop' }, at(300, 0, C)))
    assert.deepEqual(store.changesSince(0, { limit: 50, namespaces: ['zzz'] }).entries.map(e => recordKey(e.record)), ['_engram:name:node-c'])
  })

  it('changesSince: excludeVia leaves out what came from that peer, until it changes here', () => {
    const { store } = ref
    const all = fill(store)
    const notFromB = readAll(store, { limit: 4, excludeVia: B })
    assert.equal(notFromB.records.length, 16)
    assert.ok(notFromB.records.every(r => r.hlc.node !== B))
    assert.equal(readAll(store, { limit: 4, excludeVia: C }).records.length, 24, 'C sent nothing (its records were local writes)')
    const fromB = all.find(r => r.kind === 'note' && r.hlc.node === B)!
    put(store, note(recordKey(fromB), 'changed here', at(500)))
    const after = store.changesSince(24, { limit: 10, excludeVia: B })
    assert.deepEqual(after.entries.map(e => [e.seq, recordKey(e.record)]), [[25, recordKey(fromB)]])
  })

  it('changesSince: withVia names the peer each state came through, and only then', () => {
    const { store } = ref
    const all = fill(store)
    const read = store.changesSince(0, { limit: 100, withVia: true })
    assert.deepEqual(read.entries.map(e => e.record), all)
    assert.deepEqual(read.entries.map(e => e.via), all.map(r => (r.hlc.node === B ? B : undefined)))
    assert.ok(read.entries.every(e => e.via === undefined ? !('via' in e) : true), 'a local write has no via at all')
    assert.ok(store.changesSince(0, { limit: 100 }).entries.every(e => !('via' in e)), 'without withVia no entry names one')
    assert.deepEqual(store.changesSince(0, { limit: 100, withVia: true, excludeVia: B }).entries.map(e => e.via), all.filter(r => r.hlc.node !== B).map(() => undefined))
  })

  it('changesSince: kinds filter, alone and with other filters', () => {
    const { store } = ref
    const all = fill(store)
    for (const kinds of [['triple'], ['note', 'trace'], ['episode'], ['trace', 'triple', 'note', 'episode']] as RecordKind[][]) {
      const r = readAll(store, { limit: 2, kinds })
      assert.deepEqual(r.records, all.filter(x => kinds.includes(x.kind)), kinds.join())
      assert.equal(r.last, 24)
    }
    assert.deepEqual(store.changesSince(0, { limit: 5, kinds: [] }), { entries: [], lastSeq: 24, hasMore: false })
    const mixed = readAll(store, { limit: 1, kinds: ['note'], namespaces: ['b'], excludeVia: B })
    assert.deepEqual(mixed.records.map(recordKey), ['b:n1', 'b:n4'])
  })

  it('changesSince: refuses a bad after or limit', () => {
    const { store } = ref
    for (const [after, limit] of [[-1, 5], [0, 0], [0, 1.5], [Number.NaN, 5]]) {
      assert.throws(() => store.changesSince(after!, { limit: limit! }), (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT')
    }
  })

  it('collectTombstones: removes old tombstones only, raises the feed floor, keeps counts right', () => {
    const { store } = ref
    const live = triple('s:live', 'p', 'o', at(100))
    const oldT = triple('s:old', 'p', 'o', at(100))
    const newT = triple('s:new', 'p', 'o', at(100))
    put(store, live, oldT, newT, note('n:old', 1, at(100)), note('n:new', 1, at(100)), note('n:live', 1, at(100)))
    put(store, tomb(oldT, at(1000)), noteTomb('n:old', at(1500)))
    put(store, tomb(newT, at(5000)), noteTomb('n:new', at(5000)))
    put(store, episode('e', {}, at(10)), trace('r', 't', 1, at(10)))
    assert.deepEqual(
      [store.stats().triples, store.stats().tripleTombstones, store.stats().notes, store.stats().noteTombstones], [1, 2, 1, 2])
    assert.equal(store.collectTombstones(2000), 2)
    assert.equal(store.getTriple(oldT.id), undefined)
    assert.equal(store.getNote('n:old'), undefined)
    assert.equal(store.getTriple(newT.id)?.deleted, true)
    assert.equal(store.getTriple(live.id)?.deleted, false)
    const s = store.stats()
    assert.deepEqual({ ...s }, {
      triples: 1, tripleTombstones: 1, notes: 1, noteTombstones: 1, episodes: 1, traces: 1, lastSeq: 12, feedFloor: 8
    })
    assert.deepEqual(store.changesSince(0, { limit: 100 }).entries.map(e => e.seq), [1, 6, 9, 10, 11, 12])
    assert.equal(store.collectTombstones(2000), 0)
    assert.equal(store.stats().feedFloor, 8, 'the floor never goes down')
    assert.equal(store.collectTombstones(10_000), 2)
    assert.equal(store.stats().feedFloor, 10)
    assert.equal(store.stats().tripleTombstones + store.stats().noteTombstones, 0)
  })

  it('feedFloorFor: the floor for a peer leaves out the tombstones that came from it; a later state from elsewhere counts', () => {
    const { store } = ref
    const D = asNodeId('node-d')
    const fromPeer = (peer: NodeId, ...records: MemoryRecord[]): void => { store.apply(records, { clock: mark(10_000), via: peer }) }
    const t0 = triple('s:local', 'p', 'o', at(100))
    const [x, y, z, w] = ['x', 'y', 'z', 'w'].map(k => triple(`s:${k}`, 'p', 'o', at(100, 0, B))) as [TripleRecord, TripleRecord, TripleRecord, TripleRecord]
    put(store, t0) // 1
    fromPeer(B, tomb(x, at(1000, 0, B))) // 2
    fromPeer(C, noteTomb('n:c', at(1000, 0, C))) // 3
    put(store, tomb(t0, at(1000))) // 4: deleted here
    fromPeer(B, tomb(y, at(1000, 0, B))) // 5
    put(store, note('n:fresh', 1, at(5000))) // 6
    for (const p of [A, B, C, D]) assert.equal(store.feedFloorFor(p), 0, `no floor before a collection (${p})`)
    assert.equal(store.collectTombstones(2000), 4)
    assert.equal(store.stats().feedFloor, 5)
    assert.equal(store.feedFloorFor(B), 4, 'B gave this node the tombstones at 2 and 5: its floor is the local one at 4')
    assert.equal(store.feedFloorFor(C), 5)
    assert.equal(store.feedFloorFor(D), 5, 'a peer that gave none gets the store-wide floor')
    assert.equal(store.feedFloorFor(A), 5)

    // z: deleted by B, added again by C, deleted by C — the tombstone collected came from C
    fromPeer(B, tomb(z, at(3000, 0, B))) // 7
    fromPeer(C, { ...z, hlc: at(3100, 0, C) }) // 8
    fromPeer(C, tomb(z, at(3200, 0, C))) // 9
    fromPeer(B, tomb(w, at(3000, 0, B))) // 10
    assert.equal(store.collectTombstones(4000), 2)
    assert.equal(store.stats().feedFloor, 10)
    assert.equal(store.feedFloorFor(B), 9, 'B held a deletion of z, but the state removed was C\'s: B\'s floor counts it')
    assert.equal(store.feedFloorFor(C), 10)
    assert.equal(store.collectTombstones(10_000), 0)
    assert.deepEqual([B, C, D].map(p => store.feedFloorFor(p)), [9, 10, 10], 'floors never go down')
    assert.equal(store.stats().lastSeq, 10)
  })
}
