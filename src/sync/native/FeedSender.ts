/**
 * The sending half of a native sync session: streams this node's changes feed to one peer,
 * after the cursor the peer sent, in `changes` pages (docs/PROTOCOL.md §2). What goes in one page is drafted by changesPage.ts.
 *
 * - A page holds at most `pageRecords` records and about `pageBytes` encoded bytes (a page more
 *   than a quarter over is cut, the rest goes next); at most `window` pages are unacknowledged.
 *   While the peer is far behind, pages are larger (pageSize.ts: fewer commits on the receiver
 *   during a catch-up); the last stretch and live changes go in pages of the usual size.
 * - Records whose state came from this peer are left out (`excludeVia`), but the page's `to`
 *   still covers them: nothing is echoed back (what a page reads and leaves out: feedScan.ts). So are the records of origins the peer pruned
 *   (PrunedOrigins.ts): the page announces instead the highest stamp of each it left out (`lz`)
 *   and lists every record it left out by stamp and print (`ls`). A page may be empty: it moves the peer's cursor
 *   past entries that were all left out, so the peer always knows exactly how much of this feed
 *   it has seen (the expired-cursor rule depends on it).
 * - A cursor the snapshot rule does not trust (replication/feedRead.ts: another feed id, below
 *   the feed floor, beyond the end) is answered with a snapshot: pages from 0 with
 *   `snapshot: true`, nothing left out, and `peerCursor` (how much of the peer's feed this node
 *   has seen), ending with a page whose `more` is false.
 * - The first page after a cursor is sent even when it is empty: it tells the peer that its
 *   cursor arrived (the peer sends it again when no page comes).
 * - Each page carries the signatures of its records: the batches they belong to, with the proof
 *   for the page's part of each (core/seals.ts sealPage).
 * - After catching up the sender waits; `wake()` (a local commit) sends the new entries at once,
 *   read once for every stream of the node (FeedTail.ts) rather than once per stream.
 * - Nothing past the store's durable seq is sent: a page with records first makes the feed
 *   durable (Store.flush); an empty page goes only as far as it already is (the rest follows
 *   once a later commit or flush made it durable).
 * - No acknowledgement within `ackTimeoutMs` (a frame lost, or a stalled peer): the sender goes
 *   back to the last acknowledged cursor. A peer answering a page with a fresh `cursor` (its
 *   cursor is elsewhere) restarts the stream from there.
 */
import type { NodeId } from '../../core/ids.ts'
import type { ClockVoid } from '../../core/knowledge.ts'
import type { KnowledgeToSend } from '../../engine/NodeKnowledge.ts'
import type { Store } from '../../store/Store.ts'
import { encodeMessage, NATIVE_LIMITS, type ChangesMessage } from '../../protocol/native/messages.ts'
import { BatchCache } from '../../replication/BatchCache.ts'
import { feedBounds, planFeedRead } from '../../replication/feedRead.ts'
import { seenOfPeer } from '../../replication/peerCursor.ts'
import type { PrunedOrigins } from './PrunedOrigins.ts'
import { draftPage, type PageDraft } from './changesPage.ts'
import { scanFeed, type Replay, type Scan } from './feedScan.ts'
import type { FeedTail } from './FeedTail.ts'
import { pageSize, type CatchUpPages, type PageSize } from './pageSize.ts'

