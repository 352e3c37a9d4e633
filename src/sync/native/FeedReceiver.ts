/**
 * The receiving half of a native sync session: applies the peer's `changes` pages
 * (docs/PROTOCOL.md §2).
 *
 * A page is applied only when its `from` equals this node's cursor for the peer; it is merged
 * in one transaction together with the new cursor `to` (Engine.applyChecked with `cursor`), then
 * acknowledged. A page that does not continue from the cursor is answered with a fresh `cursor`
 * (once, and again when no fitting page follows in time) and the sender restarts from there. A snapshot (pages from 0
 * with `snapshot: true`) is accepted whatever the cursor; after its last page the expired-cursor
 * rule (../expiry.ts) deletes what the peer deleted and collected while this node was away.
 */
import { isEngramError } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import type { Engine } from '../../engine/Engine.ts'
import type { Logger } from '../../util/log.ts'
import { applyExpiredCursorRule } from '../../replication/expiredCursor.ts'
import type { AckMessage, ChangesMessage, CursorMessage } from '../../protocol/native/messages.ts'

export interface FeedReceiverOptions {
  readonly engine: Engine
  readonly peer: NodeId
  /** The peer's feed id, from its hello. */
  readonly peerFeed: string
  /** The metadata key under which the feed id of this node's cursor for the peer is recorded. */
  readonly feedKey: string
  readonly send: (msg: CursorMessage | AckMessage) => void
  readonly log: Logger
  readonly now?: () => number
}

export interface FeedReceiverStats {
  pages: number
  records: number
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
  readonly stats: FeedReceiverStats = { pages: 0, records: 0, applied: 0, inferredDeletes: 0, catchUps: 0, deferred: 0, lastPageAt: undefined }
  private readonly opts: FeedReceiverOptions
  private readonly now: () => number
  private cursor: number
  private snapshot: { seen: Set<string>, peerCursor: number } | undefined
  /** When this node last sent its cursor, and whether a page answered it since. */
  private cursorSentAt: number | undefined
  private answered = false
  private feedRecorded: boolean

  constructor (opts: FeedReceiverOptions) {
    this.opts = opts
    this.now = opts.now ?? Date.now
    const store = opts.engine.store
    const recorded = store.getMeta(opts.feedKey)
    // A cursor taken on another feed of the peer (its store was recreated) means nothing: from 0.
    this.cursor = recorded !== undefined && recorded !== opts.peerFeed ? 0 : store.getCursor(opts.peer)
    this.feedRecorded = recorded === opts.peerFeed
  }

  /** This node's cursor for the peer. */
  get position (): number {
    return this.cursor
  }

  /** Sends this node's cursor: the peer (re)starts its stream there. */
  sendCursor (): void {
    this.cursorSentAt = this.now()
    this.answered = false
    this.opts.send({ t: 'cursor', cursor: this.cursor, feed: this.opts.peerFeed })
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
    // The feed id the cursor belongs to is recorded in the same transaction as the first page.
    const meta = this.feedRecorded ? undefined : () => [[this.opts.feedKey, this.opts.peerFeed] as const]
    let result
    try {
      result = engine.applyChecked(msg.records, { via: peer, cursor: { peer, seq: msg.to }, meta })
    } catch (e) {
      if (!isEngramError(e) || e.code !== 'RATE_LIMITED') throw e
      this.deferred(e.message)
      return
    }
    this.answered = true
    if (startsSnapshot) this.snapshot = { seen: new Set(), peerCursor: msg.peerCursor ?? 0 }
    this.cursor = msg.to
    this.feedRecorded = true
    this.stats.pages++
    this.stats.records += msg.records.length
    this.stats.applied += result.changed.length
    this.stats.lastPageAt = this.now()
    const snap = this.snapshot
    if (snap !== undefined && msg.snapshot === true) {
      for (const r of msg.records) {
        if (r.kind === 'triple') snap.seen.add(`t:${r.id}`)
        else if (r.kind === 'note') snap.seen.add(`n:${r.key}`)
      }
      if (!msg.more) {
        this.snapshot = undefined
        const n = applyExpiredCursorRule(engine, { peer, seenKeys: snap.seen, peerCursor: snap.peerCursor })
        this.stats.inferredDeletes += n
        if (n > 0) this.opts.log.info('deleted records the peer had deleted while this node was away', { peer, count: n })
      }
    }
    if (!msg.more) this.stats.catchUps++
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
