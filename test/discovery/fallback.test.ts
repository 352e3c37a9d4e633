/**
 * The static fallback (sync.peers / ENGRAM_SYNC_PEERS): dialled after the (shortened) wait when
 * mDNS finds nobody, at once when mDNS is off or cannot run, never when mDNS finds a peer in
 * time; each case logged in one line that says what to do. Time is a manual clock: nothing
 * waits for the wait.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { ManualClock } from '../../src/discovery/clock.ts'
import { MemoryLan } from '../../src/discovery/MemoryDiscovery.ts'
import { StaticFallback } from '../../src/discovery/StaticFallback.ts'
import { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { createLogger } from '../../src/util/log.ts'
import { eventually } from '../native/helpers.ts'
import { discoNode, type DiscoNode } from './helpers.ts'

function fallback (peers: string[], waitMs = 30_000): { f: StaticFallback, clock: ManualClock, lines: string[], dialled: string[][] } {
  const clock = new ManualClock()
  const lines: string[] = []
  const dialled: string[][] = []
  const f = new StaticFallback({ peers, waitMs, clock, log: createLogger({ level: 'debug', sink: l => { lines.push(l) } }), dial: p => { dialled.push([...p]) } })
  return { f, clock, lines, dialled }
}

describe('StaticFallback', () => {
  it('dials the static list when mDNS finds nobody within the wait, not a moment before', () => {
    const { f, clock, lines, dialled } = fallback(['10.0.0.5:19091', '10.0.0.6:19091'], 5_000)
    f.mdnsStarted()
    clock.advance(4_999)
    assert.deepEqual(dialled, [])
    assert.deepEqual(lines, [])
    clock.advance(1)
    assert.deepEqual(dialled, [['10.0.0.5:19091', '10.0.0.6:19091']])
    assert.equal(lines.length, 1)
    assert.match(lines[0]!, /warn .*mDNS found no peer within 5 s: dialling the static peer list \(2 peers\).*open UDP port 5353/)
    assert.equal(f.decision, 'mdns-timeout')
    f.peerFound('late') // too late: decided once
    clock.advance(60_000)
    assert.equal(dialled.length, 1)
    assert.equal(lines.length, 1)
  })

  it('dials at once when mDNS cannot run, or is off', () => {
    const u = fallback(['h:1'])
    u.f.mdnsUnavailable('no IPv4 interface')
    assert.deepEqual(u.dialled, [['h:1']])
    assert.equal(u.lines.length, 1)
    assert.match(u.lines[0]!, /mDNS cannot run \(no IPv4 interface\): dialling the static peer list at once \(1 peer\)/)
    const o = fallback(['h:1'])
    o.f.mdnsOff()
    assert.deepEqual(o.dialled, [['h:1']])
    assert.equal(o.lines.length, 1)
    assert.match(o.lines[0]!, /mDNS discovery is off .*: dialling the static peer list at once/)
  })

  it('does not use the static list when mDNS finds a peer in time', () => {
    const { f, clock, lines, dialled } = fallback(['h:1'])
    f.mdnsStarted()
    clock.advance(10_000)
    f.peerFound('12D3KooWpeer')
    clock.advance(60_000)
    assert.deepEqual(dialled, [])
    assert.equal(lines.length, 1)
    assert.match(lines[0]!, /mDNS found peer 12D3KooWpeer: the static peer list \(1 peer\) is not used/)
  })

  it('says what to do when there is no static list', () => {
    const t = fallback([])
    t.f.mdnsStarted()
    t.clock.advance(30_000)
    assert.equal(t.lines.length, 1)
    assert.match(t.lines[0]!, /mDNS found no peer within 30 s; .*open UDP port 5353, or set ENGRAM_SYNC_PEERS=host:port/)
    const u = fallback([])
    u.f.mdnsUnavailable('bonjour-service cannot be loaded')
    assert.equal(u.lines.length, 1)
    assert.match(u.lines[0]!, /mDNS cannot run \(bonjour-service cannot be loaded\) and no static peer list is set: .*set ENGRAM_SYNC_PEERS/)
    const o = fallback([])
    o.f.mdnsOff()
    assert.deepEqual(o.lines, [])
  })
})

describe('static fallback with native sync', () => {
  let nodes: DiscoNode[] = []
  afterEach(async () => {
    await Promise.allSettled(nodes.map(n => n.stop()))
    nodes = []
  })

  const fallbackLines = (n: DiscoNode): string[] => n.discoveryLogs.filter(l => /static peer list|mDNS found no peer|mDNS cannot run|mDNS discovery is off/.test(l))

  it('mDNS finding nobody: the static peer is dialled after the shortened wait', async () => {
    const clock = new ManualClock()
    const net = new MemoryNetwork()
    const lan = new MemoryLan(clock)
    // s is not on a's LAN (no mDNS): only the static list leads to it
    const s = discoNode(net, lan, clock, 'node-s', { mdns: false })
    const a = discoNode(net, lan, clock, 'node-a', { staticPeers: ['mem:node-s'], staticFallbackMs: 2_000 })
    nodes.push(s, a)
    await s.start()
    await a.start()
    clock.advance(1_999)
    await new Promise<void>(resolve => setImmediate(resolve))
    assert.ok(!a.sync.isConnected(s.id))
    assert.equal(a.book.get('mem:node-s'), undefined)
    clock.advance(1)
    await eventually(() => a.sync.isConnected(s.id), 'a dialled the static peer')
    assert.equal(a.book.get('mem:node-s')?.source, 'static')
    assert.equal(fallbackLines(a).length, 1)
  })

  it('mDNS unavailable: the static peer is dialled at once', async () => {
    const clock = new ManualClock()
    const net = new MemoryNetwork()
    const lan = new MemoryLan(clock)
    const s = discoNode(net, lan, clock, 'node-s', { mdns: false })
    const a = discoNode(net, lan, clock, 'node-a', { staticPeers: ['mem:node-s'], mdns: { unavailable: 'multicast is blocked' } })
    nodes.push(s, a)
    const t0 = clock.now()
    await s.start()
    await a.start()
    await eventually(() => a.sync.isConnected(s.id), 'a dialled the static peer without waiting')
    assert.equal(clock.now(), t0, 'the clock never moved')
    assert.equal(fallbackLines(a).length, 1)
    assert.match(fallbackLines(a)[0]!, /mDNS cannot run \(multicast is blocked\): dialling the static peer list at once/)
  })

  it('mDNS finding a peer in time: the static list is left alone', async () => {
    const clock = new ManualClock()
    const net = new MemoryNetwork()
    const lan = new MemoryLan(clock)
    const s = discoNode(net, lan, clock, 'node-s', { mdns: false })
    const b = discoNode(net, lan, clock, 'node-b')
    const a = discoNode(net, lan, clock, 'node-a', { staticPeers: ['mem:node-s'], staticFallbackMs: 2_000 })
    nodes.push(s, b, a)
    for (const n of nodes) await n.start()
    await eventually(() => a.sync.isConnected(b.id), 'a found b')
    clock.advance(10_000)
    await new Promise<void>(resolve => setImmediate(resolve))
    assert.ok(!a.sync.isConnected(s.id))
    assert.equal(a.service.fallbackDecision, 'mdns-found')
    assert.match(fallbackLines(a).join('\n'), /the static peer list \(1 peer\) is not used/)
  })
})
