import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { traceId, tripleId } from '../../src/core/canonical.ts'
import { isEngramError } from '../../src/core/errors.ts'
import { compareHlc, compareMark, type Hlc } from '../../src/core/hlc.ts'
import { asNodeId, asTripleId, type NodeId } from '../../src/core/ids.ts'
import type { MemoryRecord, TripleRecord } from '../../src/core/model.ts'
import { makeTrace, makeTriple, recordToPlain } from '../../src/core/records.ts'
import { Engine, type ChangeEvent } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'

const A = asNodeId('node-a')
const B = asNodeId('node-b')
const T0 = 1_763_631_000_000
const DRIFT = 60_000

function setup (store = new MemoryStore(), start = T0): { engine: Engine, store: MemoryStore, events: ChangeEvent[], setWall: (ms: number) => void } {
  let wall = start
  const engine = new Engine({ store, node: A, maxDriftMs: DRIFT, now: () => wall })
  const events: ChangeEvent[] = []
  engine.on('change', e => events.push(e))
  return { engine, store, events, setWall: ms => { wall = ms } }
}

function assertError (fn: () => unknown, code: string, field?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isEngramError(e), `expected an EngramError, got ${String(e)}`)
    assert.equal(e.code, code, e.message)
    if (field !== undefined) assert.ok(e.message.startsWith(`${field}:`), `message ${JSON.stringify(e.message)} should name ${field}`)
    return true
  })
}

const alice = { subject: 'user:alice', predicate: 'prefers:editor', object: 'vim' }
const bob = { subject: 'user:bob', predicate: 'prefers:editor', object: { node: 'app:emacs' } }
const carol = { subject: 'team:carol', predicate: 'knows', object: { node: 'user:alice' } }
const idOf = (t: typeof alice | typeof bob): string => tripleId({
  subject: t.subject, predicate: t.predicate,
  object: typeof t.object === 'string' ? { kind: 'string', value: t.object } : { kind: 'node', value: t.object.node }
})
const remoteStamp = (wall: number, counter = 0, node: NodeId = B): Hlc => ({ wall, counter, node })

