/**
 * Discovery end to end in one process: mDNS replaced by the in-memory LAN, native sync over the
 * in-memory transport, discovery's time on a manual clock (nothing waits for the 30 s fallback
 * or an mDNS TTL). Covers: nodes with no configured peers finding each other and syncing, a
 * node with another seed discovered and refused, peers that leave forgotten, a restart
 * redialling the peer book.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { ManualClock } from '../../src/discovery/clock.ts'
import { MemoryLan } from '../../src/discovery/MemoryDiscovery.ts'
import { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { eventually, sameDumps } from '../native/helpers.ts'
import { discoNode, entriesOf, type DiscoNode } from './helpers.ts'

let running: DiscoNode[] = []
afterEach(async () => {
  await Promise.allSettled(running.map(n => n.stop()))
  running = []
})

function setup (): { net: MemoryNetwork, lan: MemoryLan, clock: ManualClock } {
  const clock = new ManualClock()
  return { net: new MemoryNetwork(), lan: new MemoryLan(clock), clock }
}

async function started (...nodes: DiscoNode[]): Promise<DiscoNode[]> {
  running.push(...nodes)
  for (const n of nodes) await n.start()
  return nodes
}

describe('discovery with native sync', () => {
  it('two nodes with mDNS and no configured peers find each other and sync', async () => {
    const { net, lan, clock } = setup()
    const [a, b] = await started(discoNode(net, lan, clock, 'node-a'), discoNode(net, lan, clock, 'node-b'))
    a!.engine.addTriples([{ subject: 'user:alice', predicate: 'likes', object: 'tea' }])
    b!.engine.setNote('project:x', 'from b')
    await eventually(() => a!.sync.isConnected(b!.id) && sameDumps([a!, b!]) && a!.store.stats().notes === 1, 'a and b in sync')
    const e = entriesOf(a!, b!.id)
    assert.equal(e.length, 1)
    assert.equal(e[0]?.source, 'mdns')
    assert.equal(e[0]?.addr, `mem:${b!.id}`)
    assert.ok(e[0]?.lastSeen !== null)
    assert.ok(a!.discoveryLogs.some(l => l.includes(`mDNS found peer ${b!.id}`)))
    const view = a!.service.view().find(v => v.node_id === b!.id)
    assert.equal(view?.connected, true)
    assert.equal(view?.announced, true)
  })

  it('a node with another seed is discovered and refused: nothing exchanged, not dialled again until it announces itself anew', async () => {
    const { net, lan, clock } = setup()
    const [a, b, c] = await started(
      discoNode(net, lan, clock, 'node-a'), discoNode(net, lan, clock, 'node-b'), discoNode(net, lan, clock, 'node-c', { seed: 'another-seed' }))
    a!.engine.addTriples([{ subject: 'user:a', predicate: 'p', object: 'o' }])
    c!.engine.addTriples([{ subject: 'user:c', predicate: 'secret', object: 'x' }])
    await eventually(() => sameDumps([a!, b!]) && b!.store.stats().triples === 1, 'a and b in sync')
    await eventually(() => entriesOf(a!, c!.id)[0]?.refused === true && entriesOf(c!, a!.id)[0]?.refused === true, 'c refused by a, a by c')
    assert.equal(c!.store.stats().triples, 1, 'c received nothing')
    assert.equal(a!.store.stats().triples, 1, 'a received nothing from c')
    assert.equal(b!.store.stats().triples, 1, 'b received nothing from c')
    assert.ok(!a!.sync.isConnected(c!.id))
    assert.ok(a!.logs.some(l => l.includes(`refused P2P peer ${c!.id}`) || l.includes(`P2P peer ${c!.id} refused this node`)))
    assert.ok(a!.discoveryLogs.some(l => l.includes(`mDNS peer ${c!.id}`) && l.includes('failed the seed handshake')))
    // refused peers are not dialled again: no new attempts while c keeps announcing itself
    const failures = (): number => a!.sync.listPeers().find(p => p.node_id === c!.id)?.failures ?? 0
    const before = failures()
    clock.advance(60_000)
    await new Promise<void>(resolve => setImmediate(resolve))
    assert.equal(failures(), before)
    assert.equal(a!.service.view().find(v => v.node_id === c!.id)?.refused, true)
  })

  it('forgets a peer that leaves with a goodbye at once, and one that vanishes after its announcement expires', async () => {
    const { net, lan, clock } = setup()
    const [a, b, c] = await started(discoNode(net, lan, clock, 'node-a'), discoNode(net, lan, clock, 'node-b'), discoNode(net, lan, clock, 'node-c'))
    await eventually(() => a!.sync.isConnected(b!.id) && a!.sync.isConnected(c!.id), 'a connected to b and c')
    await b!.stop()
    await eventually(() => entriesOf(a!, b!.id).length === 0, 'b forgotten after its goodbye')
    assert.ok(a!.discoveryLogs.some(l => l.includes(`mDNS peer ${b!.id} left (said goodbye)`)))
    // c vanishes without a goodbye (killed, unplugged): its session ends, its announcement runs out
    c!.discovery!.crash()
    net.disconnect(a!.id, c!.id)
    await c!.sync.stop()
    assert.equal(entriesOf(a!, c!.id).length, 1, 'still known before the TTL')
    clock.advance(59_000)
    assert.equal(entriesOf(a!, c!.id).length, 1)
    clock.advance(2_000) // the announcement expires
    clock.advance(60_000) // the sweep: neither announced nor connected for forgetAfterMs
    await eventually(() => entriesOf(a!, c!.id).length === 0, 'c forgotten')
    assert.ok(a!.discoveryLogs.some(l => l.includes(`mDNS peer ${c!.id} left (stopped answering)`)))
  })

  it('a restart redials the peer book at once, even where mDNS cannot run', async () => {
    const { net, lan, clock } = setup()
    const [a, b] = await started(discoNode(net, lan, clock, 'node-a'), discoNode(net, lan, clock, 'node-b'))
    await eventually(() => a!.sync.isConnected(b!.id), 'a connected to b')
    await a!.stop()
    running = running.filter(n => n !== a)
    await eventually(() => !b!.sync.isConnected(a!.id), 'b sees a gone')
    // b forgets a (goodbye); a restarts on its store without mDNS and must dial b from its book
    const a2 = discoNode(net, lan, clock, 'node-a', { store: a!.store, mdns: { unavailable: 'no multicast here' } })
    await started(a2)
    await eventually(() => a2.sync.isConnected(b!.id), 'a reconnected to b from its book')
    b!.engine.addTriples([{ subject: 'user:b', predicate: 'p', object: 'after restart' }])
    await eventually(() => a2.store.stats().triples === 1, 'a received b\'s write')
    assert.ok(a2.discoveryLogs.some(l => l.includes('mDNS cannot run (no multicast here)')))
  })
})
