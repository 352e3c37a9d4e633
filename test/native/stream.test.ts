import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, it } from 'node:test'
import { tripleId } from '../../src/core/canonical.ts'
import { asNodeId, type NodeId, type TripleId } from '../../src/core/ids.ts'
import type { TripleRecord } from '../../src/core/model.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import { FeedSender } from '../../src/sync/native/FeedSender.ts'
import type { CatchUpPages } from '../../src/sync/native/pageSize.ts'
import { feedIdOf } from '../../src/replication/feedId.ts'
import type { ChangesMessage } from '../../src/protocol/native/messages.ts'
import { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { eventually, sameDumps, simNode, type SimNode, type SimNodeOptions } from './helpers.ts'

const running = new Set<SimNode>()
afterEach(async () => {
  await Promise.all([...running].map(n => n.sync.stop()))
  running.clear()
})

async function up (net: MemoryNetwork, name: string, opts: SimNodeOptions = {}): Promise<SimNode> {
  const n = simNode(net, name, opts)
  await n.sync.start()
  running.add(n)
  return n
}

async function down (n: SimNode): Promise<void> {
  running.delete(n)
  await n.sync.stop()
}

const triple = (s: string, v: string): { subject: string, predicate: string, object: { kind: 'string', value: string } } =>
  ({ subject: `user:${s}`, predicate: 'rel:p', object: { kind: 'string', value: v } })

describe('FeedSender', () => {
  function sender (pageRecords: number, pageBytes?: number, catchUp?: CatchUpPages): { s: FeedSender, sent: ChangesMessage[], frames: number[], engine: Engine } {
    const store = new MemoryStore()
    const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000 })
    const sent: ChangesMessage[] = []
    const frames: number[] = []
    const s = new FeedSender({
      store, peer: asNodeId('node-b'), feedId: feedIdOf(store), pageRecords: () => pageRecords, pageBytes, ...(catchUp !== undefined ? { catchUp } : {}),
      send: async (frame, msg) => { sent.push(msg); frames.push(frame.byteLength) },
      onError: e => { throw e }
    })
    return { s, sent, frames, engine }
  }

  it('keeps at most two pages unacknowledged, and goes on as acks come', async () => {
    // pages of one size, however far behind the peer is
    const { s, sent, engine } = sender(10, undefined, { factor: 1, records: 10, bytes: 0 })
    engine.addTriples(Array.from({ length: 55 }, (_, i) => triple(`s${i}`, 'v')))
    s.start(0, feedIdOf(engine.store))
    await eventually(() => sent.length === 2, 'two pages')
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(sent.length, 2, 'no third page before an ack')
    assert.deepEqual(sent.map(p => [p.from, p.to, p.records.length, p.more]), [[0, 10, 10, true], [10, 20, 10, true]])
    assert.deepEqual(sent.map(p => p.end), [55, 55], 'each page says where the feed ends')
    s.onAck(10)
    await eventually(() => sent.length === 3, 'a third page')
    s.onAck(30)
    await eventually(() => sent.length === 5, 'two more pages')
    s.onAck(50)
    await eventually(() => sent.length === 6, 'all pages')
    assert.deepEqual(sent.at(-1)!.records.length, 5)
    assert.equal(sent.at(-1)!.more, false)
    s.stop()
  })

  it('sends larger pages while the peer is far behind, and pages of the usual size near the end and once it is live', async () => {
    // pages of 10 records; catch-up pages of 4 × 10
    const { s, sent, engine } = sender(10, undefined, { factor: 4, records: 40, bytes: 1024 * 1024 })
    const acked = async (n: number): Promise<void> => {
      for (let i = sent.length; i < n; i++) {
        await eventually(() => sent.length > i, `page ${i}`)
        s.onAck(sent[i]!.to)
      }
    }
    engine.addTriples(Array.from({ length: 100 }, (_, i) => triple(`s${i}`, 'v')))
    s.start(0, feedIdOf(engine.store))
    await acked(4)
    // 100 behind: two catch-up pages of 4 × 10 records; the last 20 (less than a catch-up page) in pages of 10
    assert.deepEqual(sent.map(p => [p.from, p.to, p.records.length, p.more]), [[0, 40, 40, true], [40, 80, 40, true], [80, 90, 10, true], [90, 100, 10, false]])
    await eventually(() => !s.catchingUp, 'caught up')
    // live: a write of 25 records goes in pages of the usual size
    engine.addTriples(Array.from({ length: 25 }, (_, i) => triple(`live${i}`, 'v')))
    s.wake()
    await acked(7)
    assert.deepEqual(sent.slice(4).map(p => p.records.length), [10, 10, 5])
    // a burst that leaves the peer far behind again goes in larger pages
    engine.addTriples(Array.from({ length: 90 }, (_, i) => triple(`burst${i}`, 'v')))
    s.wake()
    await acked(10)
    assert.deepEqual(sent.slice(7).map(p => p.records.length), [40, 40, 10])
    s.stop()
  })

  it('a catch-up page cut by bytes leaves its rest to pages of the usual size once the peer is close to the end', async () => {
    // pages of up to 10 records and about 2,000 bytes; catch-up pages of up to 40 records, cut by the same bytes
    const { s, sent, frames, engine } = sender(10, 2_000, { factor: 4, records: 40, bytes: 2_000 })
    engine.addTriples(Array.from({ length: 70 }, (_, i) => triple(`s${i}`, 'x'.repeat(40))))
    s.start(0, feedIdOf(engine.store))
    for (let i = 0; i < 100 && (sent.at(-1)?.more ?? true); i++) {
      await eventually(() => sent.length > i, `page ${i}`)
      s.onAck(sent[i]!.to)
    }
    assert.equal(sent.reduce((n, p) => n + p.records.length, 0), 70)
    for (let i = 1; i < sent.length; i++) assert.equal(sent[i]!.from, sent[i - 1]!.to)
    const catchUp = sent.findIndex(p => 70 - p.from <= 40)
    assert.ok(catchUp > 0, 'some pages while far behind')
    for (const [i, p] of sent.entries()) {
      assert.ok(frames[i]! <= 2_500, `page ${i}: ${frames[i]} bytes`)
      if (i < catchUp) assert.ok(p.records.length > 10, `page ${i} (far behind): ${p.records.length} records`)
      else assert.ok(p.records.length <= 10, `page ${i} (${70 - p.from} behind): ${p.records.length} records`)
    }
    s.stop()
  })

  it('cuts pages to about the byte target (a single record always goes)', async () => {
    const { s, sent, frames, engine } = sender(1000, 4_000)
    engine.addTriples(Array.from({ length: 60 }, (_, i) => triple(`s${i}`, 'x'.repeat(200))))
    engine.addTriples([triple('big', 'y'.repeat(10_000))])
    s.start(0, feedIdOf(engine.store))
    for (let i = 0; i < 100 && (sent.at(-1)?.more ?? true); i++) {
      await eventually(() => sent.length > i, `page ${i}`)
      s.onAck(sent[i]!.to)
    }
    assert.equal(sent.reduce((n, p) => n + p.records.length, 0), 61)
    assert.ok(sent.length >= 4, `${sent.length} pages`)
    for (const [i, p] of sent.entries()) assert.ok(frames[i]! <= 5_000 || p.records.length === 1, `page ${i}: ${frames[i]} bytes, ${p.records.length} records`)
    for (let i = 1; i < sent.length; i++) assert.equal(sent[i]!.from, sent[i - 1]!.to)
    s.stop()
  })

  it('continues a cursor that lies below the floor only by tombstones that came from the peer itself; another peer gets a snapshot', async () => {
    const store = new MemoryStore()
    const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000 })
    const [b, c] = [asNodeId('node-b'), asNodeId('node-c')]
    const sent = new Map<NodeId, ChangesMessage[]>([[b, []], [c, []]])
    const senders = [b, c].map(peer => new FeedSender({
      store, peer, feedId: feedIdOf(store), pageRecords: () => 100,
      send: async (_frame, msg) => { sent.get(peer)!.push(msg) },
      onError: e => { throw e }
    }))
    engine.addTriples([triple('a', '1')]) // seq 1
    const x: TripleRecord = { kind: 'triple', id: tripleId({ subject: 'user:x', predicate: 'rel:p', object: { kind: 'string', value: 'x' } }), subject: 'user:x', predicate: 'rel:p', object: { kind: 'string', value: 'x' }, hlc: { wall: 1000, counter: 0, node: b }, deleted: true }
    store.apply([x], { clock: { wall: 1000, counter: 0 }, via: b }) // seq 2: b's deletion
    engine.addTriples([triple('fresh', '2')]) // seq 3
    assert.equal(store.collectTombstones(2000), 1)
    assert.equal(store.stats().feedFloor, 2)
    for (const s of senders) s.start(1, feedIdOf(store))
    await eventually(() => sent.get(b)!.length === 1 && sent.get(c)!.length === 1, 'a page to each')
    const [toB, toC] = [sent.get(b)![0]!, sent.get(c)![0]!]
    assert.deepEqual([toB.snapshot, toB.from, toB.records.map(r => (r as TripleRecord).subject)], [undefined, 1, ['user:fresh']],
      'b held the deletion it gave: its stream goes on from its cursor')
    assert.deepEqual([toC.snapshot, toC.from, toC.records.length], [true, 0, 2], 'c may have missed it: a snapshot')
    for (const s of senders) s.stop()
  })

  it('answers a cursor from another feed, or below the floor, with a snapshot', async () => {
    const { s, sent, engine } = sender(100)
    engine.addTriples([triple('a', '1'), triple('b', '2')])
    const t = engine.store.queryTriples({ subject: 'user:a' }, { limit: 1, offset: 0 }).triples[0]!
    engine.deleteTriple(t.id)
    engine.store.collectTombstones(Date.now() + 1)
    s.start(1, feedIdOf(engine.store))
    await eventually(() => sent.length === 1, 'a page')
    assert.equal(sent[0]!.snapshot, true)
    assert.equal(sent[0]!.from, 0)
    assert.equal(sent[0]!.more, false)
    s.start(2, 'f'.repeat(32))
    await eventually(() => sent.length === 2, 'a page')
    assert.equal(sent[1]!.snapshot, true)
    s.stop()
  })
})

