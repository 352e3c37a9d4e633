/**
 * A far-behind catch-up does not write the full-text index page by page (replication/farBehind.ts):
 * its pages leave their records pending (search partial), the last stretch is indexed as written,
 * and once the pages stop deferring the Reindexer indexes the rest — every record then found
 * exactly once. A node that stops in the middle finishes the index when it starts again (a real
 * SQLite file). Pages are fed to the receiver as a sender sends them (from, to, end, more). A
 * polled pull follows the same rule (the answer's `remaining`).
 *
 * The same pages leave the store's secondary indexes out when the catch-up brings more triples
 * than the store holds (farBehind.ts defersIndexes): the Reindexer builds them once the pages
 * stop deferring, and after a restart; a store that holds more, or a node whose conflict pass
 * looks up single-valued predicates, keeps them.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { recordKey } from '../../src/core/model.ts'
import { Engine } from '../../src/engine/Engine.ts'
import type { ChangesMessage } from '../../src/protocol/native/messages.ts'
import { defersIndexes, FAR_BEHIND } from '../../src/replication/farBehind.ts'
import { ConflictLog } from '../../src/replication/conflicts.ts'
import { ConflictPolicy } from '../../src/replication/applyPage.ts'
import { feedIdOf } from '../../src/replication/feedId.ts'
import { Reindexer } from '../../src/search/Reindexer.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import type { Store } from '../../src/store/Store.ts'
import { FeedReceiver } from '../../src/sync/native/FeedReceiver.ts'
import { parseQuery } from '../../src/text/query.ts'
import { silentLogger } from '../../src/util/log.ts'
import { eventually } from '../support/eventually.ts'
import { PolledNetwork } from './polledNet.ts'

const P = asNodeId('node-p')
const X = asNodeId('node-x')
const PAGE = 5_000
/** Records on the peer: the first pages leave more than FAR_BEHIND after them, the last ones do not. */
const N = FAR_BEHIND * 2 + 3 * PAGE

/** A peer holding N triples, each with a word of its own (w<i>) and a common one. */
function peer (): Engine {
  const p = new Engine({ store: new MemoryStore(), node: P, maxDriftMs: 60_000 })
  for (let i = 0; i < N; i += 5_000) {
    p.addTriples(Array.from({ length: Math.min(5_000, N - i) }, (_, j) => ({ subject: `user:u${i + j}`, predicate: 'says', object: `common w${i + j}` })))
  }
  return p
}

/** The peer's feed as a sender pages it: from, to, what is left (end), more. */
function pages (p: Engine): ChangesMessage[] {
  const end = p.store.stats().lastSeq
  const out: ChangesMessage[] = []
  for (let from = 0; from < end;) {
    const page = p.store.changesSince(from, { limit: PAGE })
    out.push({ t: 'changes', from, to: page.lastSeq, records: page.entries.map(e => e.record), more: page.lastSeq < end, end })
    from = page.lastSeq
  }
  return out
}

function receiverOf (x: Engine, peerFeed: string): FeedReceiver {
  return new FeedReceiver({ engine: x, peer: P, peerFeed, send: () => {}, log: silentLogger })
}

/** Every record of the peer is found by its own word, exactly once; the index holds `docs` records. */
function assertAllFoundOnce (s: Store, docs: number): void {
  assert.equal(s.textIndex().rebuilding, false)
  assert.equal(s.textIndex().docs, docs)
  for (let i = 0; i < N; i += 997) {
    const r = s.searchText({ query: parseQuery(`w${i}`), limit: 5 })
    assert.equal(r.partial, false)
    assert.deepEqual(r.hits.map(h => recordKey(h.record)), [s.queryTriples({ subject: `user:u${i}` }, { limit: 1, offset: 0 }).triples[0]!.id], `w${i}`)
  }
}

it('a far-behind catch-up leaves its pages pending, the last stretch indexed; then every record is found exactly once', async () => {
  const p = peer()
  const x = new Engine({ store: new MemoryStore(), node: X, maxDriftMs: 60_000 })
  const reindexer = new Reindexer({ store: x.store, quietMs: 20 })
  x.on('change', () => { reindexer.changed() })
  const receiver = receiverOf(x, feedIdOf(p.store))
  const all = pages(p)
  receiver.onChanges(all[0]!)
  const first = x.store.textIndex()
  assert.equal(first.rebuilding, true, 'the first page of a far-behind catch-up is pending')
  assert.equal(first.docs, 0)
  assert.ok(x.store.deferredIndexes() > 0, 'the first page left the secondary indexes out')
  assert.equal(x.store.searchText({ query: parseQuery('common'), limit: 1 }).partial, true)
  // a local write during the catch-up is found from its commit, and stays found
  x.addTriples([{ subject: 'user:local', predicate: 'says', object: 'written meanwhile' }])
  for (const msg of all.slice(1)) {
    receiver.onChanges(msg)
    assert.equal(x.store.searchText({ query: parseQuery('meanwhile'), limit: 5 }).hits.length, 1)
  }
  assert.equal(receiver.position, p.store.stats().lastSeq)
  // the last pages (no more than FAR_BEHIND left after them) were indexed as written
  const last = all[all.length - 1]!.records[0]!
  assert.equal(x.store.searchText({ query: parseQuery(`w${N - 1}`), limit: 5 }).hits.length, 1, `${recordKey(last)} found at once`)
  await eventually(() => !x.store.textIndex().rebuilding, 'the index caught up')
  await reindexer.stop()
  assert.equal(x.store.deferredIndexes(), 0, 'the secondary indexes were built')
  // N records of the peer and the local one
  assertAllFoundOnce(x.store, N + 1)
  assert.equal(x.store.searchText({ query: parseQuery('meanwhile'), limit: 5 }).hits.length, 1)
})

