/**
 * Multi-process: mode selection and the CLI in native mode. `engram sync pair` adds the peer
 * as a P2P peer too; once the P2P session is open, polled sync leaves the peer alone;
 * `engram sync status` shows the P2P peers with gossip and sync statistics; `engram sync now`
 * shows the gossip statistics. The /api/v1/p2p/peers routes add, list and remove peers.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { daemonsFixture, freePorts, startP2pNode, until } from './daemons.ts'

const { box, live } = daemonsFixture()

describe('native mode in the CLI and the API', () => {
  it('sync pair adds a P2P peer, polled sync skips it, status and now show the gossip statistics', async () => {
    const [pa, pb] = await freePorts(2)
    const a = await startP2pNode(box(), 'cli-a', { p2pPort: pa })
    const b = await startP2pNode(box(), 'cli-b', { p2pPort: pb })
    live.add(a); live.add(b)

    const pair = await a.cli(['sync', 'pair', 'b', b.url])
    assert.equal(pair.code, 0, pair.stderr)
    assert.match(pair.stdout, new RegExp(`is a P2P peer too, at 127\\.0\\.0\\.1:${pb}`))
    await until(async () => (await a.p2p()).peer_count === 1 && (await b.p2p()).peer_count === 1, () => 'the P2P session', 20_000)

    await b.client.addTriple('user:b', 'rel:p', 'from b')
    await until(async () => (await a.client.queryTriples({ subject: 'user:b' })).total === 1, () => 'b\'s triple on a, natively', 10_000)

    const now = await a.cli(['sync', 'now'])
    assert.equal(now.code, 0, now.stderr)
    assert.match(now.stdout, /native P2P sync is running: 1 peers connected/)
    assert.match(now.stdout, /gossip +round \d+, \d+ pending announcements, \d+ known ids/)
    assert.match(now.stdout, /^b +native /m, 'the paired peer is not pulled while its P2P session is open')

    const status = await a.cli(['sync', 'status'])
    assert.equal(status.code, 0, status.stderr)
    assert.match(status.stdout, /^mode +native /m)
    assert.match(status.stdout, /native P2P: node 12D3Koo/)
    assert.match(status.stdout, /sync +1 peers connected, \d+ local ids, \d+ successful syncs, \d+ failed/)
    assert.match(status.stdout, /P2P PEER +MODE +PATH +LAST SYNC/)
    const json = JSON.parse((await a.cli(['sync', 'status', '--json'])).stdout) as { mode: string, peers: Array<{ mode: string }>, native: { peer_count: number } }
    assert.equal(json.mode, 'native')
    assert.equal(json.peers[0]!.mode, 'native')
    assert.equal(json.native.peer_count, 1)
    for (const n of [a, b]) { live.delete(n); await n.stop() }
  })

  it('GET/POST/DELETE /api/v1/p2p/peers, host names and IPv6 accepted, bad addresses refused', async () => {
    const [pa, pb] = await freePorts(2)
    const a = await startP2pNode(box(), 'api-a', { p2pPort: pa })
    const b = await startP2pNode(box(), 'api-b', { p2pPort: pb })
    live.add(a); live.add(b)
    const req = <T>(method: string, path: string, body?: unknown): Promise<T> => a.client.request<T>(method, path, body === undefined ? {} : { body })

    const added = await req<{ peer: { addr: string, source: string }, created: boolean }>('POST', '/api/v1/p2p/peers', { addr: `localhost:${pb}` })
    assert.equal(added.created, true)
    assert.equal(added.peer.source, 'api')
    const again = await req<{ created: boolean }>('POST', '/api/v1/p2p/peers', { addr: `localhost:${pb}` })
    assert.equal(again.created, false)
    await req('POST', '/api/v1/p2p/peers', { addr: '[::1]:19999' })
    await assert.rejects(req('POST', '/api/v1/p2p/peers', { addr: 'no port here' }), (e: Error & { code?: string }) => e.code === 'INVALID_INPUT' && /addr/.test(e.message))
    await until(async () => (await a.p2p()).peer_count === 1, () => 'a connected to b by host name', 20_000)
    const { peers } = await req<{ peers: Array<{ addr: string, node_id: string | null, connected: boolean }> }>('GET', '/api/v1/p2p/peers')
    const toB = peers.find(p => p.node_id === b.nodeId)
    assert.ok(toB?.connected === true, JSON.stringify(peers))
    assert.ok(peers.some(p => p.addr === '[::1]:19999' && !p.connected))

    // removing by node id closes the session and stops dialing
    await req('DELETE', `/api/v1/p2p/peers/${encodeURIComponent(b.nodeId)}`)
    await req('DELETE', `/api/v1/p2p/peers/${encodeURIComponent('[::1]:19999')}`)
    await until(async () => (await a.p2p()).peer_count === 0 && (await b.p2p()).peer_count === 0, () => 'the session closed', 10_000)
    const after = await req<{ peers: unknown[] }>('GET', '/api/v1/p2p/peers')
    assert.equal(after.peers.length, 0)
    await assert.rejects(req('DELETE', '/api/v1/p2p/peers/nobody'), (e: Error & { code?: string }) => e.code === 'NOT_FOUND')
    for (const n of [a, b]) { live.delete(n); await n.stop() }
  })
})
