/**
 * Multi-process, real QUIC: the P2P and health routes read by a Cortex client, field by field
 * against what the Cortex sidecar answers (GET /api/v1/p2p/status, GET/POST/DELETE
 * /api/v1/p2p/peers, GET /api/v1/health). The client here behaves as the existing Cortex client
 * does: `content-type: application/json` on every call, DELETE included (with no body), an error
 * read from `error`. engram's own fields ride alongside, and its CLI (`engram peers`) keeps working.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { daemonsFixture, freePorts, startP2pNode, until, type P2pNode } from './daemons.ts'

const { box, live } = daemonsFixture()

/** A Cortex client's request: JSON content type always, the body only when there is one. */
async function cortex (base: string, method: string, path: string, body?: unknown): Promise<{ status: number, body: Record<string, unknown> | unknown[] }> {
  const res = await fetch(base + path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(60_000)
  })
  return { status: res.status, body: await res.json() as Record<string, unknown> }
}

const isNumber = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v)

/** The fields of Cortex's P2pStatus, each with the type Cortex gives it. */
function assertCortexStatus (s: Record<string, unknown>): void {
  assert.equal(typeof s.node_id, 'string')
  assert.equal(s.enabled, true)
  assert.ok(isNumber(s.port))
  assert.ok(isNumber(s.peer_count))
  assert.ok(Array.isArray(s.connected_peers))
  const peers = s.connected_peers as Array<Record<string, unknown>>
  assert.equal(s.peer_count, peers.length, 'peer_count is the length of connected_peers')
  for (const p of peers) {
    assert.equal(typeof p.addr, 'string')
    assert.equal(p.connected, true, 'Cortex lists connected peers only')
  }
  const g = s.gossip_stats as Record<string, unknown>
  for (const k of ['round', 'pending_announcements', 'known_ids', 'bloom_filter_items', 'bloom_filter_fpr']) assert.ok(isNumber(g[k]), `gossip_stats.${k}`)
  const y = s.sync_stats as Record<string, unknown>
  for (const k of ['peer_count', 'local_ids', 'total_successful_syncs', 'total_failed_syncs']) assert.ok(isNumber(y[k]), `sync_stats.${k}`)
  assert.equal(y.peer_count, s.peer_count)
}

