/**
 * When the SQLite store copies its write-ahead log into the file (store/sqlite/checkpoints.ts):
 * not on the commit of a write below the log's bound, but once the store is idle; on the commit
 * past the bound, so that the log stays bounded under writes that never pause; everything at
 * close. Sizes are read from the files: the store file grows when a checkpoint copies new pages
 * into it; the log file's size is the most it ever held since the store opened.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, describe, it } from 'node:test'
import type { TripleRecord } from '../../src/core/model.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import { B, at, mark, triple } from './conformance/fixtures.ts'

/** A log frame: a 4 KiB page and its 24-byte header. */
const FRAME = 4096 + 24
const size = (f: string): number => { try { return statSync(f).size } catch { return 0 } }

/** `n` triples of one write, numbered from `from`, with values long enough to fill pages. */
const batch = (from: number, n: number): TripleRecord[] =>
  Array.from({ length: n }, (_, i) => triple(`ns:e${from + i}`, 'rel', `a value of ${from + i} long enough to fill pages`, at(100 + from + i)))

async function until (what: string, cond: () => boolean, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('SqliteStore: checkpoints', () => {
  let dir = ''
  before(() => { dir = mkdtempSync(join(tmpdir(), 'engram-checkpoints-')) })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('local writes below the bound leave the log alone; the store copies it into the file once idle', async () => {
    const file = join(dir, 'idle.db')
    const s = SqliteStore.open(file, { idleCheckpointMs: 50 })
    try {
      const opened = size(file)
      for (let w = 0; w < 16; w++) s.apply(batch(w * 500, 500), { clock: mark(100_000) })
      assert.ok(size(`${file}-wal`) > 1_000 * FRAME, `the writes put more than SQLite's default 1,000 pages in the log (${size(`${file}-wal`)} bytes)`)
      assert.equal(size(file), opened, 'no commit copied the log into the file')
      await until('the idle checkpoint', () => size(file) > opened)
      assert.equal(s.checkpoint(), undefined, 'nothing committed since the idle checkpoint')
      assert.equal(s.stats().triples, 8_000)
    } finally {
      s.close()
    }
  })

  it('a catch-up that leaves the secondary indexes out holds the idle checkpoint until they are built', async () => {
    const file = join(dir, 'catchup.db')
    const s = SqliteStore.open(file, { idleCheckpointMs: 50 })
    try {
      // an ordinary write first: its idle checkpoint comes (how long that takes here, for the wait below)
      s.apply(batch(0, 500), { clock: mark(100_000) })
      const t0 = Date.now()
      let opened = size(file)
      await until('the idle checkpoint of an ordinary write', () => size(file) > opened)
      const took = Date.now() - t0
      // the catch-up's pages: no idle checkpoint however long the store stays quiet
      opened = size(file)
      for (let p = 1; p <= 3; p++) {
        const records = batch(p * 500, 500).map(r => ({ ...r, hlc: { ...r.hlc, node: B } }))
        s.apply(records, { clock: mark(100_000), via: B, cursor: { peer: B, seq: p }, refetchable: true, deferText: true, deferIndexes: true })
      }
      assert.ok(s.deferredIndexes() > 0)
      await new Promise(resolve => setTimeout(resolve, Math.max(500, 10 * took)))
      assert.equal(size(file), opened, 'no idle checkpoint copied the catch-up\'s pages into the file')
      // the indexes built (a write that does not hold it): the idle checkpoint follows
      while (s.buildDeferredIndexes() > 0);
      await until('the idle checkpoint once the indexes are built', () => size(file) > opened)
      assert.equal(s.checkpoint(), undefined, 'nothing committed since the idle checkpoint')
      assert.equal(s.stats().triples, 2_000)
    } finally {
      s.close()
    }
  })

  it('under writes that never pause, local ones and a peer\'s pages, the log stays within its bound', () => {
    const burst = (file: string, bound: number): number => {
      const s = SqliteStore.open(file, { walAutoCheckpoint: bound, idleCheckpointMs: 0 })
      let most = 0
      try {
        for (let w = 0; w < 60; w++) {
          const records = batch(w * 200, 200)
          if (w % 2 === 0) s.apply(records, { clock: mark(100_000) })
          else s.apply(records.map(r => ({ ...r, hlc: { ...r.hlc, node: B } })), { clock: mark(100_000), via: B, cursor: { peer: B, seq: w }, refetchable: true })
          most = Math.max(most, size(`${file}-wal`))
        }
        assert.equal(s.stats().triples, 12_000)
      } finally {
        s.close()
      }
      return most
    }
    const unbounded = burst(join(dir, 'unbounded.db'), 0)
    const bounded = burst(join(dir, 'bounded.db'), 256)
    assert.ok(unbounded > 8 * 256 * FRAME, `without a bound the burst grows the log past 8 times it (${unbounded} bytes)`)
    // the commit that passes the bound checkpoints; the next one starts the log again: the bound and one write's pages
    assert.ok(bounded <= 2 * 256 * FRAME, `the log held at most twice its bound (${bounded} bytes)`)
  })

  it('closing the store copies the whole log into the file and leaves no log beside it', () => {
    const file = join(dir, 'close.db')
    let s = SqliteStore.open(file, { idleCheckpointMs: 0 })
    for (let w = 0; w < 8; w++) s.apply(batch(w * 500, 500), { clock: mark(100_000) })
    assert.ok(size(`${file}-wal`) > 0)
    s.close()
    assert.equal(existsSync(`${file}-wal`), false, 'no log left')
    s = SqliteStore.open(file)
    try {
      assert.equal(s.integrityCheck(), 'ok')
      assert.equal(s.stats().triples, 4_000)
    } finally {
      s.close()
    }
  })

  it('a reader of another connection keeps older pages in the log; the checkpoint after it is gone copies all of it', () => {
    const file = join(dir, 'reader.db')
    const s = SqliteStore.open(file, { walAutoCheckpoint: 64, idleCheckpointMs: 0 })
    const reader = new DatabaseSync(file)
    try {
      s.apply(batch(0, 10), { clock: mark(100_000) })
      s.checkpoint()
      reader.exec('BEGIN')
      assert.equal((reader.prepare('SELECT count(*) AS n FROM triples').get() as { n: number }).n, 10)
      for (let w = 1; w < 6; w++) s.apply(batch(w * 500, 500), { clock: mark(100_000) })
      const held = s.checkpoint()
      assert.ok(held !== undefined && held.pages > 64 && held.copied < held.pages, `the reader's snapshot kept pages past the bound in the log (${JSON.stringify(held)})`)
      reader.exec('COMMIT')
      s.apply(batch(10_000, 10), { clock: mark(100_000) })
      const all = s.checkpoint()
      assert.ok(all !== undefined && all.copied === all.pages, `all copied once the reader is gone (${JSON.stringify(all)})`)
      assert.equal(s.stats().triples, 2_520)
    } finally {
      reader.close()
      s.close()
    }
  })
})
