/**
 * Discovery for a node: mDNS, the static fallback and the P2P peers of the peer registry
 * (peers/P2pPeers.ts: the peer book) together, proposing peers to native sync (a `PeerDialer`),
 * which dials them and whose seed handshake decides trust. Native sync dials the book's
 * configured and API peers by itself; discovery proposes its mDNS and static ones.
 *
 *   start ──► the book's mDNS and static peers are dialled at once (a restart reconnects
 *             before anything is discovered); static entries sync.peers no longer lists go
 *         ──► mDNS started (or off, or unable to run) ──► StaticFallback decides about sync.peers
 *   mDNS up / update ──► book (source mdns) ──► dialer.connect(addr, expected node id)
 *   mDNS down ──► forgotten (book and dialling): at once after a goodbye; after an expiry unless a
 *                 session is open, else by the sweep once the session is gone and it was not
 *                 heard of for `forgetAfterMs`
 *   native sync events ──► book: last seen, last error; an mDNS peer that fails the seed
 *                 handshake is not dialled again until it announces itself anew
 *
 * Every decision about the static list is logged in one line (StaticFallback.ts); every mDNS
 * peer found or forgotten in one line.
 */
import type { NodeId } from '../core/ids.ts'
import type { Logger } from '../util/log.ts'
import { systemClock, type Clock, type Timer } from './clock.ts'
import type { Advertisement, Discovery, DiscoveryEvent } from './Discovery.ts'
import type { P2pPeer, P2pPeers } from '../peers/P2pPeers.ts'
import { dialledAlways, type PeerSource, type ProposedSource } from '../peers/sources.ts'
import type { DialerEvent, PeerDialer } from './PeerDialer.ts'
import { StaticFallback, type FallbackDecision } from './StaticFallback.ts'

export interface DiscoveryServiceOptions {
  /** The P2P peers of the node's peer registry (native sync is handed the same). */
  readonly book: P2pPeers
  readonly dialer: PeerDialer
  /** mDNS; absent when the configuration switches it off. */
  readonly discovery?: Discovery
  /** What this node advertises. */
  readonly self: Advertisement
  /** sync.peers, "host:port". */
  readonly staticPeers: readonly string[]
  /** sync.staticFallbackSeconds, in ms. */
  readonly staticFallbackMs: number
  /** An mDNS peer neither announced nor connected for this long is forgotten. Default 60,000 ms. */
  readonly forgetAfterMs?: number
  /** Announcements of a protocol version below this are not dialled. Default 1. */
  readonly minProtocol?: number
  readonly clock?: Clock
  readonly log: Logger
}

/** A peer book entry as GET /api/v1/p2p/peers?format=engram (`book`) and `engram peers` show it. */
export interface PeerBookView {
  readonly addr: string
  readonly source: PeerSource
  readonly node_id: string | null
  readonly addrs: readonly string[]
  readonly connected: boolean
  /** mDNS peers: announced on the network now. */
  readonly announced: boolean
  readonly last_seen: string | null
  readonly last_error: string | null
  readonly last_error_at: string | null
  readonly refused: boolean
}

const iso = (ms: number | null): string | null => ms === null ? null : new Date(ms).toISOString()

export class DiscoveryService {
  private readonly opts: DiscoveryServiceOptions
  private readonly book: P2pPeers
  private readonly dialer: PeerDialer
  private readonly clock: Clock
  private readonly log: Logger
  private readonly fallback: StaticFallback
  private readonly forgetAfterMs: number
  /** mDNS entries: when each was last heard of (announced, connected, or restored), ms. */
  private readonly heard = new Map<string, number>()
  private sweepTimer: Timer | undefined
  private running = false
  private mdnsRuns = false

