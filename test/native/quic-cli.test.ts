/**
 * Multi-process: mode selection and the CLI in native mode. `engram sync pair` adds the peer
 * as a P2P peer too; once the P2P session is open, polled sync leaves the peer alone;
 * `engram sync status` shows the P2P peers with gossip and sync statistics; `engram sync now`
 * shows the gossip statistics. (The /api/v1/p2p/peers routes: cortex.test.ts.)
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { daemonsFixture, freePorts, startP2pNode, until } from './daemons.ts'

const { box, live } = daemonsFixture()

describe('native mode in the CLI and the API', () => {
  it('sync pair adds a P2P peer, polled sync skips it, status and now show the gossip statistics', async () => {
    const [pa, pb] = await freePorts(2)
    const [a, b] = await Promise.all([startP2pNode(box(), 'cli-a', { p2pPort: pa }), startP2pNode(box(), 'cli-b', { p2pPort: pb })])
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
})
