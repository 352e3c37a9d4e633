/**
 * BonjourDiscovery without a network: bonjour-service replaced by a fake whose mDNS socket the
 * test drives (responses in, queries out), time on a manual clock. The real library on a real
 * LAN is exercised by netns.test.ts.
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { describe, it } from 'node:test'
import type { NodeId } from '../../src/core/ids.ts'
import { BonjourDiscovery, type BonjourFactory } from '../../src/discovery/BonjourDiscovery.ts'
import { ManualClock } from '../../src/discovery/clock.ts'
import type { DiscoveryEvent } from '../../src/discovery/Discovery.ts'
import { encodeTxtStrings } from '../../src/discovery/txt.ts'

const SELF = { nodeId: '12D3KooWSelf' as NodeId, p2pPort: 19091, apiPort: 19090, protocol: 1 }
const SERVICE = '_mayros-cortex._tcp'

class FakeMdns extends EventEmitter {
  queries: string[] = []
  sendError: Error | undefined
  query (name: string, type: string, cb: (err: unknown) => void): void {
    this.queries.push(`${type} ${name}`)
    queueMicrotask(() => { cb(this.sendError ?? null) })
  }
}

function fake (opts: { sendError?: Error } = {}): { factory: BonjourFactory, sockets: Array<{ iface: string, mdns: FakeMdns, published: unknown[], goodbye: boolean, destroyed: boolean }> } {
  const sockets: Array<{ iface: string, mdns: FakeMdns, published: unknown[], goodbye: boolean, destroyed: boolean }> = []
  const factory: BonjourFactory = (o) => {
    const s = { iface: o.interface, mdns: new FakeMdns(), published: [] as unknown[], goodbye: false, destroyed: false }
    s.mdns.sendError = opts.sendError
    sockets.push(s)
    return Object.assign({
      server: { mdns: s.mdns },
      publish: (p: unknown) => { s.published.push(p); return p },
      unpublishAll: (cb?: () => void) => { s.goodbye = true; cb?.() },
      destroy: (cb?: () => void) => { s.destroyed = true; cb?.() }
    })
  }
  return { factory, sockets }
}

function announce (id: string, ip: string, ttl = 120): unknown {
  const inst = `engram-${id}.${SERVICE}.local`
  return {
    answers: [{ name: `${SERVICE}.local`, type: 'PTR', ttl: ttl === 0 ? 0 : 28800, data: inst }],
    additionals: ttl === 0 ? [] : [
      { name: inst, type: 'SRV', ttl, data: { port: 19090, target: `engram-${id}.local` } },
      { name: inst, type: 'TXT', ttl: 4500, data: encodeTxtStrings({ nodeId: id as NodeId, p2pPort: 19091, apiPort: 19090, protocol: 1 }) }
    ]
  }
}

describe('BonjourDiscovery', () => {
  it('publishes this node under its own names, finds peers, forgets them on goodbye or when they stop answering', async () => {
    const clock = new ManualClock()
    const { factory, sockets } = fake()
    const d = new BonjourDiscovery({ serviceType: SERVICE, clock, interfaces: ['10.0.0.1'], queryIntervalMs: 10_000, expireAfterMs: 30_000, load: async () => factory })
    const events: DiscoveryEvent[] = []
    d.onEvent(ev => { events.push(ev) })
    assert.deepEqual(await d.start(SELF), { ok: true })
    const s = sockets[0]!
    assert.deepEqual(s.published, [{
      name: 'engram-12D3KooWSelf', type: 'mayros-cortex', protocol: 'tcp', port: 19090, host: 'engram-12D3KooWSelf.local',
      txt: { id: '12D3KooWSelf', p2p: '19091', api: '19090', v: '1' }, probe: false
    }])
    // its own announcement is ignored; a peer's is taken with the packet's source address first
    s.mdns.emit('response', announce('12D3KooWSelf', '10.0.0.1'), { address: '10.0.0.1' })
    s.mdns.emit('response', announce('12D3KooWPeerB', '10.0.0.2'), { address: '10.0.0.2' })
    s.mdns.emit('response', announce('12D3KooWPeerC', '10.0.0.3'), { address: '10.0.0.3' })
    assert.deepEqual(events.map(e => e.type), ['up', 'up'])
    assert.deepEqual(d.peers().map(p => p.addrs), [['10.0.0.2:19091'], ['10.0.0.3:19091']])
    // queries go out every interval
    clock.advance(1_000)
    clock.advance(10_000)
    assert.ok(s.mdns.queries.filter(q => q === `PTR ${SERVICE}.local`).length >= 3)
    // B answers again, C stays silent: C expires 30 s after it was last heard
    clock.advance(15_000)
    s.mdns.emit('response', announce('12D3KooWPeerB', '10.0.0.2'), { address: '10.0.0.2' })
    clock.advance(15_000)
    assert.deepEqual(events.slice(2), [{ type: 'down', nodeId: '12D3KooWPeerC', reason: 'expired' }])
    // B says goodbye
    s.mdns.emit('response', announce('12D3KooWPeerB', '10.0.0.2', 0), { address: '10.0.0.2' })
    assert.deepEqual(events.slice(3), [{ type: 'down', nodeId: '12D3KooWPeerB', reason: 'goodbye' }])
    await d.stop()
    assert.ok(s.goodbye && s.destroyed)
  })

  it('says why when it cannot run: no interface, the library missing, multicast not sendable, a bad service type', async () => {
    const none = new BonjourDiscovery({ serviceType: SERVICE, interfaces: [], load: async () => fake().factory })
    assert.match((await none.start(SELF) as { reason: string }).reason, /no network interface with an IPv4 address other than loopback/)
    const missing = new BonjourDiscovery({ serviceType: SERVICE, interfaces: ['10.0.0.1'], load: async () => { throw new Error("Cannot find package 'bonjour-service'") } })
    assert.match((await missing.start(SELF) as { reason: string }).reason, /the mDNS library \(bonjour-service\) cannot be loaded: Cannot find package/)
    const f = fake({ sendError: Object.assign(new Error('send EPERM 224.0.0.251:5353'), { code: 'EPERM' }) })
    const blocked = new BonjourDiscovery({ serviceType: SERVICE, interfaces: ['10.0.0.1'], load: async () => f.factory })
    assert.match((await blocked.start(SELF) as { reason: string }).reason, /mDNS cannot use UDP port 5353 multicast \(10\.0\.0\.1: send EPERM/)
    assert.ok(f.sockets[0]?.destroyed)
    const bad = new BonjourDiscovery({ serviceType: 'mayros', interfaces: ['10.0.0.1'], load: async () => fake().factory })
    assert.equal((await bad.start(SELF)).ok, false)
  })
})
