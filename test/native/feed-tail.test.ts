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
import { FeedTail, type FeedTailStats } from '../../src/sync/native/FeedTail.ts'
import { mulberry32 } from '../../src/util/random.ts'
import { at, B, C, mark, note, noteTomb, trace, triple } from '../store/conformance/fixtures.ts'
import { seedFor } from '../support/seed.ts'

const SEED = seedFor(1207)

/** A page as the store would give it: what a stream uses of each entry. */
const plain = (p: ChangesPage): unknown => ({ entries: p.entries.map(e => ({ seq: e.seq, record: e.record, seal: e.seal })), lastSeq: p.lastSeq, hasMore: p.hasMore })

async function run (store: Store, seed: number): Promise<FeedTailStats> {
  const random = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!
  const tail = new FeedTail({ store, max: 8 })
  const sources: ReadonlyArray<NodeId | undefined> = [undefined, B, C]
  let wall = 1_000
  // a commit is told to the tail with its entries, as NativeSync does on the engine's change event
  // (now and then without them, as a commit the tail is told of but not given)
  const write = (records: MemoryRecord[], via: NodeId | undefined): void => {
    const result = store.apply(records, { clock: mark(wall + 10), ...(via !== undefined ? { via } : {}) })
    if (random() < 0.9) tail.changed(result.changed, via)
    else tail.changed()
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
    // a collection is not told: it runs in a turn of its own
    else if (op < 0.9) { await new Promise(resolve => setImmediate(resolve)); store.collectTombstones(wall - Math.floor(random() * 8)); await new Promise(resolve => setImmediate(resolve)) }
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
  it(`answers every read it takes as the store does, on both stores (seed ${SEED})`, async () => {
    const memory = await run(new MemoryStore(), SEED)
    const dir = mkdtempSync(join(tmpdir(), 'engram-feed-tail-'))
    const store = SqliteStore.open(join(dir, 'a.db'))
    try {
      const sqlite = await run(store, SEED)
      for (const s of [memory, sqlite]) {
        assert.ok(s.hits > 500, `most reads near the end are answered (${JSON.stringify(s)})`)
        assert.ok(s.misses > 50, `reads before the tail go to the store (${JSON.stringify(s)})`)
        assert.ok(s.told > 50, `local commits are taken from their entries (${JSON.stringify(s)})`)
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
    tail.changed()
    for (const peer of [B, C, B, C, B]) {
      const page = tail.changesSince(2, { limit: 10, excludeVia: peer })
      assert.deepEqual(page?.entries.map(e => e.seq), [3, 4])
    }
    assert.equal(tail.stats.reads - before, 1)
    // the tail holds what came before too: a read from 0 leaves out what came through B
    assert.deepEqual(tail.changesSince(0, { limit: 10, excludeVia: B }), undefined, 'the tail began at seq 2: earlier reads go to the store')
  })

  it('takes a local commit from the entries it is told with, without reading the store', () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-feed-tail-'))
    for (const store of [new MemoryStore(), SqliteStore.open(join(dir, 'a.db'))]) {
      const tail = new FeedTail({ store })
      const local = (key: string, wall: number): void => {
        const result = store.apply([note(key, 1, at(wall)), note(`${key}2`, 1, at(wall + 1))], { clock: mark(wall + 10) })
        tail.changed(result.changed)
      }
      local('a', 100)
      tail.changesSince(0, { limit: 10 })
      const reads = tail.stats.reads
      // a live stream: a local write of two records, the stream reads it; five times over
      for (let i = 0; i < 5; i++) {
        local(`k${i}`, 200 + 10 * i)
        const last = store.stats().lastSeq
        assert.deepEqual(plain(tail.changesSince(last - 2, { limit: 10 })!), plain(store.changesSince(last - 2, { limit: 10 })))
      }
      assert.equal(tail.stats.reads - reads, 0, 'no read of the store for a local commit told with its entries')
      assert.equal(tail.stats.told, 5)
      // a commit through a peer is read from the store: its entries' peers are the store's to say
      const remote = store.apply([note('r', 1, at(400, 0, B))], { clock: mark(410), via: B })
      tail.changed(remote.changed, B)
      assert.deepEqual(tail.changesSince(store.stats().lastSeq - 1, { limit: 10, excludeVia: B })?.entries, [])
      assert.equal(tail.stats.reads - reads, 1)
      // a commit not told, then a local one told: a gap, read from the store
      store.apply([note('x', 1, at(500))], { clock: mark(510) })
      local('y', 520)
      const last = store.stats().lastSeq
      assert.deepEqual(plain(tail.changesSince(last - 3, { limit: 10 })!), plain(store.changesSince(last - 3, { limit: 10 })))
      assert.equal(tail.stats.reads - reads, 2)
      store.close()
    }
    rmSync(dir, { recursive: true, force: true })
  })

  it("reads the store's state and the knowledge vector once a turn for every stream, again after a commit or in the next turn", async () => {
    const store = new MemoryStore()
    let states = 0
    const counted = new Proxy(store, {
      get: (target, key) => {
        const v = Reflect.get(target, key, target) as unknown
        if (key === 'stats') states++
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
      }
    })
    let vectors = 0
    const tail = new FeedTail({ store: counted, knowledge: () => { vectors++; return { entries: [], voids: [] } } })
    store.apply([note('a', 1, at(100))], { clock: mark(200) })
    // one turn: five streams each read the last seq, their entries and the vector
    const turn = (after: number): void => {
      for (let s = 0; s < 5; s++) {
        assert.equal(tail.lastSeq(), store.stats().lastSeq)
        tail.changesSince(after, { limit: 10 })
        tail.knowledge()
      }
    }
    const counts = (): number[] => { const c = [states, vectors]; states = vectors = 0; return c }
    turn(0)
    assert.deepEqual(counts(), [1, 1], 'one state read and one vector for five streams')
    // a commit told in the same turn: read again, the new entry answered
    store.apply([note('b', 1, at(101))], { clock: mark(200) })
    tail.changed()
    assert.deepEqual(tail.changesSince(1, { limit: 10 })?.entries.map(e => e.seq), [2])
    tail.knowledge()
    assert.deepEqual(counts(), [1, 1])
    // the next turn reads again, even with nothing told (a tombstone collection, say)
    await Promise.resolve()
    store.apply([note('c', 1, at(102))], { clock: mark(200) })
    assert.deepEqual(tail.changesSince(2, { limit: 10 })?.entries.map(e => e.seq), [3])
    assert.deepEqual(counts(), [1, 0])
  })
})
