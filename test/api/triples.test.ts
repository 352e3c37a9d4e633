import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import { assertError, enc, NODE_ID, startApi, type TestApi } from './helpers.ts'

const HEX64 = /^[0-9a-f]{64}$/
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const HLC_TEXT = /^[0-9a-f]{12}\.[0-9a-f]{4}\.node-a$/

describe('triples API', () => {
  let api: TestApi
  before(async () => { api = await startApi() })
  after(async () => { await api.close() })

  it('creates one triple, Cortex-shaped: 201 with {id, subject, predicate, object, created_at} (and created: true)', async () => {
    const t0 = Date.now()
    const res = await api.request('POST', '/api/v1/triples', { subject: 'user:alice', predicate: 'prefers:editor', object: 'vim' })
    assert.equal(res.status, 201, res.text)
    const t = res.body
    assert.deepEqual(Object.keys(t).sort(), ['created', 'created_at', 'hlc', 'id', 'object', 'origin', 'predicate', 'provenance', 'subject'])
    assert.equal(t.created, true)
    assert.match(t.id, HEX64)
    assert.equal(t.subject, 'user:alice')
    assert.equal(t.predicate, 'prefers:editor')
    assert.equal(t.object, 'vim')
    assert.match(t.created_at, ISO)
    assert.ok(Date.parse(t.created_at) >= t0 - 1 && Date.parse(t.created_at) <= Date.now() + 1)
    assert.match(t.hlc, HLC_TEXT)
    assert.equal(t.origin, NODE_ID)
  })

  it('acknowledges a write only once it is committed to the database file', async () => {
    const res = await api.request('POST', '/api/v1/triples', { subject: 'commit:x', predicate: 'p', object: 1 })
    assert.equal(res.status, 201)
    const got = await api.request('GET', `/api/v1/triples/${res.body.id}`)
    assert.equal(got.status, 200)
    const { created: _c, ...stored } = res.body
    assert.deepEqual(got.body, stored)
    // A second connection to the same file sees it: the transaction had committed.
    const other = SqliteStore.open(api.dbFile)
    try {
      assert.equal(other.getTriple(res.body.id)?.deleted, false)
    } finally {
      other.close()
    }
  })

  it('adding a present triple again asserts it again: same id, a newer stamp, created false', async () => {
    const body = { subject: 'idem:a', predicate: 'p', object: { node: 'idem:b' } }
    const a = await api.request('POST', '/api/v1/triples', body)
    const b = await api.request('POST', '/api/v1/triples', body)
    assert.equal(a.status, 201)
    assert.equal(b.status, 201)
    assert.equal(a.body.created, true)
    assert.equal(b.body.created, false)
    assert.equal(b.body.id, a.body.id)
    assert.ok(b.body.hlc > a.body.hlc, `re-stamped: ${a.body.hlc} then ${b.body.hlc}`)
    const got = await api.request('GET', `/api/v1/triples/${a.body.id}`)
    assert.equal(got.body.hlc, b.body.hlc)
  })

  it('creates a batch: 201 {triples, created, reasserted}; created counts triples new here, reasserted present ones', async () => {
    await api.request('POST', '/api/v1/triples', { subject: 'batch:0', predicate: 'p', object: 0 })
    const triples = [0, 1, 2, 3].map(i => ({ subject: `batch:${i}`, predicate: 'p', object: i }))
    triples.push({ subject: 'batch:3', predicate: 'p', object: 3 }) // a duplicate within the batch
    const res = await api.request('POST', '/api/v1/triples', { triples })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.triples.length, 5)
    assert.equal(res.body.created, 3)
    assert.equal(res.body.reasserted, 1)
    assert.deepEqual(res.body.triples.map((t: { subject: string }) => t.subject), ['batch:0', 'batch:1', 'batch:2', 'batch:3', 'batch:3'])
    assert.equal(res.body.triples[3].id, res.body.triples[4].id)
    const empty = await api.request('POST', '/api/v1/triples', { triples: [] })
    assert.equal(empty.status, 201)
    assert.deepEqual(empty.body, { triples: [], created: 0, reasserted: 0 })
  })

  it('accepts a batch of exactly 10,000 and refuses 10,001 with 413 LIMIT_EXCEEDED', async () => {
    const mk = (n: number) => Array.from({ length: n }, (_, i) => ({ subject: `big:${i}`, predicate: 'p', object: i }))
    const over = await api.request('POST', '/api/v1/triples', { triples: mk(10_001) })
    assertError(over, 413, 'LIMIT_EXCEEDED')
    assert.equal(over.body.details.limit, 10_000)
    assert.equal(over.body.details.actual, 10_001)
    const count = await api.request('GET', '/api/v1/triples?namespace=big&limit=1')
    assert.equal(count.body.total, 0, 'nothing of a refused batch is stored')
    const ok = await api.request('POST', '/api/v1/triples', { triples: mk(10_000) })
    assert.equal(ok.status, 201)
    assert.equal(ok.body.created, 10_000)
    const after = await api.request('GET', '/api/v1/triples?namespace=big&limit=1')
    assert.equal(after.body.total, 10_000)
  })

  it('reads one triple by id; unknown id → 404, malformed id → 400', async () => {
    const created = await api.request('POST', '/api/v1/triples', { subject: 'read:a', predicate: 'p', object: true })
    const got = await api.request('GET', `/api/v1/triples/${created.body.id}`)
    assert.equal(got.status, 200)
    const { created: _c, ...stored } = created.body
    assert.deepEqual(got.body, stored)
    assertError(await api.request('GET', `/api/v1/triples/${'0'.repeat(64)}`), 404, 'NOT_FOUND')
    assertError(await api.request('GET', '/api/v1/triples/not-an-id'), 400, 'INVALID_INPUT', 'id')
    assertError(await api.request('GET', `/api/v1/triples/${'A'.repeat(64)}`), 400, 'INVALID_INPUT', 'id')
  })

  it('deletes by id: {deleted: 1, id, hlc}; then the triple is gone and a second delete is 404', async () => {
    const created = await api.request('POST', '/api/v1/triples', { subject: 'del:a', predicate: 'p', object: 'x' })
    const id: string = created.body.id
    const del = await api.request('DELETE', `/api/v1/triples/${id}`)
    assert.equal(del.status, 200)
    assert.deepEqual(del.body, { deleted: 1, id, hlc: del.body.hlc })
    assert.ok(del.body.hlc > created.body.hlc, 'the delete is stamped after the add')
    assertError(await api.request('GET', `/api/v1/triples/${id}`), 404, 'NOT_FOUND')
    assertError(await api.request('DELETE', `/api/v1/triples/${id}`), 404, 'NOT_FOUND')
    assertError(await api.request('DELETE', '/api/v1/triples/zzz'), 400, 'INVALID_INPUT', 'id')
    const list = await api.request('GET', '/api/v1/triples?subject=del:a')
    assert.equal(list.body.total, 0)
    // Adding it back gives it a newer stamp.
    const again = await api.request('POST', '/api/v1/triples', { subject: 'del:a', predicate: 'p', object: 'x' })
    assert.equal(again.body.id, id)
    assert.ok(again.body.hlc > created.body.hlc)
  })

  it('replaces a triple in one transaction: the old one deleted, the new one added, one change event', async () => {
    const old = (await api.request('POST', '/api/v1/triples', { subject: 'edit:a', predicate: 'p', object: 'before' })).body
    const events: number[] = []
    const listener = (e: { entries: readonly unknown[] }): void => { events.push(e.entries.length) }
    api.engine.on('change', listener)
    const res = await api.request('POST', `/api/v1/triples/${old.id}/replace`, { subject: 'edit:a', predicate: 'p', object: { node: 'edit:b' } })
    api.engine.off('change', listener)
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.replaced, old.id)
    assert.deepEqual(res.body.triple.object, { node: 'edit:b' })
    assert.notEqual(res.body.triple.id, old.id)
    assert.ok(res.body.triple.hlc > old.hlc)
    assert.deepEqual(events, [2], 'the tombstone and the new triple commit together')
    assertError(await api.request('GET', `/api/v1/triples/${old.id}`), 404, 'NOT_FOUND')
    assert.deepEqual((await api.request('GET', '/api/v1/triples?subject=edit:a')).body.triples.map((t: { id: string }) => t.id), [res.body.triple.id])

    // the same content: nothing changes; onto a triple already there: that one is asserted again
    // with a new stamp, as an add of it is (re-add means present)
    const same = await api.request('POST', `/api/v1/triples/${res.body.triple.id}/replace`, { subject: 'edit:a', predicate: 'p', object: { node: 'edit:b' } })
    assert.deepEqual(same.body, { triple: res.body.triple, replaced: res.body.triple.id })
    const other = (await api.request('POST', '/api/v1/triples', { subject: 'edit:c', predicate: 'p', object: 1 })).body
    const onto = await api.request('POST', `/api/v1/triples/${res.body.triple.id}/replace`, { subject: 'edit:c', predicate: 'p', object: 1 })
    assert.equal(onto.body.triple.id, other.id)
    assert.deepEqual([onto.body.triple.subject, onto.body.triple.predicate, onto.body.triple.object], [other.subject, other.predicate, other.object], 'the same triple')
    assert.ok(onto.body.triple.hlc > other.hlc, `asserted again with a newer stamp (${onto.body.triple.hlc} after ${other.hlc})`)
    assertError(await api.request('GET', `/api/v1/triples/${res.body.triple.id}`), 404, 'NOT_FOUND')
  })

  it('refuses a replace of a triple that is gone (404) or with a bad new triple (400, nothing written)', async () => {
    const t = (await api.request('POST', '/api/v1/triples', { subject: 'edit:x', predicate: 'p', object: 'v' })).body
    const seq = api.store.stats().lastSeq
    assertError(await api.request('POST', `/api/v1/triples/${t.id}/replace`, { subject: 'edit:x', predicate: 'p', object: { datetime: 'never' } }), 400, 'INVALID_INPUT', 'object.datetime')
    assertError(await api.request('POST', `/api/v1/triples/${t.id}/replace`, { subject: 'edit:x', object: 'v' }), 400, 'INVALID_INPUT', 'predicate')
    assertError(await api.request('POST', `/api/v1/triples/${'0'.repeat(64)}/replace`, { subject: 'edit:x', predicate: 'p', object: 'w' }), 404, 'NOT_FOUND')
    assertError(await api.request('POST', '/api/v1/triples/nothex/replace', { subject: 'edit:x', predicate: 'p', object: 'w' }), 400, 'INVALID_INPUT', 'id')
    assert.equal(api.store.stats().lastSeq, seq, 'nothing written')
  })

  it('deletes by pattern: {deleted: n}; no filter → 400; misspelt filter → 400', async () => {
    const triples = [
      { subject: 'pat:a', predicate: 'likes', object: 'x' },
      { subject: 'pat:a', predicate: 'likes', object: 'y' },
      { subject: 'pat:a', predicate: 'hates', object: 'x' },
      { subject: 'pat:b', predicate: 'likes', object: 'x' }
    ]
    await api.request('POST', '/api/v1/triples', { triples })
    const del = await api.request('DELETE', '/api/v1/triples?subject=pat:a&predicate=likes')
    assert.equal(del.status, 200)
    assert.deepEqual(del.body, { deleted: 2 })
    const left = await api.request('GET', '/api/v1/triples?namespace=pat')
    assert.deepEqual(left.body.triples.map((t: { subject: string, predicate: string }) => `${t.subject} ${t.predicate}`).sort(), ['pat:a hates', 'pat:b likes'])
    const byObject = await api.request('DELETE', '/api/v1/triples?namespace=pat&object=x')
    assert.deepEqual(byObject.body, { deleted: 2 })
    assert.deepEqual((await api.request('DELETE', '/api/v1/triples?subject=pat:a')).body, { deleted: 0 })
    assertError(await api.request('DELETE', '/api/v1/triples'), 400, 'INVALID_INPUT', 'pattern')
    assertError(await api.request('DELETE', '/api/v1/triples?subjet=pat:a'), 400, 'INVALID_INPUT', 'subjet')
    assertError(await api.request('DELETE', '/api/v1/triples?subject='), 400, 'INVALID_INPUT', 'subject')
    assertError(await api.request('DELETE', '/api/v1/triples?limit=5'), 400, 'INVALID_INPUT', 'limit')
  })

  it('lists with pagination: {triples, total, limit, offset}, stable order, totals exact', async () => {
    const triples = Array.from({ length: 25 }, (_, i) => ({ subject: `page:${String(i).padStart(2, '0')}`, predicate: 'p', object: i }))
    await api.request('POST', '/api/v1/triples', { triples })
    const seen: string[] = []
    for (const offset of [0, 10, 20, 30]) {
      const res = await api.request('GET', `/api/v1/triples?namespace=page&limit=10&offset=${offset}`)
      assert.equal(res.status, 200)
      assert.equal(res.body.total, 25)
      assert.equal(res.body.limit, 10)
      assert.equal(res.body.offset, offset)
      assert.equal(res.body.triples.length, Math.max(0, Math.min(10, 25 - offset)))
      seen.push(...res.body.triples.map((t: { subject: string }) => t.subject))
    }
    assert.deepEqual(seen, triples.map(t => t.subject))
    const def = await api.request('GET', '/api/v1/triples?namespace=page')
    assert.equal(def.body.limit, 100)
    assert.equal(def.body.offset, 0)
    assert.equal(def.body.triples.length, 25)
    const zero = await api.request('GET', '/api/v1/triples?namespace=page&limit=0')
    assert.deepEqual([zero.body.triples.length, zero.body.total], [0, 25])
  })

  it('filters by subject, predicate, object and namespace', async () => {
    await api.request('POST', '/api/v1/triples', {
      triples: [
        { subject: 'flt:alice', predicate: 'knows', object: { node: 'flt:bob' } },
        { subject: 'flt:alice', predicate: 'name', object: 'Alice' },
        { subject: 'flt:bob', predicate: 'name', object: 'Bob' },
        { subject: 'flt:bob', predicate: 'age', object: 42 }
      ]
    })
    const q = async (qs: string) => (await api.request('GET', `/api/v1/triples?namespace=flt&${qs}`)).body.triples
      .map((t: { subject: string, predicate: string }) => `${t.subject} ${t.predicate}`)
    assert.deepEqual(await q('subject=flt:alice'), ['flt:alice knows', 'flt:alice name'])
    assert.deepEqual(await q('predicate=name'), ['flt:alice name', 'flt:bob name'])
    assert.deepEqual(await q('object=Bob'), ['flt:bob name'])
    assert.deepEqual(await q(`object=${enc('{"node":"flt:bob"}')}`), ['flt:alice knows'])
    assert.deepEqual(await q('object=flt:bob'), [], 'plain text matches a string literal, not a node')
    assert.deepEqual(await q(`object=${enc('{"kind":"number","value":42}')}`), ['flt:bob age'])
    assert.deepEqual(await q('object=42'), [], '42 in a query string is the string "42"')
    assert.deepEqual(await q('subject=flt:bob&predicate=name&object=Bob'), ['flt:bob name'])
  })

  it('refuses bad query parameters with 400 naming the parameter', async () => {
    assertError(await api.request('GET', '/api/v1/triples?limit=abc'), 400, 'INVALID_INPUT', 'limit')
    assertError(await api.request('GET', '/api/v1/triples?limit=10001'), 400, 'INVALID_INPUT', 'limit')
    assertError(await api.request('GET', '/api/v1/triples?limit=-1'), 400, 'INVALID_INPUT', 'limit')
    assertError(await api.request('GET', '/api/v1/triples?limit=1.5'), 400, 'INVALID_INPUT', 'limit')
    assertError(await api.request('GET', '/api/v1/triples?offset=-3'), 400, 'INVALID_INPUT', 'offset')
    assertError(await api.request('GET', '/api/v1/triples?subject=a&subject=b'), 400, 'INVALID_INPUT', 'subject')
    assertError(await api.request('GET', '/api/v1/triples?colour=red'), 400, 'INVALID_INPUT', 'colour')
    assertError(await api.request('GET', `/api/v1/triples?object=${enc('{"node":')}`), 400, 'INVALID_INPUT', 'object')
    assertError(await api.request('GET', `/api/v1/triples?object=${enc('{"nod":"x"}')}`), 400, 'INVALID_INPUT', 'object')
    assertError(await api.request('GET', `/api/v1/triples?object=${enc('{"datetime":"yesterday"}')}`), 400, 'INVALID_INPUT', 'object.datetime')
  })
})