  constructor (opts: DiscoveryServiceOptions) {
    this.opts = opts
    this.book = opts.book
    this.dialer = opts.dialer
    this.clock = opts.clock ?? systemClock
    this.log = opts.log
    this.forgetAfterMs = opts.forgetAfterMs ?? 60_000
    this.fallback = new StaticFallback({
      peers: opts.staticPeers,
      waitMs: opts.staticFallbackMs,
      clock: this.clock,
      log: opts.log,
      dial: peers => { for (const p of peers) this.propose(p, 'static') }
    })
    opts.discovery?.onEvent(ev => { this.onDiscovery(ev) })
  }

  /** What the static fallback decided (undefined while mDNS still has time). */
  get fallbackDecision (): FallbackDecision | undefined {
    return this.fallback.decision
  }

  /** Whether mDNS runs. */
  get mdnsRunning (): boolean {
    return this.mdnsRuns
  }

  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    this.restore()
    const d = this.opts.discovery
    if (d === undefined) {
      this.fallback.mdnsOff()
    } else {
      const r = await d.start(this.opts.self)
      if (!this.running) { await d.stop(); return }
      if (r.ok) {
        this.mdnsRuns = true
        this.log.info('mDNS discovery started: advertising this node and looking for peers',
          { node: this.opts.self.nodeId, p2pPort: this.opts.self.p2pPort })
        this.fallback.mdnsStarted()
      } else {
        this.fallback.mdnsUnavailable(r.reason)
      }
    }
    this.scheduleSweep()
  }

  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    this.fallback.stop()
    this.sweepTimer?.cancel()
    this.sweepTimer = undefined
    if (this.mdnsRuns) await this.opts.discovery?.stop()
    this.mdnsRuns = false
  }

  /** Keeps the book current with what native sync reports. */
  onDialerEvent (ev: DialerEvent): void {
    switch (ev.type) {
      case 'dialled':
        this.book.seen(ev.addr, ev.nodeId)
        if (this.heard.has(ev.addr)) this.heard.set(ev.addr, this.clock.now())
        return
      case 'dial-failed':
        this.book.failed(ev.addr, ev.error)
        return
      case 'session-open':
        this.book.seenNode(ev.nodeId)
        return
      case 'session-ended':
        this.ended(ev.nodeId, ev.addr, ev.error, ev.refused === true)
    }
  }

  /** The book, with each peer's state now. */
  view (): PeerBookView[] {
    const announced = new Set(this.opts.discovery?.peers().map(p => p.nodeId) ?? [])
    return this.book.list().map(e => ({
      addr: e.addr,
      source: e.source,
      node_id: e.nodeId,
      addrs: e.addrs,
      connected: e.nodeId !== null && this.dialer.isConnected(e.nodeId),
      announced: e.source === 'mdns' && e.nodeId !== null && announced.has(e.nodeId),
      last_seen: iso(e.lastSeen),
      last_error: e.lastError,
      last_error_at: iso(e.lastErrorAt),
      refused: e.refused
    }))
  }

  // ---- internals -------------------------------------------------------------------------

  /** Dials the book's mDNS and static peers at once; drops static entries sync.peers no longer lists. */
  private restore (): void {
    const statics = new Set(this.opts.staticPeers)
    const now = this.clock.now()
    for (const e of this.book.list()) {
      if (dialledAlways(e.source)) continue // native sync dials those itself
      if (e.source === 'static') {
        if (statics.has(e.addr)) this.dial(e)
        else this.book.forget(e.addr)
      } else {
        this.heard.set(e.addr, now)
        if (!e.refused) this.dial(e)
      }
    }
  }

  private dial (e: P2pPeer): void {
    this.dialer.connect(e.addr, { source: e.source === 'static' ? 'static' : 'mdns', ...(e.nodeId !== null && e.source === 'mdns' ? { expectedNode: e.nodeId } : {}) })
  }

  private propose (addr: string, source: ProposedSource, nodeId?: NodeId, addrs?: readonly string[]): void {
    const before = this.book.get(addr)
    // another node now answers at that address (reinstalled, or the address moved): dial anew, expecting it
    if (before !== undefined && nodeId !== undefined && before.nodeId !== null && before.nodeId !== nodeId) void this.dialer.disconnect(addr)
    const e = this.book.put(addr, source, { ...(nodeId !== undefined ? { nodeId } : {}), ...(addrs !== undefined ? { addrs } : {}), seen: source === 'mdns' })
    if (dialledAlways(e.source)) return // native sync dials those itself
    if (e.source === 'mdns') this.heard.set(addr, this.clock.now())
    this.dial(e)
  }

  private onDiscovery (ev: DiscoveryEvent): void {
    if (!this.running) return
    if (ev.type === 'down') {
      this.log.info(`mDNS peer ${ev.nodeId} left (${ev.reason === 'goodbye' ? 'said goodbye' : 'stopped answering'})`, { peer: ev.nodeId })
      for (const e of this.book.list()) {
        // a goodbye is final; a peer that only stopped answering mDNS stays while its session lasts
        if (e.source === 'mdns' && e.nodeId === ev.nodeId && (ev.reason === 'goodbye' || !this.dialer.isConnected(ev.nodeId))) void this.forget(e.addr)
      }
      return
    }
    const p = ev.peer
    this.fallback.peerFound(p.nodeId)
    if (p.protocol < (this.opts.minProtocol ?? 1)) {
      this.log.debug('mDNS peer speaks an older protocol; not dialled', { peer: p.nodeId, protocol: p.protocol })
      return
    }
    const addr = p.addrs[0] as string
    // the node moved to another address: its old entries go
    for (const e of this.book.list()) {
      if (e.source === 'mdns' && e.nodeId === p.nodeId && e.addr !== addr) void this.forget(e.addr)
    }
    if (ev.type === 'up') this.log.info(`mDNS found peer ${p.nodeId} at ${addr}; dialling it (the seed handshake decides whether it is one of ours)`, { peer: p.nodeId, addr })
    this.propose(addr, 'mdns', p.nodeId, p.addrs)
  }

  private ended (nodeId: NodeId, addr: string | undefined, error: string | undefined, refused: boolean): void {
    if (error === undefined) { this.book.seenNode(nodeId); return }
    const targets = addr !== undefined ? [addr] : this.book.ofNode(nodeId).map(e => e.addr)
    for (const a of targets) {
      const e = this.book.get(a)
      if (e === undefined) continue
      this.book.failed(a, error, { nodeId, refused })
      if (refused && e.source === 'mdns' && !e.refused) {
        this.log.warn(`mDNS peer ${nodeId} at ${a} failed the seed handshake (another seed, or not an engram node of yours): not dialled again until it announces itself anew`,
          { peer: nodeId, addr: a })
        void this.dialer.disconnect(a)
      }
    }
  }

  private async forget (addr: string): Promise<void> {
    this.heard.delete(addr)
    this.book.forget(addr)
    await this.dialer.disconnect(addr)
  }

  /** Forgets mDNS peers that are neither announced nor connected and were not heard of for `forgetAfterMs`. */
  private sweep (): void {
    const now = this.clock.now()
    const announced = new Set(this.opts.discovery?.peers().map(p => p.nodeId) ?? [])
    for (const e of this.book.list()) {
      if (e.source !== 'mdns') continue
      const alive = e.nodeId !== null && (announced.has(e.nodeId) || this.dialer.isConnected(e.nodeId))
      if (alive) { this.heard.set(e.addr, now); continue }
      const last = Math.max(this.heard.get(e.addr) ?? 0, e.lastSeen ?? 0)
      if (now - last >= this.forgetAfterMs) {
        this.log.info(`forgot mDNS peer ${e.nodeId ?? e.addr}: not announced and not connected for ${Math.round((now - last) / 1000)} s`, { peer: e.nodeId, addr: e.addr })
        void this.forget(e.addr)
      }
    }
  }

  private scheduleSweep (): void {
    if (!this.running) return
    this.sweepTimer = this.clock.setTimer(Math.max(1, Math.floor(this.forgetAfterMs / 2)), () => {
      this.sweep()
      this.scheduleSweep()
    })
  }
}
