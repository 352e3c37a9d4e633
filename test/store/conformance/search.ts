/**
 * Conformance: the full-text index. Every kind is indexed, written in the same transaction as
 * its record (local and remote writes alike, a failed batch leaves no trace), tombstones and
 * replaced states leave it, ranking follows BM25 (an exact phrase beats scattered words, a rarer
 * word weighs more), filters by kind and namespace, the candidate cap, and rebuilds that give
 * identical answers.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { isEngramError } from '../../../src/core/errors.ts'
import { recordKey, type RecordKind } from '../../../src/core/model.ts'
import type { Store } from '../../../src/store/Store.ts'
import type { TextQuery, TextSearchResult } from '../../../src/store/textSearch.ts'
import { parseQuery } from '../../../src/text/query.ts'
import { at, B, episode, mark, note, noteTomb, put, tomb, trace, triple, type StoreOptions, type StoreRef } from './fixtures.ts'

const search = (store: Store, q: string, opts: Partial<Omit<TextQuery, 'query'>> = {}): TextSearchResult =>
  store.searchText({ query: parseQuery(q), limit: 20, ...opts })

/** The keys of the hits, best first. */
const keys = (store: Store, q: string, opts: Partial<Omit<TextQuery, 'query'>> = {}): string[] =>
  search(store, q, opts).hits.map(h => recordKey(h.record))

/** The hits as (kind, key), in no particular order. */
const found = (store: Store, q: string, opts: Partial<Omit<TextQuery, 'query'>> = {}): string[] =>
  search(store, q, opts).hits.map(h => `${h.record.kind}:${recordKey(h.record)}`).sort()

/** Rebuilds the index in slices of `slice` feed positions. */
function rebuild (store: Store, slice: number): void {
  store.startTextRebuild()
  for (let i = 0; i < 10_000 && store.textIndex().rebuilding; i++) store.continueTextRebuild(slice)
  assert.equal(store.textIndex().rebuilding, false)
}