export interface FeedSenderOptions {
  readonly store: Store
  /** The end of the feed, read once for every stream of the node (FeedTail.ts); absent: each read goes to the store. */
  readonly tail?: FeedTail
  readonly peer: NodeId
  readonly feedId: string
  /** The peer's feed id (from its hello): a snapshot's `peerCursor` is this node's cursor on that feed. */
  readonly peerFeed?: string
  /** Sends one encoded frame; the session bounds it in time. */
  readonly send: (frame: Uint8Array, msg: ChangesMessage) => Promise<void>
  /** Most records per page (sync.maxTriplesPerSync), read for each page. */
  readonly pageRecords: () => number
  /** Target encoded page size, bytes. Default NATIVE_LIMITS.pageBytes. */
  readonly pageBytes?: number
  /** How much larger pages are while the peer is far behind. Default pageSize.ts CATCH_UP_PAGES. */
  readonly catchUp?: CatchUpPages
  /** Most unacknowledged pages. Default 2. */
  readonly window?: number
  /** Called when sending fails; the session closes. */
  readonly onError: (err: unknown) => void
  readonly now?: () => number
  /**
   * This node's knowledge vector and voids (Engine.knowledgeToSend), read with every scan that
   * reaches the end of the feed and sent with the page it ends (`k`); absent: none is sent.
   */
  readonly knowledge?: () => KnowledgeToSend
  /** The clock voids this node knows, sent with every page that carries records (`vd`). */
  readonly voids?: () => readonly ClockVoid[]
  /** The origins the peer pruned (left out of pages, except a snapshot's); absent: none. */
  readonly pruned?: PrunedOrigins
}

export interface FeedSenderStats {
  pages: number
  records: number
  /** Origins announced left out (`lz` rows), over the pages sent. */
  announced: number
  bytes: number
  /** Restarts: peer cursors that did not match, acknowledgement timeouts. */
  restarts: number
  snapshots: number
}

/** A page ready to send (changesPage.ts), in the stream's generation it was read in. */
interface Prepared extends PageDraft {
  readonly generation: number
}

interface InFlight {
  readonly to: number
  readonly at: number
}

export class FeedSender {
  readonly stats: FeedSenderStats = { pages: 0, records: 0, announced: 0, bytes: 0, restarts: 0, snapshots: 0 }
  private readonly opts: FeedSenderOptions
  private readonly now: () => number
  private readonly window: number
  private started = false
  private stopped = false
  /** The `from` of the next page: the `to` of the last page sent. */
  private position = 0
  /** The peer's last acknowledged cursor. */
  private acked = 0
  private inflight: InFlight[] = []
  /** While a snapshot is being sent: the peerCursor its pages carry. */
  private snapshot: { readonly peerCursor: number } | undefined
  private pumping = false
  private again = false
  private generation = 0
  /** The part of the last page read that did not fit in the page sent (it goes next). */
  private rest: Scan | undefined
  /** The next page, prepared while the window was full (sent as soon as an ack makes room). */
  private prepared: Prepared | undefined
  /** Set by start(): the first page after a cursor is sent even when empty, so the peer knows its cursor arrived. */
  private answerCursor = false
  /** Set by refreshKnowledge(): send an (empty) page with the knowledge vector once caught up. */
  private knowledgeDue = false
  /** When a page with the knowledge vector was last sent. */
  private knowledgeSentAt = -Infinity
  /** The `to` of the last page sent with `more: false` since the peer's cursor (undefined: none yet). */
  private endSent: number | undefined
  /** A page with `more: false` was acknowledged since the peer's cursor: the catch-up is over. */
  private live = false
  /** After a graft: up to `until` (what the peer had acknowledged), only the grafted origins go. */
  private replay: Replay | undefined
  /** The batches the last pages' records belonged to (replication/BatchCache.ts). */
  private readonly batches: BatchCache

  constructor (opts: FeedSenderOptions) {
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.window = opts.window ?? 2
    this.batches = new BatchCache(opts.store)
  }

  /** How much of this node's feed the peer has applied (its last acknowledgement). */
  get acknowledged (): number {
    return this.acked
  }

  /** True once the peer's cursor arrived and everything up to the feed's end was sent and acknowledged. */
  get caughtUp (): boolean {
    return this.started && this.inflight.length === 0 && this.snapshot === undefined && this.position >= this.opts.store.stats().lastSeq
  }

