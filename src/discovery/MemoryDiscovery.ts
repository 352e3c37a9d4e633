/**
 * An in-process LAN for deterministic discovery tests: every started `MemoryDiscovery` on a
 * `MemoryLan` hears the others' announcements at once, answers again every `refreshMs` (as an
 * mDNS responder answers queries), and keeps what it heard for `ttlMs`. Time is the injected
 * clock's. A node can leave with a goodbye (`stop`), vanish without one (`crash`, or
 * `lan.silence`, after which the others expire it), or be unable to run discovery at all
 * (`unavailable`). Addresses are the in-memory transport's: `mem:<node id>`.
 */
import type { NodeId } from '../core/ids.ts'
import type { Clock, Timer } from './clock.ts'
import type { Advertisement, DiscoveredPeer, Discovery, DiscoveryEvent, DiscoveryStart } from './Discovery.ts'
import { SeenPeers } from './SeenPeers.ts'

export interface MemoryDiscoveryOptions {
  /** Discovery cannot run here, for this reason (start answers {ok: false}). */
  readonly unavailable?: string
  /** How long an announcement is kept without a new one. Default 60,000 ms. */
  readonly ttlMs?: number
  /** How often a running node announces itself again. Default 15,000 ms. */
  readonly refreshMs?: number
}

export class MemoryLan {
  readonly clock: Clock
  private readonly members = new Set<MemoryDiscovery>()
  private readonly silenced = new Set<NodeId>()

  constructor (clock: Clock) {
    this.clock = clock
  }

  createDiscovery (opts: MemoryDiscoveryOptions = {}): MemoryDiscovery {
    return new MemoryDiscovery(this, opts)
  }

  /** A silenced node neither hears nor is heard (its multicast is blocked). */
  silence (nodeId: NodeId, on = true): void {
    if (on) this.silenced.add(nodeId)
    else this.silenced.delete(nodeId)
  }

  /** @internal */
  join (d: MemoryDiscovery): void {
    this.members.add(d)
    for (const other of this.members) {
      if (other === d) continue
      this.deliver(other, d)
      this.deliver(d, other)
    }
  }

  /** @internal */
  leave (d: MemoryDiscovery, goodbye: boolean): void {
    this.members.delete(d)
    const self = d.advertised
    if (!goodbye || self === undefined || this.silenced.has(self.nodeId)) return
    for (const other of this.members) {
      if (other.advertised !== undefined && !this.silenced.has(other.advertised.nodeId)) other.hearGoodbye(self.nodeId)
    }
  }

  /** @internal `from` announces itself to every other member. */
  announce (from: MemoryDiscovery): void {
    for (const other of this.members) if (other !== from) this.deliver(from, other)
  }

  private deliver (from: MemoryDiscovery, to: MemoryDiscovery): void {
    const ad = from.advertised
    if (ad === undefined || to.advertised === undefined) return
    if (this.silenced.has(ad.nodeId) || this.silenced.has(to.advertised.nodeId)) return
    to.hear({ nodeId: ad.nodeId, addrs: [`mem:${ad.nodeId}`], p2pPort: ad.p2pPort, apiPort: ad.apiPort, protocol: ad.protocol }, from.ttlMs)
  }
}

export class MemoryDiscovery implements Discovery {
  readonly kind = 'mdns'
  readonly ttlMs: number
  private readonly lan: MemoryLan
  private readonly opts: MemoryDiscoveryOptions
  private readonly handlers: Array<(ev: DiscoveryEvent) => void> = []
  private readonly seen: SeenPeers
  private self: Advertisement | undefined
  private timer: Timer | undefined

  constructor (lan: MemoryLan, opts: MemoryDiscoveryOptions) {
    this.lan = lan
    this.opts = opts
    this.ttlMs = opts.ttlMs ?? 60_000
    this.seen = new SeenPeers({ clock: lan.clock, emit: ev => { for (const h of this.handlers) h(ev) } })
  }

  /** What this node advertises while it runs. */
  get advertised (): Advertisement | undefined {
    return this.self
  }

  async start (self: Advertisement): Promise<DiscoveryStart> {
    if (this.opts.unavailable !== undefined) return { ok: false, reason: this.opts.unavailable }
    if (this.self !== undefined) return { ok: true }
    this.self = self
    this.lan.join(this)
    this.scheduleRefresh()
    return { ok: true }
  }

  async stop (): Promise<void> {
    this.end(true)
  }

  /** Leaves without a goodbye, like a process that was killed. */
  crash (): void {
    this.end(false)
  }

  onEvent (handler: (ev: DiscoveryEvent) => void): void {
    this.handlers.push(handler)
  }

  peers (): DiscoveredPeer[] {
    return this.seen.list()
  }

  /** @internal */
  hear (peer: DiscoveredPeer, ttlMs: number): void {
    if (this.self === undefined || peer.nodeId === this.self.nodeId) return
    this.seen.seen(peer, ttlMs)
  }

  /** @internal */
  hearGoodbye (nodeId: NodeId): void {
    this.seen.goodbye(nodeId)
  }

  private end (goodbye: boolean): void {
    if (this.self === undefined) return
    this.timer?.cancel()
    this.timer = undefined
    this.lan.leave(this, goodbye)
    this.self = undefined
    this.seen.clear()
  }

  private scheduleRefresh (): void {
    this.timer = this.lan.clock.setTimer(this.opts.refreshMs ?? 15_000, () => {
      if (this.self === undefined) return
      this.lan.announce(this)
      this.scheduleRefresh()
    })
  }
}
