/**
 * Conflict strategies (docs/SYNC.md, "Conflicts"), between in-process nodes over real HTTP:
 * what each strategy keeps for a note and for a single-valued predicate, which ones converge,
 * what is not a conflict, and the keep-both list with its resolution.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import type { ConflictStrategy } from '../../src/config/schema.ts'
import { asNodeId } from '../../src/core/ids.ts'
import type { TripleRecord } from '../../src/core/model.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { ConflictLog, lostAt, MAX_CONFLICTS, type ConflictEntry } from '../../src/replication/conflicts.ts'
import { convergenceDifference } from '../support/dumps.ts'
import { dumpOf, startSyncNode, type SyncNode } from './helpers.ts'

const nodes: SyncNode[] = []
afterEach(async () => { await Promise.all(nodes.splice(0).map(n => n.close())) })

const EDITOR = 'prefers:editor'

async function pair (strategy: ConflictStrategy): Promise<[SyncNode, SyncNode]> {
  const settings = { conflictStrategy: strategy, singleValuedPredicates: [EDITOR] }
  const a = await startSyncNode('a', { settings })
  const b = await startSyncNode('b', { settings })
  nodes.push(a, b)
  a.sync.pair({ name: 'b', url: b.url })
  b.sync.pair({ name: 'a', url: a.url })
  return [a, b]
}

async function pull (to: SyncNode, from: SyncNode): Promise<number> {
  const [r] = await to.sync.syncNow(from.name)
  assert.ok(r!.ok, r!.error)
  return r!.conflicts
}

const noteValue = (n: SyncNode, key: string): unknown => n.engine.getNote(key)?.value
const editors = (n: SyncNode): string[] =>
  n.engine.store.queryTriples({ subject: 'user:alice', predicate: EDITOR }, { limit: 10, offset: 0 }).triples.map(t => (t.object as { value: string }).value).sort()

/** a writes first, b later (b's stamp is larger): both concurrently, neither has seen the other. */
function concurrentNotes (a: SyncNode, b: SyncNode): void {
  a.engine.setNote('cfg:theme', 'dark')
  b.engine.setNote('cfg:theme', 'light')
}

function concurrentEditors (a: SyncNode, b: SyncNode): [TripleRecord, TripleRecord] {
  const [vim] = a.engine.addTriples([{ subject: 'user:alice', predicate: EDITOR, object: 'vim' }])
  const [emacs] = b.engine.addTriples([{ subject: 'user:alice', predicate: EDITOR, object: 'emacs' }])
  return [vim!, emacs!]
}

