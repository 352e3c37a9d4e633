import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertError, NODE_ID, startApi, type TestApi } from './helpers.ts'

describe('traces API', () => {
  let api: TestApi
  before(async () => { api = await startApi() })
  after(async () => { await api.close() })

  it('appends one entry: 201 {id, runId, type, data, hlc, origin, created_at}', async () => {
    const res = await api.request('POST', '/api/v1/traces', { runId: 'run-1', type: 'tool_call', data: { tool: 'grep', args: ['x'] } })
    assert.equal(res.status, 201, res.text)
    assert.deepEqual(Object.keys(res.body).sort(), ['created_at', 'data', 'hlc', 'id', 'origin', 'provenance', 'runId', 'type'])
    assert.match(res.body.id, /^[0-9a-f]{64}$/)
    assert.equal(res.body.origin, NODE_ID)
    const got = await api.request('GET', `/api/v1/traces/${res.body.id}`)
    assert.deepEqual(got.body, res.body)
  })

  it('appends a batch: 201 {traces, created}; the same content twice is two entries', async () => {
    const entry = { runId: 'run-2', type: 'step', data: 'same' }
    const res = await api.request('POST', '/api/v1/traces', { traces: [entry, entry, { runId: 'run-2', type: 'end', data: null }] })
    assert.equal(res.status, 201, res.text)
    assert.equal(res.body.created, 3)
    assert.equal(new Set(res.body.traces.map((t: { id: string }) => t.id)).size, 3)
  })

  it('lists a run oldest first with pagination', async () => {
    const traces = Array.from({ length: 9 }, (_, i) => ({ runId: 'run-3', type: 'step', data: i }))
    await api.request('POST', '/api/v1/traces', { traces })
    const page = await api.request('GET', '/api/v1/traces?runId=run-3&limit=4&offset=4')
    assert.equal(page.status, 200)
    assert.equal(page.body.total, 9)
    assert.deepEqual([page.body.limit, page.body.offset], [4, 4])
    assert.deepEqual(page.body.traces.map((t: { data: number }) => t.data), [4, 5, 6, 7])
    const all = await api.request('GET', '/api/v1/traces')
    assert.ok(all.body.total >= 9)
  })

  it('refuses a batch over 10,000 entries with 413', async () => {
    const traces = Array.from({ length: 10_001 }, (_, i) => ({ runId: 'run-big', type: 't', data: i }))
    assertError(await api.request('POST', '/api/v1/traces', { traces }), 413, 'LIMIT_EXCEEDED')
    assert.equal((await api.request('GET', '/api/v1/traces?runId=run-big')).body.total, 0)
  })

  it('answers errors with the field named', async () => {
    assertError(await api.request('GET', `/api/v1/traces/${'f'.repeat(64)}`), 404, 'NOT_FOUND')
    assertError(await api.request('GET', '/api/v1/traces/bad-id'), 400, 'INVALID_INPUT', 'id')
    assertError(await api.request('POST', '/api/v1/traces', { runId: 'r', type: 't' }), 400, 'INVALID_INPUT', 'data')
    assertError(await api.request('POST', '/api/v1/traces', { runId: 5, type: 't', data: 1 }), 400, 'INVALID_INPUT', 'runId')
    assertError(await api.request('POST', '/api/v1/traces', { runId: 'r', type: '', data: 1 }), 400, 'INVALID_INPUT', 'type')
    assertError(await api.request('POST', '/api/v1/traces', { traces: [{ runId: 'r', type: 't', data: 1 }, { runId: 'r', data: 1 }] }), 400, 'INVALID_INPUT', 'traces[1].type')
    assertError(await api.request('POST', '/api/v1/traces', { traces: 'all' }), 400, 'INVALID_INPUT', 'traces')
    assertError(await api.request('POST', '/api/v1/traces', { runId: 'r'.repeat(257), type: 't', data: 1 }), 400, 'INVALID_INPUT', 'runId')
    assertError(await api.request('GET', '/api/v1/traces?run=r'), 400, 'INVALID_INPUT', 'run')
  })
})
