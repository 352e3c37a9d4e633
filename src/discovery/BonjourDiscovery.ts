/**
 * mDNS / DNS-SD discovery on the LAN with `bonjour-service`.
 *
 *   start ──► one mDNS socket per IPv4 interface (UDP 5353, bound to 0.0.0.0, multicast on
 *             that interface) ──► publish `engram-<node id>.<service type>.local`
 *             (SRV: API port; TXT: txt.ts) ──► query the service type every `queryIntervalMs`
 *   every response ──► mdnsPacket.ts ──► SeenPeers (up / update / down on goodbye or expiry)
 *   stop ──► goodbye (records with TTL 0), sockets closed
 *
 * bonjour-service answers the queries of others and announces this node; the responses are
 * read here (from bonjour-service's socket) rather than by its browser, which never expires a
 * peer and decodes TXT records without limits. Each daemon publishes under its own instance
 * and host name (both carry the node id), so two daemons on one host never clash; they share
 * port 5353 (SO_REUSEADDR) like every mDNS responder.
 *
 * A peer is forgotten when it says goodbye, or when it has not answered for `expireAfterMs`
 * (at most its records' TTL): a live responder answers every query. Discovery that cannot
 * run (the library missing, no IPv4 interface but loopback, port 5353 unavailable, multicast
 * not routable) makes `start` answer `{ok: false, reason}`.
 */
import { networkInterfaces } from 'node:os'
import type { NodeId } from '../core/ids.ts'
import { silentLogger, type Logger } from '../util/log.ts'
import { systemClock, type Clock, type Timer } from './clock.ts'
import type { Advertisement, DiscoveredPeer, Discovery, DiscoveryEvent, DiscoveryStart } from './Discovery.ts'
import { parseResponse } from './mdnsPacket.ts'
import { SeenPeers } from './SeenPeers.ts'
import { encodeTxt } from './txt.ts'

/** The part of a bonjour-service instance this class uses. */
interface BonjourLike {
  publish (opts: { name: string, type: string, protocol: 'tcp' | 'udp', port: number, host: string, txt: Record<string, string>, probe: boolean }): unknown
  unpublishAll (callback?: () => void): void
  destroy (callback?: () => void): void
}

/** The multicast-dns socket inside bonjour-service (its `server.mdns`). */
interface MdnsSocket {
  on (event: string, listener: (...args: unknown[]) => void): void
  once (event: string, listener: (...args: unknown[]) => void): void
  removeListener (event: string, listener: (...args: unknown[]) => void): void
  query (name: string, type: string, callback: (err: unknown) => void): void
}

export type BonjourFactory = (opts: { interface: string, bind: string }, onError: (err: unknown) => void) => BonjourLike

export interface BonjourDiscoveryOptions {
  /** DNS-SD service type, `_name._tcp` (discovery.bonjourServiceType). */
  readonly serviceType: string
  readonly log?: Logger
  readonly clock?: Clock
  /** IPv4 addresses of the interfaces to use. Default: every non-internal IPv4 interface (at most 8). */
  readonly interfaces?: readonly string[]
  /** Time between queries for the service type. Default 15,000 ms. */
  readonly queryIntervalMs?: number
  /** A peer not heard from for this long is forgotten (at most its records' TTL). Default 60,000 ms. */
  readonly expireAfterMs?: number
  /** Longest wait for a socket to bind and the first query to go out. Default 3,000 ms. */
  readonly startTimeoutMs?: number
  /** How bonjour-service is loaded (tests replace it). Default: `import('bonjour-service')`. */
  readonly load?: () => Promise<BonjourFactory>
}

const SERVICE_TYPE = /^_([A-Za-z0-9-]{1,63})\._(tcp|udp)$/

async function loadBonjour (): Promise<BonjourFactory> {
  const mod = await import('bonjour-service') as unknown as { Bonjour?: unknown, default?: { Bonjour?: unknown } }
  // a CommonJS package: its exports are named ones from node_modules, under `default` in the
  // bundled executable (scripts/build-cli.ts). Its constructor's options are typed as a
  // service's; they are multicast-dns's.
  const Ctor = (typeof mod.Bonjour === 'function' ? mod.Bonjour : mod.default?.Bonjour) as new (opts: object, onError: (err: unknown) => void) => BonjourLike
  return (opts, onError) => new Ctor(opts, onError)
}

