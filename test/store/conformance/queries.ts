/**
 * Conformance: triple pattern queries, listings of notes, episodes and traces, dump order.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { isEngramError } from '../../../src/core/errors.ts'
import type { Term, TripleRecord } from '../../../src/core/model.ts'
import { compareText } from '../../../src/store/order.ts'
import type { Store, TriplePattern } from '../../../src/store/Store.ts'
import { A, at, B, episode, note, noteTomb, put, tomb, trace, triple, type StoreRef } from './fixtures.ts'

const OBJECTS: Term[] = [
  { kind: 'node', value: 'user:bob' },
  { kind: 'string', value: 'user:bob' },
  { kind: 'string', value: '42' },
  { kind: 'lang', value: 'bonjour', lang: 'fr' },
  { kind: 'lang', value: 'bonjour', lang: 'fr-ca' },
  { kind: 'number', value: 42 },
  { kind: 'number', value: 4.25 },
  { kind: 'boolean', value: true },
  { kind: 'boolean', value: false },
  { kind: 'datetime', value: '2026-11-20T09:30:00.000Z' },
  { kind: 'json', value: { b: [1, 2], a: { c: null } } }
]

const SUBJECTS = ['user:alice', 'user:bob', 'org:acme', 'plain', 'user:\uE000', 'user:\u{1F600}']

function fill (store: Store): TripleRecord[] {
  const all: TripleRecord[] = []
  let n = 0
  for (const s of SUBJECTS) {
    for (const p of ['knows', 'likes']) {
      for (const o of OBJECTS) all.push(triple(s, p, o, at(100 + n++)))
    }
  }
  put(store, ...all)
  return all
}

const sortSpo = (ts: TripleRecord[]): TripleRecord[] =>
  [...ts].sort((a, b) => compareText(a.subject, b.subject) || compareText(a.predicate, b.predicate) || compareText(a.id, b.id))

export function queryTests (ref: StoreRef): void {
  it('queryTriples: each pattern field, alone and combined, in (subject, predicate, id) order', () => {
    const { store } = ref
    const all = fill(store)
    const deleted = all[3]!
    put(store, tomb(deleted, at(10_000)))
    const live = all.filter(t => t !== deleted)
    const check = (pattern: TriplePattern, expected: TripleRecord[]): void => {
      const r = store.queryTriples(pattern, { limit: 10_000, offset: 0 })
      assert.deepEqual(r.triples.map(t => t.id), sortSpo(expected).map(t => t.id), JSON.stringify(pattern))
      assert.equal(r.total, expected.length)
    }
    check({}, live)
    check({ subject: 'user:bob' }, live.filter(t => t.subject === 'user:bob'))
    check({ predicate: 'likes' }, live.filter(t => t.predicate === 'likes'))
    check({ subject: 'org:acme', predicate: 'knows' }, live.filter(t => t.subject === 'org:acme' && t.predicate === 'knows'))
    for (const o of OBJECTS) {
      const same = (t: TripleRecord): boolean => JSON.stringify(t.object) === JSON.stringify(o)
      check({ object: o }, live.filter(same))
      check({ predicate: 'knows', object: o }, live.filter(t => t.predicate === 'knows' && same(t)))
      check({ subject: 'plain', predicate: 'likes', object: o }, live.filter(t => t.subject === 'plain' && t.predicate === 'likes' && same(t)))
    }
    check({ object: { kind: 'json', value: { a: { c: null }, b: [1, 2] } } }, live.filter(t => t.object.kind === 'json'))
    check({ object: { kind: 'number', value: 43 } }, [])
    check({ namespace: 'user' }, live.filter(t => t.subject.startsWith('user:')))
    check({ namespace: 'user', predicate: 'likes' }, live.filter(t => t.subject.startsWith('user:') && t.predicate === 'likes'))
    check({ namespace: '' }, live.filter(t => t.subject === 'plain'))
    check({ namespace: 'us' }, [])
    check({ namespace: 'user:alice' }, [])
    check({ subject: 'nobody' }, [])
    check({ includeDeleted: true }, all)
    check({ subject: deleted.subject, includeDeleted: true }, all.filter(t => t.subject === deleted.subject))
    const r = store.queryTriples({ subject: deleted.subject, predicate: deleted.predicate, object: deleted.object, includeDeleted: true }, { limit: 5, offset: 0 })
    assert.deepEqual(r.triples, [{ ...deleted, hlc: at(10_000), deleted: true }])
  })

  it('queryTriples: order is by code point, paging with limit/offset, total counts every match', () => {
    const { store } = ref
    const all = fill(store)
    const users = store.queryTriples({ namespace: 'user' }, { limit: 1000, offset: 0 }).triples.map(t => t.subject)
    assert.deepEqual([...new Set(users)], ['user:alice', 'user:bob', 'user:\uE000', 'user:\u{1F600}'])
    const everything = sortSpo(all)
    const got: TripleRecord[] = []
    for (let offset = 0; offset < all.length + 10; offset += 7) {
      const page = store.queryTriples({}, { limit: 7, offset })
      assert.equal(page.total, all.length)
      got.push(...page.triples)
    }
    assert.deepEqual(got, everything)
    assert.deepEqual(store.queryTriples({}, { limit: 0, offset: 0 }), { triples: [], total: all.length })
    assert.throws(() => store.queryTriples({}, { limit: -1, offset: 0 }), (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT')
    assert.throws(() => store.queryTriples({}, { limit: 1, offset: 0.5 }), (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT')
  })

  it('listNotes: live notes by key prefix, in key order, paged', () => {
    const { store } = ref
    const keys = ['cfg:b', 'cfg:a', 'cfg:\u{1F600}', 'cfg:\uE000', 'cfh', 'cf', 'other', 'cfg:dead']
    put(store, ...keys.map((k, i) => note(k, i, at(100 + i))))
    put(store, noteTomb('cfg:dead', at(1000)))
    const list = (prefix: string | undefined, limit = 100, offset = 0): [string[], number] => {
      const r = store.listNotes({ prefix, limit, offset })
      return [r.notes.map(n => n.key), r.total]
    }
    assert.deepEqual(list('cfg:'), [['cfg:a', 'cfg:b', 'cfg:\uE000', 'cfg:\u{1F600}'], 4])
    assert.deepEqual(list('cf'), [['cf', 'cfg:a', 'cfg:b', 'cfg:\uE000', 'cfg:\u{1F600}', 'cfh'], 6])
    assert.deepEqual(list(undefined), [['cf', 'cfg:a', 'cfg:b', 'cfg:\uE000', 'cfg:\u{1F600}', 'cfh', 'other'], 7])
    assert.deepEqual(list(''), list(undefined))
    assert.deepEqual(list('cfg:\u{1F600}'), [['cfg:\u{1F600}'], 1])
    assert.deepEqual(list('cf', 2, 1), [['cfg:a', 'cfg:b'], 6])
    assert.deepEqual(list('cf', 2, 10), [[], 6])
    assert.deepEqual(list('zzz'), [[], 0])
    assert.deepEqual(store.listNotes({ prefix: 'other', limit: 1, offset: 0 }).notes, [note('other', 6, at(106))])
  })

  it('listEpisodes: newest stamp first, by id prefix, paged', () => {
    const { store } = ref
    put(store,
      episode('ep-1', { n: 1 }, at(100)),
      episode('ep-2', { n: 2 }, at(300)),
      episode('ep-3', { n: 3 }, at(200, 0, B)),
      episode('ep-4', { n: 4 }, at(200, 0, A)),
      episode('x-5', { n: 5 }, at(500)))
    const ids = (prefix?: string, limit = 100, offset = 0): string[] =>
      store.listEpisodes({ prefix, limit, offset }).episodes.map(e => e.id)
    assert.deepEqual(ids(), ['x-5', 'ep-2', 'ep-3', 'ep-4', 'ep-1'])
    assert.deepEqual(ids('ep-'), ['ep-2', 'ep-3', 'ep-4', 'ep-1'])
    assert.deepEqual(ids('ep-', 2, 1), ['ep-3', 'ep-4'])
    assert.equal(store.listEpisodes({ prefix: 'ep-', limit: 1, offset: 0 }).total, 4)
    assert.deepEqual(store.listEpisodes({ prefix: 'x', limit: 1, offset: 0 }).episodes, [episode('x-5', { n: 5 }, at(500))])
  })

  it('listTraces: one run or all, oldest stamp first, paged', () => {
    const { store } = ref
    const t = [
      trace('run-1', 'call', { i: 0 }, at(300)),
      trace('run-1', 'result', { i: 1 }, at(100)),
      trace('run-2', 'call', { i: 2 }, at(200)),
      trace('run-1', 'call', { i: 3 }, at(200, 0, B))
    ]
    put(store, ...t)
    const run1 = store.listTraces({ runId: 'run-1', limit: 100, offset: 0 })
    assert.deepEqual(run1.traces, [t[1], t[3], t[0]])
    assert.equal(run1.total, 3)
    assert.deepEqual(store.listTraces({ limit: 2, offset: 1 }).traces, [t[2], t[3]])
    assert.equal(store.listTraces({ limit: 0, offset: 0 }).total, 4)
    assert.equal(store.listTraces({ runId: 'none', limit: 5, offset: 0 }).total, 0)
  })

  it('dump: every record, tombstones included, by kind then key', () => {
    const { store } = ref
    const t1 = triple('s:1', 'p', 'o', at(100))
    const t2 = triple('s:2', 'p', 'o', at(100))
    const tr = [trace('r', 't', 1, at(100)), trace('r', 't', 2, at(100))]
    put(store, tr[0]!, note('b', 1, at(100)), episode('z', {}, at(100)), t1, note('a', 2, at(100)), episode('y', {}, at(100)), t2, tr[1]!)
    put(store, noteTomb('b', at(200)), tomb(t2, at(200)))
    const d = store.dump()
    const triples = [t1, { ...t2, hlc: at(200), deleted: true }].sort((x, y) => compareText(x.id, y.id))
    assert.deepEqual(d, [
      ...triples,
      note('a', 2, at(100)), noteTomb('b', at(200)),
      episode('y', {}, at(100)), episode('z', {}, at(100)),
      ...[...tr].sort((x, y) => compareText(x.id, y.id))
    ])
  })
}