/** A triple as a peer sends it, stamped now by `peer`. */
function tripleRecord (peer: NodeId, name: string): TripleRecord {
  const content = triple(name, 'v')
  return { kind: 'triple', id: tripleId(content), ...content, hlc: { wall: Date.now(), counter: 0, node: peer }, deleted: false }
}

describe('FeedSender over a real store: nothing past the durable seq', () => {
  it('makes pages from peers durable before it sends them on, and moves a cursor past excluded ones only as far as they are durable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-durable-feed-'))
    const store = SqliteStore.open(join(dir, 'a.db'))
    try {
      const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000 })
      const peerC = asNodeId('node-c')
      const peerB = asNodeId('node-b')
      const fromPeer = (peer: NodeId, name: string): TripleRecord[] => [tripleRecord(peer, name)]
      engine.addTriples([triple('local', 'v')])
      engine.applyChecked(fromPeer(peerC, 'c1'), { via: peerC, cursor: { peer: peerC, seq: 1 }, refetchable: true })
      assert.equal(store.durableSeq(), 1, 'the page from c is not durable yet')
      const sent: ChangesMessage[] = []
      const s = new FeedSender({
        store, peer: peerB, feedId: feedIdOf(store), pageRecords: () => 100,
        send: async (_frame, msg) => { sent.push(msg) },
        onError: e => { throw e }
      })
      s.start(0, feedIdOf(store))
      await eventually(() => sent.length === 1, 'a page to b')
      assert.deepEqual([sent[0]!.to, sent[0]!.records.length], [2, 2])
      assert.equal(store.durableSeq(), 2, 'flushed before the page went')
      s.onAck(2)

      // records that came from b itself are left out of b's feed: an empty page moves b's cursor
      // past them, but no further than the durable seq (it does not flush for them), and on once
      // the store is flushed
      engine.applyChecked(fromPeer(peerB, 'b1'), { via: peerB, cursor: { peer: peerB, seq: 1 }, refetchable: true })
      s.wake()
      await new Promise(resolve => setTimeout(resolve, 50))
      assert.equal(sent.length, 1, 'no empty page past the durable seq')
      assert.equal(store.durableSeq(), 2, 'an empty page does not flush')
      store.flush()
      s.wake()
      await eventually(() => sent.at(-1)!.to === 3, 'an empty page to seq 3 once durable')
      assert.equal(sent.at(-1)!.records.length, 0)
      s.stop()
    } finally {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('does not read back a commit of the peer\'s own changes that it cannot send past the durable seq', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-own-changes-'))
    const store = SqliteStore.open(join(dir, 'a.db'))
    try {
      const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000 })
      const peerB = asNodeId('node-b')
      let reads = 0
      // the real store, its feed reads counted
      const counted = new Proxy(store, {
        get: (target, key) => {
          const v = Reflect.get(target, key, target) as unknown
          if (key === 'changesSince') reads++
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
        }
      })
      engine.addTriples([triple('local', 'v')])
      const sent: ChangesMessage[] = []
      const s = new FeedSender({
        store: counted, peer: peerB, feedId: feedIdOf(store), pageRecords: () => 100,
        send: async (_frame, msg) => { sent.push(msg) },
        onError: e => { throw e }
      })
      s.start(0, feedIdOf(store))
      await eventually(() => sent.length === 1, 'a page to b')
      s.onAck(sent[0]!.to)
      await new Promise(resolve => setTimeout(resolve, 20))
      const before = reads

      // a page from b, committed without waiting for the disk: nothing of it goes back to b, and
      // the durable seq keeps the cursor where it is — the feed is not read for it
      for (let i = 0; i < 3; i++) {
        engine.applyChecked([tripleRecord(peerB, `b${i}`)], { via: peerB, cursor: { peer: peerB, seq: i + 1 }, refetchable: true })
        s.changed(peerB)
      }
      await new Promise(resolve => setTimeout(resolve, 50))
      assert.equal(reads, before, 'no feed read for the peer\'s own changes')
      assert.equal(sent.length, 1)

      // a local commit is read (and waits for nothing: it is durable)
      engine.addTriples([triple('local2', 'v')])
      s.changed()
      await eventually(() => sent.length === 2, 'the local change sent')
      assert.ok(reads > before)
      assert.deepEqual(sent[1]!.records.map(r => r.kind === 'triple' ? r.subject : ''), ['user:local2'])
      s.onAck(sent[1]!.to)

      // once durable, the peer's own changes move its cursor with an empty page
      engine.applyChecked([tripleRecord(peerB, 'b9')], { via: peerB, cursor: { peer: peerB, seq: 9 }, refetchable: true })
      store.flush()
      s.changed(peerB)
      await eventually(() => sent.at(-1)!.to === store.stats().lastSeq, 'an empty page past the durable changes')
      assert.equal(sent.at(-1)!.records.length, 0)
      s.stop()
    } finally {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('native streams', () => {
  it('snapshot and the expired-cursor rule: a node back after the TTL deletes what was deleted, keeps what it wrote, resurrects nothing', async () => {
    let clock = Date.parse('2026-11-20T08:00:00Z')
    const now = (): number => clock
    const net = new MemoryNetwork()
    const opts = { now, settings: { tombstoneTtlHours: 1 } }
    const a = await up(net, 'node-a', opts)
    let b = await up(net, 'node-b', opts)
    b.sync.addPeer('mem:node-a')
    a.engine.addTriples([triple('gone', '1'), triple('kept', '2')])
    await eventually(() => b.store.stats().triples === 2, 'both triples on b')
    await eventually(() => a.store.getCursor(b.id) >= b.store.stats().lastSeq, 'a\'s cursor on b covers what b received from a')
    await down(b)

    // while b is away: a deletes one triple, and two hours later collects the tombstone
    clock += 60_000
    const gone = a.store.queryTriples({ subject: 'user:gone' }, { limit: 1, offset: 0 }).triples[0]!
    a.engine.deleteTriple(gone.id)
    clock += 2 * 3_600_000
    assert.equal(a.store.collectTombstones(clock - 3_600_000), 1)
    assert.ok(a.store.stats().feedFloor > a.store.getCursor(b.id) || a.store.stats().feedFloor > 0)
    // and b wrote something while offline
    b.engine.addTriples([triple('offline', '3')])

    b = await up(net, 'node-b', { ...opts, store: b.store })
    b.sync.addPeer('mem:node-a')
    await eventually(() => b.store.getTriple(gone.id as TripleId)?.deleted === true, 'the deletion applied on b')
    await eventually(() => a.store.queryTriples({ subject: 'user:offline' }, { limit: 1, offset: 0 }).total === 1, 'b\'s offline write on a')
    assert.equal(a.store.getTriple(gone.id as TripleId), undefined, 'not resurrected on a')
    assert.equal(b.store.queryTriples({}, { limit: 10, offset: 0 }).total, 2)
    assert.ok(b.logs.some(l => l.includes('deleted records the peer had deleted')), b.logs.join('\n'))
  })

  it('reads a peer whose store was recreated (new feed id) from 0, both ways', async () => {
    const net = new MemoryNetwork()
    let a = await up(net, 'node-a')
    const b = await up(net, 'node-b')
    b.sync.addPeer('mem:node-a')
    a.engine.addTriples(Array.from({ length: 30 }, (_, i) => triple(`old${i}`, 'v')))
    await eventually(() => b.store.stats().triples === 30, 'old data on b')
    await down(a)
    // a comes back with a new, empty store: same node id (its identity kept), another feed
    a = await up(net, 'node-a', { store: new MemoryStore(), ownHistoryElsewhere: true })
    a.engine.addTriples([triple('new', 'v')])
    await eventually(() => sameDumps([a, b]) && a.store.stats().triples === 31, 'a has everything again, b has a\'s new triple')
  })

  it('a silent peer blocks nobody', async () => {
    const net = new MemoryNetwork()
    const a = await up(net, 'node-a')
    const b = await up(net, 'node-b')
    const c = await up(net, 'node-c')
    a.sync.addPeer('mem:node-b')
    a.sync.addPeer('mem:node-c')
    await eventually(() => a.sync.connectedPeers().length === 2, 'a connected to b and c')
    net.silence('node-c')
    a.engine.addTriples(Array.from({ length: 500 }, (_, i) => triple(`s${i}`, 'v')))
    await eventually(() => b.store.stats().triples === 500, 'b got everything while c swallows frames')
    net.silence('node-c', false)
    await eventually(() => c.store.stats().triples === 500, 'c catches up once it answers again')
  })

  it('a catch-up shows its count, total and progress on the receiver, then no lag', async () => {
    const net = new MemoryNetwork()
    const a = await up(net, 'node-a', { settings: { maxTriplesPerSync: 50 } })
    a.engine.addTriples(Array.from({ length: 400 }, (_, i) => triple(`s${i}`, 'v')))
    const b = await up(net, 'node-b')
    const seen: Array<{ records: number, total: number | null }> = []
    b.sync.addPeer('mem:node-a')
    const info = await eventually(() => {
      const i = b.sync.sessionInfo().find(s => s.nodeId === a.id && s.catchUp?.done === true)
      const c = b.sync.sessionInfo().find(s => s.nodeId === a.id)?.catchUp
      if (c !== undefined && !c.done) seen.push({ records: c.records, total: c.total })
      return i
    }, 'the catch-up done on b')
    assert.equal(b.store.stats().triples, 400)
    assert.deepEqual([info.catchUp!.records, info.catchUp!.total, info.catchUp!.fraction], [400, 400, 1])
    assert.deepEqual(info.lagIn, { records: 0, seconds: 0 })
    // in flight: the total was known from the first page on (the pages say where the feed ends)
    for (const c of seen) assert.equal(c.total, 400, JSON.stringify(seen))
  })
})