/** Non-internal IPv4 addresses, one per interface. */
export function ipv4Interfaces (): string[] {
  const out: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    const a = (list ?? []).find(x => x.family === 'IPv4' && !x.internal)
    if (a !== undefined) out.push(a.address)
  }
  return out.slice(0, 8)
}

interface Socket {
  readonly iface: string
  readonly bonjour: BonjourLike
  readonly mdns: MdnsSocket
}

const errText = (e: unknown): string => e instanceof Error ? e.message : String(e)

export class BonjourDiscovery implements Discovery {
  readonly kind = 'mdns'
  private readonly opts: BonjourDiscoveryOptions
  private readonly log: Logger
  private readonly clock: Clock
  private readonly handlers: Array<(ev: DiscoveryEvent) => void> = []
  private readonly seen: SeenPeers
  private readonly instances = new Map<string, NodeId>()
  private sockets: Socket[] = []
  private self: Advertisement | undefined
  private timer: Timer | undefined
  private serviceName = ''

  constructor (opts: BonjourDiscoveryOptions) {
    this.opts = opts
    this.log = opts.log ?? silentLogger
    this.clock = opts.clock ?? systemClock
    this.seen = new SeenPeers({ clock: this.clock, emit: ev => { this.emit(ev) } })
  }

  async start (self: Advertisement): Promise<DiscoveryStart> {
    if (this.self !== undefined) return { ok: true }
    const m = SERVICE_TYPE.exec(this.opts.serviceType)
    if (m === null) return { ok: false, reason: `${JSON.stringify(this.opts.serviceType)} is not a DNS-SD service type such as "_mayros-cortex._tcp"` }
    const [, typeName, protocol] = m as unknown as [string, string, 'tcp' | 'udp']
    this.serviceName = `${this.opts.serviceType}.local`
    const ifaces = this.opts.interfaces ?? ipv4Interfaces()
    if (ifaces.length === 0) return { ok: false, reason: 'this machine has no network interface with an IPv4 address other than loopback' }
    let factory: BonjourFactory
    try {
      factory = await (this.opts.load ?? loadBonjour)()
    } catch (e) {
      return { ok: false, reason: `the mDNS library (bonjour-service) cannot be loaded: ${errText(e)}` }
    }
    const problems: string[] = []
    for (const iface of ifaces) {
      const s = await this.open(factory, iface).catch((e: unknown) => { problems.push(`${iface}: ${errText(e)}`); return undefined })
      if (s !== undefined) this.sockets.push(s)
    }
    if (this.sockets.length === 0) return { ok: false, reason: `mDNS cannot use UDP port 5353 multicast (${problems.join('; ')})` }
    if (problems.length > 0) this.log.debug('mDNS runs on some interfaces only', { problems: problems.join('; ') })
    this.self = self
    for (const s of this.sockets) {
      s.bonjour.publish({
        name: `engram-${self.nodeId}`,
        type: typeName,
        protocol,
        port: self.apiPort,
        host: `engram-${self.nodeId}.local`,
        txt: encodeTxt(self),
        probe: false
      })
    }
    this.scheduleQuery(1_000)
    return { ok: true }
  }

  async stop (): Promise<void> {
    const sockets = this.sockets
    this.sockets = []
    this.self = undefined
    this.timer?.cancel()
    this.timer = undefined
    this.seen.clear()
    this.instances.clear()
    await Promise.all(sockets.map(s => new Promise<void>(resolve => {
      // the goodbye goes out before the socket closes; a socket that cannot send is closed anyway
      const t = setTimeout(done, 1000)
      t.unref()
      function done (): void { clearTimeout(t); resolve() }
      try {
        s.bonjour.unpublishAll(() => {
          try { s.bonjour.destroy(done) } catch { done() }
        })
      } catch {
        try { s.bonjour.destroy(done) } catch { done() }
      }
    })))
  }

