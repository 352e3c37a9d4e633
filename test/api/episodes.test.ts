import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertError, enc, NODE_ID, startApi, type TestApi } from './helpers.ts'

describe('episodes API', () => {
  let api: TestApi
  before(async () => { api = await startApi() })
  after(async () => { await api.close() })

  it('creates an episode with a generated id: 201 {id, data, hlc, origin, updated_at}', async () => {
    const data = { agent: 'coder', sessionId: 's-1', summary: 'fixed the build', tags: ['ci'] }
    const res = await api.request('POST', '/api/v1/episodes', { data })
    assert.equal(res.status, 201, res.text)
    assert.deepEqual(Object.keys(res.body).sort(), ['data', 'hlc', 'id', 'origin', 'provenance', 'updated_at'])
    assert.match(res.body.id, /^ep-[0-9a-f-]{36}$/)
    assert.deepEqual(res.body.data, data)
    assert.equal(res.body.origin, NODE_ID)
    const got = await api.request('GET', `/api/v1/episodes/${enc(res.body.id)}`)
    assert.deepEqual(got.body, res.body)
  })

  it('creates with a given id (which may contain "/" and ":") and replaces its data on a second post', async () => {
    const id = 'agent:coder/session 42'
    const a = await api.request('POST', '/api/v1/episodes', { id, data: { summary: 'first' } })
    assert.equal(a.status, 201)
    assert.equal(a.body.id, id)
    const b = await api.request('POST', '/api/v1/episodes', { id, data: { summary: 'second' } })
    assert.ok(b.body.hlc > a.body.hlc)
    const got = await api.request('GET', `/api/v1/episodes/${enc(id)}`)
    assert.deepEqual(got.body.data, { summary: 'second' })
    const unencoded = await api.request('GET', '/api/v1/episodes/agent:coder/session%2042')
    assert.equal(unencoded.body.id, id)
  })

  it('lists newest first, by prefix, with pagination', async () => {
    for (let i = 0; i < 7; i++) await api.request('POST', '/api/v1/episodes', { id: `lst:${i}`, data: { i } })
    const page = await api.request('GET', '/api/v1/episodes?prefix=lst:&limit=3&offset=1')
    assert.equal(page.status, 200)
    assert.equal(page.body.total, 7)
    assert.deepEqual([page.body.limit, page.body.offset], [3, 1])
    assert.deepEqual(page.body.episodes.map((e: { id: string }) => e.id), ['lst:5', 'lst:4', 'lst:3'])
    const all = await api.request('GET', '/api/v1/episodes')
    assert.ok(all.body.total >= 7)
  })

  it('answers errors with the field named', async () => {
    assertError(await api.request('GET', '/api/v1/episodes/nope'), 404, 'NOT_FOUND')
    assertError(await api.request('POST', '/api/v1/episodes', {}), 400, 'INVALID_INPUT', 'data')
    assertError(await api.request('POST', '/api/v1/episodes', { data: 'text' }), 400, 'INVALID_INPUT', 'data')
    assertError(await api.request('POST', '/api/v1/episodes', { data: [1] }), 400, 'INVALID_INPUT', 'data')
    assertError(await api.request('POST', '/api/v1/episodes', { id: 7, data: {} }), 400, 'INVALID_INPUT', 'id')
    assertError(await api.request('POST', '/api/v1/episodes', { id: '', data: {} }), 400, 'INVALID_INPUT', 'id')
    assertError(await api.request('POST', '/api/v1/episodes', { id: 'x'.repeat(257), data: {} }), 400, 'INVALID_INPUT', 'id')
    assertError(await api.request('POST', '/api/v1/episodes', { data: {}, extra: 1 }), 400, 'INVALID_INPUT', 'extra')
    assertError(await api.request('GET', '/api/v1/episodes/'), 400, 'INVALID_INPUT', 'id')
    assertError(await api.request('GET', '/api/v1/episodes?offset=x'), 400, 'INVALID_INPUT', 'offset')
  })
})
