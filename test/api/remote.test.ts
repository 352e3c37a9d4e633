/**
 * What another machine learns from the routes it may reach (health, P2P status): what a peer
 * needs, and nothing about this machine's files, addresses or other peers.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startApi, type TestApi } from './helpers.ts'

const STATUS = {
  node_id: '12D3KooWRemoteTest', enabled: true, port: 19091, peer_count: 1,
  gossip_stats: { round: 3, pending_announcements: 0, known_ids: 2, bloom_filter_items: 2, bloom_filter_fpr: 0.01 },
  sync_stats: { peer_count: 1, local_ids: 2, total_successful_syncs: 3, total_failed_syncs: 0 },
  connected_peers: [{ addr: '/ip4/10.0.0.5/udp/19091/quic-v1/p2p/12D3KooWPeer', connected: true }],
  listen_addrs: ['/ip4/10.0.0.4/udp/19091/quic-v1', '/ip4/192.168.7.2/udp/19091/quic-v1'],
  feed_id: 'f'.repeat(32)
}

describe('routes other machines may reach', () => {
  let api: TestApi
  before(async () => { api = await startApi({ p2pStatus: () => STATUS }) })
  after(async () => { await api.close() })

  const remote = { remoteAddress: '10.1.2.3' }

  it('health: no database path for another machine', async () => {
    const local = (await api.app.inject({ method: 'GET', url: '/api/v1/health' })).json()
    assert.ok(String(local.components.store.detail).includes(api.dbFile), 'this machine sees the file')
    const far = await api.app.inject({ method: 'GET', url: '/api/v1/health', ...remote })
    assert.equal(far.statusCode, 200)
    assert.deepEqual(far.json(), {
      status: 'healthy',
      version: local.version,
      components: {
        graph: { status: 'healthy', message: 'the store answers' },
        logic: { status: 'healthy', message: 'no rule engine: nothing to evaluate' },
        store: { status: 'ok', kind: 'sqlite' },
        p2p: { status: 'enabled' }
      }
    })
    assert.match(local.components.graph.message, /^\d+ triples$/, 'this machine sees the count')
    assert.ok(!far.body.includes(api.dir))
  })

  it('P2P status: node id, enabled and port only (what the probe reads)', async () => {
    assert.deepEqual((await api.app.inject({ method: 'GET', url: '/api/v1/p2p/status' })).json(), STATUS)
    const far = await api.app.inject({ method: 'GET', url: '/api/v1/p2p/status', ...remote })
    assert.equal(far.statusCode, 200)
    assert.deepEqual(far.json(), { node_id: STATUS.node_id, enabled: true, port: 19091 })
  })
})
