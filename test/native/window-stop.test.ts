/**
 * The window index saved at a stop right after a catch-up: the changes the catch-up committed
 * wait in the take-in queue (LazyWindow.ts: the queue is not taken in while a stream catches the
 * node up), each already hashed as its element. The stop's save takes them in first, so the file
 * covers every change the node observed — its seq is the store's last, its elements are the
 * whole window set — and the next start reads no feed entry again. A SQLite store and the saved
 * file in a temporary directory, reopened as a restarted node does.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { FINE_BITS } from '../../src/protocol/native/windowElement.ts'
import { WindowIndex, type WindowStart } from '../../src/protocol/native/WindowIndex.ts'
import { WindowFileReader } from '../../src/protocol/native/windowFile.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import type { Store } from '../../src/store/Store.ts'
import { LazyWindow } from '../../src/sync/native/LazyWindow.ts'
import { fileWindowSaves } from '../../src/sync/native/WindowSaves.ts'
import { eventually } from '../support/eventually.ts'

const TTL = 24 * 3_600_000
const T0 = 1_763_631_000_000
const FEED = 'feed-of-the-test-store'
const ALL = Array.from({ length: 2 ** FINE_BITS }, (_, j) => j)

function assertSameIndex (got: WindowIndex, want: WindowIndex): void {
  assert.deepEqual(got.digest(), want.digest(), 'digest')
  assert.deepEqual(got.bucketFingerprints(FINE_BITS, ALL), want.bucketFingerprints(FINE_BITS, ALL), 'fine bucket fingerprints')
  const els = (ix: WindowIndex): string[] => [...ix.elements()].map(e => `${e.kind} ${e.key} ${Buffer.from(e.element).toString('hex')}`).sort()
  assert.deepEqual(els(got), els(want), 'elements')
}

function triples (engine: Engine, from: number, n: number): void {
  engine.addTriples(Array.from({ length: n }, (_, i) => ({ subject: `user:s${from + i}`, predicate: 'knows', object: from + i })))
}

describe('the window index saved at a stop right after a catch-up', () => {
  test('takes the queue in: the file covers every change observed, and the next start reads none of them from the feed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-window-stop-'))
    const clock = { now: T0 }
    const open = (): Store => SqliteStore.open(join(dir, 'store.db'))
    const path = join(dir, 'window.bin')
    const saves = fileWindowSaves(path)
    try {
      let store = open()
      const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => clock.now })
      triples(engine, 0, 100)
      let catchingUp = false
      const first = new LazyWindow({ store, ttlMs: TTL, now: () => clock.now, idleMs: 1, busy: () => catchingUp, saves, feedId: FEED, checkpointMs: 0 })
      engine.on('change', e => { first.observe(e.entries) })
      first.start()
      await eventually(() => first.ready, 'the index built', { everyMs: 1 })

      // a catch-up: its pages are committed, their changes queued, nothing taken in meanwhile
      catchingUp = true
      for (let page = 0; page < 5; page++) {
        triples(engine, 1_000 + page * 100, 100)
        await new Promise(resolve => setTimeout(resolve, 3)) // the idle wait passes: still nothing taken in
      }
      engine.deleteTriples({ subject: 'user:s7' })
      assert.equal(store.stats().lastSeq, 601)
      assert.equal(first.pending, 501, 'the catch-up is queued, not taken in')

      // the node stops right after it (NativeSync.stop: stop, then save)
      first.stop()
      await first.save()
      const reader = WindowFileReader.open(readFileSync(path))
      assert.ok(typeof reader !== 'string', String(reader))
      assert.equal(reader.header.seq, 601, 'the file is current to the last change observed, the queue included')
      assert.equal(reader.header.count, 600, '600 triples, one of them deleted since: its tombstone is its element')
      assert.equal(first.pending, 0)
      assert.ok(store.durableSeq() >= 601, 'the changes the file covers are durable')
      store.close()

      store = open()
      let start: WindowStart | undefined
      const again = new LazyWindow({ store, ttlMs: TTL, now: () => clock.now, idleMs: 1, saves, feedId: FEED, checkpointMs: 0, onStarted: s => { start = s } })
      again.start()
      await eventually(() => again.ready && start !== undefined, 'the index started again', { everyMs: 1 })
      assert.deepEqual(start, { from: 'file', feedRead: 0, loaded: 600, seq: 601 }, 'read back whole: no feed entry read and hashed again')
      assertSameIndex(again.current(), new WindowIndex({ store, ttlMs: TTL, now: () => clock.now }))
      again.stop()
      store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
