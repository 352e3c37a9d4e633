/**
 * GET /metrics over real HTTP: accepted by promtool (Prometheus's own parser and linter), every
 * family of docs/METRICS.md in the answer, counters that move with writes, the mailbox's counts
 * (in the live status too), and served to other machines only with api.remoteMetrics. (With real
 * peers: test/ui/metrics.test.ts.)
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { startApi, type TestApi } from './helpers.ts'
import { documentedMetrics, families, promtoolCheck, sample } from './promtool.ts'
import { openSse } from './sse.ts'
import type { MailboxCounts } from '../../src/sync/mailbox/MailboxSync.ts'

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

  it('reports what the mailbox rounds did, in the metrics and the live status', async () => {
    assert.equal(sample((await api.request('GET', '/metrics')).text, 'engram_mailbox_pages_total{event="deposited"}'), undefined, 'no mailbox: no samples')
    const counts: MailboxCounts = { deposited: 3, depositedBytes: 4096, notStored: 1, pulled: 5, pulledBytes: 7000, applied: 120, refused: 2, voided: 4 }
    const withBox = await startApi({ mailbox: () => counts })
    try {
      const m = (await withBox.request('GET', '/metrics')).text
      promtoolCheck(m)
      assert.deepEqual(['deposited', 'not_stored', 'pulled', 'refused'].map(e => sample(m, `engram_mailbox_pages_total{event="${e}"}`)), [3, 1, 5, 2])
      assert.equal(sample(m, 'engram_mailbox_applied_records_total'), 120)
      assert.equal(sample(m, 'engram_mailbox_voided_records_total'), 4)
      assert.deepEqual(['deposited', 'pulled'].map(d => sample(m, `engram_mailbox_bytes_total{direction="${d}"}`)), [4096, 7000])
      const s = await openSse(`${withBox.base}/api/v1/status/stream`)
      try {
        assert.deepEqual(JSON.parse((await s.next(e => e.event === 'ready', 10_000)).data).mailbox, counts)
      } finally {
        s.close()
      }
    } finally {
      await withBox.close()
    }
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