it('a node stopped in the middle of a deferring catch-up finishes the index when it starts again (SQLite file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-catchup-index-'))
  try {
    const p = peer()
    const feed = feedIdOf(p.store)
    const file = join(dir, 'x.db')
    const all = pages(p)
    let store = SqliteStore.open(file)
    let x = new Engine({ store, node: X, maxDriftMs: 60_000 })
    let receiver = receiverOf(x, feed)
    receiver.onChanges(all[0]!)
    receiver.onChanges(all[1]!)
    assert.equal(store.textIndex().rebuilding, true)
    assert.equal(store.deferredIndexes(), 3)
    store.close()
    // started again: the rest of the catch-up comes, and the index finishes
    store = SqliteStore.open(file)
    assert.equal(store.textIndex().rebuilding, true, 'nothing pending is forgotten')
    assert.equal(store.deferredIndexes(), 3, 'the indexes left out stay so')
    x = new Engine({ store, node: X, maxDriftMs: 60_000 })
    const reindexer = new Reindexer({ store, quietMs: 20, slice: 4_000 })
    x.on('change', () => { reindexer.changed() })
    reindexer.resume()
    receiver = receiverOf(x, feed)
    assert.equal(receiver.position, all[1]!.to)
    for (const msg of all.slice(2)) receiver.onChanges(msg)
    await eventually(() => !store.textIndex().rebuilding, 'the index caught up')
    await reindexer.stop()
    assert.equal(store.deferredIndexes(), 0, 'built once the catch-up was over')
    assertAllFoundOnce(store, N)
    store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

it('a polled pull far behind defers the same way (remaining), and the index catches up', async () => {
  const net = new PolledNetwork(() => 0.5)
  const x = net.node('node-x', { settings: { maxTriplesPerSync: PAGE } })
  const p = net.node('node-p')
  for (let i = 0; i < N; i += 5_000) {
    p.engine.addTriples(Array.from({ length: Math.min(5_000, N - i) }, (_, j) => ({ subject: `user:u${i + j}`, predicate: 'says', object: `common w${i + j}` })))
  }
  x.sync.pair({ name: 'node-p', url: p.url })
  const [result] = await x.sync.syncNow('node-p')
  assert.equal(result?.ok, true, JSON.stringify(result))
  await x.sync.stop()
  assert.equal(x.store.stats().triples, N)
  const pending = x.store.textIndex()
  assert.equal(pending.rebuilding, true, 'the pages with more than FAR_BEHIND left are pending')
  assert.ok(pending.docs >= FAR_BEHIND && pending.docs < N, `the last stretch indexed as written: ${pending.docs}`)
  const reindexer = new Reindexer({ store: x.store, quietMs: 20 })
  reindexer.resume()
  await reindexer.idle()
  assertAllFoundOnce(x.store, N)
})

it('a store that holds more triples than the catch-up brings keeps its indexes, and so does a node with single-valued predicates', () => {
  const p = peer()
  const all = pages(p)
  const held = new Engine({ store: new MemoryStore(), node: X, maxDriftMs: 60_000 })
  for (let i = 0; i < N + PAGE; i += 5_000) held.addTriples(Array.from({ length: 5_000 }, (_, j) => ({ subject: `user:mine${i + j}`, predicate: 'says', object: 'mine' })))
  receiverOf(held, feedIdOf(p.store)).onChanges(all[0]!)
  assert.equal(held.store.textIndex().rebuilding, true, 'the text is deferred all the same')
  assert.equal(held.store.deferredIndexes(), 0)

  const x = new Engine({ store: new MemoryStore(), node: X, maxDriftMs: 60_000 })
  const policy = new ConflictPolicy({
    settings: () => ({ conflictStrategy: 'last-writer-wins', singleValuedPredicates: ['status'] }),
    log: new ConflictLog(x.store),
    peerName: n => n,
    stampNow: () => x.clock.now()
  })
  new FeedReceiver({ engine: x, peer: P, peerFeed: feedIdOf(p.store), send: () => {}, log: silentLogger, conflicts: policy }).onChanges(all[0]!)
  assert.equal(x.store.textIndex().rebuilding, true)
  assert.equal(x.store.deferredIndexes(), 0, 'its conflict pass looks up (subject, predicate)')
})

it('the rule: far behind, and more to come than the store holds or the indexes already left out; never with lookups', () => {
  const none = { triples: 0, deferred: false, lookups: false }
  assert.equal(defersIndexes(undefined, none), false, 'a sender that does not say')
  assert.equal(defersIndexes(FAR_BEHIND, none), false, 'the last stretch')
  assert.equal(defersIndexes(FAR_BEHIND + 1, none), true)
  assert.equal(defersIndexes(50_000, { ...none, triples: 50_000 }), false, 'the store holds as much')
  assert.equal(defersIndexes(50_000, { ...none, triples: 49_999 }), true)
  assert.equal(defersIndexes(20_000, { ...none, triples: 80_000, deferred: true }), true, 'a catch-up that left them out goes on so')
  assert.equal(defersIndexes(FAR_BEHIND, { ...none, deferred: true }), false)
  assert.equal(defersIndexes(50_000, { ...none, lookups: true }), false)
})