describe('triples', () => {
  test('addTriples stamps, stores and announces new triples', () => {
    const { engine, store, events } = setup()
    const [a, b] = engine.addTriples([alice, bob])
    assert.equal(a!.id, idOf(alice))
    assert.equal(b!.id, idOf(bob))
    assert.deepEqual(a!.hlc, { wall: T0, counter: 0, node: A })
    assert.ok(compareHlc(b!.hlc, a!.hlc) > 0)
    assert.deepEqual(store.getTriple(a!.id), a)
    assert.equal(events.length, 1)
    assert.deepEqual(events[0]!.entries.map(e => e.record), [a, b])
    assert.equal(events[0]!.via, undefined)
    assert.ok(compareMark(store.clockMark(), b!.hlc) >= 0, 'the clock mark is persisted with the write')
  })

  test('adding a triple that is present asserts it again: a new stamp, a feed entry, reasserted', () => {
    const { engine, store, events, setWall } = setup()
    const [first] = engine.addTriples([alice])
    const seq = store.stats().lastSeq
    setWall(T0 + 5_000)
    const again = engine.assertTriples([alice])
    assert.deepEqual([again.created, again.reasserted], [0, 1])
    assert.equal(again.triples[0]!.id, first!.id)
    assert.deepEqual(again.triples[0]!.hlc, { wall: T0 + 5_000, counter: 0, node: A })
    assert.equal(store.stats().lastSeq, seq + 1)
    assert.equal(events.length, 2, 'the assertion is a change like any other')

    const [x, y, z] = engine.addTriples([bob, alice, bob])
    assert.ok(compareHlc(y!.hlc, again.triples[0]!.hlc) > 0)
    assert.deepEqual(x, z, 'one triple twice in a batch is added once')
    assert.equal(store.stats().lastSeq, seq + 3)
    assert.deepEqual(events[2]!.entries.map(e => e.record), [x, y])
  })

  test('a re-add wins over a delete that reached this node before it, and over an older remote delete arriving later', () => {
    const { engine, store } = setup()
    const [added] = engine.addTriples([alice])
    // another node deleted it (its stamp is newer than the add); the delete arrives here first
    engine.applyRemote([{ ...added!, hlc: remoteStamp(T0 + 10), deleted: true }], { via: B })
    assert.equal(engine.getTriple(added!.id), undefined)
    const readd = engine.assertTriples([alice])
    assert.deepEqual([readd.created, readd.reasserted], [1, 0])
    assert.equal(engine.getTriple(added!.id)?.deleted, false)
    // a delete made elsewhere before the re-add (a smaller stamp) arrives after it: the re-add stays
    engine.applyRemote([{ ...added!, hlc: remoteStamp(T0 + 5), deleted: true }], { via: B })
    assert.equal(store.getTriple(added!.id)?.deleted, false)
  })

  test('a triple added again after a delete gets a newer stamp', () => {
    const { engine, store } = setup()
    const [added] = engine.addTriples([alice])
    const tomb = engine.deleteTriple(added!.id)
    assert.equal(tomb.deleted, true)
    assert.ok(compareHlc(tomb.hlc, added!.hlc) > 0)
    assert.equal(engine.getTriple(asTripleId(added!.id)), undefined)
    assert.deepEqual(store.getTriple(added!.id), tomb, 'the store keeps the tombstone')

    const [back] = engine.addTriples([alice])
    assert.equal(back!.id, added!.id)
    assert.equal(back!.deleted, false)
    assert.ok(compareHlc(back!.hlc, tomb.hlc) > 0)
    assert.deepEqual(engine.getTriple(back!.id), back)
  })

  test('deleteTriple: NOT_FOUND for an unknown or already deleted triple, INVALID_INPUT for a bad id', () => {
    const { engine, events } = setup()
    assertError(() => engine.deleteTriple(idOf(alice)), 'NOT_FOUND')
    const [added] = engine.addTriples([alice])
    engine.deleteTriple(added!.id)
    const n = events.length
    assertError(() => engine.deleteTriple(added!.id), 'NOT_FOUND')
    assert.equal(events.length, n)
    assertError(() => engine.deleteTriple('not-an-id'), 'INVALID_INPUT', 'id')
    assertError(() => engine.deleteTriple(added!.id.toUpperCase()), 'INVALID_INPUT', 'id')
  })

  test('deleteTriples needs a pattern and deletes only live matches', () => {
    const { engine, store } = setup()
    assertError(() => engine.deleteTriples({}), 'INVALID_INPUT', 'pattern')
    assertError(() => engine.deleteTriples({ includeDeleted: true }), 'INVALID_INPUT', 'pattern')
    engine.addTriples([alice, bob, carol])

    const tombs = engine.deleteTriples({ predicate: 'prefers:editor' })
    assert.deepEqual(tombs.map(t => t.id).sort(), [idOf(alice), idOf(bob)].sort())
    assert.ok(tombs.every(t => t.deleted))
    assert.deepEqual(engine.deleteTriples({ predicate: 'prefers:editor' }), [], 'tombstones are not deleted again')
    assert.equal(store.stats().triples, 1)

    const byNamespace = engine.deleteTriples({ namespace: 'team' })
    assert.deepEqual(byNamespace.map(t => t.subject), ['team:carol'])
    assert.equal(store.stats().triples, 0)
    assert.equal(store.stats().tripleTombstones, 3)
  })

  test('input errors name the field; a failing batch writes nothing', () => {
    const { engine, store } = setup()
    assertError(() => engine.addTriples([{ subject: '', predicate: 'p', object: 'o' }]), 'INVALID_INPUT', 'triple.subject')
    assertError(() => engine.addTriples([alice, { subject: 's', predicate: 'p', object: Number.NaN }]), 'INVALID_INPUT', 'triples[1].object')
    assert.equal(store.stats().lastSeq, 0)
  })
})

