import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertError, startApi, type TestApi } from './helpers.ts'

describe('POST /api/v1/query', () => {
  let api: TestApi
  before(async () => {
    api = await startApi()
    await api.request('POST', '/api/v1/triples', {
      triples: [
        { subject: 'q:alice', predicate: 'knows', object: { node: 'q:bob' } },
        { subject: 'q:alice', predicate: 'age', object: 30 },
        { subject: 'q:bob', predicate: 'age', object: 30 },
        { subject: 'q:bob', predicate: 'name', object: 'Bob' },
        { subject: 'other:carol', predicate: 'age', object: 30 }
      ]
    })
  })
  after(async () => { await api.close() })

  const ids = (matches: { subject: string, predicate: string }[]) => matches.map(t => `${t.subject} ${t.predicate}`)

  it('matches on any combination of fields: {matches, total, limit, offset}', async () => {
    const res = await api.request('POST', '/api/v1/query', { predicate: 'age', object: 30 })
    assert.equal(res.status, 200)
    assert.deepEqual(ids(res.body.matches), ['other:carol age', 'q:alice age', 'q:bob age'])
    assert.equal(res.body.total, 3)
    assert.deepEqual([res.body.limit, res.body.offset], [100, 0])
    assert.deepEqual(ids((await api.request('POST', '/api/v1/query', { subject: 'q:alice' })).body.matches), ['q:alice age', 'q:alice knows'])
    assert.deepEqual(ids((await api.request('POST', '/api/v1/query', { object: { node: 'q:bob' } })).body.matches), ['q:alice knows'])
    assert.deepEqual(ids((await api.request('POST', '/api/v1/query', { namespace: 'q', predicate: 'age' })).body.matches), ['q:alice age', 'q:bob age'])
    assert.equal((await api.request('POST', '/api/v1/query', { object: '30' })).body.total, 0, 'the string "30" is not the number 30')
  })

  it('an empty pattern matches everything, paged', async () => {
    const res = await api.request('POST', '/api/v1/query', { limit: 2, offset: 1 })
    assert.equal(res.body.total, 5)
    assert.equal(res.body.matches.length, 2)
    assert.deepEqual([res.body.limit, res.body.offset], [2, 1])
  })

  it('refuses bad bodies with the field named', async () => {
    assertError(await api.request('POST', '/api/v1/query', { subject: 5 }), 400, 'INVALID_INPUT', 'subject')
    assertError(await api.request('POST', '/api/v1/query', { limit: '10' }), 400, 'INVALID_INPUT', 'limit')
    assertError(await api.request('POST', '/api/v1/query', { limit: 10_001 }), 400, 'INVALID_INPUT', 'limit')
    assertError(await api.request('POST', '/api/v1/query', { offset: -1 }), 400, 'INVALID_INPUT', 'offset')
    assertError(await api.request('POST', '/api/v1/query', { object: { nod: 'x' } }), 400, 'INVALID_INPUT', 'object')
    assertError(await api.request('POST', '/api/v1/query', { object: null }), 400, 'INVALID_INPUT', 'object')
    assertError(await api.request('POST', '/api/v1/query', { subjects: ['a'] }), 400, 'INVALID_INPUT', 'subjects')
    assertError(await api.request('POST', '/api/v1/query', 'not json'), 400, 'INVALID_INPUT', 'body')
  })
})
