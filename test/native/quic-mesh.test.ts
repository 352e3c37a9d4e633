/**
 * Multi-process: engram daemons syncing natively over real QUIC on loopback.
 * - five nodes converge: triples, deletes, notes, episodes, traces — identical canonical dumps;
 * - a node stopped, written around and restarted catches up.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { daemonsFixture, startMesh, startP2pNode, stopAndCompare, until, waitConverged, type P2pNode } from './daemons.ts'

const { box, live } = daemonsFixture()

type Api = P2pNode['client']
const post = (c: Api, path: string, body: unknown): Promise<unknown> => c.request('POST', path, { body })
const triples = (prefix: string, n: number): Array<{ subject: string, predicate: string, object: string }> =>
  Array.from({ length: n }, (_, i) => ({ subject: `user:${prefix}${i}`, predicate: 'rel:knows', object: `${prefix}-value-${i}` }))

async function connected (nodes: readonly P2pNode[], peers: number): Promise<void> {
  await until(async () => (await Promise.all(nodes.map(n => n.p2p()))).every(s => s.peer_count >= peers),
    async () => `every node connected to ${peers} peers: ${(await Promise.all(nodes.map(n => n.p2p()))).map(s => s.peer_count).join(', ')}`, 30_000)
}

describe('native sync over QUIC, five daemons', () => {
  it('converges: triples, deletes, notes, episodes, traces — identical dumps', async () => {
    const nodes = await startMesh(box(), ['a', 'b', 'c', 'd', 'e'])
    for (const n of nodes) live.add(n)
    await connected(nodes, 4)
    const [a, b, c, d, e] = nodes as [P2pNode, P2pNode, P2pNode, P2pNode, P2pNode]
    await Promise.all([
      post(a.client, '/api/v1/triples', { triples: triples('a', 200) }),
      post(b.client, '/api/v1/triples', { triples: triples('b', 200) }),
      c.client.setNote('project:goal', { text: 'ship native sync', by: 'c' }),
      c.client.setNote('project:doomed', 1),
      post(d.client, '/api/v1/episodes', { id: 'session:1', data: { summary: 'first session', agent: 'd' } }),
      post(e.client, '/api/v1/traces', { traces: Array.from({ length: 20 }, (_, i) => ({ runId: 'run:e', type: 'step', data: { i } })) })
    ])
    // deletes of records written elsewhere, once they have arrived
    await until(async () => (await e.client.queryTriples({ subject: 'user:a7' })).total === 1 && (await a.client.listNotes({ prefix: 'project:' })).total === 2,
      () => 'a\'s triples on e and c\'s notes on a', 20_000)
    await e.client.deleteTriples({ subject: 'user:a7' })
    await a.client.deleteNote('project:doomed')
    await b.client.setNote('project:goal', { text: 'ship native sync, then bench it', by: 'b' })
    await post(a.client, '/api/v1/episodes', { id: 'session:1', data: { summary: 'first session, amended', agent: 'a' } })
    await waitConverged(nodes)
    for (const n of nodes) live.delete(n)
    const dump = await stopAndCompare(nodes)
    const kinds = new Map<string, number>()
    for (const r of dump) { const k = (JSON.parse(r) as { kind: string }).kind; kinds.set(k, (kinds.get(k) ?? 0) + 1) }
    assert.equal(kinds.get('triple'), 400)
    assert.equal(kinds.get('note'), 2)
    assert.equal(kinds.get('episode'), 1)
    assert.equal(kinds.get('trace'), 20)
    assert.ok(dump.some(r => r.includes('"deleted":true') && r.includes('user:a7')), 'the deleted triple is a tombstone everywhere')
    assert.ok(dump.some(r => r.includes('then bench it')), 'the last note write won everywhere')
  })

  it('a node stopped, written around and restarted catches up', async () => {
    const nodes = await startMesh(box(), ['r1', 'r2', 'r3'])
    for (const n of nodes) live.add(n)
    await connected(nodes, 2)
    const [x, y] = nodes as [P2pNode, P2pNode, P2pNode]
    let z = nodes[2]!
    await post(x.client, '/api/v1/triples', { triples: triples('before', 100) })
    await waitConverged(nodes)
    live.delete(z)
    await z.stop()
    // written around: adds on both, a delete of a triple z holds, a note
    await post(x.client, '/api/v1/triples', { triples: triples('x-while-away', 300) })
    await post(y.client, '/api/v1/triples', { triples: triples('y-while-away', 300) })
    await x.client.deleteTriples({ subject: 'user:before3' })
    await y.client.setNote('note:away', 'written while z was stopped')
    // z comes back on the same data directory and port, with the same peers
    z = await startP2pNode(box(), 'r3', { p2pPort: z.p2pPort, peers: [x, y].map(n => `127.0.0.1:${n.p2pPort}`) })
    live.add(z)
    await waitConverged([x, y, z])
    assert.equal((await z.client.queryTriples({ subject: 'user:before3' })).total, 0)
    for (const n of [x, y, z]) live.delete(n)
    const dump = await stopAndCompare([x, y, z])
    assert.equal(dump.filter(r => r.includes('"kind":"triple"')).length, 700)
  })
})
