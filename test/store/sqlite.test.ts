/**
 * SqliteStore against the store acceptance suite (a real file in a fresh temporary directory
 * per test), then what only a file can show: reopening, migrations (a version-2 file gaining
 * provenance), WAL, the text index of an older file, two connections.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import { sealBatch } from '../../src/core/signing.ts'
import { configure, migrate, MIGRATIONS, SCHEMA_VERSION } from '../../src/store/sqlite/schema.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import { DEFERRABLE } from '../../src/store/sqlite/deferredIndexes.ts'
import { makeOlderStoreFile } from '../support/olderStore.ts'
import { runStoreTests } from './conformance.ts'
import { recordKey } from '../../src/core/model.ts'
import { parseQuery } from '../../src/text/query.ts'
import { A, at, B, C, episode, mark, note, noteTomb, put, tomb, trace, triple } from './conformance/fixtures.ts'

runStoreTests('sqlite', opts => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-store-'))
  return { store: SqliteStore.open(join(dir, 'store.db'), opts), teardown: () => rmSync(dir, { recursive: true, force: true }) }
})

/** The keys of the records a full-text query finds, sorted. */
const hits = (s: SqliteStore, q: string): string[] => s.searchText({ query: parseQuery(q), limit: 50 }).hits.map(h => recordKey(h.record)).sort()

