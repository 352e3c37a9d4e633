/**
 * Eager routes (protocol/native/gossipRoutes.ts) and the pruned stream (sync/native/PrunedOrigins.ts,
 * FeedSender): the `prune` message and the cursor's `pr`/`g` and the page's `lz` on the wire, the
 * receiver's decisions (prune a duplicate path, keep the parent and the origin's own stream, never
 * make a pruned stream the parent, graft an announced stamp that
 * does not arrive — timed from the last record of the wait that did —, graft elsewhere when the parent's session ends), and a sender that leaves a
 * pruned origin out, announces it, and does not teach its knowledge entry.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Packr } from 'msgpackr'
import type { HlcMark } from '../../src/core/hlc.ts'
import { asNodeId, type NodeId, type TripleId } from '../../src/core/ids.ts'
import type { MemoryRecord } from '../../src/core/model.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { EagerRoutes, MAX_ROUTE_ORIGINS, MAX_WAIT_TIMEOUTS, type RouteMessage } from '../../src/protocol/native/gossipRoutes.ts'
import { leftOutPrint, type LeftOutStamps } from '../../src/protocol/native/leftOutList.ts'
import { decodeFrame, encodeMessage, type AckMessage, type ChangesMessage, type CursorMessage } from '../../src/protocol/native/messages.ts'
import { applyPeerPage } from '../../src/replication/applyPage.ts'
import { feedIdOf } from '../../src/replication/feedId.ts'
import { cursorOn, leftOutAfter, leftOutKey, leftOutOf, leftOutOn, leftOutUnheld, MAX_LEFT_OUT_ORIGINS, seenOfPeer } from '../../src/replication/peerCursor.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { FeedReceiver } from '../../src/sync/native/FeedReceiver.ts'
import { FeedSender } from '../../src/sync/native/FeedSender.ts'
import { PrunedOrigins } from '../../src/sync/native/PrunedOrigins.ts'
import { nodeRoutes } from '../../src/sync/native/SessionBuilder.ts'
import { SessionRoutes } from '../../src/sync/native/SessionRoutes.ts'
import { silentLogger } from '../../src/util/log.ts'
import { eventually } from './helpers.ts'

const A = asNodeId('node-a')
const B = asNodeId('node-b')
const C = asNodeId('node-c')
const O = asNodeId('node-o')

/** A record of `origin` stamped (wall, 0). */
const rec = (origin: NodeId, wall: number, key = `k${wall}`): MemoryRecord =>
  ({ kind: 'note', key: `cfg:${key}`, value: 'v', hlc: { wall, counter: 0, node: origin }, deleted: false }) as unknown as MemoryRecord

