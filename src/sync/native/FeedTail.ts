/**
 * The end of this node's changes feed, read once for every stream (FeedSender.ts, through
 * feedScan.ts). A commit wakes every session's stream; each would read the new entries from the
 * store for itself, so a change cost S store reads (and S decodes of each record) with S
 * sessions. The tail reads the entries after its end once, with the peer each state came
 * through (Store `withVia`), and answers a stream's read that starts inside it as the store
 * would: the entries after `after` whose state did not come through `excludeVia`, at most
 * `limit`, with the same `lastSeq` and `hasMore`.
 *
 * It stays exact: before each answer it reads the store's last seq and feed floor, and reads the
 * entries after its end when the feed went on. A local commit (no peer it came through) told with
 * its entries (`changed(entries)`: the engine's change event carries them) is taken from them
 * instead, without reading the store back, when they follow the tail's end without a gap and end
 * where the store's feed ends — as they were just committed, they are what the read would give;
 * anything else (a commit through a peer, whose entries' peers are the store's to say; a commit
 * not told; a gap) is read from the store. An entry of a record changed again (a later seq)
 * is dropped with that read, as the store dropped it; a raised feed floor (tombstones collected:
 * rows removed without a new seq) or a feed that went back empties it. It holds at most `max`
 * entries, the newest; a read that starts before them (a stream behind: its window full, a
 * restart, a snapshot) is not answered — the stream reads the store. The per-peer rules (pruned
 * origins, a replay's left-out entries) stay in feedScan.ts, applied to what either returns.
 *
 * The state the streams read for each page — the feed's last seq and floor (Store `stats`, a read
 * of the store's state row) and this node's knowledge vector (`knowledge`: the clock tick and the
 * vector) — is read once a turn of the event loop for every stream, not once per stream: a
 * commit wakes every session's stream in one turn, and each read both. What was read is kept
 * until the turn ends (a microtask) or the owner says a commit happened (`changed()`: NativeSync
 * does on every engine change, before it wakes the streams), whichever comes first. A write
 * that issues no seq and is not told (a tombstone collection, a clock tick) is seen from the
 * next turn: a stream in the same turn reads the state as it was a moment before it, as it
 * would have had it read first. The knowledge is read after the feed's state in a turn and
 * dropped with it, so a vector is never newer than the entries read beside it would allow.
 *
 * Measured (a CPU profile of the sender over 60 live writes of 100 records on a store of
 * 100,000, loaded machine): reading each write back (a read transaction, the rows decoded) took
 * 0.87 ms, on the path from the sender's commit to its page on the wire.
 */
import type { NodeId } from '../../core/ids.ts'
import { recordKey } from '../../core/model.ts'
import type { KnowledgeToSend } from '../../engine/NodeKnowledge.ts'
import type { ChangesPage, FeedEntry, Store } from '../../store/Store.ts'

/** Default most entries held: a few pages of the default page size. */
export const FEED_TAIL_ENTRIES = 2048

export interface FeedTailStats {
  /** Store reads of the feed the tail made (one per step of the feed it saw, at most). */
  reads: number
  /** Steps of the feed taken from the entries a local commit was told with (no store read). */
  told: number
  /** Stream reads it answered. */
  hits: number
  /** Stream reads that started before it (the stream read the store). */
  misses: number
  /** Reads of the store's state (last seq, feed floor): at most one a turn. */
  states: number
  /** Reads of the knowledge vector: at most one a turn. */
  vectors: number
}

/** The feed's end as read in this turn. */
interface FeedState { readonly lastSeq: number, readonly feedFloor: number }

export class FeedTail {
  readonly stats: FeedTailStats = { reads: 0, told: 0, hits: 0, misses: 0, states: 0, vectors: 0 }
  private readonly store: Store
  private readonly max: number
  private readonly vector: (() => KnowledgeToSend) | undefined
  /** The store's state and the knowledge vector as read in this turn (undefined: not yet). */
  private state: FeedState | undefined
  private known: KnowledgeToSend | undefined
  /** Bumped by changed() and at the end of each turn that read: what a turn read is dropped. */
  private turn = 0
  /** Every current feed entry with a seq in (start, end] is in `entries`, in seq order. */
  private start = -1
  private end = -1
  private floor = -1
  private entries: FeedEntry[] = []
  /** The seq of each held entry, by record (kind and key). */
  private readonly seqOf = new Map<string, number>()
  /** Entries of local commits told since the tail last followed the feed, in seq order without a gap. */
  private told: FeedEntry[] = []

  /** `knowledge`: this node's vector and voids (Engine.knowledgeToSend), read at most once a turn by knowledge(). */
  constructor (opts: { readonly store: Store, readonly max?: number, readonly knowledge?: () => KnowledgeToSend }) {
    this.store = opts.store
    this.max = Math.max(1, opts.max ?? FEED_TAIL_ENTRIES)
    this.vector = opts.knowledge
  }

  /**
   * A commit happened: the next read of the feed's state and of the knowledge goes to the store.
   * `entries` (with `via`, the peer the commit came through: absent for a local one): what it
   * committed, in seq order (the engine's change event) — a local commit's are taken in from
   * them when they continue the tail (see above).
   */
  changed (entries?: readonly FeedEntry[], via?: NodeId): void {
    this.newTurn()
    if (entries === undefined || entries.length === 0) return
    const last = this.told.length > 0 ? this.told[this.told.length - 1]!.seq : this.end
    if (via !== undefined || !follows(entries, last) || this.told.length + entries.length > this.max) {
      // not a local commit right after what the tail holds: the next step reads the store
      this.told = []
      return
    }
    for (const e of entries) this.told.push(e)
  }