export function searchTests (ref: StoreRef, open: (opts: StoreOptions) => { store: Store, teardown?: () => void }): void {
  it('indexes every kind: triple subject, predicate and object, note key and value, episode id and data, trace run, type and data', () => {
    const s = ref.store
    const t = triple('user:alice', 'prefersEditor', 'the vim editor', at(100))
    const n = note('project:engram/goal', { text: 'replicate agent memory', tags: ['sync'] }, at(101))
    const e = episode('session-42', { summary: 'debugged the gossip protocol', agent: 'coder' }, at(102))
    const x = trace('run-7', 'tool_call', { tool: 'grep', args: ['needle'] }, at(103))
    put(s, t, n, e, x)
    assert.deepEqual(found(s, 'alice'), [`triple:${t.id}`])
    assert.deepEqual(found(s, 'prefersEditor'), [`triple:${t.id}`])
    assert.deepEqual(found(s, '"prefers editor"'), [`triple:${t.id}`])
    assert.deepEqual(found(s, 'vim'), [`triple:${t.id}`])
    assert.deepEqual(found(s, 'engram goal'), ['note:project:engram/goal'])
    assert.deepEqual(found(s, 'replicate'), ['note:project:engram/goal'])
    assert.deepEqual(found(s, 'sync'), ['note:project:engram/goal'])
    assert.deepEqual(found(s, 'session 42'), ['episode:session-42'])
    assert.deepEqual(found(s, 'gossip'), ['episode:session-42'])
    assert.deepEqual(found(s, 'run 7'), [`trace:${x.id}`])
    assert.deepEqual(found(s, 'tool_call'), [`trace:${x.id}`])
    assert.deepEqual(found(s, 'needle'), [`trace:${x.id}`])
    assert.equal(s.textIndex().docs, 4)
  })

  it('splits IRIs, snake_case and camelCase words, and folds case and Latin accents', () => {
    const s = ref.store
    const a = triple('https://example.com/people/Zoë_Smith', 'foaf:knows', { kind: 'node', value: 'user:JavaScript_fan' }, at(100))
    put(s, a)
    for (const q of ['zoe', 'ZOË smith', 'example.com', 'people', 'foaf:knows', 'javascript', 'JavaScript', 'script', '"java script"', 'JavaScript_fan', 'fan']) {
      assert.deepEqual(keys(s, q), [a.id], q)
    }
  })

  it('finds a record from the commit that writes it, remote or local; a tombstone and a replaced state leave the index', () => {
    const s = ref.store
    const t = triple('user:bob', 'likes', 'green tea', at(100))
    s.apply([t], { clock: mark(100), via: B, cursor: { peer: B, seq: 1 } })
    assert.deepEqual(keys(s, 'green tea'), [t.id])
    s.apply([tomb(t, at(200, 0, B))], { clock: mark(200), via: B })
    assert.deepEqual(keys(s, 'green tea'), [])
    s.apply([{ ...t, hlc: at(300), deleted: false }], { clock: mark(300) })
    assert.deepEqual(keys(s, 'green tea'), [t.id], 'added back')
    put(s, note('n', 'first words', at(100)))
    put(s, note('n', 'second words', at(110)))
    assert.deepEqual(keys(s, 'first'), [])
    assert.deepEqual(keys(s, 'second'), ['n'])
    put(s, noteTomb('n', at(120)))
    assert.deepEqual(keys(s, 'words'), [])
    put(s, episode('e', { summary: 'old summary' }, at(100)))
    put(s, episode('e', { summary: 'new summary' }, at(110)))
    assert.deepEqual(keys(s, 'old'), [])
    assert.deepEqual(keys(s, 'summary'), ['e'])
    assert.equal(s.textIndex().docs, 2)
  })

  it('a batch that fails leaves the index as it was', () => {
    const s = ref.store
    const t = triple('user:carol', 'likes', 'jazz', at(100))
    put(s, t)
    const before = search(s, 'jazz OR blues OR carol')
    const u = triple('user:carol', 'likes', 'blues', at(110))
    assert.throws(() => s.apply([u, tomb(t, at(120))], {
      clock: mark(120),
      resolve: () => { throw new Error('refused') },
      meta: () => { throw new Error('refused') }
    }))
    assert.deepEqual(search(s, 'jazz OR blues OR carol'), before)
    assert.equal(s.textIndex().docs, 1)
  })

  it('ranks an exact phrase above scattered words, and a rarer word above a common one', () => {
    const s = ref.store
    const together = triple('doc:1', 'text', 'a red apple on the table', at(100))
    const apart = triple('doc:2', 'text', 'a red car and an apple tree', at(101))
    const filler = Array.from({ length: 8 }, (_, i) => triple(`doc:f${i}`, 'text', `common word number ${i}`, at(110 + i)))
    put(s, together, apart, ...filler)
    assert.deepEqual(keys(s, 'red apple'), [together.id, apart.id])
    const rare = triple('doc:3', 'text', 'common zebra', at(120))
    const plain = triple('doc:4', 'text', 'common common', at(121))
    put(s, rare, plain)
    // "common" is in ten records, "zebra" in one: the record with zebra ranks first.
    assert.deepEqual(keys(s, 'common OR zebra').slice(0, 1), [rare.id])
    const hits = search(s, 'common OR zebra').hits
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.score >= hits[i]!.score, 'scores descend')
  })

  it('filters by kind and by namespace', () => {
    const s = ref.store
    const t = triple('user:alice', 'likes', 'tea', at(100))
    const u = triple('org:acme', 'sells', 'tea', at(101))
    put(s, t, u, note('user:alice/drink', 'tea', at(102)), episode('tea-time', { summary: 'tea' }, at(103)))
    assert.deepEqual(found(s, 'tea', { kinds: ['triple'] }), [`triple:${t.id}`, `triple:${u.id}`].sort())
    assert.deepEqual(found(s, 'tea', { kinds: ['note', 'episode'] }), ['episode:tea-time', 'note:user:alice/drink'])
    assert.deepEqual(found(s, 'tea', { namespace: 'user' }), [`triple:${t.id}`, 'note:user:alice/drink'].sort())
    assert.deepEqual(found(s, 'tea', { namespace: 'org', kinds: ['note'] }), [])
    assert.deepEqual(found(s, 'tea', { namespace: '' }), ['episode:tea-time'])
    assert.deepEqual(found(s, 'tea', { namespace: 'us' }), [])
  })

  it('boolean operators, prefixes and exclusions', () => {
    const s = ref.store
    const a = triple('x:1', 'says', 'vim is my editor', at(100))
    const b = triple('x:2', 'says', 'emacs is my editor', at(101))
    const c = triple('x:3', 'says', 'nano editing', at(102))
    put(s, a, b, c)
    assert.deepEqual(found(s, 'vim OR emacs'), [a.id, b.id].map(id => `triple:${id}`).sort())
    assert.deepEqual(found(s, 'editor NOT vim'), [`triple:${b.id}`])
    assert.deepEqual(found(s, 'editor -emacs'), [`triple:${a.id}`])
    assert.deepEqual(found(s, 'edit*'), [a.id, b.id, c.id].map(id => `triple:${id}`).sort())
    assert.deepEqual(found(s, '(vim OR nano) AND my'), [`triple:${a.id}`])
    assert.deepEqual(found(s, '"is my"*'), [a.id, b.id].map(id => `triple:${id}`).sort())
    assert.deepEqual(found(s, '"my editor is"'), [])
  })

  it('ranks the newest matches when more match than the candidate cap, and says so', () => {
    const opened = open({ textCandidates: 5 })
    const s = opened.store
    try {
      const ts = Array.from({ length: 12 }, (_, i) => triple(`n:${i}`, 'p', `shared word ${i}`, at(100 + i)))
      put(s, ...ts)
      const r = search(s, 'shared')
      assert.equal(r.truncated, true)
      assert.equal(r.candidates, 5)
      assert.deepEqual(r.hits.map(h => h.seq).sort((a, b) => a - b), [8, 9, 10, 11, 12])
      assert.equal(search(s, 'shared 3').truncated, false)
      assert.equal(search(s, 'shared', { limit: 2 }).hits.length, 2)
    } finally {
      s.close()
      opened.teardown?.()
    }
  })

  it('a rebuild gives identical answers; records written while it runs are found; partial until done', () => {
    const s = ref.store
    const records = Array.from({ length: 30 }, (_, i) => triple(`user:u${i % 7}`, `rel${i % 3}`, `value ${i} of the ${i % 2 === 0 ? 'even' : 'odd'} kind`, at(100 + i)))
    put(s, ...records)
    put(s, tomb(records[3]!, at(200)), note('k', 'even more', at(201)), trace('r', 'odd', 'kind', at(202)))
    const queries = ['even', 'odd kind', 'user OR value', '"the even kind"', 'val*', 'u3 -rel1']
    const before = queries.map(q => search(s, q))
    rebuild(s, 7)
    assert.deepEqual(queries.map(q => search(s, q)), before)
    s.startTextRebuild()
    assert.equal(search(s, 'even').partial, true)
    assert.deepEqual(keys(s, 'even'), [])
    s.continueTextRebuild(10)
    const late = triple('user:late', 'rel0', 'even later', at(300))
    put(s, late, tomb(records[0]!, at(301)), tomb(records[29]!, at(302)))
    assert.ok(keys(s, 'later').includes(late.id), 'written during the rebuild')
    for (let i = 0; i < 100 && s.textIndex().rebuilding; i++) s.continueTextRebuild(10)
    assert.equal(search(s, 'even').partial, false)
    assert.ok(!keys(s, 'value').includes(records[0]!.id))
    assert.ok(!keys(s, 'value').includes(records[29]!.id))
    const after = queries.map(q => search(s, q).hits.map(h => recordKey(h.record)).sort())
    rebuild(s, 1000)
    assert.deepEqual(queries.map(q => search(s, q).hits.map(h => recordKey(h.record)).sort()), after)
  })

  it('a rebuild of an empty store ends at once; tombstone collection leaves the index alone', () => {
    const s = ref.store
    assert.deepEqual(s.startTextRebuild(), { docs: 0, rebuilding: false, done: 0, upto: 0 })
    const t = triple('a:b', 'c', 'gone soon', at(100))
    const u = triple('a:b', 'c', 'stays', at(101))
    put(s, t, u, tomb(t, at(102)))
    assert.equal(s.collectTombstones(1000), 1)
    assert.deepEqual(keys(s, 'gone'), [])
    assert.deepEqual(keys(s, 'stays'), [u.id])
    assert.equal(s.textIndex().docs, 1)
  })

  it('refuses bad arguments with INVALID_INPUT', () => {
    const s = ref.store
    const invalid = (fn: () => unknown): void => assert.throws(fn, (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT')
    invalid(() => s.searchText({ query: parseQuery('x'), limit: -1 }))
    invalid(() => s.searchText({ query: parseQuery('x'), limit: 1, kinds: ['bogus' as RecordKind] }))
    invalid(() => s.continueTextRebuild(0))
  })
}