describe('route messages on the wire', () => {
  it('carries prune, the cursor\'s pr and g, and the page\'s lz', () => {
    const prune = decodeFrame(encodeMessage({ t: 'prune', o: [A, B] }))
    assert.deepEqual(prune, { t: 'prune', o: [A, B] })
    const cursor = decodeFrame(encodeMessage({ t: 'cursor', cursor: 7, feed: 'a'.repeat(32), pr: true, g: [C] }))
    assert.deepEqual(cursor, { t: 'cursor', cursor: 7, feed: 'a'.repeat(32), pr: true, g: [C] })
    const page = decodeFrame(encodeMessage({ t: 'changes', from: 1, to: 9, records: [], more: false, lz: [{ node: O, wall: 5, counter: 2 }] })) as ChangesMessage
    assert.deepEqual(page.lz?.map(e => [e.node, e.wall, e.counter]), [[O, 5, 2]])
    const ls: LeftOutStamps[] = [{ node: O, stamps: [{ wall: 5, counter: 2, print: 7 }, { wall: 3, counter: 0, print: 0xffffffff }] }]
    const listed = decodeFrame(encodeMessage({ t: 'changes', from: 1, to: 9, records: [], more: false, lz: [{ node: O, wall: 5, counter: 2 }], ls })) as ChangesMessage
    assert.deepEqual(listed.ls, ls)
  })

  it('refuses a page\'s ls that is malformed or lists more records than a page holds', () => {
    const raw = (m: unknown): Uint8Array => { const body = new Packr({ useRecords: false }).pack(m); const f = new Uint8Array(body.byteLength + 1); f[0] = 1; f.set(body, 1); return f }
    const page = (ls: unknown): Uint8Array => raw({ t: 'changes', from: 0, to: 1, nodes: [], records: [], more: false, ls })
    assert.throws(() => decodeFrame(page('x')), /changes\.ls: must be an array/)
    assert.throws(() => decodeFrame(page([[O, 5, 1, 0]])), /changes\.ls\[0\]: must be \[node, base/)
    assert.throws(() => decodeFrame(page([['', 5]])), /changes\.ls\[0\]\[0\]: must be a node id/)
    assert.throws(() => decodeFrame(page([[O, 5, 6, 0, 1]])), /changes\.ls\[0\]\[2\]: wall offset/, 'a wall below 0')
    assert.throws(() => decodeFrame(page([[O, 5, 0, 0, 2 ** 32]])), /changes\.ls\[0\]\[2\]/, 'a print over 32 bits')
    assert.throws(() => decodeFrame(page([[O, 5, ...Array.from({ length: 3 }, () => [0, 0, 1]).flat()]]), { maxPageRecords: 2 }), /more than 2 records/)
  })

  it('refuses a prune that is not a list of node ids, or too long', () => {
    // raw frames: the encoder writes only valid messages
    const raw = (m: unknown): Uint8Array => { const body = new Packr({ useRecords: false }).pack(m); const f = new Uint8Array(body.byteLength + 1); f[0] = 1; f.set(body, 1); return f }
    const frame = (o: unknown): Uint8Array => raw({ t: 'prune', o })
    assert.throws(() => decodeFrame(frame('node-a')), /prune\.o: must be an array of node ids/)
    assert.throws(() => decodeFrame(frame(['ok', 'not ok'])), /prune\.o\[1\]: must be a node id/)
    assert.throws(() => decodeFrame(frame(Array.from({ length: MAX_ROUTE_ORIGINS + 1 }, () => 'n'))), /at most 4096/)
    assert.throws(() => decodeFrame(raw({ t: 'cursor', cursor: 0, feed: 'a'.repeat(32), g: [''] })), /cursor\.g\[0\]/)
  })
})

/** Routes over a knowledge vector of walls (origin → the wall up to which every state is held). */
function routesKnowing (knows: Map<NodeId, number> = new Map()): EagerRoutes {
  return new EagerRoutes((origin, mark) => (knows.get(origin) ?? -1) >= mark.wall)
}

describe('EagerRoutes', () => {
  function link (routes: EagerRoutes, peer: NodeId): { sent: RouteMessage[], grafts: Array<[readonly NodeId[], number]>, l: ReturnType<EagerRoutes['open']> } {
    const sent: RouteMessage[] = []
    const grafts: Array<[readonly NodeId[], number]> = []
    const l = routes.open(peer, m => sent.push(m), (o, from) => grafts.push([o, from]))
    return { sent, grafts, l }
  }

  /**
   * Routes with two links: B brought O's stamp 1 first (O's parent), C then brought it again as a
   * duplicate (C sent `prune` of O, at its cursor 5).
   */
  function prunedOnC (knows = new Map<NodeId, number>()): { routes: EagerRoutes, b: ReturnType<typeof link>, c: ReturnType<typeof link> } {
    const routes = routesKnowing(knows)
    const b = link(routes, B)
    const c = link(routes, C)
    routes.page(b.l, B, { from: 0, to: 3, records: [rec(O, 1)] }, new Map([[O, 1]]), 0)
    routes.page(c.l, C, { from: 0, to: 5, records: [rec(O, 1)] }, new Map(), 0)
    return { routes, b, c }
  }

  it('prunes an origin on a peer that brings only duplicates of it, never on its parent', () => {
    const routes = routesKnowing()
    const b = link(routes, B)
    const c = link(routes, C)
    routes.page(b.l, B, { from: 0, to: 3, records: [rec(O, 1)] }, new Map([[O, 1]]), 0)
    assert.equal(routes.parentOf(O), B)
    routes.page(c.l, C, { from: 0, to: 5, records: [rec(O, 1)] }, new Map(), 0)
    assert.deepEqual(c.sent, [{ t: 'prune', o: [O] }])
    // a duplicate from the parent (a stream restarted) prunes nothing; a second one from C is not pruned twice
    routes.page(b.l, B, { from: 3, to: 4, records: [rec(O, 1)] }, new Map(), 0)
    routes.page(c.l, C, { from: 5, to: 6, records: [rec(O, 1)] }, new Map(), 0)
    assert.equal(b.sent.length, 0)
    assert.equal(c.sent.length, 1)
  })

  it('grafts an origin whose announcement is not answered within the timeout, from past what is answered', () => {
    const knows = new Map<NodeId, number>([[O, 1]])
    const { routes, b, c } = prunedOnC(knows)
    // C left out O's stamp 2, then 3; B brings 2 in time (this node then holds all of O up to 2), not 3
    routes.page(c.l, C, { from: 5, to: 8, records: [], lz: [{ node: O, wall: 2, counter: 0 }] }, new Map(), 100)
    knows.set(O, 2)
    routes.page(b.l, B, { from: 3, to: 4, records: [rec(O, 2)] }, new Map([[O, 1]]), 150)
    routes.check(c.l, 10_000, 1_000)
    assert.equal(c.grafts.length, 0, 'stamp 2 arrived through the parent')
    routes.page(c.l, C, { from: 8, to: 9, records: [], lz: [{ node: O, wall: 3, counter: 0 }] }, new Map(), 200)
    routes.check(c.l, 1_100, 1_000)
    assert.equal(c.grafts.length, 0, 'not yet')
    routes.check(c.l, 1_200, 1_000)
    assert.deepEqual(c.grafts, [[[O], 8]], 'grafted from the page after the last answered announcement (what C left out up to 8 is held)')
    assert.equal(routes.parentOf(O), C)
  })

  it('counts an announcement as answered only once every record of its origin up to it is held, not when a later one arrived', () => {
    // C's page left out O's stamps 2 to 4 (it announces 4); B, the parent, brings stamp 5 and
    // nothing brings 2 to 4: this node still holds O's states only up to 1
    const knows = new Map<NodeId, number>([[O, 1]])
    const { routes, b, c } = prunedOnC(knows)
    routes.page(c.l, C, { from: 5, to: 8, records: [], lz: [{ node: O, wall: 4, counter: 0 }] }, new Map(), 100)
    routes.page(b.l, B, { from: 3, to: 4, records: [rec(O, 5)] }, new Map([[O, 1]]), 150)
    routes.check(c.l, 1_200, 1_000)
    assert.deepEqual(c.grafts, [[[O], 5]], 'a later record is no answer: O is grafted on C')
    // once this node holds all of O up to the announced stamp, the announcement is answered
    const held = new Map<NodeId, number>([[O, 1]])
    const d = prunedOnC(held)
    d.routes.page(d.c.l, C, { from: 5, to: 8, records: [], lz: [{ node: O, wall: 4, counter: 0 }] }, new Map(), 100)
    held.set(O, 4)
    d.routes.check(d.c.l, 1_200, 1_000)
    assert.equal(d.c.grafts.length, 0)
  })

  /** Routes that know nothing of any origin and hold the records given to `hold` (by stamp and key). */
  function routesHolding (): EagerRoutes & { hold (r: MemoryRecord): void } {
    const held = new Set<string>()
    const id = (r: MemoryRecord): string => `${r.hlc.wall} ${r.hlc.counter} ${(r as { key: string }).key}`
    return Object.assign(new EagerRoutes(() => false, r => held.has(id(r))), { hold: (r: MemoryRecord) => { held.add(id(r)) } })
  }
  const listOf = (origin: NodeId, records: readonly MemoryRecord[]): LeftOutStamps => ({ node: origin, stamps: records.map(r => ({ wall: r.hlc.wall, counter: r.hlc.counter, print: leftOutPrint(r) })) })

  it('answers an announcement once every record it listed is held, whichever carrier brought each and when', () => {
    const routes = routesHolding()
    const b = link(routes, B)
    const c = link(routes, C)
    const [r1, r2, r3] = [rec(O, 1), rec(O, 2), rec(O, 3)] as [MemoryRecord, MemoryRecord, MemoryRecord]
    // r1 came before the announcement (B's stream), r2 after it (B's stream), r3 by a gossip round
    routes.hold(r1)
    routes.page(b.l, B, { from: 0, to: 1, records: [r1] }, new Map([[O, 1]]), 0)
    routes.page(c.l, C, { from: 0, to: 4, records: [], lz: [{ node: O, wall: 3, counter: 0 }], ls: [listOf(O, [r1, r2, r3])] }, new Map(), 0)
    routes.hold(r2)
    routes.page(b.l, B, { from: 1, to: 2, records: [r2] }, new Map([[O, 1]]), 100)
    routes.check(c.l, 2_000, 1_000)
    assert.deepEqual(c.grafts, [[[O], 0]], 'r3 is not held: grafted')
    // the same again, r3 now arriving by a gossip round in time
    const c2 = link(routes, C)
    routes.page(c2.l, C, { from: 4, to: 5, records: [], lz: [{ node: O, wall: 3, counter: 0 }], ls: [listOf(O, [r1, r2, r3])] }, new Map(), 3_000)
    routes.hold(r3)
    routes.received([r3])
    routes.check(c2.l, 5_000, 1_000)
    assert.deepEqual(c2.grafts, [], 'every record listed is held')
  })

  it('takes neither a later record nor another record with the same stamp as an answer', () => {
    const routes = routesHolding()
    const c = link(routes, C)
    const r2 = rec(O, 2)
    const twin = rec(O, 2, 'other')
    const r5 = rec(O, 5)
    routes.page(c.l, C, { from: 0, to: 4, records: [], lz: [{ node: O, wall: 2, counter: 0 }], ls: [listOf(O, [r2])] }, new Map(), 0)
    for (const r of [twin, r5]) { routes.hold(r); routes.received([r]) }
    routes.check(c.l, 2_000, 1_000)
    assert.deepEqual(c.grafts, [[[O], 0]])
  })

  it('waits on the knowledge alone for a page that did not list what it left out (an older sender)', () => {
    const routes = routesHolding()
    const c = link(routes, C)
    const r2 = rec(O, 2)
    routes.hold(r2)
    routes.page(c.l, C, { from: 0, to: 4, records: [], lz: [{ node: O, wall: 2, counter: 0 }] }, new Map(), 0)
    routes.check(c.l, 2_000, 1_000)
    assert.deepEqual(c.grafts, [[[O], 0]])
  })

  it('times each announcement from when it came once the ones before it are answered', () => {
    const routes = routesHolding()
    const c = link(routes, C)
    // an announcement every 600 ms, each answered 300 ms after it came: none waits a full second
    for (let i = 0; i < 5; i++) {
      const r = rec(O, i + 1)
      routes.page(c.l, C, { from: i, to: i + 1, records: [], lz: [{ node: O, wall: i + 1, counter: 0 }], ls: [listOf(O, [r])] }, new Map(), i * 600)
      routes.check(c.l, i * 600 + 250, 1_000)
      routes.hold(r)
      routes.received([r])
    }
    routes.check(c.l, 5_000, 1_000)
    assert.deepEqual(c.grafts, [])
  })

  it('times a wait from the last record it listed that arrived: a slow path that still brings them is not grafted over, a stalled one is', () => {
    const routes = routesHolding()
    const b = link(routes, B)
    const c = link(routes, C)
    const rs = [1, 2, 3, 4].map(w => rec(O, w))
    // C announces r1 to r4 at once; B, the parent, brings one every 800 ms: the last one 3.2 s after the announcement
    routes.page(c.l, C, { from: 0, to: 4, records: [], lz: [{ node: O, wall: 4, counter: 0 }], ls: [listOf(O, rs)] }, new Map(), 0)
    for (let i = 0; i < 3; i++) {
      const at = (i + 1) * 800
      routes.hold(rs[i]!)
      routes.page(b.l, B, { from: i, to: i + 1, records: [rs[i]!] }, new Map([[O, 1]]), at)
      routes.check(c.l, at + 500, 1_000)
    }
    assert.deepEqual(c.grafts, [], 'B still brings them, 800 ms apart')
    // r4 does not come: a second after r3 (the last progress), O is grafted on C
    routes.check(c.l, 2_400 + 999, 1_000)
    assert.deepEqual(c.grafts, [])
    routes.check(c.l, 2_400 + 1_000, 1_000)
    assert.deepEqual(c.grafts, [[[O], 0]])
    // a path that keeps bringing records and never one of them: grafted MAX_WAIT_TIMEOUTS timeouts after the announcement
    const c2 = link(routes, C)
    const more = [5, 6, 7, 8, 9, 10, 11].map(w => rec(O, w))
    routes.page(c2.l, C, { from: 4, to: 11, records: [], lz: [{ node: O, wall: 11, counter: 0 }], ls: [listOf(O, more)] }, new Map(), 10_000)
    for (let i = 0; i < 6; i++) {
      const at = 10_000 + (i + 1) * 600
      routes.hold(more[i]!)
      routes.received([more[i]!], at)
      routes.check(c2.l, at, 1_000)
      assert.deepEqual(c2.grafts, [], `record ${i + 5} arrived, ${at - 10_000} ms after the announcement`)
    }
    // the last one came 400 ms ago: only the bound grafts it
    routes.check(c2.l, 10_000 + MAX_WAIT_TIMEOUTS * 1_000, 1_000)
    assert.deepEqual(c2.grafts, [[[O], 4]])
  })

  it('never makes a stream that leaves the origin out its parent, so one stream always carries it', () => {
    const { routes, b, c } = prunedOnC()
    assert.deepEqual(c.sent, [{ t: 'prune', o: [O] }])
    // a page C sent before the prune reached it brings O's stamp 2 first
    routes.page(c.l, C, { from: 5, to: 6, records: [rec(O, 2)] }, new Map([[O, 1]]), 10)
    assert.equal(routes.parentOf(O), B, 'B stays the parent: C leaves O out from now on')
    // B's copy of stamp 2 is a duplicate from the parent: B is not pruned
    routes.page(b.l, B, { from: 3, to: 4, records: [rec(O, 2)] }, new Map(), 20)
    assert.deepEqual(b.sent, [], 'the only stream that carries O is not pruned')
  })

  it('never prunes an origin from its own stream', () => {
    const routes = routesKnowing()
    const b = link(routes, B)
    const o = link(routes, O)
    routes.page(b.l, B, { from: 0, to: 3, records: [rec(O, 1)] }, new Map([[O, 1]]), 0)
    // O's own page brings its record after B's relay did: a duplicate, and still not pruned
    routes.page(o.l, O, { from: 0, to: 1, records: [rec(O, 1)] }, new Map(), 0)
    assert.deepEqual(o.sent, [])
    // the next record comes from O first: O is the parent, and B's copy prunes B
    routes.page(o.l, O, { from: 1, to: 2, records: [rec(O, 2)] }, new Map([[O, 1]]), 10)
    routes.page(b.l, B, { from: 3, to: 4, records: [rec(O, 2)] }, new Map(), 20)
    assert.equal(routes.parentOf(O), O)
    assert.deepEqual(b.sent, [{ t: 'prune', o: [O] }])
  })

  it('learns what a stream leaves out from its announcements, when no prune of it is known here', () => {
    const routes = routesKnowing()
    const c = link(routes, C)
    routes.page(c.l, C, { from: 10, to: 12, records: [], lz: [{ node: O, wall: 9, counter: 0 }] }, new Map(), 0)
    routes.check(c.l, 5_000, 1_000)
    assert.deepEqual(c.grafts, [[[O], 10]], 'from the first page that announced it')
  })

  it('grafts an origin on one other link that leaves it out when its parent\'s session ends', () => {
    const routes = routesKnowing()
    const b = link(routes, B)
    const c = link(routes, C)
    const d = link(routes, asNodeId('node-d'))
    routes.page(b.l, B, { from: 0, to: 1, records: [rec(O, 1)] }, new Map([[O, 1]]), 0)
    routes.page(c.l, C, { from: 0, to: 4, records: [rec(O, 1)] }, new Map(), 0)
    routes.page(d.l, asNodeId('node-d'), { from: 0, to: 6, records: [rec(O, 1)] }, new Map(), 0)
    routes.close(b.l)
    assert.deepEqual([...c.grafts, ...d.grafts].length, 1, 'one link grafted')
    assert.deepEqual(c.grafts, [[[O], 4]])
    assert.equal(routes.parentOf(O), C)
  })
})

describe('a pruned stream', () => {
  it('leaves the origin out, announces its highest stamp, and does not teach its knowledge entry', async () => {
    const store = new MemoryStore()
    const engine = new Engine({ store, node: A, maxDriftMs: 60_000 })
    const other = new Engine({ store: new MemoryStore(), node: O, maxDriftMs: 60_000 })
    other.addTriples([{ subject: 'user:o1', predicate: 'rel:p', object: 'x' }, { subject: 'user:o2', predicate: 'rel:p', object: 'y' }])
    const fromO = other.store.changesSince(0, { limit: 10 }).entries.map(e => e.record)
    applyPeerPage(engine, { peer: O, records: fromO, view: { node: O, cursor: 0, namespaces: null }, cursor: { seq: 2, feedId: feedIdOf(other.store) }, knowledge: other.knowledgeToSend().entries })
    engine.addTriples([{ subject: 'user:a1', predicate: 'rel:p', object: 'z' }])
    assert.ok(engine.knowledgeToSend().entries.some(e => e.node === O), 'this node knows origin O')
    const pruned = new PrunedOrigins()
    pruned.prune([O])
    const sent: ChangesMessage[] = []
    const s = new FeedSender({
      store, peer: B, feedId: feedIdOf(store), pageRecords: () => 100, pruned,
      send: async (_frame, msg) => { sent.push(msg) },
      onError: e => { throw e },
      knowledge: () => engine.knowledgeToSend()
    })
    s.start(0, feedIdOf(store))
    await eventually(() => sent.length === 1, 'one page')
    const page = sent[0]!
    assert.deepEqual(page.records.map(r => r.hlc.node), [A])
    assert.equal(page.to, store.stats().lastSeq, 'the cursor moves past what was left out')
    const maxO = fromO.map(r => r.hlc.wall).reduce((x, y) => Math.max(x, y))
    assert.deepEqual(page.lz?.map(e => [e.node, e.wall]), [[O, maxO]])
    assert.ok(page.k !== undefined && page.k.some(e => e.node === A), 'the vector goes')
    assert.ok(!page.k.some(e => e.node === O), 'without the pruned origin')
    s.stop()
  })

  it('teaches no knowledge of a left-out origin in a later session either, nor tells it as seen, until a snapshot', async () => {
    // A holds two records of origin O; B's cursor on A's feed passes them in a first session
    // whose stream left O out, and the session ends before any other path brought them.
    const storeA = new MemoryStore()
    const a = new Engine({ store: storeA, node: A, maxDriftMs: 60_000 })
    const o = new Engine({ store: new MemoryStore(), node: O, maxDriftMs: 60_000 })
    o.addTriples([{ subject: 'user:o1', predicate: 'rel:p', object: 'x' }, { subject: 'user:o2', predicate: 'rel:p', object: 'y' }])
    const fromO = o.store.changesSince(0, { limit: 10 }).entries.map(e => e.record)
    applyPeerPage(a, { peer: O, records: fromO, view: { node: O, cursor: 0, namespaces: null }, cursor: { seq: 2, feedId: feedIdOf(o.store) }, knowledge: o.knowledgeToSend().entries })
    a.addTriples([{ subject: 'user:a1', predicate: 'rel:p', object: 'z' }])
    const storeB = new MemoryStore()
    const b = new Engine({ store: storeB, node: B, maxDriftMs: 60_000 })
    const session = async (pruned: PrunedOrigins | undefined, snapshot = false): Promise<void> => {
      const receiver = new FeedReceiver({ engine: b, peer: A, peerFeed: feedIdOf(storeA), routes: true, send: () => {}, log: silentLogger })
      const sent: ChangesMessage[] = []
      const s = new FeedSender({
        store: storeA, peer: B, feedId: feedIdOf(storeA), pageRecords: () => 100, ...(pruned !== undefined ? { pruned } : {}),
        send: async (_frame, msg) => { sent.push(msg); receiver.onChanges(msg) },
        onError: e => { throw e },
        knowledge: () => a.knowledgeToSend()
      })
      s.start(receiver.position, feedIdOf(storeA), snapshot)
      await eventually(() => sent.length > 0 && !sent[sent.length - 1]!.more, 'the stream reaches the end of the feed')
      s.stop()
    }
    const pruned = new PrunedOrigins()
    pruned.prune([O])
    await session(pruned)
    assert.equal(cursorOn(storeB, A, feedIdOf(storeA)), storeA.stats().lastSeq, 'the cursor passed the left-out records')
    assert.ok(!b.knowledgeToSend().entries.some(e => e.node === O))
    // a later session: nothing pruned yet, and the page that ends the feed carries A's whole vector
    a.addTriples([{ subject: 'user:a2', predicate: 'rel:p', object: 'w' }])
    await session(undefined)
    assert.ok(!b.knowledgeToSend().entries.some(e => e.node === O), 'B learnt no entry for O from A: it never got O\'s records from A')
    // O's records come by another path: kept, not dropped as known and forgotten (Rule A)
    const r = b.applyChecked(fromO, { via: C })
    assert.equal(r.changed.length, fromO.length)
    assert.equal(storeB.getTriple((fromO[0] as { id: TripleId }).id)?.deleted, false)
    // what B tells A it has seen of A's feed (a snapshot's peerCursor) stops before what was left out
    assert.equal(seenOfPeer(storeB, A, feedIdOf(storeA)), 0)
    // a snapshot (from 0, nothing left out) leaves no gap behind
    await session(undefined, true)
    assert.equal(seenOfPeer(storeB, A, feedIdOf(storeA)), storeA.stats().lastSeq)
    assert.ok(b.knowledgeToSend().entries.some(e => e.node === O), 'the snapshot\'s vector teaches the entry for O')
  })

  it('keeps the highest stamp left out per origin, teaches the peer\'s entry again once it is held, and drops an origin a graft brought again', () => {
    const store = new MemoryStore()
    const feed = 'f'.repeat(32)
    const keep = (page: Parameters<typeof leftOutAfter>[3]): void => { for (const [k, v] of leftOutAfter(store, A, feed, page).writes) store.setMeta(k, v) }
    const mark = (wall: number): { wall: number, counter: number } => ({ wall, counter: 0 })
    keep({ leftOut: { from: 4, origins: [O], marks: new Map([[O, mark(7)]]) } })
    keep({ leftOut: { from: 6, origins: [O, B], marks: new Map([[O, mark(5)], [B, mark(2)]]) } })
    const left = leftOutOn(store, A, feed)!
    assert.deepEqual(left.marks.get(O), mark(7), 'the highest stamp announced')
    assert.equal(left.starts.get(B), 6)
    const upTo = (wall: number) => (_o: NodeId, m: { wall: number }): boolean => m.wall <= wall
    assert.ok(leftOutUnheld(left, O, upTo(6)), 'this node holds O only up to 6: the peer\'s entry for O is not learnt')
    assert.ok(!leftOutUnheld(left, O, upTo(7)), 'once it holds O up to 7 it is')
    assert.ok(!leftOutUnheld(left, C, upTo(0)), 'an origin never left out')
    // a graft's replay reached the cursor: O is no longer left out; B, left out again on the same page, stays
    keep({ regained: { from: 2, origins: [O, B] }, leftOut: { from: 9, origins: [B], marks: new Map([[B, mark(3)]]) } })
    const after = leftOutOn(store, A, feed)!
    assert.ok(!leftOutOf(after, O) && leftOutOf(after, B))
    assert.equal(after.starts.get(B), 9)
  })

  it('keeps at most MAX_LEFT_OUT_ORIGINS origins as left out (past it, or unreadable: every origin counts)', () => {
    const store = new MemoryStore()
    const feed = 'f'.repeat(32)
    const keep = (page: Parameters<typeof leftOutAfter>[3]): void => { for (const [k, v] of leftOutAfter(store, A, feed, page).writes) store.setMeta(k, v) }
    keep({ leftOut: { from: 4, origins: [O] } })
    assert.ok(leftOutOf(leftOutOn(store, A, feed), O) && !leftOutOf(leftOutOn(store, A, feed), B))
    assert.equal(leftOutOn(store, A, 'g'.repeat(32)), undefined, 'another feed of the peer: nothing known left out')
    keep({ leftOut: { from: 9, origins: Array.from({ length: MAX_LEFT_OUT_ORIGINS }, (_, i) => asNodeId(`made-up-${i}`)) } })
    const all = leftOutOn(store, A, feed)
    assert.ok(all?.all === true && all.origins.size === 0 && all.from === 4 && leftOutOf(all, B))
    store.setMeta(leftOutKey(A), '{not json')
    assert.ok(leftOutOf(leftOutOn(store, A, feed), B))
    keep({ restart: true })
    assert.equal(leftOutOn(store, A, feed), undefined)
  })
})

/**
 * One peer's stream to a node, over direct calls: the peer's FeedSender (leaving out what the
 * node pruned), the node's FeedReceiver and its part in the node's routes (SessionRoutes).
 */
interface Stream {
  readonly sender: FeedSender
  readonly receiver: FeedReceiver
  readonly session: SessionRoutes
  readonly pruned: PrunedOrigins
  readonly pages: ChangesMessage[]
}

function stream (from: Engine, to: Engine, routes: EagerRoutes, now: () => number): Stream {
  const pruned = new PrunedOrigins()
  const pages: ChangesMessage[] = []
  const toSender = (m: CursorMessage | AckMessage | RouteMessage): void => {
    if (m.t === 'prune') pruned.prune(m.o)
    else if (m.t === 'ack') sender.onAck(m.cursor)
    else {
      if (m.g !== undefined) pruned.graft(m.g)
      sender.start(m.cursor, m.feed, m.full === true, m.g)
    }
  }
  // as sessionParts.ts: what the stream left out in earlier sessions, read when the link opens
  const earlier = (): { from: number, marks: Map<NodeId, HlcMark | undefined> } | undefined => {
    const left = leftOutOn(to.store, from.node, feedIdOf(from.store))
    return left === undefined || left.all === true ? undefined : { from: left.from, marks: new Map([...left.origins].map(o => [o, left.marks.get(o)])) }
  }
  const session: SessionRoutes = new SessionRoutes({ routes, peer: from.node, send: toSender, graft: (o, f) => { receiver.graft(o, f) }, grafting: () => receiver.grafting, earlier, now })
  const receiver: FeedReceiver = new FeedReceiver({
    engine: to, peer: from.node, peerFeed: feedIdOf(from.store), routes: true, send: toSender, log: silentLogger, now,
    onApplied: (msg, changed) => { session.applied(msg, changed, now()) }
  })
  const sender: FeedSender = new FeedSender({
    store: from.store, peer: to.node, feedId: feedIdOf(from.store), pageRecords: () => 100, pruned, now,
    send: async (_frame, msg) => { pages.push(msg); receiver.onChanges(msg) },
    onError: e => { throw e },
    knowledge: () => from.knowledgeToSend()
  })
  // the peer's own cursor offered `pr`: the node's link in its routes opens
  session.peerCursor(true, undefined)
  receiver.sendCursor()
  return { sender, receiver, session, pruned, pages }
}

/**
 * A node R, origin O's records reaching it through two peers, P and Q: O's first record r0 reaches
 * P and Q, Q's stream brings it to R first (Q becomes O's parent) and P's as a duplicate, so R
 * prunes O on P. `writeAtO` writes the next record at O (not sent anywhere); `holds` reads R's
 * store. The clock of the streams is `t`, moved by the test.
 */
interface PrunedTriangle {
  readonly o: Engine
  readonly p: Engine
  readonly q: Engine
  readonly r: Engine
  readonly storeR: MemoryStore
  readonly routes: EagerRoutes
  readonly fromP: Stream
  readonly fromQ: Stream
  readonly now: () => number
  writeAtO (key: string): MemoryRecord
  holds (rec: MemoryRecord): boolean
  /** Moves the clock of the streams by `ms`. */
  pass (ms: number): void
}

async function prunedTriangle (): Promise<PrunedTriangle> {
  let t = 0
  const now = (): number => t
  const engine = (id: NodeId, store = new MemoryStore()): Engine => new Engine({ store, node: id, maxDriftMs: 60_000 })
  const o = engine(O)
  const p = engine(asNodeId('node-p'))
  const q = engine(asNodeId('node-q'))
  const storeR = new MemoryStore()
  const r = engine(asNodeId('node-r'), storeR)
  const writeAtO = (key: string): MemoryRecord => {
    const before = o.store.stats().lastSeq
    o.addTriples([{ subject: `user:${key}`, predicate: 'rel:p', object: key }])
    return o.store.changesSince(before, { limit: 10 }).entries[0]!.record
  }
  const holds = (rec: MemoryRecord): boolean => storeR.getTriple((rec as { id: TripleId }).id) !== undefined
  const routes = nodeRoutes(r)
  const r0 = writeAtO('r0')
  p.applyChecked([r0], { via: O })
  q.applyChecked([r0], { via: O })
  const fromQ = stream(q, r, routes, now)
  await eventually(() => holds(r0), 'r0 reaches R from Q')
  assert.equal(routes.parentOf(O), q.node)
  const fromP = stream(p, r, routes, now)
  await eventually(() => fromP.pruned.has(O), 'R prunes O on P')
  return { o, p, q, r, storeR, routes, fromP, fromQ, now, writeAtO, holds, pass: ms => { t += ms } }
}

describe('announcements over real streams', () => {
  it('grafts the records a pruned page left out when only a later record of their origin arrived by another path', async () => {
    // O's first record reached R from Q (its parent for O) and from P, which R pruned O on
    const { p, q, routes, fromP, fromQ, now, writeAtO, holds, pass } = await prunedTriangle()
    // O writes r1 to r4; P gets them all and leaves them out of its stream to R, announcing r4
    const later = ['r1', 'r2', 'r3', 'r4'].map(writeAtO)
    p.applyChecked(later, { via: O })
    fromP.sender.wake()
    const r4 = later[3]!
    await eventually(() => fromP.pages.some(pg => pg.lz?.some(a => a.node === O && a.wall === r4.hlc.wall && a.counter === r4.hlc.counter)), 'P announces r4')
    // only r4 reaches Q, and from there R: no path brings r1 to r3
    q.applyChecked([r4], { via: O })
    fromQ.sender.wake()
    await eventually(() => holds(r4), 'r4 reaches R from Q')
    assert.ok(later.slice(0, 3).every(x => !holds(x)))
    // the graft timeout passes: the announcement of r4 is not answered by r4 itself
    pass(1_000)
    fromP.session.check(now(), 1_000)
    await eventually(() => later.every(holds), () => `R holds r1 to r3 (holds ${later.filter(holds).length} of r1..r4)`, { ms: 5_000 })
    assert.equal(routes.stats.graftsSent, 1)
    fromP.sender.stop()
    fromQ.sender.stop()
  })

  it('answers a pruned page\'s announcement once every record it listed arrived by another path, without the knowledge of their origin', async () => {
    const { p, q, r, routes, fromP, fromQ, now, writeAtO, holds, pass } = await prunedTriangle()
    // P leaves r1 to r4 out, listing each; Q gets them from O without O's vector, so R's knowledge of O never reaches them
    const later = ['r1', 'r2', 'r3', 'r4'].map(writeAtO)
    p.applyChecked(later, { via: O })
    fromP.sender.wake()
    await eventually(() => fromP.pages.some(pg => pg.lz?.some(a => a.node === O)), 'P announces what it left out')
    const listed = fromP.pages.flatMap(pg => pg.ls ?? []).filter(l => l.node === O).flatMap(l => l.stamps)
    assert.deepEqual(listed.map(x => [x.wall, x.counter, x.print]).sort(), later.map(x => [x.hlc.wall, x.hlc.counter, leftOutPrint(x)]).sort(), 'the page lists every record it left out')
    // the first two arrive before the graft timeout, the last two after it began (each by Q's stream)
    q.applyChecked(later.slice(0, 2), { via: O })
    fromQ.sender.wake()
    await eventually(() => later.slice(0, 2).every(holds), 'r1 and r2 reach R from Q')
    pass(500)
    fromP.session.check(now(), 1_000)
    q.applyChecked(later.slice(2), { via: O })
    fromQ.sender.wake()
    await eventually(() => later.every(holds), 'r3 and r4 reach R from Q')
    assert.ok(!r.knowledge.covers(O, later[3]!.hlc, r.store.clockMark()), 'R\'s knowledge of O does not reach r4')
    pass(1_000)
    fromP.session.check(now(), 1_000)
    assert.equal(routes.stats.graftsSent, 0, 'nothing grafted: every record P left out is held')
    fromP.sender.stop()
    fromQ.sender.stop()
  })

  it('waits again, after a restart, for what a pruned stream left out in the session before, and grafts it', async () => {
    const { p, storeR, fromP, fromQ, now, writeAtO, holds, pass } = await prunedTriangle()
    // P leaves r1 to r3 out and announces them; the node restarts before the graft timeout, and no path brought them
    const later = ['r1', 'r2', 'r3'].map(writeAtO)
    p.applyChecked(later, { via: O })
    fromP.sender.wake()
    await eventually(() => fromP.pages.some(pg => pg.lz?.some(a => a.node === O)), 'P announces what it left out')
    await eventually(() => fromP.receiver.position === p.store.stats().lastSeq, 'R\'s cursor on P passed them')
    fromP.sender.stop()
    fromQ.sender.stop()
    fromP.session.close()
    fromQ.session.close()
    // R restarts on its store
    const r = new Engine({ store: storeR, node: asNodeId('node-r'), maxDriftMs: 60_000 })
    // a new session with P: its stream carries everything after R's cursor, which is past r1 to r3
    const again = stream(p, r, nodeRoutes(r), now)
    await eventually(() => again.pages.length > 0 && again.pages[again.pages.length - 1]!.more === false, 'the new stream caught up')
    assert.ok(later.every(x => !holds(x)))
    pass(1_000)
    again.session.check(now(), 1_000)
    await eventually(() => later.every(holds), () => `R holds r1 to r3 (holds ${later.filter(holds).length})`, { ms: 5_000 })
    // the graft brought them from where they were first left out: P's stream is no longer counted as leaving O out
    await eventually(() => leftOutOn(storeR, p.node, feedIdOf(p.store)) === undefined, 'nothing left out of P\'s stream any more')
    again.sender.stop()
  })
})