describe('SqliteStore: the file', () => {
  let dir = ''
  before(() => { dir = mkdtempSync(join(tmpdir(), 'engram-sqlite-')) })
  after(() => rmSync(dir, { recursive: true, force: true }))
  const unavailable = (e: unknown): boolean => isEngramError(e) && e.code === 'STORE_UNAVAILABLE'

  it('reopening keeps records, seqs, clock mark, cursors, meta and counts', () => {
    const file = join(dir, 'nested', 'deeper', 'reopen.db')
    const t = triple('user:alice', 'knows', { kind: 'node', value: 'user:bob' }, at(100))
    let s = SqliteStore.open(file)
    put(s, t, note('n', { a: [1, 2] }, at(100)), trace('r', 't', 1, at(100)))
    s.apply([tomb(t, at(200, 0, B))], {
      clock: mark(700, 3), via: B, cursor: { peer: B, seq: 77 }, learn: [{ node: B, wall: 650, counter: 1 }],
      voids: [{ node: B, generation: 2, wall: 600, counter: 0 }], hold: { records: [note('far', 1, at(99_999, 0, B))], at: 42 }
    })
    s.setMeta('k', 'v')
    const before = { dump: s.dump(), stats: s.stats(), feed: s.changesSince(0, { limit: 10 }), knowledge: s.knowledge(), voids: s.voids(), held: s.held({ limit: 10 }) }
    s.close()
    s = SqliteStore.open(file)
    assert.deepEqual(s.dump(), before.dump)
    assert.deepEqual(s.stats(), before.stats)
    assert.deepEqual(s.changesSince(0, { limit: 10 }), before.feed)
    assert.deepEqual(s.clockMark(), mark(700, 3))
    assert.deepEqual([s.knowledge(), s.voids(), s.held({ limit: 10 })], [before.knowledge, before.voids, before.held])
    assert.equal(before.held.length, 1)
    assert.equal(s.getCursor(B), 77)
    assert.equal(s.getMeta('k'), 'v')
    assert.deepEqual(s.changesSince(0, { limit: 10, excludeVia: B }).entries.map(e => e.seq), [2, 3])
    assert.equal(put(s, note('m', 1, at(800))).changed[0]?.seq, 5)
    assert.equal(s.integrityCheck(), 'ok')
    s.close()
  })

  it('stores a triple id as its 32 bytes: 64 lowercase hex digits, or what Buffer\'s hex write takes of any other; refuses the rest', () => {
    const file = join(dir, 'ids.db')
    const s = SqliteStore.open(file)
    const idOf = (subject: string): string => {
      const db = new DatabaseSync(file, { readOnly: true })
      try { return (db.prepare('SELECT lower(hex(id)) AS id FROM triples WHERE subject = ?').get(subject) as { id: string }).id } finally { db.close() }
    }
    try {
      const t = triple('user:lower', 'knows', 'x', at(100))
      put(s, t)
      assert.equal(idOf('user:lower'), t.id)
      // every digit, in every place of an id
      const digits = '0123456789abcdef'
      for (let k = 0; k < 16; k++) {
        const id = Array.from({ length: 64 }, (_, i) => digits[(i + k) % 16]).join('')
        put(s, { ...triple(`user:d${k}`, 'knows', 'x', at(100)), id } as typeof t)
        assert.equal(idOf(`user:d${k}`), id)
      }
      // uppercase digits are not an id the engine makes, but the store takes them as Buffer does
      const upper = triple('user:upper', 'knows', 'y', at(101))
      put(s, { ...upper, id: upper.id.toUpperCase() } as typeof upper)
      assert.equal(idOf('user:upper'), upper.id)
      assert.equal(s.get('triple', upper.id)?.kind, 'triple')
      for (const bad of [t.id.slice(0, 63), `${t.id}0`, `${t.id.slice(0, 62)}g0`, `${t.id.slice(0, 10)} ${t.id.slice(11)}`, '']) {
        const r = { ...triple('user:bad', 'knows', 'z', at(102)), id: bad } as typeof t
        assert.throws(() => put(s, r), (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT', bad)
      }
      assert.equal(s.stats().triples, 18)
    } finally {
      s.close()
    }
  })

  it('migrates a version 1 file with data to version 2: records kept, knowledge and held records empty', () => {
    const file = join(dir, 'v1.db')
    const db = new DatabaseSync(file)
    configure(db, file)
    migrate(db, file, MIGRATIONS.slice(0, 1))
    db.close()
    const old = SqliteStore.open(file)
    assert.deepEqual([old.knowledge(), old.held({ limit: 1 })], [[], []])
    old.close()
    // a v1 store with a record, written by the v1 layout alone
    const file2 = join(dir, 'v1-data.db')
    const raw = new DatabaseSync(file2)
    configure(raw, file2)
    migrate(raw, file2, MIGRATIONS.slice(0, 1))
    raw.exec("INSERT INTO nodes (name) VALUES ('node-a'); INSERT INTO notes VALUES (1, 'k', 0, 5, 0, 1, NULL, '1'); UPDATE state SET last_seq = 1, notes_live = 1, clock_wall = 5")
    raw.close()
    const s = SqliteStore.open(file2)
    assert.deepEqual(s.getNote('k'), note('k', 1, at(5)))
    assert.deepEqual(s.knowledge(), [])
    s.apply([], { clock: mark(5), learn: [{ node: B, wall: 1, counter: 0 }] })
    assert.deepEqual(s.knowledge(), [{ node: B, wall: 1, counter: 0 }])
    s.close()
  })

  it('migrates an empty file, in WAL mode, and records the schema version', () => {
    const file = join(dir, 'empty.db')
    writeFileSync(file, '')
    const s = SqliteStore.open(file)
    assert.equal(s.stats().lastSeq, 0)
    s.close()
    const db = new DatabaseSync(file)
    assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SCHEMA_VERSION)
    assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal')
    db.close()
  })

  it('finds the batches no state belongs to through their index, not a scan of every batch (the sweep at every start)', () => {
    const file = join(dir, 'sweep.db')
    SqliteStore.open(file).close()
    const db = new DatabaseSync(file)
    // the statement of batches.ts collect()
    const plan = (db.prepare('EXPLAIN QUERY PLAN DELETE FROM batches WHERE refs <= 0').all() as Array<{ detail: string }>).map(r => r.detail)
    db.close()
    assert.deepEqual(plan, ['SCAN batches USING INDEX batches_unused'])
  })

  it('applies later migrations in order, each atomically; a failing one leaves the version before it', () => {
    const file = join(dir, 'later.db')
    const s = SqliteStore.open(file)
    put(s, note('kept', 1, at(100)))
    s.close()
    const v2 = { version: SCHEMA_VERSION + 1, description: 'test: a column', sql: 'ALTER TABLE meta ADD COLUMN extra TEXT' }
    const v3 = { version: SCHEMA_VERSION + 2, description: 'test: broken', sql: 'CREATE TABLE half (x); SELECT * FROM no_such_table' }
    const db = new DatabaseSync(file)
    configure(db, file)
    migrate(db, file, [...MIGRATIONS, v2])
    const version = (): number => (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
    assert.equal(version(), SCHEMA_VERSION + 1)
    assert.throws(() => migrate(db, file, [...MIGRATIONS, v2, v3]), /no_such_table/)
    assert.equal(version(), SCHEMA_VERSION + 1)
    assert.equal(db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'half'").get()?.n, 0)
    db.close()
    assert.throws(() => SqliteStore.open(file), unavailable, 'a version this build does not know')
  })

  // Version 2: the text index; version 3: the knowledge vector, voids and held records — both before signatures.
  for (const older of [2, 3] as const) {
    it(`migrates a version-${older} file (no provenance) to version ${SCHEMA_VERSION}: records, feed, cursors, index, held records kept; states unsigned until signed`, () => {
      const file = join(dir, `v${older}.db`)
      let s = SqliteStore.open(file)
      const ts = [0, 1, 2].map(i => triple(`user:u${i}`, 'likes', `green tea ${i}`, at(100 + i)))
      const n = note('n', 'tea notes', at(110))
      put(s, ...ts, n, episode('e', { text: 'tea time' }, at(111)), trace('r', 'tea', 1, at(112)))
      s.apply([tomb(ts[0]!, at(200, 0, B))], { clock: mark(700, 3), via: B, cursor: { peer: B, seq: 9 } })
      s.setMeta('k', 'v')
      s.apply([], { clock: mark(700, 3), via: B, hold: { records: [note('ahead', 'later', at(5000, 0, B))], at: 1 }, learn: [{ node: B, wall: 200, counter: 0 }] })
      const before = { dump: s.dump(), stats: s.stats(), feed: s.changesSince(0, { limit: 20 }), hits: hits(s, 'tea'), mark: s.clockMark() }
      s.close()
      makeOlderStoreFile(file, older)
      const db = new DatabaseSync(file)
      assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, older)
      assert.equal((db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name IN ('batches', 'history')").get() as { n: number }).n, 0)
      db.close()

      s = SqliteStore.open(file)
      try {
        assert.equal(s.integrityCheck(), 'ok')
        const v = new DatabaseSync(file)
        assert.equal((v.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SCHEMA_VERSION)
        v.close()
        // A version-3 file keeps what it held aside and knew (unsigned, as every state of it); a version-2 file had none of it.
        assert.deepEqual(s.held({ limit: 10 }).map(h => [h.record.kind, h.seal]), older === 3 ? [['note', undefined]] : [])
        assert.deepEqual(s.knowledge(), older === 3 ? [{ node: B, wall: 200, counter: 0 }] : [])
        assert.deepEqual(s.dump(), before.dump)
        assert.deepEqual(s.stats(), before.stats)
        assert.deepEqual(s.changesSince(0, { limit: 20 }), before.feed)
        assert.deepEqual(s.clockMark(), before.mark)
        assert.equal(s.getCursor(B), 9)
        assert.equal(s.getMeta('k'), 'v')
        assert.equal(s.textIndex().rebuilding, false, 'the index was built by these rules: kept, not rebuilt')
        assert.deepEqual(hits(s, 'tea'), before.hits)
        assert.deepEqual(s.provenanceStats(), { history: 0, batches: 0, unsigned: 6 })
        // Signing a migrated state, then replacing it: the seal, the history and the index follow.
        const batch = sealBatch([n], { node: A, sign: () => new Uint8Array(64).fill(7) }, { wall: 800, counter: 0 })
        const signed = s.apply([n], { clock: mark(800), seals: { batches: [batch], refs: [{ batch: 0, leaf: 0 }] } })
        assert.equal(signed.changed[0]?.seal?.leaf, 0)
        put(s, note('n', 'coffee notes', at(900)))
        assert.deepEqual(s.history('note', 'n').map(st => [st.record.hlc.wall, st.seal?.leaf]), [[900, undefined], [110, 0]])
        assert.deepEqual(s.provenanceStats(), { history: 1, batches: 1, unsigned: 6 })
        assert.deepEqual(hits(s, 'coffee'), ['n'])
        assert.deepEqual(hits(s, 'tea'), before.hits.filter(k => k !== 'n'))
      } finally {
        s.close()
      }
    })
  }

  it('migrates a version-5 file (one feed floor): the floor it had applies to every peer, later ones are kept per source', () => {
    const file = join(dir, 'v5-floor.db')
    let s = SqliteStore.open(file)
    const [x, y] = ['x', 'y'].map(k => triple(`s:${k}`, 'p', 'o', at(100, 0, B)))
    s.apply([tomb(x!, at(1000, 0, B))], { clock: mark(1000), via: B }) // 1
    put(s, note('n', 1, at(5000))) // 2
    assert.equal(s.collectTombstones(2000), 1)
    s.close()
    makeOlderStoreFile(file, 5)
    s = SqliteStore.open(file)
    try {
      assert.equal(s.stats().feedFloor, 1)
      assert.equal(s.feedFloorFor(B), 1, 'where the collected tombstones came from is not known: the floor applies to B too')
      s.apply([tomb(y!, at(3000, 0, B))], { clock: mark(3000), via: B }) // 3
      put(s, note('n', 2, at(5000, 1))) // 4
      assert.equal(s.collectTombstones(4000), 1)
      assert.deepEqual([s.stats().feedFloor, s.feedFloorFor(B), s.feedFloorFor(C)], [3, 1, 3])
    } finally {
      s.close()
    }
  })

  it('refuses a file written by a newer schema version, and leaves it alone', () => {
    const file = join(dir, 'newer.db')
    SqliteStore.open(file).close()
    const db = new DatabaseSync(file)
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`)
    db.close()
    assert.throws(() => SqliteStore.open(file), (e: unknown) => unavailable(e) && /newer engram/.test((e as Error).message))
    const again = new DatabaseSync(file)
    assert.equal((again.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SCHEMA_VERSION + 1)
    again.close()
  })

  it('refuses an SQLite file that is not an engram store, and a file that is not SQLite', () => {
    const other = join(dir, 'other.db')
    const db = new DatabaseSync(other)
    db.exec('CREATE TABLE t (x)')
    db.close()
    assert.throws(() => SqliteStore.open(other), unavailable)
    const junk = join(dir, 'junk.db')
    writeFileSync(junk, 'this is not a database, just some text long enough to fill a header'.repeat(20))
    assert.throws(() => SqliteStore.open(junk), (e: unknown) => isEngramError(e) && ['STORE_CORRUPT', 'STORE_UNAVAILABLE'].includes(e.code))
  })

  it('two stores on one file see each other\'s writes and never reuse a seq', () => {
    const file = join(dir, 'shared.db')
    const s1 = SqliteStore.open(file)
    const s2 = SqliteStore.open(file, { synchronous: 'normal' })
    put(s1, note('a', 1, at(100)))
    s2.apply([note('b', 1, at(100, 0, B))], { clock: mark(100), via: B })
    put(s1, note('c', 1, at(100)))
    assert.deepEqual(s1.changesSince(0, { limit: 10 }).entries.map(e => e.seq), [1, 2, 3])
    assert.deepEqual(s2.getNote('c')?.hlc, at(100))
    assert.deepEqual(s1.getNote('b')?.hlc, at(100, 0, B))
    assert.deepEqual(s1.changesSince(0, { limit: 10, excludeVia: B }).entries.map(e => e.seq), [1, 3])
    assert.equal(s2.stats().notes, 3)
    s1.close()
    s2.close()
  })

  it('counting unsigned states and finding this node\'s own reads their index, not every record (schema 5)', () => {
    const file = join(dir, 'unsigned.db')
    SqliteStore.open(file).close()
    const db = new DatabaseSync(file)
    for (const table of ['triples', 'notes', 'episodes', 'traces']) {
      const plan = (q: string): string => (db.prepare(`EXPLAIN QUERY PLAN ${q}`).all() as Array<{ detail: string }>).map(r => r.detail).join('; ')
      assert.match(plan(`SELECT count(*) AS n FROM ${table} WHERE batch IS NULL`), new RegExp(`USING (COVERING )?INDEX ${table}_unsigned`))
      assert.match(plan(`SELECT seq FROM ${table} WHERE origin = 1 AND batch IS NULL ORDER BY seq LIMIT 10`), new RegExp(`INDEX ${table}_unsigned \\(origin=\\?\\)`))
    }
    db.close()
  })

  it('indexes a catch-up left out stay out across a restart, are built again by the statements of their migrations, and queries use them again', () => {
    const file = join(dir, 'deferred-indexes.db')
    const plan = (db: DatabaseSync, q: string): string => (db.prepare(`EXPLAIN QUERY PLAN ${q}`).all() as Array<{ detail: string }>).map(r => r.detail).join('; ')
    // the statements a fresh file was made with
    SqliteStore.open(join(dir, 'fresh.db')).close()
    const fresh = new DatabaseSync(join(dir, 'fresh.db'))
    const made = new Map((fresh.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'triples'").all() as Array<{ name: string, sql: string | null }>)
      .map(r => [r.name, r.sql]))
    fresh.close()
    for (const [name, sql] of DEFERRABLE) assert.equal(made.get(name), sql, `${name} is made as its migration makes it`)

    let s = SqliteStore.open(file)
    const bob = { kind: 'node', value: 'user:bob' } as const
    // a page that fails after dropping them rolls the drop back with it
    assert.throws(() => s.apply([triple('user:dave', 'knows', bob, at(99, 0, B))], {
      clock: mark(0), via: B, refetchable: true, deferIndexes: true, meta: () => { throw new Error('a write that fails') }
    }))
    assert.equal(s.deferredIndexes(), 0, 'nothing left out after a rollback')
    assert.equal(s.queryTriples({ object: bob }, { limit: 10, offset: 0 }).total, 0)
    s.apply([triple('user:alice', 'knows', bob, at(100, 0, B))], { clock: mark(0), via: B, cursor: { peer: B, seq: 1 }, refetchable: true, deferText: true, deferIndexes: true })
    s.apply([triple('user:carol', 'knows', bob, at(101, 0, B))], { clock: mark(0), via: B, cursor: { peer: B, seq: 2 }, refetchable: true, deferText: true, deferIndexes: true })
    assert.equal(s.deferredIndexes(), DEFERRABLE.length)
    s.close()
    // a crash mid-catch-up: what the last page committed is what the file says
    s = SqliteStore.open(file)
    assert.equal(s.deferredIndexes(), DEFERRABLE.length, 'still left out after a restart')
    assert.equal(s.queryTriples({ object: bob }, { limit: 10, offset: 0 }).total, 2, 'answered by a scan')
    let db = new DatabaseSync(file)
    assert.doesNotMatch(plan(db, "SELECT seq FROM triples WHERE subject = 'user:alice' AND predicate = 'knows'"), /triples_sp/)
    db.close()
    for (let n = DEFERRABLE.length; n > 0; n--) assert.equal(s.buildDeferredIndexes(), n - 1)
    s.close()
    db = new DatabaseSync(file)
    const now = new Map((db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'triples'").all() as Array<{ name: string, sql: string | null }>)
      .map(r => [r.name, r.sql]))
    for (const [name, sql] of DEFERRABLE) assert.equal(now.get(name), sql)
    assert.match(plan(db, "SELECT seq FROM triples WHERE subject = 'user:alice' AND predicate = 'knows'"), /INDEX triples_sp/)
    db.close()
    s = SqliteStore.open(file)
    assert.equal(s.deferredIndexes(), 0)
    assert.equal(s.queryTriples({ object: bob }, { limit: 10, offset: 0 }).total, 2)
    s.close()
  })
})

describe('SqliteStore: the text index in the file', () => {
  let dir = ''
  before(() => { dir = mkdtempSync(join(tmpdir(), 'engram-sqlite-text-')) })
  after(() => rmSync(dir, { recursive: true, force: true }))
  const finish = (s: SqliteStore): void => {
    for (let i = 0; i < 1000 && s.textIndex().rebuilding; i++) s.continueTextRebuild(3)
  }

  it('a file of schema version 1 gets the index by a rebuild that starts when it opens', () => {
    const file = join(dir, 'v1.db')
    let s = SqliteStore.open(file)
    const ts = Array.from({ length: 10 }, (_, i) => triple(`user:u${i}`, 'likes', `tea number ${i}`, at(100 + i)))
    put(s, ...ts, note('n', 'tea for two', at(200)), tomb(ts[0]!, at(300)))
    const expected = hits(s, 'tea')
    s.close()
    // What a version-1 file is: the same records, none of the tables of later versions (the text index among them).
    makeOlderStoreFile(file, 1)
    s = SqliteStore.open(file)
    assert.equal(s.integrityCheck(), 'ok')
    assert.deepEqual(s.textIndex(), { docs: 0, rebuilding: true, done: 0, upto: 12 })
    finish(s)
    assert.deepEqual(hits(s, 'tea'), expected)
    assert.equal(expected.length, 10)
    s.close()
  })

  it('a store opened without the index leaves it to be rebuilt by the next open with it', () => {
    const file = join(dir, 'off.db')
    let s = SqliteStore.open(file)
    put(s, note('a', 'alpha', at(100)))
    s.close()
    s = SqliteStore.open(file, { textIndex: false })
    put(s, note('b', 'alpha beta', at(101)))
    assert.throws(() => s.searchText({ query: parseQuery('alpha'), limit: 5 }), (e: unknown) => isEngramError(e) && e.code === 'STORE_UNAVAILABLE')
    s.close()
    s = SqliteStore.open(file)
    assert.equal(s.textIndex().rebuilding, true)
    finish(s)
    assert.deepEqual(hits(s, 'alpha'), ['a', 'b'])
    s.close()
    s = SqliteStore.open(file)
    assert.equal(s.textIndex().rebuilding, false, 'built under this version: nothing to rebuild')
    s.close()
  })

  it('a write through one connection is found through another at once', () => {
    const file = join(dir, 'two.db')
    const s1 = SqliteStore.open(file)
    const s2 = SqliteStore.open(file)
    put(s1, note('x', 'shared words', at(100)))
    assert.deepEqual(hits(s2, 'shared'), ['x'])
    s2.apply([noteTomb('x', at(200, 0, B))], { clock: mark(200), via: B })
    assert.deepEqual(hits(s1, 'shared'), [])
    s1.close()
    s2.close()
  })
})

describe('SqliteStore: document frequencies of a large index', () => {
  it('estimates the frequency of common words from their newest records, keeping scores within 3 % of exact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-sqlite-df-'))
    const sqlite = SqliteStore.open(join(dir, 'df.db'), { synchronous: 'normal' })
    const memory = new MemoryStore()
    try {
      const words = ['alpha', 'beta', 'gamma', 'delta']
      const records = Array.from({ length: 60_000 }, (_, i) =>
        triple(`doc:${i}`, 'text', `${words[i % 4]} ${i % 3 === 0 ? 'common' : 'other'} ${i % 6000 === 0 ? 'rare' : ''} n${i % 997}`, at(100 + i)))
      for (let i = 0; i < records.length; i += 10_000) {
        for (const s of [sqlite, memory]) s.apply(records.slice(i, i + 10_000), { clock: mark(100 + i + 10_000) })
      }
      for (const q of ['common rare', 'alpha common', 'common OR n5', 'rare']) {
        const exact = memory.searchText({ query: parseQuery(q), limit: 5 })
        const estimated = sqlite.searchText({ query: parseQuery(q), limit: 5 })
        assert.deepEqual(estimated.hits.map(h => h.seq), exact.hits.map(h => h.seq), q)
        estimated.hits.forEach((h, i) => assert.ok(Math.abs(h.score - exact.hits[i]!.score) <= 0.03 * exact.hits[i]!.score, `${q}: ${h.score} vs ${exact.hits[i]!.score}`))
      }
    } finally {
      sqlite.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
