/** Health, status, P2P status, unknown routes. */
import type { P2pStatusView } from '../../src/api/contract.ts'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertError, faultyStore, NODE_ID, startApi, VERSION, type TestApi } from './helpers.ts'

describe('health, status, p2p, unknown routes', () => {
  const faults = faultyStore()
  let api: TestApi
  before(async () => { api = await startApi({ wrapStore: faults.wrap }) })
  after(async () => { await api.close() })

  it('GET /api/v1/health → 200 in the Cortex shape {status: "healthy", components: {graph, logic}}, engram\'s components alongside', async () => {
    await api.request('POST', '/api/v1/triples', { subject: 'health:a', predicate: 'p', object: 1 })
    const res = await api.request('GET', '/api/v1/health')
    assert.equal(res.status, 200)
    assert.equal(res.body.status, 'healthy')
    assert.equal(res.body.version, VERSION)
    const triples = (await api.request('GET', '/api/v1/status')).body.store.stats.triples
    assert.deepEqual(res.body.components.graph, { status: 'healthy', message: `${triples} triples` })
    assert.deepEqual(res.body.components.logic, { status: 'healthy', message: 'no rule engine: nothing to evaluate' })
    assert.equal(res.body.components.store.status, 'ok')
    assert.equal(res.body.components.store.kind, 'sqlite')
    assert.equal(res.body.components.p2p.status, 'disabled')
  })

  it('GET /api/v1/health → 503 "unhealthy" when the store is unhealthy', async () => {
    faults.health.value = { ok: false, detail: 'database file is gone' }
    try {
      const res = await api.request('GET', '/api/v1/health')
      assert.equal(res.status, 503)
      assert.equal(res.body.status, 'unhealthy')
      assert.deepEqual(res.body.components.graph, { status: 'unhealthy', message: 'database file is gone' })
      assert.equal(res.body.components.store.status, 'unavailable')
      assert.equal(res.body.components.store.detail, 'database file is gone')
    } finally {
      delete faults.health.value
    }
  })

  it('GET /api/v1/status → node facts and store stats', async () => {
    await api.request('POST', '/api/v1/triples', { subject: 'st:a', predicate: 'p', object: 1 })
    await api.request('PUT', '/api/v1/notes/st', { value: 1 })
    const res = await api.request('GET', '/api/v1/status')
    assert.equal(res.status, 200)
    assert.equal(res.body.nodeId, NODE_ID)
    assert.equal(res.body.version, VERSION)
    assert.equal(res.body.dataDir, api.dir)
    assert.equal(res.body.store.kind, 'sqlite')
    assert.equal(res.body.store.path, api.dbFile)
    assert.equal(res.body.store.status, 'ok')
    assert.ok(res.body.store.stats.triples >= 1)
    assert.ok(res.body.store.stats.notes >= 1)
    assert.ok(res.body.store.stats.lastSeq >= 2)
    assert.deepEqual(res.body.p2p, { enabled: false })
  })

  it('GET /api/v1/p2p/status → 404 {"error": "P2P not enabled"} while P2P is off', async () => {
    const res = await api.request('GET', '/api/v1/p2p/status')
    assertError(res, 404, 'NOT_FOUND')
    assert.equal(res.body.error, 'P2P not enabled')
  })

  it('unknown routes and methods → 404 NOT_FOUND in the error shape', async () => {
    assertError(await api.request('GET', '/api/v1/nothing-here'), 404, 'NOT_FOUND')
    assertError(await api.request('GET', '/nothing'), 404, 'NOT_FOUND')
    assertError(await api.request('POST', '/', {}), 404, 'NOT_FOUND')
    assertError(await api.request('PATCH', '/api/v1/triples', {}), 404, 'NOT_FOUND')
    assertError(await api.request('POST', '/api/v1/health', {}), 404, 'NOT_FOUND')
  })

  it('a malformed URL → 400 INVALID_INPUT', async () => {
    assertError(await api.request('GET', '/api/v1/notes/%E0%A4%A'), 400, 'INVALID_INPUT')
  })
})

describe('p2p status when P2P is enabled', () => {
  let api: TestApi
  const status: P2pStatusView = {
    node_id: NODE_ID, enabled: true, port: 19091, peer_count: 0, connected_peers: [], peers: [],
    gossip_stats: { round: 0, pending_announcements: 0, known_ids: 0, bloom_filter_items: 0, bloom_filter_fpr: 0 },
    sync_stats: { peer_count: 0, local_ids: 0, total_successful_syncs: 0, total_failed_syncs: 0 }
  }
  before(async () => { api = await startApi({ p2pStatus: () => status }) })
  after(async () => { await api.close() })

  it('GET /api/v1/p2p/status → 200 with the P2P engine status', async () => {
    const res = await api.request('GET', '/api/v1/p2p/status')
    assert.equal(res.status, 200)
    assert.deepEqual(res.body, status)
    const health = await api.request('GET', '/api/v1/health')
    assert.equal(health.body.components.p2p.status, 'enabled')
    assert.deepEqual((await api.request('GET', '/api/v1/status')).body.p2p, { enabled: true })
  })
})

describe('a node whose store has failed', () => {
  let api: TestApi
  before(async () => { api = await startApi() })
  after(async () => { await api.close() })

  it('health → 503 unhealthy; reads and writes → 503 STORE_UNAVAILABLE', async () => {
    api.store.close()
    const health = await api.request('GET', '/api/v1/health')
    assert.equal(health.status, 503)
    assert.equal(health.body.status, 'unhealthy')
    assert.match(health.body.components.store.detail, /closed/)
    assertError(await api.request('GET', '/api/v1/triples'), 503, 'STORE_UNAVAILABLE')
    assertError(await api.request('POST', '/api/v1/triples', { subject: 's:a', predicate: 'p', object: 1 }), 503, 'STORE_UNAVAILABLE')
    assertError(await api.request('PUT', '/api/v1/notes/k', { value: 1 }), 503, 'STORE_UNAVAILABLE')
    assertError(await api.request('GET', '/api/v1/status'), 503, 'STORE_UNAVAILABLE')
  })
})

describe('over-long paths', () => {
  let api: TestApi
  before(async () => { api = await startApi() })
  after(async () => { await api.close() })

  it('a path parameter over 4,096 characters → 414 LIMIT_EXCEEDED; an over-long note key → 400 naming key', async () => {
    assertError(await api.request('GET', `/api/v1/triples/${'a'.repeat(5000)}`), 414, 'LIMIT_EXCEEDED')
    assertError(await api.request('GET', `/api/v1/notes/${'k'.repeat(5000)}`), 400, 'INVALID_INPUT', 'key')
  })
})
