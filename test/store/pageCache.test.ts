/**
 * The store connection's page cache (store/sqlite/pageCache.ts): ordinary size but while a
 * far-behind catch-up into a large store leaves the indexes out; back once they are built.
 * Checked on the writer's own connection (PRAGMA cache_size), with a real file.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, describe, it } from 'node:test'
import { WAL_BOUND_PAGES } from '../../src/store/sqlite/checkpoints.ts'
import { NodeNames } from '../../src/store/sqlite/nodes.ts'
import { CATCH_UP_CACHE_FROM, catchUpCacheKib, MAX_CATCH_UP_CACHE_KIB } from '../../src/store/sqlite/pageCache.ts'
import { CACHE_KIB, configure, migrate } from '../../src/store/sqlite/schema.ts'
import { SqliteTextIndex } from '../../src/store/sqlite/textIndex.ts'
import { Writer } from '../../src/store/sqlite/writer.ts'
import type { TripleRecord } from '../../src/core/model.ts'
import { at, B, mark, triple } from './conformance/fixtures.ts'

describe('the page cache of a catch-up', () => {
  let dir = ''
  before(() => { dir = mkdtempSync(join(tmpdir(), 'engram-cache-')) })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('grows with the store past CATCH_UP_CACHE_FROM triples, up to its largest', () => {
    assert.equal(catchUpCacheKib(0), CACHE_KIB)
    assert.equal(catchUpCacheKib(100_000), CACHE_KIB)
    assert.equal(catchUpCacheKib(CATCH_UP_CACHE_FROM), CACHE_KIB)
    assert.ok(catchUpCacheKib(CATCH_UP_CACHE_FROM + 1_000) > CACHE_KIB)
    assert.equal(catchUpCacheKib(1_000_000), 62_500)
    assert.equal(catchUpCacheKib(10_000_000), MAX_CATCH_UP_CACHE_KIB)
    let last = 0
    for (let n = 0; n <= 2_000_000; n += 50_000) {
      assert.ok(catchUpCacheKib(n) >= last, `never smaller for a larger store (${n})`)
      last = catchUpCacheKib(n)
    }
  })

  it('stays ordinary for a small store, grows for a large one while the indexes are left out, and is back once they are built', () => {
    const file = join(dir, 'cache.db')
    const db = new DatabaseSync(file)
    configure(db, file)
    migrate(db, file)
    const writer = new Writer(db, file, new NodeNames(db), new SqliteTextIndex(db, { enabled: true, candidates: 100 }), 'full',
      { boundPages: WAL_BOUND_PAGES, idleMs: 0, busyTimeoutMs: 5_000 })
    const cacheKib = (): number => -(db.prepare('PRAGMA cache_size').get() as { cache_size: number }).cache_size
    const PAGE = 30_000
    let n = 0
    const page = (deferIndexes: boolean): void => {
      const records: TripleRecord[] = []
      for (let i = 0; i < PAGE; i++, n++) records.push(triple(`s:${n}`, 'p', `o${n}`, at(1_000 + n, 0, B)))
      writer.apply(records, { clock: mark(0), via: B, cursor: { peer: B, seq: n }, refetchable: true, deferText: true, ...(deferIndexes ? { deferIndexes } : {}) })
    }
    assert.equal(cacheKib(), CACHE_KIB)
    // a catch-up of a small store: the ordinary cache all along
    while (n < 120_000) page(true)
    assert.equal(writer.deferred.missing().length, 3)
    assert.equal(cacheKib(), CACHE_KIB, 'a store of 120,000 triples keeps the ordinary cache')
    while (n <= CATCH_UP_CACHE_FROM) page(true)
    // the page written to a store past the threshold grows it
    const before = n
    page(true)
    assert.equal(cacheKib(), catchUpCacheKib(before))
    assert.ok(cacheKib() > CACHE_KIB)
    // a page that does not defer (the catch-up's last stretch) leaves it
    page(false)
    assert.equal(cacheKib(), catchUpCacheKib(before))
    // built: back to the ordinary size
    for (let left = 3; left > 0; left--) {
      assert.equal(writer.transaction('building', () => writer.buildDeferred()), left - 1)
      if (left > 1) assert.equal(cacheKib(), catchUpCacheKib(before), 'grown until the last index is built')
    }
    assert.equal(cacheKib(), CACHE_KIB)
    assert.equal(writer.readState().triplesLive, n)
    db.close()
  })
})
