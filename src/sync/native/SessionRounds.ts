/**
 * The gossip half of one native session (NativeSession.ts): the anti-entropy rounds it runs with
 * the peer and what it does with the peer's round messages (docs/PROTOCOL.md §3).
 *
 * - Negotiation: the hello offers the version of coded rounds this node speaks (`rc`); once the
 *   handshake is done, both ends run the lower version both speak (0: bloom rounds only), and the
 *   node's gossip side for that version (GossipSide.ts) is built.
 * - Rounds: at each tick (every gossipIntervalMs, driven by the manager) a round starts, unless a
 *   stream of the session is catching up — the streams are about to deliver everything a round
 *   would find. A round the peer starts meanwhile ends at once (counted as deferred). A live
 *   session's streams that moved since the last tick (records, or origins announced left out,
 *   either way) skip this node's round too, for at most MAX_BUSY_TICKS ticks in a row: what a
 *   round would find then is mostly what they are carrying (docs/PROTOCOL.md §3, "Busy streams").
 * - Idle backoff: while the streams rest, rounds that find nothing space out — the next one
 *   waits twice as many ticks as the last, up to MAX_IDLE_GAP — and a commit on this node (`wake`),
 *   any movement of the streams, a round that finds records, or a round asked for (`force`: sync now) runs them every tick
 *   again (docs/PROTOCOL.md §3, "Idle sessions"). The session spaces its knowledge refreshes by
 *   the same gap (`idleGap`).
 * - Dispatch: bloom and coded messages go to the gossip side; what it answers is sent (a digest
 *   with this node's clock, records with the voids it knows); the records it returns wait for their
 *   signatures to be checked (in slices, ahead) and are applied in order, a batch over the peer's
 *   tombstone budget being left for a later round.
 *
 * A session without a gossip side (gossip switched off) runs no round and ignores round messages.
 */
import { isEngramError } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import type { ClockVoid } from '../../core/knowledge.ts'
import type { MemoryRecord } from '../../core/model.ts'
import type { PageSeals } from '../../core/seals.ts'
import type { GossipMessage } from '../../protocol/native/gossipMessages.ts'
import type { NativeMessage } from '../../protocol/native/messages.ts'
import { CODED_ROUNDS_VERSION, type ReconMessage } from '../../protocol/native/reconWire.ts'
import { applyPeerPage } from '../../replication/applyPage.ts'
import type { PeerView } from '../../replication/conflicts.ts'
import type { SessionGossip, SessionOptionsOf, SessionSettings } from './SessionOptions.ts'

/** The version of coded rounds this node's hello offers (0: none). */
export function codedOffer<S> (opts: SessionOptionsOf<S>): number {
  const coded = opts.coded ?? true
  return typeof coded === 'number' ? Math.max(0, Math.min(CODED_ROUNDS_VERSION, coded)) : coded ? CODED_ROUNDS_VERSION : 0
}

/** The version of coded rounds run with a peer whose hello offered `peerCoded`: a node speaks every version up to the one it lists, so the lower one both speak. */
export function codedAgreed<S> (opts: SessionOptionsOf<S>, peerCoded: number): number {
  return Math.min(codedOffer(opts), peerCoded)
}

/** What the rounds read of the session's options. */
export type RoundOptions = Pick<SessionOptionsOf<unknown>, 'conn' | 'engine' | 'gossip' | 'conflicts' | 'log' | 'now' | 'onClock' | 'routes'>

/** What the rounds need of their session. */
export interface RoundLinks {
  /** Sends a message, bounded in time. */
  readonly send: (msg: NativeMessage) => Promise<void>
  /** Closes the session because of `err`, noting what it was doing. */
  readonly fail: (err: unknown, during: string) => Promise<void>
  readonly isOpen: () => boolean
  /** A stream of the session is still catching up (NativeSession.catchingUp). */
  readonly catchingUp: () => boolean
  /** What the peer has applied of this node's feed. */
  readonly view: () => PeerView
  /** This peer and this node agree, or soon will: a round synced. */
  readonly synced: () => void
  /** How far the session's streams have moved: records and announced origins, sent and received (it only grows). */
  readonly streamed?: () => number
}

/** Most ticks in a row whose round a live session's moving streams skip: a round runs at least every MAX_BUSY_TICKS + 1 ticks. */
export const MAX_BUSY_TICKS = 5

/** Most ticks between two rounds of a session whose streams rest (the idle backoff doubles up to it). */
export const MAX_IDLE_GAP = 8

/**
 * How long an idle sender waits between two knowledge refreshes: a gossip interval (at least a
 * second) times the session's idle gap, at most `idleRefreshMaxMs` (a quarter of the tombstone
 * TTL and of sync.memberGoneDays: Rule B and the gone rule read how recent each member's entry is).
 */
export function knowledgeRefreshMs (s: Pick<SessionSettings, 'gossipIntervalMs' | 'idleRefreshMaxMs'>, gap: number): number {
  const every = Math.max(1000, s.gossipIntervalMs)
  return Math.max(every, Math.min(every * gap, s.idleRefreshMaxMs ?? Infinity))
}