  /**
   * True from the peer's cursor until the peer acknowledged a page with `more: false` (the end of
   * the feed as it was then): the stream is catching the peer up. Later restarts of the stream
   * (an acknowledgement timeout) do not count as a new catch-up; a new cursor does.
   */
  get catchingUp (): boolean {
    return !this.live
  }

  /**
   * The peer's cursor (from its `cursor` message): (re)starts the stream after it. With `graft`
   * (the cursor's `g`: origins the peer pruned and wants again, moved back for them), what the
   * peer had acknowledged already goes again only for those origins. Returns whether the stream
   * is a snapshot, with the feed floor that applied to the peer.
   */
  start (cursor: number, feed: string, full = false, graft?: readonly NodeId[]): { readonly snapshot: boolean, readonly floor: number } {
    const { store } = this.opts
    const held = this.acked
    const { feedFloor, lastSeq } = feedBounds(store, this.opts.peer)
    if (this.started) this.stats.restarts++
    this.started = true
    this.generation++
    this.inflight = []
    const read = planFeedRead({ cursor, feedId: feed, ownFeedId: this.opts.feedId, feedFloor, lastSeq, full })
    if (read.snapshot) {
      this.snapshot = { peerCursor: seenOfPeer(store, this.opts.peer, this.opts.peerFeed) }
      this.stats.snapshots++
    } else {
      this.snapshot = undefined
    }
    this.position = this.acked = read.from
    this.replay = graft !== undefined && graft.length > 0 && !read.snapshot && read.from < held ? { origins: new Set(graft), until: held } : undefined
    this.rest = this.prepared = undefined
    this.answerCursor = true
    this.endSent = undefined
    // a graft restarts the stream; it is not a new catch-up
    if (graft === undefined || graft.length === 0) this.live = false
    this.wake()
    return { snapshot: read.snapshot, floor: feedFloor }
  }

  /** The peer applied everything up to `cursor`. */
  onAck (cursor: number): void {
    if (cursor > this.acked) this.acked = cursor
    if (this.endSent !== undefined && cursor >= this.endSent) this.live = true
    this.inflight = this.inflight.filter(p => p.to > cursor)
    this.wake()
  }

  /** Goes back to the last acknowledged cursor when the oldest page waited more than `timeoutMs`. */
  checkAcks (timeoutMs: number): boolean {
    const oldest = this.inflight[0]
    if (oldest === undefined || this.now() - oldest.at < timeoutMs) return false
    this.stats.restarts++
    this.generation++
    this.inflight = []
    this.position = this.acked
    this.rest = this.prepared = undefined
    this.wake()
    return true
  }

  /**
   * A commit (`via`: the peer its changes came from). One that came from this stream's peer
   * gives it nothing to send while the feed is durable no further than this stream has gone: its
   * entries are left out, and the empty page that would move the peer's cursor past them goes
   * only as far as the feed is durable (the flush after the pages wakes the stream). Reading
   * them back to skip them, once per page the peer streams in, is left out too. A snapshot
   * leaves nothing out: it is woken.
   */
  changed (via?: NodeId): void {
    if (via !== undefined && via === this.opts.peer && this.snapshot === undefined && this.opts.store.durableSeq() <= this.position) return
    this.wake()
  }

  /** New entries may be in the feed: send them. */
  wake (): void {
    if (!this.started || this.stopped) return
    if (this.pumping) { this.again = true; return }
    this.pumping = true
    // a wake() between the pump's last turn and this callback would be lost: pump again
    void this.pump().finally(() => { this.pumping = false; if (this.again) this.wake() })
  }

  stop (): void {
    this.stopped = true
  }

  /**
   * Sends the knowledge vector again when none went out for `minIntervalMs`: an idle node's
   * entry keeps moving on its peers, so they can collect tombstones (core/knowledge.ts Rule B).
   */
  refreshKnowledge (minIntervalMs: number): void {
    if (this.opts.knowledge === undefined || this.now() - this.knowledgeSentAt < minIntervalMs) return
    this.knowledgeDue = true
    this.wake()
  }

