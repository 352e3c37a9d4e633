/** POST /api/v1/query/batch over real HTTP: several pattern queries in one request. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertError, startApi, type TestApi } from './helpers.ts'

describe('POST /api/v1/query/batch', () => {
  let api: TestApi
  before(async () => {
    api = await startApi()
    const res = await api.request('POST', '/api/v1/triples', { triples: [
      { subject: 'kg:Alice', predicate: 'kg:entityType', object: 'person' },
      { subject: 'kg:Alice', predicate: 'kg:observation', object: 'likes tea' },
      { subject: 'kg:Alice', predicate: 'works_at', object: { node: 'kg:Acme' } },
      { subject: 'kg:Bob', predicate: 'knows', object: { node: 'kg:Acme' } },
      { subject: 'user:carol', predicate: 'knows', object: { node: 'kg:Acme' } }
    ] })
    assert.equal(res.status, 201)
  })
  after(async () => { await api.close() })

  it('answers each query in order, paged like POST /api/v1/query', async () => {
    const res = await api.request('POST', '/api/v1/query/batch', { queries: [
      { subject: 'kg:Alice' },
      { object: { node: 'kg:Acme' }, namespace: 'kg' },
      { subject: 'kg:Alice', limit: 1, offset: 1 },
      { subject: 'kg:Nobody' }
    ] })
    assert.equal(res.status, 200, res.text)
    const r = res.body.results
    assert.equal(r.length, 4)
    assert.equal(r[0].total, 3)
    assert.deepEqual(r[1].matches.map((t: { subject: string }) => t.subject).sort(), ['kg:Alice', 'kg:Bob'])
    assert.deepEqual([r[2].matches.length, r[2].total, r[2].limit, r[2].offset], [1, 3, 1, 1])
    assert.deepEqual([r[3].matches, r[3].total, r[3].limit, r[3].offset], [[], 0, 100, 0])
    assert.deepEqual(Object.keys(r[0].matches[0]).sort(), ['created_at', 'hlc', 'id', 'object', 'origin', 'predicate', 'provenance', 'subject'])
  })

  it('names the query and field of an error, and enforces its limits', async () => {
    assertError(await api.request('POST', '/api/v1/query/batch', { queries: [{}, { object: { node: '' } }] }), 400, 'INVALID_INPUT', 'queries[1].object.node')
    assertError(await api.request('POST', '/api/v1/query/batch', { queries: [{ limit: 'x' }] }), 400, 'INVALID_INPUT', 'queries[0].limit')
    assertError(await api.request('POST', '/api/v1/query/batch', { queries: [{ subjet: 'kg:Alice' }] }), 400, 'INVALID_INPUT', 'queries[0].subjet')
    assertError(await api.request('POST', '/api/v1/query/batch', {}), 400, 'INVALID_INPUT', 'queries')
    const many = await api.request('POST', '/api/v1/query/batch', { queries: Array.from({ length: 1001 }, () => ({ limit: 1 })) })
    assertError(many, 413, 'LIMIT_EXCEEDED')
    assert.equal(many.body.details.limit, 1000)
    const big = await api.request('POST', '/api/v1/query/batch', { queries: Array.from({ length: 3 }, () => ({ limit: 10_000 })) })
    assertError(big, 413, 'LIMIT_EXCEEDED')
    assert.equal(big.body.details.limit, 20_000)
  })
  it('bounds the answer: past 32 MiB of JSON it is refused, naming the query it reached', async () => {
    // 2,000 triples with 60 KiB literals: 20 queries of 100 fit the match limit, not the answer cap.
    const big = 'x'.repeat(60 * 1024)
    for (let b = 0; b < 40; b++) {
      const res = await api.request('POST', '/api/v1/triples', { triples: Array.from({ length: 50 }, (_, i) => ({ subject: 'big:s', predicate: `p${b * 50 + i}`, object: big })) })
      assert.equal(res.status, 201, res.text)
    }
    const res = await api.request('POST', '/api/v1/query/batch', { queries: Array.from({ length: 20 }, (_, i) => ({ subject: 'big:s', limit: 100, offset: i * 100 })) })
    assertError(res, 413, 'LIMIT_EXCEEDED')
    assert.match(res.body.error, /^the answer of the queries batch, up to queries\[5\], in characters, is \d+, over the limit of 33554432: ask for fewer matches/)
    // Under the cap, the same pages answer.
    const ok = await api.request('POST', '/api/v1/query/batch', { queries: Array.from({ length: 5 }, (_, i) => ({ subject: 'big:s', limit: 100, offset: i * 100 })) })
    assert.equal(ok.status, 200)
    assert.equal(ok.body.results.length, 5)
    assert.equal(ok.body.results[4].matches[99].object, big)
  })
})
