/**
 * Multi-process: a session that fell back to TCP returns to QUIC once QUIC answers again.
 *
 * Two daemons on loopback; a dials b. b is paused (SIGSTOP) until a's session with it has ended
 * and a's redial has given up on QUIC (its per-address limit) and opened TCP to b — a paused
 * process's kernel still accepts TCP connections, while QUIC needs the process to answer. b
 * resumes, the TCP attempt completes, and the session runs on the fallback although QUIC works
 * again. The session must move back to QUIC (the probe of QUIC in the background, and the move
 * onto the new connection, QuicTransport.ts / QuicReturn.ts) with nothing written on either side
 * lost: both stores end identical, with every write.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import type { P2pPeerView } from '../../src/sync/native/PeerStats.ts'
import { daemonsFixture, freePorts, startP2pNode, stopAndCompare, until, type P2pNode } from './daemons.ts'

const { box, live } = daemonsFixture()
const run = promisify(execFile)

type Api = P2pNode['client']
const post = (c: Api, path: string, body: unknown): Promise<unknown> => c.request('POST', path, { body })
const triples = (prefix: string, n: number): Array<{ subject: string, predicate: string, object: string }> =>
  Array.from({ length: n }, (_, i) => ({ subject: `user:${prefix}${i}`, predicate: 'rel:knows', object: `${prefix}-value-${i}` }))

/** `node`'s view of its peer `other` (GET /api/v1/p2p/status). */
async function peerView (node: P2pNode, other: P2pNode): Promise<P2pPeerView | undefined> {
  return (await node.p2p()).peers.find(p => p.node_id === other.nodeId)
}

const describeView = (v: P2pPeerView | undefined): string =>
  v === undefined ? 'not listed' : `${v.connected ? 'connected' : 'offline'} over ${v.transport ?? '-'} (${v.addr})`

/** Whether an established TCP connection to `port` on loopback exists (a dial to a paused node). */
async function tcpConnectionTo (port: number): Promise<boolean> {
  const { stdout } = await run('ss', ['-Htn', 'state', 'established', `( dport = :${port} )`])
  return stdout.trim() !== ''
}

describe('a session on the TCP fallback returns to QUIC', () => {
  it('after the peer was paused past the QUIC dial limit and resumed', async () => {
    const [pa, pb] = await freePorts(2) as [number, number]
    const b = await startP2pNode(box(), 'b', { p2pPort: pb })
    live.add(b)
    const a = await startP2pNode(box(), 'a', { p2pPort: pa, peers: [`127.0.0.1:${pb}`] })
    live.add(a)
    await until(async () => (await peerView(a, b))?.transport === 'quic', async () => `a's session with b over QUIC: ${describeView(await peerView(a, b))}`, 30_000)
    await post(a.client, '/api/v1/triples', { triples: triples('before', 50) })
    await until(async () => (await b.client.queryTriples({ predicate: 'rel:knows' })).total === 50, () => 'b has a\'s first writes', 30_000)

    b.daemon.child.kill('SIGSTOP')
    try {
      // a notices (QUIC's idle limit), redials, QUIC has no answer, and a opens TCP to b
      await until(async () => (await peerView(a, b))?.connected === false, async () => `a's session with the paused b ended: ${describeView(await peerView(a, b))}`, 60_000)
      await post(a.client, '/api/v1/triples', { triples: triples('paused', 50) })
      await until(() => tcpConnectionTo(pb), () => `a TCP connection from a to the paused b (port ${pb})`, 60_000, 50)
    } finally {
      b.daemon.child.kill('SIGCONT')
    }
    await until(async () => (await peerView(a, b))?.connected === true, async () => `a reconnected to b: ${describeView(await peerView(a, b))}`, 60_000)
    await post(b.client, '/api/v1/triples', { triples: triples('after', 50) })

    // both ends see the session on QUIC, and stay there
    await until(async () => (await peerView(a, b))?.transport === 'quic' && (await peerView(b, a))?.transport === 'quic',
      async () => `the session back on QUIC: a sees b ${describeView(await peerView(a, b))}; b sees a ${describeView(await peerView(b, a))}`, 90_000)
    await until(async () => (await a.client.queryTriples({ predicate: 'rel:knows' })).total === 150 && (await b.client.queryTriples({ predicate: 'rel:knows' })).total === 150,
      () => 'every write on both nodes', 60_000)
    assert.equal((await peerView(a, b))?.transport, 'quic')
    assert.match(a.daemon.stderr(), /runs on the TCP fallback/, 'the session did come back on TCP, and a said so')
    assert.match(a.daemon.stderr(), /answers again; moving the session off the TCP fallback/)
    live.delete(a)
    live.delete(b)
    const dump = await stopAndCompare([a, b])
    assert.equal(dump.filter(r => r.includes('"kind":"triple"')).length, 150, 'every write, once, on both nodes')
  })
})
