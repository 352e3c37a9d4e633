/**
 * The feed tail (src/sync/native/FeedTail.ts) answers a stream's read exactly as the store would:
 * a seeded run of writes (local and through peers), rewrites of the same records, tombstones and
 * their collection, on both stores, each step followed by reads from random positions with and
 * without `excludeVia`, every answer the tail gives compared with the store's.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { NodeId } from '../../src/core/ids.ts'
import type { MemoryRecord } from '../../src/core/model.ts'
import type { ChangesPage, Store } from '../../src/store/Store.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import { FeedTail } from '../../src/sync/native/FeedTail.ts'
import { mulberry32 } from '../../src/util/random.ts'
import { at, B, C, mark, note, noteTomb, trace, triple } from '../store/conformance/fixtures.ts'
import { seedFor } from '../support/seed.ts'

const SEED = seedFor(1207)

/** A page as the store would give it: what a stream uses of each entry. */
const plain = (p: ChangesPage): unknown => ({ entries: p.entries.map(e => ({ seq: e.seq, record: e.record, seal: e.seal })), lastSeq: p.lastSeq, hasMore: p.hasMore })

function run (store: Store, seed: number): { hits: number, misses: number, reads: number } {
  const random = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
  const tail = new FeedTail({ store, max: 8 })
  const sources: ReadonlyArray<NodeId | undefined> = [undefined, B, C]
  let wall = 1_000
  const write = (records: MemoryRecord[], via: NodeId | undefined): void => {
    store.apply(records, { clock: mark(wall + 10), ...(via !== undefined ? { via } : {}) })
  }
  for (let step = 0; step < 400; step++) {
    const op = random()
    const via = pick(sources)
    const stamp = (): ReturnType<typeof at> => at(wall++, 0, via ?? at(0).node)
    if (op < 0.45) write([note(`n${Math.floor(random() * 12)}`, step, stamp())], via)
    else if (op < 0.6) write(Array.from({ length: 1 + Math.floor(random() * 12) }, (_, i) => note(`m${step}-${i}`, i, stamp())), via)
    else if (op < 0.7) write([triple(`s:${Math.floor(random() * 6)}`, 'p', 'o', stamp(), random() < 0.4)], via)
    else if (op < 0.8) write([noteTomb(`n${Math.floor(random() * 12)}`, stamp())], via)
    else if (op < 0.85) write([trace(`r${Math.floor(random() * 3)}`, 't', step, stamp())], via)
    else if (op < 0.9) store.collectTombstones(wall - Math.floor(random() * 8))
    // else: no write, only reads
    const last = store.stats().lastSeq
    for (let r = 0; r < 4; r++) {
      // mostly near the end, as live streams read
      const after = random() < 0.7 ? Math.max(0, last - Math.floor(random() * 12)) : Math.floor(random() * (last + 1))
      const opts = { limit: 1 + Math.floor(random() * 6), ...(random() < 0.7 ? { excludeVia: pick([B, C]) } : {}) }
      const got = tail.changesSince(after, opts)
      if (got === undefined) continue
      assert.deepEqual(plain(got), plain(store.changesSince(after, opts)), `seed ${seed}, step ${step}: after ${after}, ${JSON.stringify(opts)}`)
    }
  }
  return tail.stats
}

describe('FeedTail', () => {
  it(`answers every read it takes as the store does, on both stores (seed ${SEED})`, () => {
    const memory = run(new MemoryStore(), SEED)
    const dir = mkdtempSync(join(tmpdir(), 'engram-feed-tail-'))
    const store = SqliteStore.open(join(dir, 'a.db'))
    try {
      const sqlite = run(store, SEED)
      for (const s of [memory, sqlite]) {
        assert.ok(s.hits > 500, `most reads near the end are answered (${JSON.stringify(s)})`)
        assert.ok(s.misses > 50, `reads before the tail go to the store (${JSON.stringify(s)})`)
      }
    } finally {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reads the store once for a change, however many streams read it', () => {
    const store = new MemoryStore()
    const tail = new FeedTail({ store })
    store.apply([note('a', 1, at(100))], { clock: mark(200) })
    store.apply([note('b', 1, at(101, 0, B))], { clock: mark(200), via: B })
    tail.changesSince(store.stats().lastSeq, { limit: 10 })
    const before = tail.stats.reads
    store.apply([note('c', 1, at(102)), note('d', 1, at(103, 0, C))], { clock: mark(200) })
    for (const peer of [B, C, B, C, B]) {
      const page = tail.changesSince(2, { limit: 10, excludeVia: peer })
      assert.deepEqual(page?.entries.map(e => e.seq), [3, 4])
    }
    assert.equal(tail.stats.reads - before, 1)
    // the tail holds what came before too: a read from 0 leaves out what came through B
    assert.deepEqual(tail.changesSince(0, { limit: 10, excludeVia: B }), undefined, 'the tail began at seq 2: earlier reads go to the store')
  })
})
