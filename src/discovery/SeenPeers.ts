/**
 * The peers a discovery currently sees, each until it leaves: a goodbye removes it at once; an
 * announcement keeps it for `ttlMs` after it was last heard (each answer to a query, each
 * unsolicited announcement counts). Expiry runs on the injected clock. At most `maxPeers`
 * peers are kept (further ones are ignored until one leaves) and at most `maxAddrs` addresses
 * per peer, so a flood of announcements costs bounded memory.
 */
import type { NodeId } from '../core/ids.ts'
import type { Clock, Timer } from './clock.ts'
import type { DiscoveredPeer, DiscoveryEvent } from './Discovery.ts'

export interface SeenPeersOptions {
  readonly clock: Clock
  readonly emit: (ev: DiscoveryEvent) => void
  /** Default 64. */
  readonly maxPeers?: number
  /** Default 8. */
  readonly maxAddrs?: number
}

interface Entry {
  peer: DiscoveredPeer
  expiresAt: number
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i])

export class SeenPeers {
  private readonly entries = new Map<NodeId, Entry>()
  private readonly clock: Clock
  private readonly emit: (ev: DiscoveryEvent) => void
  private readonly maxPeers: number
  private readonly maxAddrs: number
  private timer: Timer | undefined
  private timerAt = Infinity
  /** Announcements ignored because the table was full. */
  ignored = 0

  constructor (opts: SeenPeersOptions) {
    this.clock = opts.clock
    this.emit = opts.emit
    this.maxPeers = opts.maxPeers ?? 64
    this.maxAddrs = opts.maxAddrs ?? 8
  }

  /** A peer was heard: added (`up`), changed (`update`) or refreshed; it lives `ttlMs` from now. */
  seen (peer: DiscoveredPeer, ttlMs: number): void {
    const addrs = [...new Set(peer.addrs)].slice(0, this.maxAddrs)
    if (addrs.length === 0) return
    const p: DiscoveredPeer = { ...peer, addrs }
    const expiresAt = this.clock.now() + Math.max(0, ttlMs)
    const e = this.entries.get(p.nodeId)
    if (e === undefined) {
      if (this.entries.size >= this.maxPeers) { this.ignored++; return }
      this.entries.set(p.nodeId, { peer: p, expiresAt })
      this.rearm()
      this.emit({ type: 'up', peer: p })
      return
    }
    e.expiresAt = Math.max(e.expiresAt, expiresAt)
    const changed = !sameList(e.peer.addrs, p.addrs) || e.peer.p2pPort !== p.p2pPort || e.peer.apiPort !== p.apiPort || e.peer.protocol !== p.protocol
    if (changed) {
      e.peer = p
      this.emit({ type: 'update', peer: p })
    }
    this.rearm()
  }

  /** The peer said goodbye. */
  goodbye (nodeId: NodeId): void {
    if (!this.entries.delete(nodeId)) return
    this.rearm()
    this.emit({ type: 'down', nodeId, reason: 'goodbye' })
  }

  /** Removes every peer whose announcement has run out. */
  sweep (): void {
    const now = this.clock.now()
    const gone: NodeId[] = []
    for (const [id, e] of this.entries) if (e.expiresAt <= now) gone.push(id)
    for (const id of gone) {
      this.entries.delete(id)
      this.emit({ type: 'down', nodeId: id, reason: 'expired' })
    }
    this.rearm()
  }

  list (): DiscoveredPeer[] {
    return [...this.entries.values()].map(e => e.peer)
  }

  get size (): number {
    return this.entries.size
  }

  /** Forgets everything without events (discovery stopped). */
  clear (): void {
    this.entries.clear()
    this.timer?.cancel()
    this.timer = undefined
    this.timerAt = Infinity
  }

  private rearm (): void {
    let next = Infinity
    for (const e of this.entries.values()) next = Math.min(next, e.expiresAt)
    if (next === this.timerAt) return
    this.timer?.cancel()
    this.timer = undefined
    this.timerAt = next
    if (next === Infinity) return
    this.timer = this.clock.setTimer(next - this.clock.now(), () => {
      this.timer = undefined
      this.timerAt = Infinity
      this.sweep()
    })
  }
}