describe('conflict strategies', () => {
  it('last-writer-wins: the larger stamp wins everywhere; a single-valued predicate keeps one triple; converges', async () => {
    const [a, b] = await pair('last-writer-wins')
    concurrentNotes(a, b)
    const [vim, emacs] = concurrentEditors(a, b)
    assert.equal(await pull(a, b), 2)
    assert.equal(noteValue(a, 'cfg:theme'), 'light')
    assert.deepEqual(editors(a), ['emacs'])
    assert.deepEqual(a.store.getTriple(vim.id)?.hlc, lostAt(vim, emacs), 'the loser is deleted at the winner\'s time, under its own node')
    await pull(b, a)
    assert.deepEqual(editors(b), ['emacs'])
    // b never held vim, nor any state of a's: the tombstone is no evidence b already has (Rule A
    // does not drop it), so b keeps it and would pass it on to a node still holding vim.
    assert.equal(b.store.getTriple(vim.id)?.deleted, true)
    assert.equal(convergenceDifference([a, b].map(n => ({ id: n.name, store: n.store, engine: n.engine }))), '', 'converged')
    assert.deepEqual(a.sync.listConflicts(), [])
  })

  it('keep-both: notes converge by stamp with the other value listed; triples all stay live and are listed; resolving clears everywhere', async () => {
    const [a, b] = await pair('keep-both')
    concurrentNotes(a, b)
    const [vim, emacs] = concurrentEditors(a, b)
    assert.equal(await pull(a, b), 2)
    await pull(b, a)
    assert.equal(noteValue(a, 'cfg:theme'), 'light')
    assert.deepEqual(editors(a), ['emacs', 'vim'])
    assert.deepEqual(dumpOf(a), dumpOf(b), 'converged')
    const listed = a.sync.listConflicts()
    const note = listed.find(c => c.kind === 'note')!
    const triple = listed.find(c => c.kind === 'triple')!
    assert.deepEqual([note.key, (note.kept as { value: string }).value, (note.other as { value: string }).value, note.peer], ['cfg:theme', 'light', 'dark', 'b'])
    assert.deepEqual([triple.key, (triple.kept as { id: string }).id, (triple.other as { id: string }).id], [`user:alice ${EDITOR}`, vim.id, emacs.id])
    assert.deepEqual(b.sync.listConflicts().map(c => c.kind), ['triple'], 'b met the triples; the note reached it as an update a had already merged')

    a.sync.resolveConflict(note.id, 'other')
    a.sync.resolveConflict(triple.id, 'kept')
    assert.deepEqual(a.sync.listConflicts(), [])
    await pull(b, a)
    await pull(a, b)
    assert.equal(noteValue(b, 'cfg:theme'), 'dark')
    assert.deepEqual(editors(b), ['vim'])
    assert.deepEqual(b.sync.listConflicts(), [], 'the resolution arrived: stale on b too')
    assert.deepEqual(a.sync.listConflicts(), [], 'and not listed again on a')
    assert.deepEqual(dumpOf(a), dumpOf(b))
  })

  it('local-priority: the local value stays, the incoming triple is not adopted; does not converge', async () => {
    const [a, b] = await pair('local-priority')
    concurrentNotes(a, b)
    concurrentEditors(a, b)
    assert.equal(await pull(a, b), 2)
    assert.equal(noteValue(a, 'cfg:theme'), 'dark', 'a kept its own (older) value')
    assert.deepEqual(editors(a), ['vim'])
    await pull(b, a)
    assert.equal(noteValue(b, 'cfg:theme'), 'light')
    assert.deepEqual(editors(b), ['emacs'])
    assert.notDeepEqual(dumpOf(a), dumpOf(b))
  })

  it('remote-priority: the incoming value replaces the local one even when older; local triples are deleted', async () => {
    const [a, b] = await pair('remote-priority')
    b.engine.setNote('cfg:theme', 'older')
    a.engine.setNote('cfg:theme', 'newer')
    const [vim] = concurrentEditors(a, b)
    assert.equal(await pull(a, b), 2)
    assert.equal(noteValue(a, 'cfg:theme'), 'older', 'the peer\'s value, although its stamp is smaller')
    assert.deepEqual(editors(a), ['emacs'])
    assert.equal(a.store.getTriple(vim.id)?.deleted, true)
    // The other way round, b takes a's values: a's deletion of vim, and the note a holds is b's own.
    await pull(b, a)
    assert.deepEqual(editors(b), ['emacs'])
  })

  it('not conflicts: a later update of a value the peer had seen; two values of an ordinary predicate', async () => {
    const [a, b] = await pair('keep-both')
    a.engine.setNote('cfg:x', 1)
    await pull(b, a)
    b.engine.setNote('cfg:x', 2)
    await pull(a, b)
    assert.equal(noteValue(a, 'cfg:x'), 2)
    a.engine.addTriples([{ subject: 'user:alice', predicate: 'likes', object: 'tea' }])
    b.engine.addTriples([{ subject: 'user:alice', predicate: 'likes', object: 'coffee' }])
    assert.equal(await pull(a, b), 0)
    assert.equal(await pull(b, a), 0)
    assert.deepEqual(a.sync.listConflicts(), [])
    assert.deepEqual(b.sync.listConflicts(), [])
    // An update that deletes the old value and adds the new one, in one page: not a conflict.
    const [vim] = a.engine.addTriples([{ subject: 'user:alice', predicate: EDITOR, object: 'vim' }])
    await pull(b, a)
    b.engine.deleteTriple(vim!.id)
    b.engine.addTriples([{ subject: 'user:alice', predicate: EDITOR, object: 'helix' }])
    assert.equal(await pull(a, b), 0)
    assert.deepEqual(editors(a), ['helix'])
  })
})

describe('ConflictLog', () => {
  const entry = (i: number): ConflictEntry => ({
    id: i.toString(16).padStart(32, '0'), kind: 'note', key: `k${i}`, peer: 'b', detectedAt: '',
    kept: { kind: 'note', key: `k${i}`, value: 1, hlc: { wall: 1, counter: 0, node: 'node-a' }, deleted: false },
    other: { kind: 'note', key: `k${i}`, value: 2, hlc: { wall: 1, counter: 0, node: 'node-b' }, deleted: false }
  })

  it('records entries in the store metadata, once each, oldest dropped past the limit; stale ones disappear', () => {
    const store = new MemoryStore()
    for (let i = 0; i < 3; i++) store.apply([{ kind: 'note', key: `k${i}`, value: 1, hlc: { wall: 1, counter: 0, node: asNodeId('node-a') }, deleted: false }], { clock: { wall: 1, counter: 0 } })
    let dropped = 0
    const log = new ConflictLog(store, n => { dropped += n })
    const write = (pairs: ReturnType<ConflictLog['writes']>): void => { for (const [k, v] of pairs) store.setMeta(k, v) }
    write(log.writes([entry(0), entry(1)]))
    write(log.writes([entry(1), entry(2)]))
    assert.equal(log.count(), 3)
    assert.deepEqual(log.list().map(e => e.key), ['k0', 'k1', 'k2'])
    store.apply([{ kind: 'note', key: 'k1', value: 3, hlc: { wall: 5, counter: 0, node: asNodeId('node-a') }, deleted: false }], { clock: { wall: 5, counter: 0 } })
    assert.equal(log.count(), 2, 'counted again once the store moved: k1 was written after both values')
    assert.deepEqual(log.list().map(e => e.key), ['k0', 'k2'], 'k1 was written after both values: resolved')
    assert.equal(log.get(entry(1).id), undefined, 'and removed')
    write(log.writes([], [entry(2).id]))
    assert.equal(log.count(), 1, 'counted again once the index moved')
    write(log.writes([entry(2)]))
    assert.equal(log.count(), 2)
    const many = Array.from({ length: MAX_CONFLICTS + 5 }, (_, i) => entry(i + 100))
    write(log.writes(many))
    assert.equal(dropped, 7)
    assert.equal(JSON.parse(store.getMeta('sync.conflicts')!).length, MAX_CONFLICTS)
    assert.equal(log.get(entry(0).id), undefined, 'the oldest went first')
  })
})
