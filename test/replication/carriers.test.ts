/**
 * One record, either carrier, one outcome: the same conflicting writes of a peer delivered to
 * two identical copies of a node — once by polled sync (a pull through the peer's delta
 * endpoint) and once by native sync (the peer's FeedSender streaming frames to the node's
 * FeedReceiver) — leave the two copies with the same data and the same keep-both list, under
 * every `sync.conflictStrategy` (docs/SYNC.md, "Conflicts").
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ConflictStrategy } from '../../src/config/schema.ts'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { decodeFrame, type ChangesMessage } from '../../src/protocol/native/messages.ts'
import { ConflictPolicy } from '../../src/replication/applyPage.ts'
import { ConflictLog, type ConflictEntry } from '../../src/replication/conflicts.ts'
import { feedIdOf } from '../../src/replication/feedId.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import type { Store } from '../../src/store/Store.ts'
import { FeedReceiver } from '../../src/sync/native/FeedReceiver.ts'
import { FeedSender } from '../../src/sync/native/FeedSender.ts'
import { silentLogger } from '../../src/util/log.ts'
import { canonicalDump, dumpDifference } from '../support/dumps.ts'
import { eventually } from '../support/eventually.ts'
import { PolledNetwork } from './polledNet.ts'

const X = 'node-x'
const P = 'node-p'
const SINGLE = 'rel:one'
const num = (value: number): { kind: 'number', value: number } => ({ kind: 'number', value })

/** The node's own writes, made the same way on each copy (same clock, same stamps). */
function writeLocal (engine: Engine, at: { t: number }): void {
  at.t = 1_000
  engine.setNote('cfg:theme', 'light')
  engine.setNote('cfg:font', 'mono')
  engine.setNote('cfg:lang', 'fr')
  engine.addTriples([{ subject: 'user:alice', predicate: SINGLE, object: num(1) }, { subject: 'user:alice', predicate: 'rel:many', object: num(1) }])
}

/** The peer's writes, made without having seen the node's: newer, older and equal values. */
function writePeer (engine: Engine, at: { t: number }): void {
  at.t = 500
  engine.setNote('cfg:font', 'sans')
  at.t = 2_000
  engine.setNote('cfg:theme', 'dark')
  engine.setNote('cfg:lang', 'fr')
  engine.addTriples([{ subject: 'user:alice', predicate: SINGLE, object: num(2) }, { subject: 'user:alice', predicate: 'rel:many', object: num(2) }])
  for (let i = 0; i < 5; i++) engine.addTriples([{ subject: `user:s${i}`, predicate: 'rel:p', object: num(i) }])
}

interface Outcome {
  readonly store: Store
  readonly conflicts: ConflictEntry[]
}

async function byPolled (strategy: ConflictStrategy): Promise<Outcome> {
  const at = { t: 0 }
  const now = (): number => at.t
  const net = new PolledNetwork(() => 0.5)
  const x = net.node(X, { now, conflictStrategy: strategy, singleValuedPredicates: [SINGLE], settings: { maxTriplesPerSync: 3 } })
  const p = net.node(P, { now })
  writeLocal(x.engine, at)
  writePeer(p.engine, at)
  at.t = 3_000
  x.sync.pair({ name: P, url: p.url })
  const [result] = await x.sync.syncNow(P)
  assert.equal(result?.ok, true, JSON.stringify(result))
  await x.sync.stop()
  return { store: x.store, conflicts: x.sync.listConflicts() }
}

async function byNative (strategy: ConflictStrategy): Promise<Outcome> {
  const at = { t: 0 }
  const now = (): number => at.t
  const xStore = new MemoryStore()
  const x = new Engine({ store: xStore, node: asNodeId(X), maxDriftMs: 60_000, now })
  const p = new Engine({ store: new MemoryStore(), node: asNodeId(P), maxDriftMs: 60_000, now })
  writeLocal(x, at)
  writePeer(p, at)
  at.t = 3_000
  const log = new ConflictLog(xStore)
  const conflicts = new ConflictPolicy({
    settings: () => ({ conflictStrategy: strategy, singleValuedPredicates: [SINGLE] }),
    log,
    peerName: (node: NodeId) => node,
    stampNow: () => x.clock.now(),
    now
  })
  // the peer has seen nothing of this node's feed, as in the pull above
  let sender: FeedSender | undefined = undefined
  const receiver = new FeedReceiver({
    engine: x,
    peer: asNodeId(P),
    peerFeed: feedIdOf(p.store),
    conflicts,
    view: () => ({ node: asNodeId(P), cursor: 0, namespaces: null }),
    send: msg => { if (msg.t === 'ack') sender!.onAck(msg.cursor); else sender!.start(msg.cursor, msg.feed) },
    log: silentLogger,
    now
  })
  sender = new FeedSender({
    store: p.store,
    peer: asNodeId(X),
    feedId: feedIdOf(p.store),
    pageRecords: () => 3,
    // the polled pages' size throughout (no larger catch-up pages): a conflict list's order and
    // a resolution's stamps follow the pages, and this compares the carriers page for page
    catchUp: { factor: 1, records: 3, bytes: 0 },
    // every page crosses the wire format, as over a connection
    send: async frame => { queueMicrotask(() => receiver.onChanges(decodeFrame(frame) as ChangesMessage)) },
    onError: e => { throw e },
    now
  })
  receiver.sendCursor()
  await eventually(() => sender.caughtUp && receiver.position === p.store.stats().lastSeq, 'the peer\'s feed applied')
  sender.stop()
  return { store: xStore, conflicts: log.list() }
}

describe('either carrier, one outcome', () => {
  const expectedConflicts: Record<ConflictStrategy, number> = { 'last-writer-wins': 0, 'keep-both': 3, 'local-priority': 0, 'remote-priority': 0 }
  for (const strategy of ['last-writer-wins', 'keep-both', 'local-priority', 'remote-priority'] as const) {
    it(`${strategy}: the same data and the same keep-both list`, async () => {
      const polled = await byPolled(strategy)
      const native = await byNative(strategy)
      const a = canonicalDump(polled.store)
      const b = canonicalDump(native.store)
      assert.deepEqual(a, b, dumpDifference(a, b, ['polled', 'native']))
      assert.deepEqual(native.conflicts, polled.conflicts)
      assert.equal(polled.conflicts.length, expectedConflicts[strategy], JSON.stringify(polled.conflicts))
      const theme = polled.store.getNote('cfg:theme')!.value
      assert.equal(theme, strategy === 'local-priority' ? 'light' : 'dark')
      const font = polled.store.getNote('cfg:font')!.value
      assert.equal(font, strategy === 'remote-priority' ? 'sans' : 'mono')
      const single = polled.store.queryTriples({ subject: 'user:alice', predicate: SINGLE }, { limit: 10, offset: 0 }).triples.map(t => (t.object as { value: number }).value).sort()
      assert.deepEqual(single, { 'last-writer-wins': [2], 'keep-both': [1, 2], 'local-priority': [1], 'remote-priority': [2] }[strategy])
    })
  }
})
