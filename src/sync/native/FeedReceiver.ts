/**
 * The receiving half of a native sync session: applies the peer's `changes` pages
 * (docs/PROTOCOL.md §2).
 *
 * A page is applied only when its `from` equals this node's cursor for the peer; it is merged
 * (replication/applyPage.ts, with the node's conflict strategy) in one transaction together
 * with the new cursor `to` and the peer feed it belongs to, then acknowledged. A page that does not continue from the cursor is answered with a fresh `cursor`
 * (once, and again when no fitting page follows in time) and the sender restarts from there. A snapshot (pages from 0
 * with `snapshot: true`) is accepted whatever the cursor; after its last page the expired-cursor
 * rule (replication/expiredCursor.ts) deletes what the peer deleted and collected while this
 * node was away. A page's clock voids (`vd`) apply before its records, and the knowledge vector
 * of a page that reaches the end of the peer's feed (`k`) is learnt with its cursor
 * (core/knowledge.ts); records stamped too far ahead are held aside, and the page still applies.
 * A page that leaves more than a catch-up page of the peer's feed after it (`end` − `to`) defers
 * its full-text indexing (replication/farBehind.ts).
 * Each page applied moves the progress (telemetry/FeedProgress.ts): the catch-up in flight and
 * how far behind the peer's feed this node is, for the status and the dashboard.
 */
import { isEngramError } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import type { Engine } from '../../engine/Engine.ts'
import type { Logger } from '../../util/log.ts'
import type { AckMessage, ChangesMessage, CursorMessage } from '../../protocol/native/messages.ts'
import { applyPeerPage, type ConflictPolicy } from '../../replication/applyPage.ts'
import type { PeerView } from '../../replication/conflicts.ts'
import { SnapshotPass } from '../../replication/expiredCursor.ts'
import { cursorOn } from '../../replication/peerCursor.ts'
import { FeedProgress } from '../../telemetry/FeedProgress.ts'

export interface FeedReceiverOptions {
  readonly engine: Engine
  readonly peer: NodeId
  /** The peer's feed id, from its hello. */
  readonly peerFeed: string
  /** The node's conflict strategy (absent: the merge rules alone). */
  readonly conflicts?: ConflictPolicy
  /** What the peer has seen of this node's feed (its acknowledgements), for conflict detection. */
  readonly view?: () => PeerView
  readonly send: (msg: CursorMessage | AckMessage) => void
  /** This node honours `prune` and `graft` (its cursor says so: `pr`). */
  readonly routes?: boolean
  /** Told of each page applied: per origin, how many of its records changed something here. */
  readonly onApplied?: (msg: ChangesMessage, changed: ReadonlyMap<NodeId, number>) => void
  readonly log: Logger
  readonly now?: () => number
}

export interface FeedReceiverStats {
  pages: number
  records: number
  /** Origins the pages announced left out (`lz` rows). */
  announced: number
  /** Records that changed state here. */
  applied: number
  /** Deletions inferred by the expired-cursor rule. */
  inferredDeletes: number
  /** Pages that ended a catch-up (`more` false). */
  catchUps: number
  /** Pages not applied yet because of the tombstone flood rule (taken again later). */
  deferred: number
  lastPageAt: number | undefined
}

export class FeedReceiver {
  readonly stats: FeedReceiverStats = { pages: 0, records: 0, announced: 0, applied: 0, inferredDeletes: 0, catchUps: 0, deferred: 0, lastPageAt: undefined }
  /** The catch-up in flight and the lag behind the peer's feed. */
  readonly progress: FeedProgress
  private readonly opts: FeedReceiverOptions
  private readonly now: () => number
  private cursor: number
  private snapshot: SnapshotPass | undefined
  /** When this node last sent its cursor, and whether a page answered it since. */
  private cursorSentAt: number | undefined
  private answered = false
  /** Origins to stream again (a graft), sent with the cursor until a page answers it. */
  private graftPending = new Set<NodeId>()
  /** Grafted origins streamed again from `from`: regained once a page reaches `until` (the cursor when grafted). */
  private regain: { readonly origins: Set<NodeId>, from: number, until: number } | undefined

  constructor (opts: FeedReceiverOptions) {
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.progress = new FeedProgress({ now: this.now })
    // A cursor taken on another feed of the peer (its store was recreated) means nothing: from 0.
    this.cursor = cursorOn(opts.engine.store, opts.peer, opts.peerFeed)
  }

  /** This node's cursor for the peer. */
  get position (): number {
    return this.cursor
  }

  /** True until a page with `more: false` was applied: the peer's stream is still catching this node up. */
  get catchingUp (): boolean {
    return this.stats.catchUps === 0
  }

  /** Sends this node's cursor: the peer (re)starts its stream there. */
  sendCursor (): void {
    this.cursorSentAt = this.now()
    this.answered = false
    // A store that lacks its own history asks for everything (engine/NodeKnowledge.ts).
    const full = this.opts.engine.knowledge.ownHistoryIncomplete()
    const g = [...this.graftPending]
    this.opts.send({ t: 'cursor', cursor: this.cursor, feed: this.opts.peerFeed, ...(full ? { full } : {}), ...(this.opts.routes === true ? { pr: true } : {}), ...(g.length > 0 ? { g } : {}) })
  }

