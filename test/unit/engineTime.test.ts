/**
 * The engine across time, over MemoryStore with injected wall clocks: records held aside and
 * released, knowledge learnt with a cursor (clamped below what is held, and by voids), Rule A,
 * Rule B with members present and gone, ticks, and the clock repair of a node whose clock ran
 * ahead.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { compareHlc, type Hlc } from '../../src/core/hlc.ts'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import type { MemoryRecord, NoteRecord, TripleRecord } from '../../src/core/model.ts'
import { makeTriple } from '../../src/core/records.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { OWN_FROM_KEY } from '../../src/engine/NodeKnowledge.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import type { Store } from '../../src/store/Store.ts'

const A = asNodeId('node-a')
const B = asNodeId('node-b')
const C = asNodeId('node-c')
const T0 = 1_763_631_000_000
const DRIFT = 60_000
const HOUR = 3_600_000

/** A node whose store holds its own whole history (`fresh`: a store just created empty under an older identity, see 'its own history'). */
function node<S extends Store = MemoryStore> (self: NodeId = A, start = T0, fresh = false, given?: S): { engine: Engine, store: S, setWall: (ms: number) => void, wall: () => number } {
  let wall = start
  const store = given ?? new MemoryStore() as unknown as S
  if (!fresh) store.setMeta(OWN_FROM_KEY, '0')
  const engine = new Engine({ store, node: self, maxDriftMs: DRIFT, now: () => wall, ownHistoryElsewhere: fresh })
  return { engine, store, setWall: ms => { wall = ms }, wall: () => wall }
}

const at = (wall: number, node: NodeId = B, counter = 0): Hlc => ({ wall, counter, node })
const triple = (s: string, hlc: Hlc, deleted = false): TripleRecord => makeTriple({ subject: s, predicate: 'p', object: { kind: 'string', value: 'o' } }, hlc, deleted)
const note = (key: string, value: number, hlc: Hlc): NoteRecord => ({ kind: 'note', key, value, hlc, deleted: false })
const entry = (n: NodeId, wall: number, generation = 0): { node: NodeId, wall: number, counter: number, generation: number } => ({ node: n, wall, counter: 0, generation })

describe('held records', () => {
  test('released once the clock reaches them, through the path of the peer they came from', () => {
    const { engine, store, setWall } = node()
    const far = triple('s:far', at(T0 + HOUR))
    engine.applyChecked([far], { via: B, cursor: { peer: B, seq: 1 } })
    assert.equal(engine.releaseDue(), 0)
    setWall(T0 + HOUR - DRIFT - 1)
    assert.equal(engine.releaseDue(), 0, 'still beyond the drift guard')
    setWall(T0 + HOUR - DRIFT)
    assert.equal(engine.releaseDue(), 1)
    assert.deepEqual(store.getTriple(far.id), far)
    assert.ok(compareHlc(engine.clock.now(), far.hlc) > 0, 'released stamps are observed')
    assert.equal(store.changesSince(0, { limit: 10, excludeVia: B }).entries.length, 0, 'it came from B: not served back to B')
    assert.deepEqual(engine.heldSummary(), [])
  })

  test('a receiver whose own clock was behind releases at once when it is fixed', () => {
    const { engine, store, setWall } = node(A, T0 - 2 * HOUR)
    const rec = note('cfg:x', 1, at(T0))
    engine.applyChecked([rec], { via: B })
    assert.equal(store.getNote('cfg:x'), undefined)
    assert.equal(engine.heldSummary()[0]!.aheadMs, 2 * HOUR)
    setWall(T0 + 5)
    assert.equal(engine.releaseDue(), 1)
    assert.deepEqual(store.getNote('cfg:x'), rec)
  })
})

