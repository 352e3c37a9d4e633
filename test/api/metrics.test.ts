/**
 * GET /metrics over real HTTP: accepted by promtool (Prometheus's own parser and linter), every
 * family of docs/METRICS.md in the answer, counters that move with writes, and served to other
 * machines only with api.remoteMetrics. (With real peers: test/ui/metrics.test.ts.)
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { startApi, type TestApi } from './helpers.ts'
import { documentedMetrics, families, promtoolCheck, sample } from './promtool.ts'

const DOC = readFileSync(new URL('../../docs/METRICS.md', import.meta.url), 'utf8')

describe('GET /metrics', () => {
  let api: TestApi
  before(async () => { api = await startApi() })
  after(async () => { await api.close() })

  it('answers the Prometheus text format, which promtool accepts, with every documented family', async () => {
    const res = await api.request('GET', '/metrics')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    promtoolCheck(res.text)
    const names = families(res.text)
    const documented = documentedMetrics(DOC)
    assert.ok(documented.length >= 30, `docs/METRICS.md lists ${documented.length} metrics`)
    for (const name of documented) assert.ok(names.has(name), `${name} is documented but not in the answer`)
    for (const name of names.keys()) assert.ok(documented.includes(name), `${name} is in the answer but not documented`)
    assert.equal(sample(res.text, 'engram_store_up'), 1)
    assert.equal(sample(res.text, 'engram_info{node_id="node-a",version="9.9.9-test"}'), 1)
  })

  it('counts writes by kind and the store by kind', async () => {
    const before = await api.request('GET', '/metrics')
    const w0 = sample(before.text, 'engram_writes_total{kind="triple"}')!
    await api.request('POST', '/api/v1/triples', { triples: [{ subject: 'm:a', predicate: 'p', object: 1 }, { subject: 'm:b', predicate: 'p', object: 2 }] })
    await api.request('PUT', '/api/v1/notes/m:n', { value: true })
    const res = await api.request('GET', '/metrics')
    assert.equal(sample(res.text, 'engram_writes_total{kind="triple"}'), w0 + 2)
    assert.equal(sample(res.text, 'engram_writes_total{kind="note"}'), 1)
    assert.equal(sample(res.text, 'engram_store_records{kind="triple"}'), api.store.stats().triples)
    assert.equal(sample(res.text, 'engram_feed_last_seq'), api.store.stats().lastSeq)
    assert.ok(sample(res.text, 'process_resident_memory_bytes')! > 0)
  })

  it('is served to other machines only with api.remoteMetrics', async () => {
    const remote = { remoteAddress: '10.1.2.3' }
    const closed = await api.app.inject({ method: 'GET', url: '/metrics', ...remote })
    assert.equal(closed.statusCode, 403)
    assert.equal(closed.json().code, 'FORBIDDEN')
    const open = await startApi({ remoteMetrics: true })
    try {
      const r = await open.app.inject({ method: 'GET', url: '/metrics', ...remote })
      assert.equal(r.statusCode, 200)
      assert.match(r.body, /^# HELP engram_info /)
      assert.equal((await open.app.inject({ method: 'GET', url: '/api/v1/status', ...remote })).statusCode, 403, 'only the metrics open up')
      assert.equal((await open.app.inject({ method: 'GET', url: '/', ...remote })).statusCode, 403)
    } finally {
      await open.close()
    }
  })
})
