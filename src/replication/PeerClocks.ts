/**
 * How far each peer's wall clock is from this node's (docs/SYNC.md, "Clocks"). Both carriers
 * report what a peer said its clock read: native sync from the `hello` of each session and the
 * `digest` of each gossip round, polled sync from each delta answer (and, serving, from each
 * request). The offset is theirs − ours at receipt (the network delay is a few milliseconds,
 * far below the drift guard this is compared with).
 *
 * It answers two questions:
 * - **which clock looks wrong** when a peer is further than `hlc.maxDriftMs` away: the majority
 *   of the other peers heard of recently decides; with no other peer, both possibilities are said;
 * - **whether this node's clock agrees with its peers'** (the majority within the drift guard),
 *   the condition of the clock repair (engine/clockRepair.ts).
 *
 * Pure bookkeeping: values in, values out; the wall clock is injected.
 */
import type { NodeId } from '../core/ids.ts'

export interface ClockOffset {
  readonly peer: NodeId
  /** Their clock minus ours, ms (positive: the peer is ahead). */
  readonly offsetMs: number
  /** When it was measured (this node's clock, ms since the epoch). */
  readonly measuredAt: number
}

export interface PeerClocksOptions {
  readonly maxDriftMs: () => number
  readonly now?: () => number
  /** Measurements older than this are not counted as a peer's current clock (default 120 s). */
  readonly freshMs?: number
  /** Told when a peer goes beyond the drift guard, or comes back within it (the node logs it). */
  readonly report?: (news: NonNullable<ClockNews>, peer: NodeId) => void
}

/** What a new measurement changed: a peer crossed the drift guard one way or the other. */
export type ClockNews = { readonly kind: 'off', readonly sentence: string } | { readonly kind: 'back', readonly sentence: string } | undefined

export class PeerClocks {
  private readonly opts: PeerClocksOptions
  private readonly now: () => number
  private readonly byPeer = new Map<NodeId, ClockOffset>()
  /** Peers currently known to be further than the drift guard away (reported once). */
  private readonly off = new Set<NodeId>()

  constructor (opts: PeerClocksOptions) {
    this.opts = opts
    this.now = opts.now ?? Date.now
  }

  /**
   * A peer said its clock read `theirs` when this node's read `ours` (both ms since the epoch).
   * Returns news when the peer just went beyond the drift guard, or came back within it.
   */
  observe (peer: NodeId, theirs: number, ours: number = this.now()): ClockNews {
    const offsetMs = theirs - ours
    this.byPeer.set(peer, { peer, offsetMs, measuredAt: ours })
    const beyond = Math.abs(offsetMs) > this.opts.maxDriftMs()
    let news: ClockNews
    if (beyond && !this.off.has(peer)) {
      this.off.add(peer)
      news = { kind: 'off', sentence: this.verdict(peer) }
    } else if (!beyond && this.off.delete(peer)) {
      news = { kind: 'back', sentence: `peer ${peer}'s clock is within ${this.opts.maxDriftMs()} ms of this node's again (${formatOffset(offsetMs)})` }
    }
    if (news !== undefined) this.opts.report?.(news, peer)
    return news
  }

  /** The latest offset of every peer. */
  offsets (): ClockOffset[] {
    return [...this.byPeer.values()].sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
  }

  offsetOf (peer: NodeId): ClockOffset | undefined {
    return this.byPeer.get(peer)
  }

  /** Whether `peer`'s clock, measured recently, is within the drift guard of this node's. */
  agreesWith (peer: NodeId): boolean {
    const o = this.byPeer.get(peer)
    return o !== undefined && o.measuredAt >= this.now() - (this.opts.freshMs ?? 120_000) && Math.abs(o.offsetMs) <= this.opts.maxDriftMs()
  }

  /** Offsets measured recently (within freshMs). */
  private fresh (): ClockOffset[] {
    const since = this.now() - (this.opts.freshMs ?? 120_000)
    return this.offsets().filter(o => o.measuredAt >= since)
  }

  /**
   * Whether this node's clock agrees, within the drift guard, with the majority of the peers
   * heard of recently; undefined when none was.
   */
  agreesWithPeers (): boolean | undefined {
    const fresh = this.fresh()
    if (fresh.length === 0) return undefined
    const agree = fresh.filter(o => Math.abs(o.offsetMs) <= this.opts.maxDriftMs()).length
    return agree * 2 > fresh.length
  }

  /** Which clock looks wrong, for a peer further than the drift guard away (the log's sentence). */
  verdict (peer: NodeId): string {
    const mine = this.byPeer.get(peer)
    if (mine === undefined) return `no clock reading of ${peer} yet`
    const drift = this.opts.maxDriftMs()
    const others = this.fresh().filter(o => o.peer !== peer)
    const gap = `peer ${peer}'s clock is ${formatOffset(mine.offsetMs)} (more than hlc.maxDriftMs = ${drift} ms)`
    if (others.length === 0) {
      return `${gap}: one of the two clocks is wrong (with more peers this node could tell which); ` +
        `records stamped too far ahead are held aside until the clocks agree — fix the wrong clock (NTP)`
    }
    const withUs = others.filter(o => Math.abs(o.offsetMs) <= drift).length
    const withThem = others.filter(o => Math.abs(o.offsetMs - mine.offsetMs) <= drift).length
    if (withUs * 2 > others.length) {
      return `${gap}; ${withUs} of ${others.length} other peers agree with this node's clock, so ${peer}'s clock is wrong: fix it (NTP); its records are held aside meanwhile, none is lost`
    }
    if (withThem * 2 > others.length) {
      return `${gap}; ${withThem} of ${others.length} other peers agree with ${peer}, so this node's clock looks wrong: fix it (NTP); ` +
        'writes made here meanwhile are repaired when it is fixed, none is lost'
    }
    return `${gap}; the other peers do not agree among themselves: check every clock (NTP)`
  }
}

/** "12.3 s ahead of this node's" / "2 h 0 min behind this node's". */
export function formatOffset (ms: number): string {
  const a = Math.abs(ms)
  const size = a >= 3_600_000
    ? `${Math.floor(a / 3_600_000)} h ${Math.round((a % 3_600_000) / 60_000)} min`
    : a >= 60_000 ? `${Math.floor(a / 60_000)} min ${Math.round((a % 60_000) / 1000)} s` : `${(a / 1000).toFixed(1)} s`
  return `${size} ${ms >= 0 ? 'ahead of' : 'behind'} this node's`
}