export class SessionRounds {
  /** Rounds that synced (an equal digest, or records received). */
  count = 0
  /** Rounds of the peer left unanswered because a stream was catching up. */
  deferred = 0
  /** This node's rounds skipped because the streams moved since the last tick. */
  busy = 0
  /** This node's rounds skipped because the session was idle (the idle backoff). */
  idle = 0
  /** The streams' movement at the last tick, and the ticks skipped in a row since a round. */
  private lastStreamed = 0
  private busyTicks = 0
  /** Ticks between two rounds while the streams rest (1: every tick), and the idle ticks since the last round. */
  private gap = 1
  private idleTicks = 0
  private readonly opts: RoundOptions
  private readonly links: RoundLinks
  private readonly peer: NodeId
  private readonly now: () => number
  private readonly gossip: SessionGossip | undefined
  /** Gossip batches wait here for their signatures to be checked, and are applied in order. */
  private tail: Promise<void> = Promise.resolve()

  /** `coded`: the version of coded rounds both ends speak (codedAgreed). */
  constructor (opts: RoundOptions, coded: number, links: RoundLinks) {
    this.opts = opts
    this.links = links
    this.peer = opts.conn.remoteNode
    this.now = opts.now ?? Date.now
    this.gossip = opts.gossip?.(this.peer, coded)
  }

  /** Ticks between two rounds now: 1 while the session moves, up to MAX_IDLE_GAP while it rests. */
  get idleGap (): number {
    return this.gap
  }

  /**
   * The tick: a round, unless a stream is catching up, or the streams moved since the last tick
   * (at most MAX_BUSY_TICKS in a row), or they rest and the idle gap has not passed (`force`:
   * a round asked for runs anyway, and the gap starts again from 1).
   */
  tick (force = false): void {
    if (this.gossip === undefined || this.links.catchingUp()) return
    const streamed = this.links.streamed?.() ?? 0
    const moved = streamed !== this.lastStreamed
    this.lastStreamed = streamed
    if (moved || force) this.active()
    if (moved && this.busyTicks < MAX_BUSY_TICKS) {
      this.busyTicks++
      this.busy++
      return
    }
    this.busyTicks = 0
    if (!moved && !force) {
      if (++this.idleTicks < this.gap) { this.idle++; return }
      this.idleTicks = 0
      this.gap = Math.min(MAX_IDLE_GAP, this.gap * 2)
    }
    const round = this.gossip.startRound()
    if (round !== undefined) void this.links.send(this.outgoing(round)).catch(e => this.links.fail(e, 'send'))
  }

  /** A bloom or coded round message of the peer (decodeFrame checked every row of a `records` message). */
  onMessage (msg: GossipMessage | ReconMessage): void {
    if (this.gossip === undefined) return
    if ((msg.t === 'digest' || msg.t === 'rdigest') && msg.now !== undefined) this.opts.onClock?.(this.peer, msg.now, this.now())
    // a round the peer starts while a stream catches up ends at once (a lost message does the same)
    if (msg.t !== 'records' && this.links.catchingUp()) { this.deferred++; return }
    const { send, apply, seals } = this.gossip.onMessage(msg)
    // a round that found records, either way: the peers differ, rounds every tick again
    if (apply.length > 0 || send.some(m => m.t === 'records')) this.active()
    // signatures are checked ahead, in slices
    if (apply.length > 0) {
      const voids = msg.t === 'records' ? msg.vd : undefined
      this.tail = this.tail
        .then(async () => { await this.opts.engine.verifyAhead(apply, seals); if (this.links.isOpen()) this.apply(apply, seals, voids) })
        .catch(e => this.links.fail(e, 'gossip'))
    }
    for (const m of send) void this.links.send(this.outgoing(m)).catch(e => this.links.fail(e, 'send'))
    // an equal digest (nothing to answer) or records received: this peer and we agree, or soon will
    if (((msg.t === 'digest' || msg.t === 'rdigest') && send.length === 0) || msg.t === 'records') {
      this.count++
      this.links.synced()
    }
  }

  /** A commit on this node (a write here, or records from any peer): rounds every tick again. */
  wake (): void {
    this.active()
  }

  /** Something moved between the peers: rounds every tick again. */
  private active (): void {
    this.gap = 1
    this.idleTicks = 0
  }

  /** A gossip message as sent: a digest with this node's clock, records with the voids it knows. */
  private outgoing (m: NativeMessage): NativeMessage {
    if (m.t === 'digest' || m.t === 'rdigest') return { ...m, now: this.now() }
    if (m.t === 'records') {
      const vd = this.opts.engine.knowledge.voids()
      return vd.length > 0 ? { ...m, vd } : m
    }
    return m
  }

  /** Applies a gossip batch; one over the peer's tombstone budget is left for a later round. */
  private apply (records: readonly MemoryRecord[], seals: PageSeals | undefined, voids: readonly ClockVoid[] | undefined): void {
    const conflicts = this.opts.conflicts
    try {
      applyPeerPage(this.opts.engine, { peer: this.peer, records, seals, view: this.links.view(), ...(voids !== undefined ? { voids } : {}) },
        conflicts !== undefined ? { pass: conflicts.pass(this.peer), log: conflicts.log } : undefined)
      // what a gossip batch brought answers the announcements that listed it (protocol/native/gossipRoutes.ts)
      this.opts.routes?.received(records, this.now())
    } catch (e) {
      if (!isEngramError(e) || e.code !== 'RATE_LIMITED') throw e
      this.opts.log.debug(`left a gossip batch from ${this.peer} for a later round: ${e.message}`, { peer: this.peer })
    }
  }
}
