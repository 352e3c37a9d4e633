/**
 * Conformance: where provenance meets the work across time — records held aside keep their seals
 * (and their batch is kept while they are held), a clock repair's re-stamped states carry their
 * seals and the replaced states go to history, and Rule B's collection moves exactly the
 * tombstones it removes into history.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { isTombstone, type MemoryRecord } from '../../../src/core/model.ts'
import { sealBatch, type SignedBatch } from '../../../src/core/signing.ts'
import { A, at, B, mark, note, noteTomb, put, tomb, trace, triple, type StoreRef } from './fixtures.ts'

const batchOf = (records: MemoryRecord[], node = A): SignedBatch =>
  sealBatch(records, { node, sign: () => new Uint8Array(64).fill(9) }, { wall: 1000, counter: 0 })

export function provenanceTimeTests (ref: StoreRef): void {
  it('a record held aside keeps its seal; its batch is kept while it is held and serves its release', () => {
    const { store } = ref
    const now = note('cfg:now', 1, at(100, 0, B))
    const ahead = note('cfg:later', 2, at(9_000, 0, B))
    const batch = batchOf([now, ahead], B)
    const r = store.apply([now], {
      clock: mark(200),
      via: B,
      seals: { batches: [batch], refs: [{ batch: 0, leaf: 0 }] },
      hold: { records: [ahead], at: 150, seals: { batches: [batch], refs: [{ batch: 0, leaf: 1 }] } }
    })
    assert.equal(r.held, 1)
    const id = r.changed[0]!.seal!.batch
    const [held] = store.held({ limit: 10 })
    assert.deepEqual(held?.seal, { batch: id, leaf: 1 }, 'the held record names its place in the stored batch')
    // The applied state is replaced and its history collected: the batch stays for the held record.
    put(store, note('cfg:now', 3, at(300, 0, A)))
    assert.equal(store.collectHistory(10_000), 1)
    assert.equal(store.provenanceStats().batches, 1, 'kept: a held record belongs to it')
    const stored = store.getBatch(id)!
    // Released with the seal it was held with.
    const released = store.apply([ahead], { clock: mark(9_000), via: B, seals: { batches: [stored], refs: [{ batch: 0, leaf: 1 }] }, release: [held!.id] })
    assert.deepEqual(released.changed[0]?.seal, { batch: id, leaf: 1 })
    assert.deepEqual(store.held({ limit: 10 }), [])
    assert.equal(store.getState('note', 'cfg:later')?.seal?.batch, id)
  })

  it('a void dropping a held record lets its batch go when nothing else belongs to it', () => {
    const { store } = ref
    const ahead = note('cfg:later', 2, at(9_000, 0, B))
    store.apply([], { clock: mark(200), via: B, hold: { records: [ahead], at: 150, seals: { batches: [batchOf([ahead], B)], refs: [{ batch: 0, leaf: 0 }] } } })
    assert.equal(store.provenanceStats().batches, 1)
    const dropped = store.apply([], { clock: mark(200), via: B, voids: [{ node: B, generation: 1, wall: 1_000, counter: 0 }] })
    assert.equal(dropped.voided, 1)
    store.collectHistory(0)
    assert.equal(store.provenanceStats().batches, 0)
  })

  it('a clock repair writes its re-stamped states with their seals; the replaced states go to history, a replaced trace does not', () => {
    const { store } = ref
    const t = triple('s:a', 'p', 'o', at(9_000, 0, A))
    const r = trace('run', 'step', 1, at(9_002, 0, A))
    put(store, t, r)
    const next = [{ ...t, hlc: at(1_001, 0, A) }, trace('run', 'step', 1, at(1_001, 1, A))]
    const batch = batchOf(next)
    const result = store.repairClock({
      clock: mark(1_001, 1), records: next, removeTraces: [r.id], void: { node: A, generation: 1, wall: 1_000, counter: 0 },
      seals: { batches: [batch], refs: [{ batch: 0, leaf: 0 }, { batch: 0, leaf: 1 }] }
    })
    const id = result.changed[0]!.seal!.batch
    assert.deepEqual(result.changed.map(e => e.seal), [{ batch: id, leaf: 0 }, { batch: id, leaf: 1 }])
    // newest stamp first: the replaced future state, ended by the re-stamped one, then the current one
    assert.deepEqual(store.history('triple', t.id).map(s => [s.record.hlc.wall, s.seal?.leaf, s.until?.wall]), [[9_000, undefined, 1_001], [1_001, 0, undefined]])
    assert.equal(store.provenanceStats().history, 1)
  })

  it('Rule B moves into history exactly the tombstones it collects', () => {
    const { store } = ref
    const t = triple('s:a', 'p', 'o', at(10))
    const u = triple('s:b', 'p', 'o', at(10))
    put(store, t, u, tomb(t, at(100, 0)), tomb(u, at(100, 5)), noteTomb('cfg:a', at(90)), noteTomb('cfg:b', at(300)))
    const before = store.provenanceStats().history
    assert.equal(store.collectTombstones(1_000, mark(100, 2)), 2)
    assert.equal(store.provenanceStats().history - before, 2, 'the two collected, not the two above the stable mark')
    assert.deepEqual(store.history('triple', t.id).map(s => [isTombstone(s.record), s.until?.wall]), [[true, 100], [false, 100]])
    assert.deepEqual(store.history('note', 'cfg:a').map(s => isTombstone(s.record)), [true])
    assert.equal(store.history('note', 'cfg:b').length, 1, 'still current: only its own state')
    assert.equal(store.history('triple', u.id)[0]?.until, undefined, 'still current')
  })
}