  private async pump (): Promise<void> {
    // Each turn sends one page or finds nothing to send; bounded so a bug cannot spin forever.
    for (let turn = 0; turn < 1_000_000; turn++) {
      this.again = false
      if (this.stopped) return
      if (this.inflight.length >= this.window) {
        // While the window is full, the next page is read and encoded ahead of the ack.
        if (this.prepared === undefined) this.prepared = this.prepare()
        return
      }
      const gen = this.generation
      const page = this.prepared?.generation === gen && this.prepared.msg.from === this.position ? this.prepared : this.prepare()
      this.prepared = undefined
      if (page === undefined) {
        if (this.again) continue
        return
      }
      this.commit(page)
      if (!await this.sendPage(gen, page.msg, page.frame)) return
    }
  }

  /** What sending a prepared page changes, besides the position. */
  private commit (page: Prepared): void {
    this.rest = page.rest
    if (this.replay !== undefined && page.msg.to >= this.replay.until) this.replay = undefined
    if (page.endsSnapshot) this.snapshot = undefined
    this.answerCursor = false
    if (page.msg.k !== undefined) {
      this.knowledgeDue = false
      this.knowledgeSentAt = this.now()
    }
  }

  private async sendPage (gen: number, msg: ChangesMessage, frame = encodeMessage(msg)): Promise<boolean> {
    // A page never reaches past what is durable here: a seq a peer has seen is never issued
    // again for another change, even after a power cut lost refetchable pages (Store.durableSeq).
    if (msg.to > this.opts.store.durableSeq()) this.opts.store.flush()
    this.position = msg.to
    if (!msg.more) this.endSent ??= msg.to
    this.inflight.push({ to: msg.to, at: this.now() })
    this.stats.pages++
    this.stats.records += msg.records.length
    this.stats.announced += msg.lz?.length ?? 0
    this.stats.bytes += frame.byteLength
    try {
      await this.opts.send(frame, msg)
    } catch (e) {
      if (gen === this.generation && !this.stopped) this.opts.onError(e)
      return false
    }
    return !this.stopped
  }

  /**
   * The next page after `position` (with its frame), or undefined when there is nothing to
   * send (changesPage.ts). Changes no state: commit() does when the page is sent.
   */
  private prepare (): Prepared | undefined {
    const generation = this.generation
    // the feed's last position, read once (once a turn for every stream, with a tail): how far behind the peer is, and how much is left
    const lastSeq = this.opts.tail?.lastSeq() ?? this.opts.store.stats().lastSeq
    const size = this.size(lastSeq)
    const scan = this.read(size.records)
    const page = draftPage({
      scan,
      position: this.position,
      snapshot: this.snapshot,
      size,
      lastSeq,
      answerCursor: this.answerCursor,
      knowledgeDue: this.knowledgeDue,
      store: this.opts.store,
      voids: this.opts.voids,
      pruned: this.opts.pruned,
      batches: this.batches
    })
    return page === undefined ? undefined : { generation, ...page }
  }

  /** How large the next page may be: larger while the peer is far behind (pageSize.ts). */
  private size (lastSeq: number): PageSize {
    const behind = lastSeq - this.position
    return pageSize(behind, { records: this.opts.pageRecords(), bytes: this.opts.pageBytes ?? NATIVE_LIMITS.pageBytes }, this.opts.catchUp)
  }

  /** The entries after `position`, at most `limit` (feedScan.ts). */
  private read (limit: number): Scan {
    return scanFeed(this.position, this.rest, {
      store: this.opts.store,
      tail: this.opts.tail,
      peer: this.opts.peer,
      limit,
      snapshot: this.snapshot !== undefined,
      pruned: this.opts.pruned,
      replay: this.replay,
      knowledge: this.opts.knowledge
    })
  }
}
