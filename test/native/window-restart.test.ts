/**
 * The window index after a restart: a node that starts again builds its index in the background
 * (LazyWindow.start) while commits keep coming; once built and caught up it equals an index built
 * from scratch on the same store — digest, every fine bucket's fingerprint, and the elements —
 * over a memory store and over a SQLite file closed and opened again (property, fixed seed).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { GossipPeer } from '../../src/protocol/native/gossip.ts'
import { gossipSide } from '../../src/sync/native/GossipSide.ts'
import { FINE_BITS } from '../../src/protocol/native/windowElement.ts'
import { WindowIndex } from '../../src/protocol/native/WindowIndex.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import type { Store } from '../../src/store/Store.ts'
import { LazyWindow } from '../../src/sync/native/LazyWindow.ts'
import { MemoryWindowSaves } from '../../src/sync/native/WindowSaves.ts'
import { mulberry32 } from '../../src/transport/memory/MemoryTransport.ts'
import { eventually } from '../support/eventually.ts'
import { seedFor } from '../support/seed.ts'
import { applyWindowOp, windowOp, type WindowOp } from './windowOps.ts'

const TTL = 24 * 3_600_000
const T0 = 1_763_631_000_000
const ALL = Array.from({ length: 2 ** FINE_BITS }, (_, j) => j)

/** A store that can be "restarted": the same records seen by a new engine (SQLite: the file reopened). */
interface Backing { readonly open: () => Store, readonly close: (s: Store) => void, readonly done: () => void }

const memory = (): Backing => {
  const store = new MemoryStore()
  return { open: () => store, close: () => {}, done: () => {} }
}

const sqlite = (): Backing => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-window-restart-'))
  return { open: () => SqliteStore.open(join(dir, 'store.db')), close: s => { (s as SqliteStore).close() }, done: () => { rmSync(dir, { recursive: true, force: true }) } }
}

function assertSameIndex (got: WindowIndex, want: WindowIndex): void {
  assert.deepEqual(got.digest(), want.digest(), 'digest')
  assert.deepEqual(got.bucketFingerprints(FINE_BITS, ALL), want.bucketFingerprints(FINE_BITS, ALL), 'fine bucket fingerprints')
  const els = (ix: WindowIndex): string[] => [...ix.elements()].map(e => `${e.kind} ${e.key} ${Buffer.from(e.element).toString('hex')}`).sort()
  assert.deepEqual(els(got), els(want), 'elements')
}

/** Ops before the restart, then a restart whose index builds in slices while `during` ops commit. */
async function restartCase (backing: Backing, before: readonly WindowOp[], during: readonly WindowOp[], slice: number): Promise<void> {
  const clock = { now: T0 }
  let store = backing.open()
  const first = { engine: new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => clock.now }), clock }
  for (const o of before) applyWindowOp(first, o)
  backing.close(store)

  store = backing.open()
  try {
    const nd = { engine: new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => clock.now }), clock }
    const window = new LazyWindow({ store, ttlMs: TTL, now: () => clock.now, idleMs: 1, buildSliceEntries: slice })
    nd.engine.on('change', e => { window.observe(e.entries) })
    window.start()
    for (const o of during) {
      applyWindowOp(nd, o)
      await new Promise(resolve => setImmediate(resolve)) // one slice of the build between commits
    }
    await eventually(() => window.ready && window.pending === 0, 'the index built and the queue taken in', { everyMs: 2 })
    assertSameIndex(window.index, new WindowIndex({ store, ttlMs: TTL, now: () => clock.now }))
    window.stop()
  } finally {
    backing.close(store)
  }
}