describe('knowledge and Rule A', () => {
  test('a vector learnt with a cursor makes a record deleted and collected here stay deleted when it comes back', () => {
    const { engine, store, setWall } = node()
    const x = triple('s:x', at(T0 - 10, C))
    // P got X by relay from B, and B's page told it that B knows C's writes up to T0
    engine.applyChecked([x], { via: B, cursor: { peer: B, seq: 1 }, knowledge: [entry(B, T0), entry(C, T0)] })
    assert.deepEqual(store.knowledge().map(e => [e.node, e.wall]), [[B, T0], [C, T0]])
    engine.applyChecked([{ ...x, hlc: at(T0 + 5, B), deleted: true }], { via: B, cursor: { peer: B, seq: 2 }, knowledge: [entry(B, T0 + 10), entry(C, T0 + 10)] })
    setWall(T0 + 2 * HOUR)
    const collected = engine.collectTombstones(HOUR, 30 * 24 * HOUR)
    assert.equal(collected.removed, 1)
    assert.equal(store.getTriple(x.id), undefined)
    // C returns and streams X: absent here, and the vector covers it — dropped
    const r = engine.applyChecked([x], { via: C, cursor: { peer: C, seq: 1 } })
    assert.equal(r.forgotten, 1)
    assert.equal(store.getTriple(x.id), undefined)
    // a write of C this node has not seen is new data
    const y = triple('s:y', at(T0 + HOUR, C))
    assert.equal(engine.applyChecked([y], { via: C }).changed.length, 1)
  })

  test('its own records coming back after their tombstones were collected are dropped (it issued them)', () => {
    const { engine, store, setWall } = node()
    const [t] = engine.addTriples([{ subject: 's:mine', predicate: 'p', object: 'o' }])
    engine.deleteTriple(t!.id)
    setWall(T0 + 2 * HOUR)
    assert.equal(engine.collectTombstones(HOUR, 30 * 24 * HOUR).removed, 1, 'alone: the TTL decides')
    assert.equal(engine.applyChecked([t!], { via: B }).forgotten, 1)
    assert.equal(store.getTriple(t!.id), undefined)
  })

  test('a vector without a cursor teaches nothing; an entry is learnt only below what is held aside', () => {
    const { engine, store } = node()
    engine.applyChecked([], { via: B, knowledge: [entry(B, T0)] })
    assert.deepEqual(store.knowledge(), [])
    engine.applyChecked([triple('s:far', at(T0 + HOUR, C))], { via: B, cursor: { peer: B, seq: 1 }, knowledge: [entry(B, T0), entry(C, T0 + 2 * HOUR)] })
    const c = store.knowledge().find(e => e.node === C)!
    assert.ok(c.wall < T0 + HOUR, `C's entry stays below the held record: ${c.wall}`)
    assert.deepEqual(store.knowledge().find(e => e.node === B), { node: B, wall: T0, counter: 0 })
  })

  test('a void drops what it voids from the held records and clamps stale knowledge; an entry of an unknown generation is not learnt', () => {
    const { engine, store } = node()
    engine.applyChecked([triple('s:old-future', at(T0 + HOUR, C))], { via: B, cursor: { peer: B, seq: 1 }, knowledge: [entry(C, T0 - 100)] })
    assert.equal(store.held({ limit: 10 }).length, 1)
    // C repaired its clock: S = T0; B relays the void and its stale knowledge of C (generation 0)
    const r = engine.applyChecked([], { via: B, cursor: { peer: B, seq: 2 }, voids: [{ node: C, generation: 1, wall: T0, counter: 0 }], knowledge: [entry(C, T0 + 500)] })
    assert.equal(r.voided, 1)
    assert.equal(store.held({ limit: 10 }).length, 0)
    assert.equal(store.knowledge().find(e => e.node === C)!.wall, T0, 'stale knowledge is valid up to S only')
    engine.applyChecked([], { via: B, cursor: { peer: B, seq: 3 }, knowledge: [entry(C, T0 + 900, 2)] })
    assert.equal(store.knowledge().find(e => e.node === C)!.wall, T0, 'generation 2 was never learnt here')
    engine.applyChecked([], { via: B, cursor: { peer: B, seq: 4 }, knowledge: [entry(C, T0 + 900, 1)] })
    assert.equal(store.knowledge().find(e => e.node === C)!.wall, T0 + 900)
  })
})

