/**
 * How far each peer's wall clock is from this node's (docs/SYNC.md, "Clocks"). Both carriers
 * report what a peer said its clock read: native sync from the `hello` of each session and the
 * `digest` of each gossip round, polled sync from each delta answer (and, serving, from each
 * request). The offset is theirs − ours at receipt (the network delay is a few milliseconds,
 * far below the drift guard this is compared with).
 *
 * A reading is kept with the monotonic time it was taken at, and both its age and its offset are
 * read through that clock: a peer's clock is taken to have run on by the monotonic time elapsed
 * since, and this node's wall clock is read now. So when this node's wall clock is stepped (by
 * hand, by NTP, by a VM resumed), every reading taken before says so at once — three hours back,
 * and every peer now reads three hours ahead — instead of stating the offset measured before the
 * step for two more minutes (or, for a step back, for the length of the step), which would let a
 * node that was just put wrong "repair" its correct records onto its wrong clock.
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

/** A reading as kept: the offset at receipt and the monotonic time it was taken at. */
interface Reading extends ClockOffset {
  readonly measuredMono: number
}

export interface PeerClocksOptions {
  readonly maxDriftMs: () => number
  readonly now?: () => number
  /**
   * A clock that is never stepped, ms (default: performance.now when `now` is the default;
   * `now` itself when a test injects one, so a test's clock is never seen as stepped).
   */
  readonly monotonic?: () => number
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
  private readonly mono: () => number
  private readonly byPeer = new Map<NodeId, Reading>()
  /** Peers currently known to be further than the drift guard away (reported once). */
  private readonly off = new Set<NodeId>()

  constructor (opts: PeerClocksOptions) {
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.mono = opts.monotonic ?? (opts.now !== undefined ? opts.now : () => performance.now())
  }

  /** The offset now: the peer's clock run on by the monotonic time since the reading, minus this node's wall clock. */
  private current (r: Reading): ClockOffset {
    const offsetMs = r.measuredAt + r.offsetMs + (this.mono() - r.measuredMono) - this.now()
    return { peer: r.peer, offsetMs, measuredAt: r.measuredAt }
  }

  /** Whether a reading is recent: by the monotonic clock, so a step of the wall clock neither ages nor refreshes it. */
  private isFresh (r: Reading): boolean {
    return this.mono() - r.measuredMono <= (this.opts.freshMs ?? 120_000)
  }

  /**
   * A peer said its clock read `theirs` when this node's read `ours` (both ms since the epoch).
   * Returns news when the peer just went beyond the drift guard, or came back within it.
   */
  observe (peer: NodeId, theirs: number, ours: number = this.now()): ClockNews {
    const offsetMs = theirs - ours
    this.byPeer.set(peer, { peer, offsetMs, measuredAt: ours, measuredMono: this.mono() - (this.now() - ours) })
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

  /** The latest offset of every peer, as it stands now (see the file comment). */
  offsets (): ClockOffset[] {
    return this.sorted().map(r => this.current(r))
  }

  offsetOf (peer: NodeId): ClockOffset | undefined {
    const r = this.byPeer.get(peer)
    return r === undefined ? undefined : this.current(r)
  }

  /** Whether `peer`'s clock, measured recently, is within the drift guard of this node's. */
  agreesWith (peer: NodeId): boolean {
    const r = this.byPeer.get(peer)
    return r !== undefined && this.isFresh(r) && Math.abs(this.current(r).offsetMs) <= this.opts.maxDriftMs()
  }

  private sorted (): Reading[] {
    return [...this.byPeer.values()].sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
  }

  /** Offsets measured recently (within freshMs, by the monotonic clock), as they stand now. */
  private fresh (): ClockOffset[] {
    return this.sorted().filter(r => this.isFresh(r)).map(r => this.current(r))
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
    const mine = this.offsetOf(peer)
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
