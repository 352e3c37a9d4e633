/**
 * Conformance: merge semantics of each kind through `apply`, the live states replaced, the resolver hook and
 * atomicity of a batch.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { jsonHash } from '../../../src/core/canonical.ts'
import { isEngramError } from '../../../src/core/errors.ts'
import type { MemoryRecord, NoteRecord } from '../../../src/core/model.ts'
import { A, at, B, episode, mark, note, noteTomb, put, tomb, trace, triple, type StoreRef } from './fixtures.ts'

export function mergeTests (ref: StoreRef): void {
  it('triple: add, re-add, older add, delete, re-add', () => {
    const { store } = ref
    const t = triple('user:alice', 'prefers:editor', 'vim', at(100))
    const r1 = put(store, t)
    assert.deepEqual(r1, { changed: [{ seq: 1, record: t }], unchanged: 0, replacedLive: 0, forgotten: 0, held: 0, voided: 0 })
    assert.deepEqual(store.getTriple(t.id), t)
    assert.deepEqual(put(store, t), { changed: [], unchanged: 1, replacedLive: 0, forgotten: 0, held: 0, voided: 0 })
    assert.deepEqual(put(store, { ...t, hlc: at(50) }), { changed: [], unchanged: 1, replacedLive: 0, forgotten: 0, held: 0, voided: 0 })
    assert.deepEqual(store.getTriple(t.id)?.hlc, at(100))
    const d = tomb(t, at(200))
    assert.equal(put(store, d).changed[0]?.seq, 2)
    assert.deepEqual(store.getTriple(t.id), d)
    assert.equal(put(store, { ...t, hlc: at(150) }).unchanged, 1, 'an add older than the delete stays deleted')
    const again = { ...t, hlc: at(300) }
    assert.equal(put(store, again).changed[0]?.seq, 3)
    assert.deepEqual(store.getTriple(t.id), again)
    assert.deepEqual(store.get('triple', t.id), again)
  })

  it('triple: a delete and an add with the same stamp resolve to the delete, in either order', () => {
    const { store } = ref
    const x = triple('s:x', 'p', 'o', at(100))
    const y = triple('s:y', 'p', 'o', at(100))
    put(store, x, tomb(x, at(100)))
    put(store, tomb(y, at(100)))
    assert.equal(put(store, y).unchanged, 1)
    assert.equal(store.getTriple(x.id)?.deleted, true)
    assert.equal(store.getTriple(y.id)?.deleted, true)
  })

  it('apply reports how many changed triples and notes replaced a live state', () => {
    const { store } = ref
    const t = triple('s:a', 'p', 'o', at(100))
    const u = triple('s:b', 'p', 'o', at(100))
    put(store, t, u, tomb(u, at(110)), note('cfg:x', 1, at(100)))
    const r = store.apply([{ ...t, hlc: at(200) }, { ...u, hlc: at(201) }, note('cfg:x', 2, at(202)), note('cfg:y', 3, at(203))], { clock: mark(203) })
    assert.equal(r.changed.length, 4)
    assert.equal(r.replacedLive, 2, 'the live triple and the live note; not the deleted triple nor the new note')
    assert.equal(put(store, { ...t, hlc: at(50) }).replacedLive, 0, 'an older state changes nothing')
  })

  it('note: last writer wins; tombstones; a delete wins an exact tie', () => {
    const { store } = ref
    put(store, note('cfg:theme', 'dark', at(100)))
    put(store, note('cfg:theme', 'light', at(200)))
    assert.equal(put(store, note('cfg:theme', 'blue', at(150))).unchanged, 1)
    assert.equal(store.getNote('cfg:theme')?.value, 'light')
    put(store, noteTomb('cfg:theme', at(300)))
    assert.deepEqual(store.getNote('cfg:theme'), noteTomb('cfg:theme', at(300)))
    assert.equal(put(store, note('cfg:theme', 'x', at(300))).unchanged, 1, 'a delete wins a tie with a write')
    put(store, note('cfg:theme', { nested: [1, 2, { a: true }] }, at(400)))
    assert.deepEqual(store.getNote('cfg:theme')?.value, { nested: [1, 2, { a: true }] })
    put(store, note('cfg:nothing', null, at(10)))
    assert.deepEqual(store.getNote('cfg:nothing'), note('cfg:nothing', null, at(10)))
  })

  it('note: equal stamps with different values converge whatever the order', () => {
    const { store } = ref
    const v1 = { a: 1 }
    const v2 = { b: 2 }
    const winner = jsonHash(v1) > jsonHash(v2) ? v1 : v2
    put(store, note('k1', v1, at(100)), note('k1', v2, at(100)))
    put(store, note('k2', v2, at(100)), note('k2', v1, at(100)))
    assert.deepEqual(store.getNote('k1')?.value, winner)
    assert.deepEqual(store.getNote('k2')?.value, winner)
  })

  it('episode: union, content by the larger stamp, never deleted', () => {
    const { store } = ref
    put(store, episode('ep-1', { summary: 'one' }, at(100)), episode('ep-2', { summary: 'two' }, at(100, 0, B)))
    put(store, episode('ep-1', { summary: 'one, edited' }, at(200)))
    assert.equal(put(store, episode('ep-1', { summary: 'stale' }, at(150))).unchanged, 1)
    assert.deepEqual(store.getEpisode('ep-1'), episode('ep-1', { summary: 'one, edited' }, at(200)))
    assert.deepEqual(store.getEpisode('ep-2'), episode('ep-2', { summary: 'two' }, at(100, 0, B)))
    const x = { s: 'x' }
    const y = { s: 'y' }
    put(store, episode('ep-3', x, at(300)), episode('ep-3', y, at(300)))
    put(store, episode('ep-4', y, at(300)), episode('ep-4', x, at(300)))
    assert.deepEqual(store.getEpisode('ep-3')?.data, store.getEpisode('ep-4')?.data)
    assert.equal(store.stats().episodes, 4)
  })

  it('trace: insert or ignore', () => {
    const { store } = ref
    const t = trace('run:1', 'tool-call', { tool: 'grep' }, at(100))
    assert.equal(put(store, t).changed.length, 1)
    assert.deepEqual(put(store, t), { changed: [], unchanged: 1, replacedLive: 0, forgotten: 0, held: 0, voided: 0 })
    assert.deepEqual(store.getTrace(t.id), t)
    assert.deepEqual(store.get('trace', t.id), t)
    assert.equal(store.stats().traces, 1)
  })

  it('a record changed twice in one batch takes two seqs and sits at the last', () => {
    const { store } = ref
    const r = put(store, note('n', 1, at(100)), note('n', 2, at(200)), note('m', 3, at(150)))
    assert.deepEqual(r.changed.map(e => e.seq), [1, 2, 3])
    const page = store.changesSince(0, { limit: 10 })
    assert.deepEqual(page.entries.map(e => [e.seq, (e.record as NoteRecord).value]), [[2, 2], [3, 3]])
    assert.equal(store.stats().lastSeq, 3)
  })

  it('seqs are gap-free and increasing across batches and kinds', () => {
    const { store } = ref
    const seqs: number[] = []
    for (let i = 0; i < 5; i++) {
      const r = put(store,
        triple(`s:${i}`, 'p', 'o', at(100 + i)),
        note(`n${i}`, i, at(100 + i)),
        note(`n${i}`, i, at(100 + i)),
        episode(`e${i}`, { i }, at(100 + i)),
        trace('run', 't', i, at(100 + i)))
      assert.equal(r.unchanged, 1)
      seqs.push(...r.changed.map(e => e.seq))
    }
    assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i + 1))
    assert.equal(store.stats().lastSeq, 20)
  })

  it('resolver: consulted only on a differing state; its answer is kept; null keeps the default', () => {
    const { store } = ref
    put(store, note('k', 'local', at(100)), note('same', 'v', at(100)))
    const calls: [MemoryRecord, MemoryRecord][] = []
    const r = store.apply([note('k', 'remote', at(200, 0, B)), note('same', 'v', at(100)), note('new', 'n', at(200, 0, B))], {
      clock: mark(200),
      via: B,
      resolve: (current, incoming) => { calls.push([current, incoming]); return current }
    })
    assert.equal(calls.length, 1)
    assert.deepEqual(calls[0], [note('k', 'local', at(100)), note('k', 'remote', at(200, 0, B))])
    assert.equal(store.getNote('k')?.value, 'local', 'the resolver kept the current state')
    assert.equal(r.unchanged, 2)
    assert.equal(store.getNote('new')?.value, 'n')

    const older = note('k', 'older', at(50, 0, B))
    store.apply([older], { clock: mark(200), via: B, resolve: (_c, incoming) => incoming })
    assert.deepEqual(store.getNote('k'), older, 'a resolver may keep an older incoming state')

    const merged = note('k', 'merged', at(300))
    store.apply([note('k', 'theirs', at(250, 0, B))], { clock: mark(300), via: B, resolve: () => merged })
    assert.deepEqual(store.getNote('k'), merged)
    const toB = store.changesSince(0, { limit: 100, excludeVia: B }).entries.map(e => e.record)
    assert.ok(toB.some(x => x.kind === 'note' && x.key === 'k'), 'a state made by the resolver is served back to the peer')

    store.apply([note('k', 'later', at(400, 0, B))], { clock: mark(400), via: B, resolve: () => null })
    assert.equal(store.getNote('k')?.value, 'later', 'null keeps the default outcome')
  })

  it('atomicity: a batch whose resolver throws midway leaves nothing written', () => {
    const { store } = ref
    put(store, note('k', 'v', at(100)))
    store.apply([], { clock: mark(100), cursor: { peer: B, seq: 5 } })
    const before = { dump: store.dump(), stats: store.stats(), mark: store.clockMark() }
    assert.throws(() => store.apply([
      triple('s:new', 'p', 'o', at(200, 0, B)),
      note('other', 1, at(200, 0, B)),
      note('k', 'conflict', at(200, 0, B)),
      note('after', 2, at(200, 0, B))
    ], { clock: mark(900), via: B, cursor: { peer: B, seq: 9 }, resolve: () => { throw new Error('resolver failed') } }),
    /resolver failed/)
    assert.deepEqual(store.dump(), before.dump)
    assert.deepEqual(store.stats(), before.stats)
    assert.deepEqual(store.clockMark(), before.mark)
    assert.equal(store.getCursor(B), 5)
    assert.equal(put(store, note('z', 0, at(300))).changed[0]?.seq, 2, 'the next write takes the next seq')
    store.apply([note('y', 1, at(301, 0, B))], { clock: mark(301), via: B })
    assert.deepEqual(store.getNote('y')?.hlc, at(301, 0, B))
    assert.deepEqual(store.changesSince(0, { limit: 10, excludeVia: B }).entries.map(e => e.seq), [1, 2])
  })

  it('a resolver answering with another record is refused and nothing is written', () => {
    const { store } = ref
    put(store, note('k', 'v', at(100)))
    const before = store.dump()
    assert.throws(() => store.apply([note('k', 'w', at(200))], { clock: mark(200), resolve: () => note('other', 1, at(200)) }),
      (e: unknown) => isEngramError(e) && e.code === 'INTERNAL')
    assert.deepEqual(store.dump(), before)
  })

  it('a resolver that writes to the store is refused; the batch is undone and the store stays usable', () => {
    const { store } = ref
    put(store, note('k', 'v', at(100)))
    const before = store.dump()
    const nested = (e: unknown): boolean => isEngramError(e) && e.code === 'INTERNAL'
    for (const write of [
      () => put(store, note('inner', 1, at(150))),
      () => store.setMeta('x', 'y'),
      () => store.collectTombstones(1)
    ]) {
      assert.throws(() => store.apply([triple('s:t', 'p', 'o', at(200)), note('k', 'w', at(200))], {
        clock: mark(200),
        resolve: () => { write(); return null }
      }), nested)
      assert.deepEqual(store.dump(), before)
    }
    assert.equal(store.getMeta('x'), undefined)
    const seen: boolean[] = []
    store.apply([note('k', 'w', at(250))], { clock: mark(250), resolve: () => { seen.push(store.health().ok); return null } })
    assert.deepEqual(seen, [true], 'health can be asked during a write')
    assert.equal(store.getNote('k')?.value, 'w', 'and the write still commits')
    assert.equal(put(store, note('after', 1, at(300))).changed[0]?.seq, 3)
    assert.throws(() => store.apply([note('k', 'w', at(400))], { clock: { wall: 1.5, counter: 0 } }),
      (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT')
  })

  it('cursors move with apply, in its transaction', () => {
    const { store } = ref
    assert.equal(store.getCursor(B), 0)
    store.apply([note('k', 1, at(100, 0, B))], { clock: mark(100), via: B, cursor: { peer: B, seq: 42 } })
    assert.equal(store.getCursor(B), 42)
    store.apply([], { clock: mark(100), via: B, cursor: { peer: B, seq: 50 } })
    assert.equal(store.getCursor(B), 50, 'an empty page still moves the cursor')
    assert.equal(store.getCursor(A), 0)
  })

  it('meta hook: written in the batch\'s transaction, after the merges; a failing hook undoes the batch', () => {
    const { store } = ref
    put(store, note('k', 'local', at(100)))
    store.setMeta('gone', 'x')
    const seen: string[] = []
    const calls: number[] = []
    store.apply([note('k', 'remote', at(200, 0, B)), note('n', 1, at(200, 0, B))], {
      clock: mark(200),
      via: B,
      cursor: { peer: B, seq: 7 },
      resolve: (current) => { seen.push((current as NoteRecord).key); return null },
      meta: () => { calls.push(seen.length); return [['conflicts', JSON.stringify(seen)], ['gone', undefined]] }
    })
    assert.deepEqual(calls, [1], 'called once, after the resolver ran')
    assert.equal(store.getMeta('conflicts'), '["k"]')
    assert.equal(store.getMeta('gone'), undefined, 'undefined deletes the key')
    assert.equal(store.getCursor(B), 7)
    store.apply([], { clock: mark(200), meta: () => [] })

    const before = { dump: store.dump(), stats: store.stats(), mark: store.clockMark() }
    assert.throws(() => store.apply([note('k', 'later', at(300, 0, B)), triple('s:t', 'p', 'o', at(300, 0, B))], {
      clock: mark(900), via: B, cursor: { peer: B, seq: 9 }, meta: () => { throw new Error('meta failed') }
    }), /meta failed/)
    assert.deepEqual(store.dump(), before.dump)
    assert.deepEqual(store.stats(), before.stats)
    assert.deepEqual(store.clockMark(), before.mark)
    assert.equal(store.getCursor(B), 7)
    assert.equal(store.getMeta('conflicts'), '["k"]')

    assert.throws(() => store.apply([note('z', 1, at(400))], { clock: mark(400), meta: () => { store.setMeta('x', 'y'); return [] } }),
      (e: unknown) => isEngramError(e) && e.code === 'INTERNAL', 'the hook must not write to the store itself')
    assert.equal(store.getMeta('x'), undefined)
    assert.equal(store.getNote('z'), undefined)
  })

  it('clock mark: persisted with each apply, never lowered, never below a stored stamp', () => {
    const { store } = ref
    assert.deepEqual(store.clockMark(), mark(0, 0))
    store.apply([], { clock: mark(100, 5) })
    assert.deepEqual(store.clockMark(), mark(100, 5))
    store.apply([note('k', 1, at(90))], { clock: mark(100, 2) })
    assert.deepEqual(store.clockMark(), mark(100, 5))
    store.apply([note('k', 2, at(500, 3, B))], { clock: mark(100, 5), via: B })
    assert.deepEqual(store.clockMark(), mark(500, 3))
  })
}