describe('a state that arrives after its void', () => {
  /** Every clock agrees (the node's clock work asks PeerClocks). */
  const settled = (): boolean => true

  /** A's clock ran two hours ahead: it wrote, then repaired; B got the repaired feed and its void before the old page (a late gossip batch, a relay). */
  function lateOldPage<S extends Store = MemoryStore> (peerStore?: S): { peer: ReturnType<typeof node<S>>, old: MemoryRecord[] } {
    const ahead = node(A, T0 + 2 * HOUR)
    const peer = node<S>(B, T0, false, peerStore)
    const page = (from: Engine, seq: number, records: MemoryRecord[]): void => {
      const k = from.knowledgeToSend()
      peer.engine.applyChecked(records, { via: from.node, cursor: { peer: from.node, seq }, knowledge: k.entries, voids: k.voids })
    }
    ahead.engine.setNote('cfg:n', 1)
    ahead.engine.setNote('cfg:m', 2)
    const old = ahead.store.changesSince(0, { limit: 100 }).entries.map(e => e.record as MemoryRecord)
    ahead.setWall(T0 + 1_000)
    peer.setWall(T0 + 1_000)
    assert.ok(ahead.engine.repairClock() !== undefined)
    page(ahead.engine, 1, ahead.store.changesSince(0, { limit: 100 }).entries.map(e => e.record as MemoryRecord))
    assert.equal(peer.store.getNote('cfg:n')?.hlc.wall, T0 + 1_000, 'the re-stamped state applied')
    peer.engine.applyChecked(old, { via: A })
    assert.equal(peer.store.held({ limit: 10 }).length, 2, 'held: their void was learnt before they came')
    return { peer, old }
  }

  test('is dropped from the held records once its origin\'s clock and this node\'s are settled', () => {
    const { peer } = lateOldPage()
    assert.equal(peer.engine.dropVoidedHeld(settled), 2, 'both old future states are void')
    assert.deepEqual(peer.store.held({ limit: 10 }), [])
    assert.deepEqual(peer.engine.heldSummary(), [])
    peer.setWall(T0 + 3 * HOUR)
    assert.equal(peer.engine.releaseDue(), 0, 'nothing old is applied over the re-stamped states when its time comes')
    assert.equal(peer.store.getNote('cfg:n')?.hlc.wall, T0 + 1_000)
  })

  test('stays held while the clocks are not settled (this node may be the one behind, or its origin ahead again)', () => {
    const { peer } = lateOldPage()
    assert.equal(peer.engine.dropVoidedHeld(() => false), 0)
    assert.equal(peer.engine.dropVoidedHeld(origin => origin !== A), 0, 'A\'s clock is not settled')
    assert.equal(peer.store.held({ limit: 10 }).length, 2)
  })

  test('a restarted node (a new engine over the same SQLite file) drops them too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-void-late-'))
    try {
      const file = join(dir, 'engram.db')
      const { peer } = lateOldPage(SqliteStore.open(file))
      peer.store.close()
      const again = node(B, T0 + 2_000, false, SqliteStore.open(file))
      try {
        assert.equal(again.store.heldOrigins().reduce((n, o) => n + o.count, 0), 2, 'still held on disk')
        assert.equal(again.engine.dropVoidedHeld(settled), 2)
        assert.deepEqual(again.store.heldOrigins(), [])
        assert.equal(again.store.getNote('cfg:m')?.hlc.wall, T0 + 1_000)
      } finally {
        again.store.close()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a held state of a node that never repaired its clock is not dropped', () => {
    const { engine, store } = node(B, T0)
    engine.applyChecked([note('cfg:c', 1, at(T0 + HOUR, C))], { via: C })
    assert.equal(engine.dropVoidedHeld(settled), 0, 'C has no void')
    assert.equal(store.held({ limit: 10 }).length, 1)
  })
})

describe('Rule B', () => {
  test('a tombstone is kept past the TTL until every member that is not gone knows past it', () => {
    const { engine, store, setWall } = node()
    const x = triple('s:x', at(T0 - 10, A))
    engine.applyChecked([x, { ...x, hlc: at(T0, B), deleted: true }], { via: B, cursor: { peer: B, seq: 1 }, knowledge: [entry(B, T0), entry(C, T0 - 1_000)] })
    setWall(T0 + 2 * HOUR)
    const first = engine.collectTombstones(HOUR, 30 * 24 * HOUR)
    assert.equal(first.removed, 0, 'C has not been heard of past the delete')
    assert.deepEqual(first.stable, { wall: T0 - 1_000, counter: 0 })
    engine.applyChecked([], { via: B, cursor: { peer: B, seq: 2 }, knowledge: [entry(B, T0 + HOUR), entry(C, T0 + 10)] })
    assert.equal(engine.collectTombstones(HOUR, 30 * 24 * HOUR).removed, 1)
    assert.equal(store.getTriple(x.id), undefined)
  })

  test('a member gone (no news of it for memberGone while others were heard of) no longer holds tombstones back', () => {
    const { engine, setWall } = node()
    const x = triple('s:x', at(T0 - 10, A))
    engine.applyChecked([x, { ...x, hlc: at(T0, B), deleted: true }], { via: B, cursor: { peer: B, seq: 1 }, knowledge: [entry(B, T0), entry(C, T0 - 1_000)] })
    const gone = 2 * HOUR
    setWall(T0 + 3 * HOUR)
    assert.equal(engine.collectTombstones(HOUR, gone).removed, 0, 'B is not fresher than C by more than memberGone yet')
    engine.applyChecked([], { via: B, cursor: { peer: B, seq: 2 }, knowledge: [entry(B, T0 + 3 * HOUR)] })
    const r = engine.collectTombstones(HOUR, gone)
    assert.deepEqual(r.gone, [C])
    assert.equal(r.removed, 1)
  })
})