  /** The next read of the feed's state and of the knowledge goes to the store. */
  private newTurn (): void {
    this.turn++
    this.state = this.known = undefined
  }

  /** The feed's last seq, as read once this turn. */
  lastSeq (): number {
    return this.feedState().lastSeq
  }

  /**
   * This node's knowledge vector, as read once this turn (after the feed's state: a stream
   * reads it once its entries reached the feed's end); undefined without `knowledge`.
   */
  knowledge (): KnowledgeToSend | undefined {
    if (this.vector === undefined) return undefined
    this.feedState()
    if (this.known === undefined) {
      this.known = this.vector()
      this.stats.vectors++
    }
    return this.known
  }

  /** The store's last seq and feed floor, read at most once a turn (dropped by changed()). */
  private feedState (): FeedState {
    if (this.state !== undefined) return this.state
    const { lastSeq, feedFloor } = this.store.stats()
    this.stats.states++
    this.state = { lastSeq, feedFloor }
    this.known = undefined
    const turn = this.turn
    // the turn ends: the next one reads again (unless changed() already made it)
    queueMicrotask(() => { if (this.turn === turn) this.newTurn() })
    return this.state
  }

  /**
   * As `store.changesSince(after, { limit, excludeVia })` when the tail holds every entry after
   * `after`; undefined otherwise (read the store).
   */
  changesSince (after: number, opts: { readonly limit: number, readonly excludeVia?: NodeId | undefined }): ChangesPage | undefined {
    this.follow()
    if (after < this.start || !Number.isSafeInteger(after) || !Number.isSafeInteger(opts.limit) || opts.limit < 1) {
      this.stats.misses++
      return undefined
    }
    this.stats.hits++
    const { limit, excludeVia } = opts
    const entries: FeedEntry[] = []
    for (let i = this.firstAfter(after); i < this.entries.length && entries.length < limit; i++) {
      const e = this.entries[i]!
      if (excludeVia === undefined || e.via !== excludeVia) entries.push(e)
    }
    const lastSeq = entries.length === limit ? entries[entries.length - 1]!.seq : Math.max(after, this.end)
    return { entries, lastSeq: lastSeq as ChangesPage['lastSeq'], hasMore: lastSeq < this.end }
  }

  /** Brings the tail to the store's feed as it is now. */
  private follow (): void {
    // the tail read past what this turn's state says (a commit it was not told of): read it again
    if (this.feedState().lastSeq < this.end) this.newTurn()
    const { lastSeq, feedFloor } = this.feedState()
    const told = this.told
    this.told = []
    // tombstones collected (rows gone without a new seq), a feed that went back, or more new
    // seqs at once than the tail holds: it starts over at the end
    if (feedFloor !== this.floor || lastSeq < this.end || lastSeq - this.end > this.max) {
      this.reset(lastSeq, feedFloor)
      return
    }
    if (lastSeq === this.end) return
    let page: ChangesPage
    // local commits told with their entries, every seq since the tail's end: what the store would answer
    if (told.length > 0 && told[0]!.seq === this.end + 1 && told[told.length - 1]!.seq === lastSeq) {
      page = { entries: told, lastSeq: lastSeq as ChangesPage['lastSeq'], hasMore: false }
      this.stats.told++
    } else {
      page = this.store.changesSince(this.end, { limit: this.max, withVia: true })
      this.stats.reads++
    }
    // more entries than the tail holds (cannot be: at most max seqs were issued since)
    if (page.hasMore) {
      this.reset(lastSeq, feedFloor)
      return
    }
    let replaced = false
    for (const e of page.entries) {
      const key = `${e.record.kind}\u0000${recordKey(e.record)}`
      // the record's earlier entry is no longer in the feed: it moved to this seq
      if (this.seqOf.has(key)) replaced = true
      this.seqOf.set(key, e.seq)
    }
    const all = [...this.entries, ...page.entries]
    this.entries = replaced ? all.filter(e => this.seqOf.get(`${e.record.kind}\u0000${recordKey(e.record)}`) === e.seq) : all
    this.end = page.lastSeq
    if (this.entries.length > this.max) {
      const drop = this.entries.length - this.max
      for (const e of this.entries.slice(0, drop)) this.seqOf.delete(`${e.record.kind}\u0000${recordKey(e.record)}`)
      this.start = this.entries[drop - 1]!.seq
      this.entries = this.entries.slice(drop)
    }
  }

  private reset (at: number, floor: number): void {
    this.start = this.end = at
    this.floor = floor
    this.entries = []
    this.told = []
    this.seqOf.clear()
  }

  /** The index of the first held entry with a seq above `after`. */
  private firstAfter (after: number): number {
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.entries[mid]!.seq <= after) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/** Whether `entries` hold the seqs right after `after`, one by one. */
function follows (entries: readonly FeedEntry[], after: number): boolean {
  for (let i = 0; i < entries.length; i++) if (entries[i]!.seq !== after + 1 + i) return false
  return true
}