  /** A graft was sent and no page answered it yet. */
  get grafting (): boolean {
    return this.graftPending.size > 0
  }

  /**
   * A graft (protocol/native/gossipRoutes.ts): the peer streams `origins` again from `from` on
   * (at most this node's cursor): the cursor moves back there and is sent with them, and again
   * until a page answers it. What is sent again of other origins is merged as unchanged.
   */
  graft (origins: readonly NodeId[], from: number): void {
    for (const o of origins) this.graftPending.add(o)
    const r = this.regain ?? { origins: new Set<NodeId>(), from, until: this.cursor }
    for (const o of origins) r.origins.add(o)
    r.from = Math.min(r.from, from)
    r.until = Math.max(r.until, this.cursor)
    this.regain = r
    this.cursor = Math.min(this.cursor, from)
    this.sendCursor()
  }

  /**
   * Sends the cursor again when it went unanswered for `timeoutMs`: no page came since it was
   * sent (the sender always answers a cursor with a page), or pages keep not fitting it.
   */
  checkCursor (timeoutMs: number): void {
    if (this.cursorSentAt !== undefined && !this.answered && this.now() - this.cursorSentAt >= timeoutMs) this.sendCursor()
  }

  /** Applies a page (or asks for a restart). Throws when the page is refused (the session closes). */
  onChanges (msg: ChangesMessage): void {
    const startsSnapshot = msg.snapshot === true && msg.from === 0
    if (msg.from !== this.cursor && !startsSnapshot) {
      // Pages sent before the peer saw our cursor may still be in flight: ask once now, and
      // again only when the question went unanswered (checkCursor).
      if (this.answered || this.cursorSentAt === undefined) this.sendCursor()
      return
    }
    const { engine, peer } = this.opts
    // a graft's stream has brought its origins again up to where the cursor was when grafted
    const regain = this.regain
    const regained = regain !== undefined && !startsSnapshot && msg.to >= regain.until ? { from: regain.from, origins: [...regain.origins] } : undefined
    const view = this.opts.view?.() ?? { node: peer, cursor: 0, namespaces: null }
    const pass = this.opts.conflicts?.pass(peer)
    let result
    try {
      result = applyPeerPage(engine, {
        peer, records: msg.records, seals: msg.seals, view, cursor: { seq: msg.to, feedId: this.opts.peerFeed },
        ...(msg.end !== undefined ? { left: msg.end - msg.to } : {}),
        ...(msg.k !== undefined ? { knowledge: msg.k } : {}), ...(msg.vd !== undefined ? { voids: msg.vd } : {}),
        // what the page left out, kept with the cursor that passes it
        ...(startsSnapshot ? { restart: true } : msg.lz !== undefined && msg.lz.length > 0 ? { leftOut: { from: msg.from, origins: msg.lz.map(a => a.node), marks: new Map(msg.lz.map(a => [a.node, { wall: a.wall, counter: a.counter }])) } } : {}),
        ...(regained !== undefined ? { regained } : {})
      }, pass !== undefined ? { pass, log: this.opts.conflicts!.log } : undefined)
    } catch (e) {
      if (!isEngramError(e) || e.code !== 'RATE_LIMITED') throw e
      this.deferred(e.message)
      return
    }
    this.answered = true
    this.graftPending.clear()
    if (regained !== undefined || startsSnapshot) this.regain = undefined
    // an origin left out again meanwhile is not regained (its page's `lz` kept it as left out)
    else for (const a of msg.lz ?? []) this.regain?.origins.delete(a.node)
    if (startsSnapshot) this.snapshot = new SnapshotPass(msg.peerCursor ?? 0)
    this.cursor = msg.to
    this.stats.pages++
    this.stats.records += msg.records.length
    this.stats.announced += msg.lz?.length ?? 0
    this.stats.applied += result.applied
    this.stats.lastPageAt = this.now()
    this.progress.page({ from: msg.from, to: msg.to, ...(msg.end !== undefined ? { end: msg.end } : {}), records: msg.records.length, more: msg.more })
    const snap = this.snapshot
    if (snap !== undefined && msg.snapshot === true) {
      snap.see(msg.records)
      if (!msg.more) {
        this.snapshot = undefined
        const n = snap.finish(engine, { peer, ...(msg.k !== undefined ? { knowledge: msg.k } : {}) })
        this.stats.inferredDeletes += n
        if (n > 0) this.opts.log.info('deleted records the peer had deleted while this node was away', { peer, count: n })
      }
    }
    if (!msg.more) this.stats.catchUps++
    this.opts.onApplied?.(msg, result.origins)
    this.opts.send({ t: 'ack', cursor: msg.to })
  }

  /**
   * A page over the peer's tombstone budget (TombstoneBudget.ts) is not applied nor acknowledged:
   * the cursor stays, and the page comes again when the peer's acknowledgement wait runs out or
   * this node's cursor, unanswered, is sent again — at most once per sync.syncTimeoutMs.
   */
  private deferred (why: string): void {
    this.stats.deferred++
    this.answered = false
    this.cursorSentAt = this.now()
    if (this.stats.deferred === 1 || this.stats.deferred % 100 === 0) {
      this.opts.log.warn(`deferred a page from P2P peer ${this.opts.peer}: ${why}`, { peer: this.opts.peer, deferred: this.stats.deferred })
    }
  }
}
