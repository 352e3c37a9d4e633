/**
 * The window index saved between starts (windowFile.ts, LazyWindow `saves`): a node that saved
 * its index reads it back at its next start and reads only the feed after it (not the whole
 * store), and the index it ends with equals one built from scratch on the same store — after
 * changes it never saw before the save, clock steps, tombstones collected in between; a file that
 * cannot be used (corrupt, truncated, another store, another TTL, another version, elements that
 * are not the records', a later window start) is refused and the index is rebuilt from the store.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { FINE_BITS } from '../../src/protocol/native/windowElement.ts'
import { WindowIndex, type WindowStart } from '../../src/protocol/native/WindowIndex.ts'
import { encodeWindowFile, encodeWindowFileSteps, WindowFileReader, type WindowFileEntry } from '../../src/protocol/native/windowFile.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import type { Store } from '../../src/store/Store.ts'
import { LazyWindow } from '../../src/sync/native/LazyWindow.ts'
import { fileWindowSaves, MemoryWindowSaves, type WindowSaves } from '../../src/sync/native/WindowSaves.ts'
import { eventually } from '../support/eventually.ts'
import { seedFor } from '../support/seed.ts'
import { applyWindowOp, windowOp } from './windowOps.ts'

const TTL = 24 * 3_600_000
const T0 = 1_763_631_000_000
const ALL = Array.from({ length: 2 ** FINE_BITS }, (_, j) => j)
const FEED = 'feed-of-the-test-store'
const node = asNodeId('node-a')

function assertSameIndex (got: WindowIndex, want: WindowIndex): void {
  assert.deepEqual(got.digest(), want.digest(), 'digest')
  assert.deepEqual(got.bucketFingerprints(FINE_BITS, ALL), want.bucketFingerprints(FINE_BITS, ALL), 'fine bucket fingerprints')
  const els = (ix: WindowIndex): string[] => [...ix.elements()].map(e => `${e.kind} ${e.key} ${Buffer.from(e.element).toString('hex')}`).sort()
  assert.deepEqual(els(got), els(want), 'elements')
}

interface Started { readonly window: LazyWindow, readonly start: WindowStart }

/** A node's window over `store` started with `saves` in slices; resolves once it is built and its queue taken in. */
async function startWindow (store: Store, saves: WindowSaves, clock: { now: number }, slice = 3, feedId = FEED): Promise<Started> {
  let start: WindowStart | undefined
  const window = new LazyWindow({ store, ttlMs: TTL, now: () => clock.now, idleMs: 1, buildSliceEntries: slice, saves, feedId, checkpointMs: 0, onStarted: s => { start = s } })
  window.start()
  assert.equal(window.ready, false, 'not ready before the first slice')
  await eventually(() => window.ready && window.pending === 0 && start !== undefined, 'the index started', { everyMs: 1 })
  return { window, start: start! }
}

function engineOf (store: Store, clock: { now: number }): Engine {
  return new Engine({ store, node, maxDriftMs: 60_000, now: () => clock.now })
}

function triples (engine: Engine, from: number, n: number): void {
  engine.addTriples(Array.from({ length: n }, (_, i) => ({ subject: `user:s${from + i}`, predicate: 'knows', object: from + i })))
}

/** A store with `n` triples whose window was built and saved; the saves and the store. */
async function savedStore (n: number, clock: { now: number }): Promise<{ store: MemoryStore, engine: Engine, saves: MemoryWindowSaves }> {
  const store = new MemoryStore()
  const engine = engineOf(store, clock)
  triples(engine, 0, n)
  const saves = new MemoryWindowSaves()
  const { window } = await startWindow(store, saves, clock, 500)
  await window.save()
  window.stop()
  assert.equal(saves.writes, 1)
  return { store, engine, saves }
}