describe('notes, episodes, traces', () => {
  test('setNote and deleteNote', () => {
    const { engine, store } = setup()
    const n1 = engine.setNote('cfg:theme', { dark: true })
    assert.deepEqual(engine.getNote('cfg:theme'), n1)
    const n2 = engine.setNote('cfg:theme', { dark: false })
    assert.ok(compareHlc(n2.hlc, n1.hlc) > 0)
    assert.deepEqual(engine.getNote('cfg:theme')!.value, { dark: false })

    const tomb = engine.deleteNote('cfg:theme')
    assert.deepEqual({ value: tomb.value, deleted: tomb.deleted }, { value: null, deleted: true })
    assert.equal(engine.getNote('cfg:theme'), undefined)
    assert.equal(store.getNote('cfg:theme')!.deleted, true)
    assertError(() => engine.deleteNote('cfg:theme'), 'NOT_FOUND')
    assertError(() => engine.deleteNote('cfg:unknown'), 'NOT_FOUND')

    const n3 = engine.setNote('cfg:theme', 'solarized')
    assert.ok(compareHlc(n3.hlc, tomb.hlc) > 0)
    assert.deepEqual(engine.getNote('cfg:theme'), n3)

    assertError(() => engine.setNote('', 1), 'INVALID_INPUT', 'key')
    assertError(() => engine.setNote('k', undefined), 'INVALID_INPUT', 'value')
    assertError(() => engine.setNote('k', { x: Number.POSITIVE_INFINITY }), 'INVALID_INPUT', 'value.x')
  })

  test('putEpisode creates (with a generated id) and updates', () => {
    const { engine, store } = setup()
    const e1 = engine.putEpisode({ data: { summary: 'first session' } })
    assert.match(e1.id, /^ep-[0-9a-f-]{36}$/)
    const e2 = engine.putEpisode({ id: 'session:42', data: { summary: 'draft' } })
    const e3 = engine.putEpisode({ id: 'session:42', data: { summary: 'final', tags: ['x'] } })
    assert.ok(compareHlc(e3.hlc, e2.hlc) > 0)
    assert.deepEqual(store.getEpisode('session:42'), e3)
    assert.equal(store.stats().episodes, 2)
    assertError(() => engine.putEpisode({ data: [1] }), 'INVALID_INPUT', 'data')
    assertError(() => engine.putEpisode({ id: '', data: {} }), 'INVALID_INPUT', 'id')
  })

  test('appendTraces only ever adds entries', () => {
    const { engine, store } = setup()
    const [t1, t2] = engine.appendTraces([
      { runId: 'run-1', type: 'tool_call', data: { tool: 'grep' } },
      { runId: 'run-1', type: 'tool_call', data: { tool: 'grep' } }
    ])
    assert.equal(t1!.id, traceId('run-1', 'tool_call', { tool: 'grep' }, t1!.hlc))
    assert.notEqual(t1!.id, t2!.id, 'the same content at another stamp is another entry')
    assert.equal(store.listTraces({ runId: 'run-1', limit: 10, offset: 0 }).total, 2)
    assertError(() => engine.appendTraces([{ runId: 'r', type: 't', data: 1 }, { runId: '', type: 't', data: 1 }]), 'INVALID_INPUT', 'traces[1].runId')
    assertError(() => engine.appendTraces([{ runId: 'r', type: 't', data: undefined }]), 'INVALID_INPUT', 'data')
    assert.equal(store.stats().traces, 2)
  })
})