describe('ticks and knowledge to send', () => {
  test('a tick persists the wall clock as the mark; the vector sent carries it, each entry\'s generation and the voids', () => {
    const { engine, store, setWall } = node()
    setWall(T0 + 5_000)
    engine.applyChecked([], { via: B, cursor: { peer: B, seq: 1 }, knowledge: [entry(B, T0)], voids: [{ node: B, generation: 1, wall: T0 - 9, counter: 0 }] })
    const sent = engine.knowledgeToSend()
    assert.deepEqual(store.clockMark(), { wall: T0 + 5_000, counter: 0 })
    assert.deepEqual(sent.entries, [entry(B, T0 - 9, 1), entry(A, T0 + 5_000)])
    assert.deepEqual(sent.voids, [{ node: B, generation: 1, wall: T0 - 9, counter: 0 }])
  })
})

describe('its own history', () => {
  test('a store created empty lets its own old states come back, sends no entry for itself, and asks for a full read until a snapshot completes it', () => {
    const { engine, store, setWall } = node(A, T0, true)
    assert.equal(store.getMeta(OWN_FROM_KEY), String(T0))
    assert.equal(engine.knowledge.ownHistoryIncomplete(), true)
    setWall(T0 + 5_000)
    engine.addTriples([{ subject: 's:new', predicate: 'p', object: { kind: 'string', value: 'o' } }])
    assert.equal(engine.knowledgeToSend().entries.some(e => e.node === A), false, 'no entry for itself')
    // its states from before the store was created come back from a peer, though the clock mark is past them
    const old = triple('s:old', at(T0 - HOUR, A))
    engine.applyChecked([old], { via: B, cursor: { peer: B, seq: 1 }, knowledge: [entry(B, T0), entry(A, T0 - HOUR)] })
    assert.deepEqual(store.getTriple(old.id), old)
    assert.equal(engine.knowledge.ownHistoryIncomplete(), true, 'a page that is not the end of a snapshot does not complete it')
    // the end of a snapshot with the peer's vector completes it
    engine.applyChecked([], { via: B, cursor: { peer: B, seq: 2 }, knowledge: [entry(B, T0)], endsSnapshot: true })
    assert.equal(engine.knowledge.ownHistoryIncomplete(), false)
    assert.equal(store.getMeta(OWN_FROM_KEY), '0')
    assert.ok(engine.knowledgeToSend().entries.some(e => e.node === A && e.wall >= T0 + 5_000))
    // from now on its own entry is its clock mark: an own state deleted and collected stays deleted
    const older = triple('s:older', at(T0 - 2 * HOUR, A))
    engine.applyChecked([older], { via: B })
    assert.equal(store.getTriple(older.id), undefined, 'Rule A, with the whole history')
  })

  test('a store created empty for a new identity holds its whole (empty) history: it reads its peers as any node does', () => {
    const store = new MemoryStore()
    const engine = new Engine({ store, node: A, maxDriftMs: DRIFT, now: () => T0 })
    assert.equal(engine.knowledge.ownHistoryIncomplete(), false)
    assert.equal(store.getMeta(OWN_FROM_KEY), '0')
  })

  test('a store that holds records, from before the key existed, holds its history', () => {
    const store = new MemoryStore()
    new Engine({ store, node: A, maxDriftMs: DRIFT, now: () => T0 }).addTriples([{ subject: 's:x', predicate: 'p', object: { kind: 'string', value: 'o' } }])
    store.setMeta(OWN_FROM_KEY, undefined)
    const engine = new Engine({ store, node: A, maxDriftMs: DRIFT, now: () => T0 + 1 })
    assert.equal(engine.knowledge.ownHistoryIncomplete(), false)
    assert.equal(store.getMeta(OWN_FROM_KEY), '0')
  })
})

