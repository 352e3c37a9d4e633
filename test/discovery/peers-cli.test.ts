/**
 * Multi-process, on loopback: `engram peers` lists the peer book (configured, API and static
 * peers with their state); the static list from ENGRAM_SYNC_PEERS is dialled at once when mDNS
 * is off, with one log line saying so; a node without P2P says it has no peer book.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sandbox, type Sandbox } from '../cli/helpers.ts'
import { startNode } from '../sync/daemons.ts'
import { freePorts, startP2pNode, until, type P2pNode } from '../native/daemons.ts'

let box: Sandbox
const live = new Set<{ kill (): Promise<void> }>()
before(() => { box = sandbox() })
after(async () => {
  await Promise.allSettled([...live].map(n => n.kill()))
  box.remove()
})

interface Book { book: Array<{ addr: string, source: string, node_id: string | null, connected: boolean, last_seen: string | null }> }

describe('engram peers', () => {
  it('lists configured, API and static peers with their state; ENGRAM_SYNC_PEERS is dialled at once when mDNS is off', async () => {
    const [pa, pb, pc] = await freePorts(3)
    const b = await startP2pNode(box, 'peers-b', { p2pPort: pb })
    live.add(b)
    const a = await startP2pNode(box, 'peers-a', { p2pPort: pa, peers: [`127.0.0.1:${pb}`] })
    live.add(a)
    const c: P2pNode = await startP2pNode(box, 'peers-c', { p2pPort: pc, env: { ENGRAM_SYNC_PEERS: `127.0.0.1:${pb}` } })
    live.add(c)
    await until(async () => (await a.p2p()).peer_count === 1 && (await c.p2p()).peer_count === 1, () => 'a and c connected to b', 20_000)

    const json = JSON.parse((await a.cli(['peers', '--json'])).stdout) as Book
    assert.deepEqual(json.book.map(e => [e.addr, e.source, e.node_id, e.connected]), [[`127.0.0.1:${pb}`, 'config', b.nodeId, true]])
    assert.ok(json.book[0]?.last_seen !== null)
    const text = await a.cli(['peers'])
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /^NODE +SOURCE +STATE +PATH +LAST SEEN +ADDRESS$/m)
    assert.match(text.stdout, new RegExp(`config +connected +direct +\\S+ +127\\.0\\.0\\.1:${pb}`))

    const cBook = JSON.parse((await c.cli(['peers', '--json'])).stdout) as Book
    assert.deepEqual(cBook.book.map(e => [e.source, e.node_id, e.connected]), [['static', b.nodeId, true]])
    const lines = c.daemon.stderr().split('\n').filter(l => /static peer list/.test(l))
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.match(lines[0]!, /mDNS discovery is off .*: dialling the static peer list at once \(1 peer\)/)

    // a peer added through the API is in the book as such
    await a.client.request('POST', '/api/v1/p2p/peers', { body: { addr: `localhost:${pc}` } })
    await until(async () => (JSON.parse((await a.cli(['peers', '--json'])).stdout) as Book).book.some(e => e.source === 'api' && e.connected), () => 'the API peer connected', 20_000)
    for (const n of [a, b, c]) { live.delete(n); await n.stop() }
  })

  it('says that a node without native P2P has no peer book', async () => {
    const n = await startNode(box, 'peers-none')
    live.add(n)
    const r = await n.cli(['peers'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /native P2P sync is not enabled on this node, so it has no peer book: set p2p\.enabled and p2p\.seed \(NOT_FOUND\)/)
    live.delete(n)
    await n.stop()
  })
})