describe('the window index after a restart', () => {
  for (const [name, make] of [['memory', memory], ['SQLite', sqlite]] as const) {
    const seed = seedFor(name === 'memory' ? 0x5e1 : 0x5e2)
    test(`built in the background while commits come, equals a fresh build (${name} store; property) (seed ${seed})`, async () => {
      const ops = fc.array(windowOp(TTL), { maxLength: 30 })
      await fc.assert(fc.asyncProperty(ops, ops, fc.integer({ min: 1, max: 7 }), async (before, during, slice) => {
        const backing = make()
        try { await restartCase(backing, before, during, slice) } finally { backing.done() }
      }), { seed, numRuns: name === 'memory' ? 100 : 30 }).catch((e: Error) => {
        throw new Error(`property failed with seed ${seed} (rerun with ENGRAM_FC_SEED=${seed})\n${e.message}`, { cause: e })
      })
    })
  }

  test('the status read during a build leaves it in the background: a gossip peer\'s counters count what is read so far', async () => {
    const store = new MemoryStore()
    const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => T0 })
    engine.addTriples(Array.from({ length: 2_000 }, (_, i) => ({ subject: `user:s${i}`, predicate: 'knows', object: i })))
    const window = new LazyWindow({ store, ttlMs: TTL, now: () => T0, buildSliceEntries: 100 })
    const bloom = new GossipPeer({ index: window.index, fpr: 0.01, random: mulberry32(1), maxRecordsPerMessage: 100 })
    window.start()
    await eventually(() => window.view().building !== undefined && window.view().building!.read > 0, 'a build under way', { everyMs: 1 })
    const known = bloom.stats().knownIds
    assert.equal(window.ready, false, 'the counters finished the build on the event loop')
    assert.ok(known < 2_000, `known ids so far: ${known}`)
    await eventually(() => window.ready, 'the build ended in the background')
    assert.equal(bloom.stats().knownIds, 2_000)
    window.stop()
  })

  test('a peer\'s gossip before the index has started, or while its saved copy loads, builds nothing on the event loop', async () => {
    const store = new MemoryStore()
    const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => T0 })
    engine.addTriples(Array.from({ length: 2_000 }, (_, i) => ({ subject: `user:s${i}`, predicate: 'knows', object: i })))
    let release: (bytes: Uint8Array | undefined) => void = () => {}
    // a saved copy read slowly (a large file): its load ends when the test says so
    const saves = { read: () => undefined, load: async () => await new Promise<Uint8Array | undefined>(resolve => { release = resolve }), write: async () => {} }
    const window = new LazyWindow({ store, ttlMs: TTL, now: () => T0, buildSliceEntries: 100, saves, feedId: 'feed-a', checkpointMs: 0 })
    const bloom = new GossipPeer({ index: window.index, fpr: 0.01, random: mulberry32(1), maxRecordsPerMessage: 100 })
    const side = gossipSide({ window, bloom })
    const digest = { t: 'digest' as const, round: 1, ws: window.index.windowStart(), n: 5, x: new Uint8Array(16) }

    // a session may open before the node starts its window index (NativeSync.start awaits the transport first)
    assert.deepEqual(side.onMessage(digest), { send: [], apply: [] })
    assert.equal(side.startRound(), undefined)
    assert.equal(window.ready, false, 'a digest before the start built the index at once')
    assert.equal(window.view().n, 0)

    window.start()
    await new Promise(resolve => setTimeout(resolve, 10))
    assert.deepEqual(side.onMessage(digest), { send: [], apply: [] })
    assert.equal(window.ready, false, 'a digest during the load finished it at once')
    assert.ok(window.view().building !== undefined, 'still loading')
    // the gossip peers of a node read the index through the window, which refuses a read before it is built
    assert.throws(() => window.reader.digest(), (e: Error & { code?: string }) => e.code === 'INTERNAL')
    assert.throws(() => window.reader.size, (e: Error & { code?: string }) => e.code === 'INTERNAL')
    assert.equal(window.reader.sizeSoFar, 0)
    assert.equal(window.ready, false)

    release(undefined) // no saved copy after all: built from the store, in the background
    await eventually(() => window.ready, 'the build ended in the background')
    const round = side.startRound()
    assert.equal(round?.t, 'digest')
    assert.equal(round?.t === 'digest' ? round.n : -1, 2_000)
    assert.equal(window.reader.digest().n, 2_000)
    window.stop()
  })

  test('a start\'s build waits while a session opens or catches this node up, up to busyQueued entries queued', async () => {
    const store = new MemoryStore()
    const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => T0 })
    engine.addTriples(Array.from({ length: 1_000 }, (_, i) => ({ subject: `user:s${i}`, predicate: 'knows', object: i })))
    let busy = true
    const window = new LazyWindow({ store, ttlMs: TTL, now: () => T0, buildSliceEntries: 100, busy: () => busy, busyQueued: 50 })
    engine.on('change', e => { window.observe(e.entries) })
    window.start()
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(window.view().building?.read, 0, 'the build went on during the catch-up')
    busy = false
    await eventually(() => window.ready, 'the build once the catch-up ended')
    assertSameIndex(window.current(), new WindowIndex({ store, ttlMs: TTL, now: () => T0 }))
    window.stop()

    // a long catch-up: past busyQueued entries queued, the build goes on, busy or not
    busy = true
    const again = new LazyWindow({ store, ttlMs: TTL, now: () => T0, buildSliceEntries: 100, busy: () => busy, busyQueued: 50 })
    engine.on('change', e => { again.observe(e.entries) })
    again.start()
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(again.ready, false)
    engine.addTriples(Array.from({ length: 60 }, (_, i) => ({ subject: `user:t${i}`, predicate: 'knows', object: i })))
    await eventually(() => again.ready, 'the build past the bound, busy or not')
    assertSameIndex(again.current(), new WindowIndex({ store, ttlMs: TTL, now: () => T0 }))
    again.stop()
  })

  test('a start reads its saved copy only once no session opens or catches this node up, up to busyQueued entries queued', async () => {
    const store = new MemoryStore()
    const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => T0 })
    engine.addTriples(Array.from({ length: 200 }, (_, i) => ({ subject: `user:s${i}`, predicate: 'knows', object: i })))
    // a saved copy, as the last stop left it
    const saved = new MemoryWindowSaves()
    const first = new LazyWindow({ store, ttlMs: TTL, now: () => T0, saves: saved, feedId: 'feed-a', checkpointMs: 0 })
    first.current()
    await first.save()
    first.stop()
    let loads = 0
    const saves = { read: () => saved.read(), load: async () => { loads++; return await saved.load() }, write: async (b: Uint8Array) => { await saved.write(b) } }
    let busy = true
    const window = new LazyWindow({ store, ttlMs: TTL, now: () => T0, saves, feedId: 'feed-a', checkpointMs: 0, busy: () => busy, busyQueued: 50 })
    engine.on('change', e => { window.observe(e.entries) })
    window.start()
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(loads, 0, 'the saved copy was read while a session opened or caught this node up')
    assert.equal(window.ready, false)
    busy = false
    await eventually(() => window.ready, 'read back once the catch-up ended')
    assert.equal(loads, 1)
    assert.equal(window.index.start.from, 'file')
    assertSameIndex(window.current(), new WindowIndex({ store, ttlMs: TTL, now: () => T0 }))
    window.stop()

    // a long catch-up: past busyQueued entries queued, the copy is read, busy or not
    busy = true
    const again = new LazyWindow({ store, ttlMs: TTL, now: () => T0, saves, feedId: 'feed-a', checkpointMs: 0, busy: () => busy, busyQueued: 50 })
    engine.on('change', e => { again.observe(e.entries) })
    again.start()
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(loads, 1)
    engine.addTriples(Array.from({ length: 60 }, (_, i) => ({ subject: `user:t${i}`, predicate: 'knows', object: i })))
    await eventually(() => again.ready, 'read back past the bound, busy or not')
    assert.equal(loads, 2)
    assertSameIndex(again.current(), new WindowIndex({ store, ttlMs: TTL, now: () => T0 }))
    again.stop()
  })

  test('not ready while it builds (the status shows how far); a read finishes the build at once; stop ends the background work', async () => {
    const store = new MemoryStore()
    const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => T0 })
    engine.addTriples(Array.from({ length: 2_000 }, (_, i) => ({ subject: `user:s${i}`, predicate: 'knows', object: i })))
    const window = new LazyWindow({ store, ttlMs: TTL, now: () => T0, buildSliceEntries: 100 })
    engine.on('change', e => { window.observe(e.entries) })
    window.start()
    assert.equal(window.ready, false)
    await eventually(() => window.view().building !== undefined && window.view().building!.read > 0, 'a build under way', { everyMs: 1 })
    const view = window.view()
    assert.ok(view.building!.read < view.building!.total && view.building!.total === 2_000, JSON.stringify(view.building))
    assert.ok(window.size < 2_000, 'the size so far, without finishing the build')
    engine.setNote('n:1', 1) // queued until the build ends
    assert.equal(window.pending, 1)
    assert.equal(window.current().size, 2_001, 'current() finishes the build and takes the queue in')
    assert.equal(window.ready, true)
    assert.equal(window.view().building, undefined)
    assertSameIndex(window.index, new WindowIndex({ store, ttlMs: TTL, now: () => T0 }))

    const again = new LazyWindow({ store, ttlMs: TTL, now: () => T0, buildSliceEntries: 100 })
    again.start()
    again.stop()
    await new Promise(resolve => setTimeout(resolve, 20))
    assert.equal(again.ready, false, 'stopped: no more background slices')
  })
})