describe('the window index saved between starts', () => {
  test('a start reads the saved index back and only the feed after it; the result equals a fresh build', async () => {
    const clock = { now: T0 }
    const { store, engine, saves } = await savedStore(2_000, clock)
    const again = await startWindow(store, saves, clock)
    assert.deepEqual(again.start, { from: 'file', feedRead: 0, loaded: 2_000, seq: 2_000 })
    assertSameIndex(again.window.current(), new WindowIndex({ store, ttlMs: TTL, now: () => clock.now }))
    again.window.stop()

    // changes the saved index never saw (a crash after the save): read from the feed, only they
    triples(engine, 5_000, 7)
    engine.deleteTriples({ subject: 'user:s3' })
    assert.equal(store.stats().lastSeq, 2_008)
    const third = await startWindow(store, saves, clock)
    assert.equal(third.start.from, 'file')
    assert.equal(third.start.feedRead, 8, '7 new triples and one tombstone')
    assertSameIndex(third.window.current(), new WindowIndex({ store, ttlMs: TTL, now: () => clock.now }))
    third.window.stop()
  })

  test('a read of the index before the saved copy was loaded reads it at once (not the whole store)', async () => {
    const clock = { now: T0 }
    const { store, saves } = await savedStore(300, clock)
    let start: WindowStart | undefined
    const window = new LazyWindow({ store, ttlMs: TTL, now: () => clock.now, saves, feedId: FEED, checkpointMs: 0, onStarted: s => { start = s } })
    window.start()
    assert.equal(window.current().size, 300)
    assert.deepEqual(start, { from: 'file', feedRead: 0, loaded: 300, seq: 300 })
    await new Promise(resolve => setTimeout(resolve, 10)) // the load that was under way ends without effect
    assert.equal(window.ready, true)
    assert.equal(window.current().size, 300)
    window.stop()
  })

  test('a peer\'s gossip reaching the index before the saved copy was loaded reads it at once (not the whole store)', async () => {
    const clock = { now: T0 }
    const { store, saves } = await savedStore(300, clock)
    let start: WindowStart | undefined
    const window = new LazyWindow({ store, ttlMs: TTL, now: () => clock.now, saves, feedId: FEED, checkpointMs: 0, onStarted: s => { start = s } })
    window.start()
    // as GossipPeer and ReconPeer do: the index itself, not through current()
    assert.equal(window.index.digest().n, 300)
    assert.equal(window.index.start.from, 'file')
    assert.equal(window.index.start.feedRead, 0)
    await eventually(() => start !== undefined, 'the start told', { everyMs: 1 })
    assert.equal(start!.from, 'file')
    window.stop()
  })

  test('without a saved index, or with one that cannot be used, the index is rebuilt from the store', async () => {
    const clock = { now: T0 }
    const { store, saves } = await savedStore(300, clock)
    const good = saves.bytes!
    const fresh = (): WindowIndex => new WindowIndex({ store, ttlMs: TTL, now: () => clock.now })
    const refusedWith = async (bytes: Uint8Array | undefined, why: RegExp | undefined, opts: { feedId?: string, now?: number } = {}): Promise<void> => {
      const s = new MemoryWindowSaves()
      s.bytes = bytes
      const c = { now: opts.now ?? clock.now }
      const { window, start } = await startWindow(store, s, c, 50, opts.feedId)
      assert.equal(start.from, 'store', JSON.stringify(start))
      assert.equal(start.feedRead, 300, 'the whole feed read')
      if (why === undefined) assert.equal((start as { refused?: string }).refused, undefined)
      else assert.match((start as { refused?: string }).refused ?? '', why)
      assertSameIndex(window.current(), new WindowIndex({ store, ttlMs: TTL, now: () => c.now }))
      window.stop()
    }
    await refusedWith(undefined, undefined)
    const flipped = Uint8Array.from(good); flipped[200]! ^= 1
    await refusedWith(flipped, /checksum/)
    await refusedWith(good.subarray(0, good.length - 10), /checksum|short|past the end/)
    await refusedWith(new Uint8Array(3), /short/)
    await refusedWith(Buffer.from('something else entirely, not an index at all: '.repeat(4)), /magic/)
    const v2 = Uint8Array.from(good); v2[8] = 2
    await refusedWith(v2, /version 2/)
    await refusedWith(good, /another store/, { feedId: 'another-feed' })
    // saved at a later window start than now: the clock went back
    await refusedWith(good, /clock went back/, { now: T0 - TTL })

    const header = (WindowFileReader.open(good) as WindowFileReader).header
    const entries = (): WindowFileEntry[] => {
      const r = WindowFileReader.open(good) as WindowFileReader
      const out: WindowFileEntry[] = []
      for (let e = r.next(); e !== undefined; e = r.next()) out.push({ ...e, element: Uint8Array.from(e.element) })
      return out
    }
    await refusedWith(encodeWindowFile({ ...header, ttlMs: TTL / 2 }, entries()), /TTL/)
    await refusedWith(encodeWindowFile({ ...header, seq: 301 }, entries()), /past the store's last seq/)
    // every element wrong, the frame and digest consistent (a file of another store with the same feed id, another element rule)
    const wrong = entries().map(e => ({ ...e, element: e.element.map(b => b ^ 0x5a) }))
    const x = new Uint8Array(16)
    for (const e of wrong) for (let i = 0; i < 16; i++) x[i]! ^= e.element[i]!
    await refusedWith(encodeWindowFile({ ...header, x }, wrong), /not the store's record's/)
    // the digest does not add up
    await refusedWith(encodeWindowFile({ ...header, x: new Uint8Array(16) }, entries()), /digest/)
    // a record twice
    const twice = entries(); twice[1] = twice[0]!
    await refusedWith(encodeWindowFile(header, twice), /twice/)
    assertSameIndex(fresh(), fresh())
  })

  test('encoded a slice at a time: the same bytes; the list saved stays as it was while the index changes', async () => {
    const clock = { now: T0 }
    const { store, engine, saves } = await savedStore(100, clock)
    const ix = new WindowIndex({ store, ttlMs: TTL, now: () => clock.now })
    ix.rebuild()
    const s = ix.saved(FEED)!
    assert.equal(s.header.seq, 100)
    // the index changes after the list was taken: the list and its header do not
    engine.deleteTriples({ subject: 'user:s1' })
    triples(engine, 500, 3)
    ix.observe(store.changesSince(100, { limit: 10 }).entries)
    assert.equal(ix.size, 103)
    const steps = encodeWindowFileSteps(s.header, s.entries, 7)
    let n = 0
    let r = steps.next()
    for (; r.done !== true; r = steps.next()) n++
    assert.equal(n, 2 * Math.floor(99 / 7), 'a stop after every 7 entries, twice over')
    assert.deepEqual(Buffer.from(r.value), Buffer.from(saves.bytes!), 'the bytes of the first save, taken before the changes')
  })

  test('a tombstone collected after the save is not read back (the clock stepped back within the window)', async () => {
    const clock = { now: T0 }
    const store = new MemoryStore()
    const engine = engineOf(store, clock)
    triples(engine, 0, 10)
    engine.deleteTriples({ subject: 'user:s4' })
    const saves = new MemoryWindowSaves()
    const first = await startWindow(store, saves, clock)
    await first.window.save()
    first.window.stop()
    // collected as if past its TTL (a clock far ahead then), and the node starts again at T0
    assert.equal(store.collectTombstones(T0 + 1), 1)
    const again = await startWindow(store, saves, clock)
    assert.equal(again.start.from, 'file')
    const want = new WindowIndex({ store, ttlMs: TTL, now: () => clock.now })
    assert.equal(want.size, 9, 'nine triples; the tombstone is gone')
    assertSameIndex(again.window.current(), want)
    again.window.stop()
  })

  test('saved at a clean stop, at the end of a start that read much of the feed, and at checkpoints; not while building', async () => {
    const clock = { now: T0 }
    const store = new MemoryStore()
    const engine = engineOf(store, clock)
    triples(engine, 0, 50)
    const saves = new MemoryWindowSaves()
    const window = new LazyWindow({ store, ttlMs: TTL, now: () => clock.now, idleMs: 1, buildSliceEntries: 10, saves, feedId: FEED, checkpointMs: 5, checkpointEntries: 20 })
    engine.on('change', e => { window.observe(e.entries) })
    window.start()
    await window.save()
    assert.equal(saves.writes, 0, 'nothing saved while it builds')
    await eventually(() => saves.writes === 1, 'saved once the start read 50 ≥ 20 feed entries', { everyMs: 1 })
    triples(engine, 100, 10)
    await new Promise(resolve => setTimeout(resolve, 30))
    assert.equal(saves.writes, 1, 'fewer changes than a checkpoint needs')
    triples(engine, 200, 15)
    await eventually(() => saves.writes === 2, 'a checkpoint after 25 changes', { everyMs: 2 })
    window.stop()
    await window.save()
    assert.equal(saves.writes, 2, 'nothing changed since: not written again')
    const { header } = WindowFileReader.open(saves.bytes!) as WindowFileReader
    assert.equal(header.seq, 75)
    assert.equal(header.count, 75)
  })

  for (const kind of ['memory', 'SQLite'] as const) {
    const seed = seedFor(kind === 'memory' ? 0x5a1 : 0x5a2)
    test(`saved, changed unseen, started again from the file: equals a fresh build (${kind} store; property) (seed ${seed})`, async () => {
      const ops = fc.array(windowOp(TTL), { maxLength: 25 })
      await fc.assert(fc.asyncProperty(ops, ops, ops, fc.integer({ min: 1, max: 7 }), async (before, unseen, during, slice) => {
        const dir = mkdtempSync(join(tmpdir(), 'engram-window-saved-'))
        const open = (): Store => kind === 'memory' ? memory : SqliteStore.open(join(dir, 'store.db'))
        const memory = new MemoryStore()
        const close = (s: Store): void => { if (kind === 'SQLite') s.close() }
        const saves = kind === 'memory' ? new MemoryWindowSaves() : fileWindowSaves(join(dir, 'window.bin'))
        const clock = { now: T0 }
        try {
          let store = open()
          const nd = { engine: engineOf(store, clock), clock }
          const first = new LazyWindow({ store, ttlMs: TTL, now: () => clock.now, idleMs: 1, saves, feedId: FEED, checkpointMs: 0 })
          nd.engine.on('change', e => { first.observe(e.entries) })
          first.start()
          for (const o of before) applyWindowOp(nd, o)
          first.current()
          await first.save()
          first.stop()
          for (const o of unseen) applyWindowOp(nd, o) // after the save: the next start reads them from the feed
          close(store)

          store = open()
          const again = { engine: engineOf(store, clock), clock }
          let start: WindowStart | undefined
          const window = new LazyWindow({ store, ttlMs: TTL, now: () => clock.now, idleMs: 1, buildSliceEntries: slice, saves, feedId: FEED, checkpointMs: 0, onStarted: s => { start = s } })
          again.engine.on('change', e => { window.observe(e.entries) })
          window.start()
          for (const o of during) {
            applyWindowOp(again, o)
            await new Promise(resolve => setImmediate(resolve))
          }
          await eventually(() => window.ready && window.pending === 0, 'the index started and the queue taken in', { everyMs: 1 })
          assert.ok(start !== undefined)
          assertSameIndex(window.index, new WindowIndex({ store, ttlMs: TTL, now: () => clock.now }))
          window.stop()
          close(store)
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
      }), { seed, numRuns: kind === 'memory' ? 100 : 25 }).catch((e: Error) => {
        throw new Error(`property failed with seed ${seed} (rerun with ENGRAM_FC_SEED=${seed})\n${e.message}`, { cause: e })
      })
    })
  }
})
