import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { eventually, sameDumps, simNode, type SimNode } from './helpers.ts'

const started: SimNode[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map(n => n.sync.stop()))
})

async function start (...nodes: SimNode[]): Promise<void> {
  for (const n of nodes) { started.push(n); await n.sync.start() }
}

const triple = (i: number): { subject: string, predicate: string, object: { kind: 'string', value: string } } =>
  ({ subject: `user:u${i}`, predicate: 'rel:likes', object: { kind: 'string', value: `v${i}` } })

describe('native session', () => {
  it('streams a feed to a new peer and pushes later writes at once', async () => {
    const net = new MemoryNetwork()
    const a = simNode(net, 'node-a')
    const b = simNode(net, 'node-b')
    a.engine.addTriples(Array.from({ length: 250 }, (_, i) => triple(i)))
    await start(a, b)
    b.sync.addPeer('mem:node-a')
    await eventually(() => b.store.stats().triples === 250, 'the first 250 triples on b')
    a.engine.addTriples([triple(1000)])
    b.engine.setNote('note:x', { hello: 1 })
    await eventually(() => b.store.stats().triples === 251 && a.store.stats().notes === 1, 'live push both ways')
    assert.ok(sameDumps([a, b]))
  })
})

describe('relay', () => {
  it('relays a change once along a line of nodes, and never echoes it back', async () => {
    const net = new MemoryNetwork()
    const [a, b, c] = ['node-a', 'node-b', 'node-c'].map(n => simNode(net, n))
    await start(a!, b!, c!)
    b!.sync.addPeer('mem:node-a')
    b!.sync.addPeer('mem:node-c')
    await eventually(() => b!.sync.connectedPeers().length === 2, 'b connected to a and c')
    a!.engine.addTriples([triple(1), triple(2)])
    c!.engine.setNote('note:c', 1)
    await eventually(() => c!.store.stats().triples === 2 && a!.store.stats().notes === 1, 'relayed through b')
    await eventually(() => sameDumps([a!, b!, c!]), 'identical dumps')
    const sentBy = (n: SimNode, to: string): number => n.sync.sessionInfo().filter(s => s.nodeId === to).reduce((x, s) => x + s.recordsSent, 0)
    assert.equal(sentBy(b!, 'node-a'), 1, 'b sent a only the note from c')
    assert.equal(sentBy(b!, 'node-c'), 2, 'b sent c only the triples from a')
    assert.equal(sentBy(a!, 'node-b'), 2)
    assert.equal(sentBy(c!, 'node-b'), 1)
  })
})

describe('native sync configuration', () => {
  it('refuses to start without a seed, saying which key to set', () => {
    const net = new MemoryNetwork()
    assert.throws(() => simNode(net, 'node-x', { seed: undefined }), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && /p2p\.seed/.test(e.message))
  })
})