describe('the Cortex-shaped routes, read by a Cortex client', () => {
  it('health, P2P status and the peer routes answer what Cortex answers, with engram\'s fields alongside', async () => {
    const [pa, pb, pc, pclosed] = await freePorts(4)
    const [a, b, c] = await Promise.all([
      startP2pNode(box(), 'cx-a', { p2pPort: pa }),
      startP2pNode(box(), 'cx-b', { p2pPort: pb }),
      startP2pNode(box(), 'cx-c', { p2pPort: pc, seed: 'Another-seed_7Qx9wZ2' })
    ])
    const nodes: P2pNode[] = [a, b, c]
    nodes.forEach(n => live.add(n))

    const health = await cortex(a.url, 'GET', '/api/v1/health') as { status: number, body: Record<string, Record<string, Record<string, unknown>>> }
    assert.equal(health.status, 200)
    assert.equal(health.body.status, 'healthy')
    assert.equal(health.body.components!.graph!.status, 'healthy')
    assert.match(String(health.body.components!.graph!.message), /^\d+ triples$/)
    assert.equal(health.body.components!.logic!.status, 'healthy')
    assert.equal(health.body.components!.store!.status, 'ok', 'engram\'s own component is kept')

    // POST answers once the session is open: 200 {status: "connected", addr}
    const added = await cortex(a.url, 'POST', '/api/v1/p2p/peers', { addr: `127.0.0.1:${pb}` }) as { status: number, body: Record<string, unknown> }
    assert.equal(added.status, 200, JSON.stringify(added.body))
    assert.equal(added.body.status, 'connected')
    assert.equal(added.body.addr, `127.0.0.1:${pb}`)
    assert.equal((added.body.peer as { node_id: string }).node_id, b.nodeId, 'engram\'s view of the peer alongside')
    assert.equal(added.body.created, true)
    const again = await cortex(a.url, 'POST', '/api/v1/p2p/peers', { addr: `127.0.0.1:${pb}` }) as { status: number, body: Record<string, unknown> }
    assert.deepEqual([again.status, again.body.status, again.body.created], [200, 'connected', false], JSON.stringify(again.body))

    // a peer that is down, and one with another seed: an error, read from `error`
    const down = await cortex(a.url, 'POST', '/api/v1/p2p/peers', { addr: `127.0.0.1:${pclosed}` }) as { status: number, body: Record<string, unknown> }
    assert.ok(down.status >= 500, `${down.status} ${JSON.stringify(down.body)}`)
    assert.match(String(down.body.error), new RegExp(`P2P peer 127\\.0\\.0\\.1:${pclosed}.*stays listed`))
    const otherSeed = await cortex(a.url, 'POST', '/api/v1/p2p/peers', { addr: `127.0.0.1:${pc}` }) as { status: number, body: Record<string, unknown> }
    assert.equal(otherSeed.status, 503, JSON.stringify(otherSeed.body))
    assert.match(String(otherSeed.body.error), new RegExp(`could not connect to P2P peer 127\\.0\\.0\\.1:${pc}: `))
    const bad = await cortex(a.url, 'POST', '/api/v1/p2p/peers', { addr: 'no port here' }) as { status: number, body: Record<string, unknown> }
    assert.equal(bad.status, 400)
    assert.equal(typeof bad.body.error, 'string')

    // status and GET peers list the connected peer only; the offline ones are in engram's view
    const status = (await cortex(a.url, 'GET', '/api/v1/p2p/status')).body as Record<string, unknown>
    assertCortexStatus(status)
    assert.equal(status.peer_count, 1)
    assert.ok((status.connected_peers as Array<{ addr: string }>)[0]!.addr.includes(b.nodeId))
    assert.equal((status.peers as unknown[]).length, 3, 'engram\'s per-peer view lists the offline peers too')
    const list = await cortex(a.url, 'GET', '/api/v1/p2p/peers')
    assert.equal(list.status, 200)
    assert.ok(Array.isArray(list.body), 'Cortex answers an array')
    const peers = list.body as Array<Record<string, unknown>>
    assert.deepEqual(peers.map(p => [p.connected, p.node_id]), [[true, b.nodeId]])
    assert.equal(typeof peers[0]!.addr, 'string')
    const engramView = (await cortex(a.url, 'GET', '/api/v1/p2p/peers?format=engram')).body as { peers: unknown[], book?: unknown[] }
    assert.equal(engramView.peers.length, 3)
    const cli = await a.cli(['peers', '--json'])
    assert.equal(cli.code, 0, cli.stderr)
    assert.ok((JSON.parse(cli.stdout) as { peers: unknown[] }).peers.length === 3, 'engram peers reads engram\'s view')

    // DELETE with a part of the address, as Cortex matches (content-type JSON, no body): {status: "disconnected"}
    const removed = await cortex(a.url, 'DELETE', `/api/v1/p2p/peers/${b.nodeId.slice(-12)}`)
    assert.equal(removed.status, 200, JSON.stringify(removed.body))
    assert.equal((removed.body as Record<string, unknown>).status, 'disconnected')
    await until(async () => (await a.p2p()).peer_count === 0, () => 'the session closed', 10_000)
    const ambiguous = await cortex(a.url, 'DELETE', '/api/v1/p2p/peers/127.0.0.1')
    assert.equal(ambiguous.status, 409, 'a part that matches two peers removes neither')
    assert.match(String((ambiguous.body as Record<string, unknown>).error), /matches 2 P2P peers/)
    const gone = await cortex(a.url, 'DELETE', '/api/v1/p2p/peers/nobody')
    assert.equal(gone.status, 404)
    assert.equal(typeof (gone.body as Record<string, unknown>).error, 'string')
    for (const n of nodes) { live.delete(n); await n.stop() }
  })

  it('answers 404 {"error": "P2P not enabled"} on every P2P route while P2P is off', async () => {
    const { startNode } = await import('../sync/daemons.ts')
    const n = await startNode(box(), 'cx-off')
    try {
      for (const [method, path, body] of [['GET', '/api/v1/p2p/status'], ['GET', '/api/v1/p2p/peers'], ['POST', '/api/v1/p2p/peers', { addr: '127.0.0.1:1' }], ['DELETE', '/api/v1/p2p/peers/x']] as const) {
        const r = await cortex(n.url, method, path, body)
        assert.equal(r.status, 404, `${method} ${path}`)
        assert.equal((r.body as Record<string, unknown>).error, 'P2P not enabled')
      }
    } finally {
      await n.stop()
    }
  })
})
