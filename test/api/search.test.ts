/**
 * GET /api/v1/search, /api/v1/search/index and POST /api/v1/search/reindex over real HTTP: ranked
 * results grouped by entity with highlighted snippets, filters, graph expansion, the rebuild, and
 * a clear 400 for every malformed query (never an SQLite message).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { eventually } from '../support/eventually.ts'
import { startApi, type TestApi } from './helpers.ts'

describe('REST API: search', () => {
  let api: TestApi
  before(async () => {
    api = await startApi()
    const add = async (subject: string, predicate: string, object: unknown): Promise<void> => {
      const r = await api.request('POST', '/api/v1/triples', { subject, predicate, object })
      assert.equal(r.status, 201, r.text)
    }
    await add('kg:Alice', 'kg:entityType', 'person')
    await add('kg:Alice', 'kg:observation', 'prefers the vim editor for quick edits')
    await add('kg:Alice', 'kg:observation', 'drinks green tea in the morning')
    await add('kg:Alice', 'worksAt', { node: 'kg:Acme' })
    await add('kg:Acme', 'kg:entityType', 'company')
    await add('kg:Acme', 'kg:observation', 'builds editor plugins')
    await add('kg:Acme', 'locatedIn', { node: 'kg:Lisbon' })
    await add('kg:Lisbon', 'kg:observation', 'a city by the sea')
    await add('kg:Bob', 'kg:observation', 'uses emacs, never vim')
    assert.equal((await api.request('PUT', '/api/v1/notes/project:engram%2Fgoal', { value: 'replicate agent memory, with a vim keymap' })).status, 200)
    assert.equal((await api.request('POST', '/api/v1/episodes', { id: 'session-1', data: { summary: 'set up the editor and the tea kettle' } })).status, 201)
  })
  after(async () => { await api.close() })

  const search = async (query: string): Promise<{ status: number, body: any }> => api.request('GET', `/api/v1/search?${query}`) // eslint-disable-line @typescript-eslint/no-explicit-any

  it('ranks results, groups triples by entity, and highlights the words in a snippet', async () => {
    const r = await search('q=vim+editor&limit=1')
    assert.equal(r.status, 200)
    assert.equal(r.body.results.length, 1)
    assert.equal(r.body.mode, 'text')
    assert.equal(r.body.matched, 'all')
    const first = r.body.results[0]
    assert.equal(first.type, 'entity')
    assert.equal(first.subject, 'kg:Alice')
    assert.equal(first.triples.length, 1)
    const t = first.triples[0]
    assert.equal(t.object, 'prefers the vim editor for quick edits')
    assert.equal(t.snippet.field, 'object')
    assert.deepEqual(t.snippet.highlights.map(([a, b]: [number, number]) => t.snippet.text.slice(a, b)), ['vim', 'editor'])
    assert.equal(r.body.index.partial, false)
    const more = await search('q=vim+editor')
    assert.equal(more.body.matched, 'any', 'fewer than 10 hold both words: those holding one follow')
    assert.equal(more.body.results[0].subject, 'kg:Alice')
  })

  it('adds records holding only some of the words when all of them find too few', async () => {
    const r = await search('q=which+editor+does+alice+prefer&limit=5')
    assert.equal(r.body.matched, 'any')
    assert.equal(r.body.results[0].subject, 'kg:Alice')
    assert.ok(r.body.results.length > 1)
  })

  it('searches every kind, or the kinds and namespace asked for', async () => {
    const all = await search('q=vim')
    assert.deepEqual(all.body.results.map((x: { type: string }) => x.type).sort(), ['entity', 'entity', 'note'])
    const notes = await search('q=vim&kind=note')
    assert.deepEqual(notes.body.results.map((x: { type: string }) => x.type), ['note'])
    assert.equal(notes.body.results[0].note.key, 'project:engram/goal')
    const episodes = await search('q=tea&kind=episode,note')
    assert.deepEqual(episodes.body.results.map((x: { episode: { id: string } }) => x.episode.id), ['session-1'])
    const ns = await search('q=vim&namespace=project')
    assert.deepEqual(ns.body.results.map((x: { type: string }) => x.type), ['note'])
  })

  it('expands the entities found to their neighbourhood, k hops deep', async () => {
    const one = await search('q=quick+edits&expand=1')
    assert.equal(one.body.graph.depth, 1)
    assert.deepEqual(one.body.graph.nodes, [{ id: 'kg:Alice', hops: 0 }, { id: 'kg:Acme', hops: 1 }])
    const subjects = new Set(one.body.graph.triples.map((t: { subject: string }) => t.subject))
    assert.deepEqual([...subjects].sort(), ['kg:Acme', 'kg:Alice'])
    const two = await search('q=quick+edits&expand=2')
    assert.deepEqual(two.body.graph.nodes.map((n: { id: string }) => n.id), ['kg:Alice', 'kg:Acme', 'kg:Lisbon'])
    const fromLisbon = await search('q=sea&expand=2')
    assert.deepEqual(fromLisbon.body.graph.nodes, [{ id: 'kg:Lisbon', hops: 0 }, { id: 'kg:Acme', hops: 1 }, { id: 'kg:Alice', hops: 2 }], 'edges are followed both ways')
    assert.equal((await search('q=vim')).body.graph, undefined)
  })

  it('a deleted record is gone from results at once', async () => {
    const r = await api.request('POST', '/api/v1/triples', { subject: 'tmp:x', predicate: 'says', object: 'ephemeral zucchini' })
    assert.equal((await search('q=zucchini')).body.results.length, 1)
    assert.equal((await api.request('DELETE', `/api/v1/triples/${r.body.id}`)).status, 200)
    assert.equal((await search('q=zucchini')).body.results.length, 0)
  })

  it('refuses a malformed query with 400 INVALID_INPUT naming the problem, never an SQLite message', async () => {
    const cases: Array<[string, RegExp]> = [
      ['q=%22vim', /opens a phrase with " at character 1 and never closes it/],
      ['q=vim+OR', /OR at character 5 without something to search for on its right/],
      ['q=NOT+vim', /only excludes/],
      ['q=(vim', /never closes it/],
      ['q=', /no words to search for/],
      ['q=a*', /a prefix needs at least 2 characters/]
    ]
    for (const [query, message] of cases) {
      const r = await search(query)
      assert.equal(r.status, 400, query)
      assert.equal(r.body.code, 'INVALID_INPUT')
      assert.equal(r.body.details.field, 'q')
      assert.match(r.body.error, message, query)
      assert.doesNotMatch(r.body.error, /fts5|sqlite|syntax error/i)
    }
    for (const query of ['', 'q=x&kind=bogus', 'q=x&limit=0', 'q=x&limit=101', 'q=x&expand=4', 'q=x&mode=magic', 'q=x&extra=1']) {
      const r = await search(query)
      assert.equal(r.status, 400, query)
      assert.equal(r.body.code, 'INVALID_INPUT', query)
    }
    const hybrid = await search('q=x&mode=hybrid')
    assert.equal(hybrid.status, 400)
    assert.match(hybrid.body.error, /no embedder is configured/)
  })

  it('rebuilds the index on request, with the same answers after', async () => {
    const before = await search('q=editor+OR+tea&limit=20')
    const started = await api.request('POST', '/api/v1/search/reindex', undefined, { 'x-engram-client': 'test' })
    assert.equal(started.status, 202)
    assert.equal(typeof started.body.text.docs, 'number')
    const status = await eventually(async () => {
      const s = await api.request('GET', '/api/v1/search/index')
      return s.body.text.rebuilding === false ? s : undefined
    }, 'the rebuild to end')
    assert.equal(status.body.semantic, null)
    assert.deepEqual((await search('q=editor+OR+tea&limit=20')).body, before.body)
  })
})