describe('clock repair', () => {
  test('after a clock two hours ahead is fixed: own future records re-stamped above S, in order, a void, writes near real time', () => {
    const { engine, store, setWall } = node(A, T0 + 2 * HOUR)
    const before = engine.addTriples([{ subject: 's:1', predicate: 'p', object: 'o' }, { subject: 's:2', predicate: 'p', object: 'o' }])
    engine.setNote('cfg:n', 1)
    engine.appendTraces([{ runId: 'run', type: 'step', data: 1 }])
    engine.applyChecked([note('cfg:b', 2, at(T0 + 2 * HOUR - 5))], { via: B })
    setWall(T0)
    assert.equal(engine.setNote('cfg:still', 0).hlc.wall, T0 + 2 * HOUR, 'before the repair the node stamps ahead (from its mark)')
    const r = engine.repairClock()
    assert.ok(r !== undefined)
    assert.equal(r.restamped, 5, 'two triples, two notes, one trace')
    assert.equal(r.void.generation, 1)
    assert.deepEqual([r.void.wall, r.void.counter], [T0, 0])
    const mine = store.dump().filter(x => x.hlc.node === A)
    assert.equal(mine.length, 5)
    for (const x of mine) assert.ok(x.hlc.wall === T0, `re-stamped near now: ${x.hlc.wall}`)
    const t1 = store.getTriple(before[0]!.id)!
    const t2 = store.getTriple(before[1]!.id)!
    assert.ok(compareHlc(t1.hlc, t2.hlc) < 0, 'original order kept')
    assert.equal(store.listTraces({ limit: 10, offset: 0 }).total, 1, 'the trace was replaced, not duplicated')
    assert.equal(store.getNote('cfg:b')?.hlc.wall, T0 + 2 * HOUR - 5, 'others\' records are not touched')
    assert.deepEqual(store.voids(), [r.void])
    assert.ok(engine.setNote('cfg:after', 1).hlc.wall === T0, 'new writes near real time')
    assert.equal(engine.repairClock(), undefined, 'nothing to repair now')
  })

  test('S is at least every stamp held within the drift guard (others\' included), so nothing new sorts below them', () => {
    const { engine, setWall } = node(A, T0 + 2 * HOUR)
    engine.setNote('cfg:n', 1)
    setWall(T0)
    engine.applyChecked([note('cfg:b', 2, at(T0 + DRIFT - 7))], { via: B })
    const r = engine.repairClock()!
    assert.equal(r.void.wall, T0 + DRIFT - 7)
    const after = engine.setNote('cfg:b', 3)
    assert.ok(compareHlc(after.hlc, at(T0 + DRIFT - 7)) > 0)
  })

  test('the records a peer holds of the repaired node are voided by its void; its new records are not held', () => {
    const ahead = node(A, T0 + 2 * HOUR)
    const peer = node(B, T0)
    const sendAll = (from: Engine, to: Engine, seq: number): void => {
      const page = from.store.changesSince(0, { limit: 100 })
      const k = from.knowledgeToSend()
      to.applyChecked(page.entries.map(e => e.record as MemoryRecord), { via: from.node, cursor: { peer: from.node, seq }, knowledge: k.entries, voids: k.voids })
    }
    ahead.engine.setNote('cfg:n', 1)
    sendAll(ahead.engine, peer.engine, 1)
    assert.equal(peer.store.held({ limit: 10 }).length, 1)
    ahead.setWall(T0 + 1_000)
    peer.setWall(T0 + 1_000)
    ahead.engine.repairClock()
    sendAll(ahead.engine, peer.engine, 2)
    assert.equal(peer.store.held({ limit: 10 }).length, 0, 'the old future state is voided')
    assert.deepEqual(peer.store.getNote('cfg:n')?.value, 1, 'the re-stamped state arrived and applied')
    assert.equal(peer.store.getNote('cfg:n')?.hlc.wall, T0 + 1_000)
  })
})