describe('remote records', () => {
  const remoteTriple = (wall: number, deleted = false): TripleRecord =>
    makeTriple({ subject: 'user:dave', predicate: 'likes', object: { kind: 'string', value: 'tea' } }, remoteStamp(wall), deleted)
  const wire = (...rs: MemoryRecord[]): unknown[] => JSON.parse(JSON.stringify(rs.map(recordToPlain))) as unknown[]

  test('applyRemote merges a page, advances the cursor and observes the stamps', () => {
    const { engine, store, events } = setup()
    const t = remoteTriple(T0 + 10_000)
    const n: MemoryRecord = { kind: 'note', key: 'cfg:lang', value: 'en', hlc: remoteStamp(T0 + 20_000, 3), deleted: false }
    const r = engine.applyRemote(wire(t, n), { via: B, cursor: { peer: B, seq: 17 } })
    assert.equal(r.changed.length, 2)
    assert.deepEqual(store.getTriple(t.id), t)
    assert.equal(store.getCursor(B), 17)
    assert.equal(events.length, 1)
    assert.equal(events[0]!.via, B)
    assert.ok(compareMark(engine.clock.last, n.hlc) > 0, 'the clock moved past the remote stamp')
    const next = engine.setNote('cfg:lang', 'fr')
    assert.ok(compareHlc(next.hlc, n.hlc) > 0, 'a local write after a remote one wins')
  })

  test('a page already known changes nothing and emits nothing', () => {
    const { engine, events } = setup()
    const t = remoteTriple(T0)
    engine.applyRemote(wire(t), { via: B })
    const r = engine.applyRemote(wire(t), { via: B })
    assert.deepEqual({ changed: r.changed.length, unchanged: r.unchanged }, { changed: 0, unchanged: 1 })
    assert.equal(events.length, 1)
  })

  test('a remote tombstone deletes; an older remote copy does not bring the triple back', () => {
    const { engine, store } = setup()
    engine.applyRemote(wire(remoteTriple(T0 - 3_000)), { via: B })
    engine.applyRemote(wire(remoteTriple(T0 - 2_000, true)), { via: B })
    const r = engine.applyRemote(wire(remoteTriple(T0 - 3_000)), { via: B })
    assert.equal(r.changed.length, 0)
    assert.equal(store.getTriple(remoteTriple(T0).id)!.deleted, true)
  })

  test('a page with one stamp too far in the future applies; that record is held aside, unobserved, and the cursor moves', () => {
    const { engine, store, events } = setup()
    const held: unknown[] = []
    engine.on('held', h => held.push(h))
    const ok1: MemoryRecord = { kind: 'note', key: 'cfg:a', value: 1, hlc: remoteStamp(T0 + 1), deleted: false }
    const ok2 = makeTrace('run-9', 'step', null, remoteStamp(T0 + DRIFT))
    const future: MemoryRecord = { kind: 'episode', id: 'ep-future', data: {}, hlc: remoteStamp(T0 + DRIFT + 1) }
    const r = engine.applyRemote(wire(ok1, ok2, future), { via: B, cursor: { peer: B, seq: 9 } })
    assert.equal(r.changed.length, 2)
    assert.equal(r.held, 1)
    assert.equal(store.getCursor(B), 9, 'the cursor moved past the held record')
    assert.equal(store.getEpisode('ep-future'), undefined, 'not visible')
    assert.ok(compareMark(engine.clock.last, { wall: T0 + DRIFT, counter: 0 }) >= 0)
    assert.ok(engine.clock.last.wall <= T0 + DRIFT, 'the clock did not adopt the held stamp')
    assert.deepEqual(held, [{ node: B, count: 1, aheadMs: DRIFT + 1, appliesAt: T0 + 1 }])
    assert.equal(events.length, 1)
    assert.ok(engine.setNote('cfg:b', 1).hlc.wall <= T0 + DRIFT, 'local stamps stay within the drift guard')
  })

  test('a page with a tampered record is refused whole, naming the record', () => {
    const { engine, store } = setup()
    const good = remoteTriple(T0)
    const bad = { ...recordToPlain(makeTriple({ subject: 's', predicate: 'p', object: { kind: 'boolean', value: true } }, remoteStamp(T0))), subject: 'x' }
    assertError(() => engine.applyRemote([recordToPlain(good), bad], { via: B, cursor: { peer: B, seq: 3 } }), 'ID_MISMATCH')
    assertError(() => engine.applyRemote([recordToPlain(good), { kind: 'note' }], { via: B }), 'INVALID_INPUT', 'records[1].hlc')
    assert.equal(store.stats().lastSeq, 0)
    assert.equal(store.getCursor(B), 0)
  })

  test('change events carry via: absent for local writes, the peer for remote ones', () => {
    const { engine, events } = setup()
    engine.addTriples([alice])
    engine.setNote('k', 1)
    engine.applyRemote(wire(remoteTriple(T0)), { via: B })
    engine.putEpisode({ id: 'e', data: {} })
    assert.deepEqual(events.map(e => e.via), [undefined, undefined, B, undefined])
    assert.ok(events.every(e => e.entries.length === 1 && e.entries[0]!.seq > 0))
    const seqs = events.map(e => e.entries[0]!.seq)
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'seqs grow')
  })
})

test('a restarted engine continues above the persisted mark after the wall clock went back', () => {
  const store = new MemoryStore()
  const first = setup(store, T0)
  first.engine.applyRemote([recordToPlain(makeTriple({ subject: 's', predicate: 'p', object: { kind: 'number', value: 1 } }, remoteStamp(T0 + 30_000, 9)))], { via: B })
  const last = first.engine.setNote('k', 'before restart')

  const second = setup(store, T0 - 3_600_000)
  const after = second.engine.setNote('k', 'after restart')
  assert.ok(compareHlc(after.hlc, last.hlc) > 0, `${JSON.stringify(after.hlc)} > ${JSON.stringify(last.hlc)}`)
  assert.deepEqual(second.engine.getNote('k')!.value, 'after restart')
})

describe('change listeners', () => {
  test('a listener that throws never turns a committed write into a failed one, whichever write it is', () => {
    const errors: unknown[] = []
    const store = new MemoryStore()
    const engine = new Engine({ store, node: A, maxDriftMs: DRIFT, now: () => T0, onListenerError: e => { errors.push(e) } })
    engine.on('change', () => { throw new Error('listener broke') })
    const [t] = engine.addTriples([{ subject: 'user:a', predicate: 'p', object: 1 }])
    engine.setNote('k', 'v')
    engine.deleteTriple(t!.id)
    engine.applyRemote([recordToPlain(makeTriple({ subject: 'user:b', predicate: 'p', object: { kind: 'number', value: 2 } }, { wall: T0, counter: 0, node: B }))], { via: B })
    assert.equal(errors.length, 4, 'each write told the listener, and each failure went to onListenerError')
    assert.equal(store.stats().triples, 1)
    assert.equal(store.stats().tripleTombstones, 1)
    assert.equal(store.getNote('k')?.value, 'v')
  })
})