  onEvent (handler: (ev: DiscoveryEvent) => void): void {
    this.handlers.push(handler)
  }

  peers (): DiscoveredPeer[] {
    return this.seen.list()
  }

  private emit (ev: DiscoveryEvent): void {
    for (const h of this.handlers) {
      try { h(ev) } catch (e) { this.log.warn('a discovery handler failed', { error: errText(e) }) }
    }
  }

  /** One mDNS socket on `iface`: bound, joined, and able to send (its first query went out). */
  private async open (factory: BonjourFactory, iface: string): Promise<Socket> {
    let failed: unknown
    const bonjour = factory({ interface: iface, bind: '0.0.0.0' }, (err: unknown) => {
      if (this.self !== undefined) this.log.debug('mDNS could not send an answer', { iface, error: errText(err) })
      else failed ??= err
    })
    const mdns = (bonjour as unknown as { server?: { mdns?: MdnsSocket } }).server?.mdns
    if (mdns === undefined || typeof mdns.on !== 'function' || typeof mdns.query !== 'function') {
      try { bonjour.destroy() } catch { /* nothing to close */ }
      throw new Error('this version of bonjour-service is not supported (no mDNS socket)')
    }
    mdns.on('error', (err: unknown) => { if (this.self !== undefined) this.log.warn(`mDNS socket error on ${iface}: ${errText(err)}`, { iface }) })
    mdns.on('warning', (err: unknown) => { this.log.debug('mDNS warning', { iface, error: errText(err) }) })
    mdns.on('response', (packet: unknown, rinfo: unknown) => { this.onResponse(packet, rinfo) })
    const limit = this.opts.startTimeoutMs ?? 3_000
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => { reject(new Error(`no answer from the socket within ${limit} ms`)) }, limit)
        t.unref()
        const onError = (err: unknown): void => { clearTimeout(t); reject(err) }
        mdns.once('error', onError)
        // the first query proves that multicast can be sent on this interface
        mdns.query(this.opts.serviceType + '.local', 'PTR', (err: unknown) => {
          clearTimeout(t)
          mdns.removeListener('error', onError)
          if (err !== null && err !== undefined) reject(err)
          else if (failed !== undefined) reject(failed)
          else resolve()
        })
      })
    } catch (e) {
      try { bonjour.destroy() } catch { /* closing a socket that failed */ }
      throw e
    }
    return { iface, bonjour, mdns }
  }

  private onResponse (packet: unknown, rinfo: unknown): void {
    if (this.self === undefined) return
    const source = typeof rinfo === 'object' && rinfo !== null ? (rinfo as { address?: unknown }).address : undefined
    const r = parseResponse(packet, this.serviceName, typeof source === 'string' ? source : undefined)
    for (const instance of r.goodbyes) {
      const id = this.instances.get(instance.toLowerCase())
      if (id === undefined) continue
      this.instances.delete(instance.toLowerCase())
      this.seen.goodbye(id)
    }
    for (const a of r.announcements) {
      if (a.advert.nodeId === this.self.nodeId) continue
      this.instances.set(a.instance.toLowerCase(), a.advert.nodeId)
      if (this.instances.size > 256) this.instances.delete(this.instances.keys().next().value as string)
      const ttl = Math.min(a.ttlMs, this.opts.expireAfterMs ?? 60_000)
      this.seen.seen({ nodeId: a.advert.nodeId, addrs: a.addrs, p2pPort: a.advert.p2pPort, apiPort: a.advert.apiPort, protocol: a.advert.protocol }, ttl)
    }
    for (const x of r.rejected) this.log.debug('ignored an mDNS announcement that is not an engram node', { instance: x.instance, problem: x.problem })
  }

  private scheduleQuery (ms: number): void {
    this.timer = this.clock.setTimer(ms, () => {
      if (this.self === undefined) return
      for (const s of this.sockets) {
        s.mdns.query(this.serviceName, 'PTR', (err: unknown) => {
          if (err !== null && err !== undefined) this.log.debug('mDNS query failed', { iface: s.iface, error: errText(err) })
        })
      }
      this.scheduleQuery(this.opts.queryIntervalMs ?? 15_000)
    })
  }
}
