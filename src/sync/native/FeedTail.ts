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
 * entries after its end when the feed went on. An entry of a record changed again (a later seq)
 * is dropped with that read, as the store dropped it; a raised feed floor (tombstones collected:
 * rows removed without a new seq) or a feed that went back empties it. It holds at most `max`
 * entries, the newest; a read that starts before them (a stream behind: its window full, a
 * restart, a snapshot) is not answered — the stream reads the store. The per-peer rules (pruned
 * origins, a replay's left-out entries) stay in feedScan.ts, applied to what either returns.
 */
import type { NodeId } from '../../core/ids.ts'
import { recordKey } from '../../core/model.ts'
import type { ChangesPage, FeedEntry, Store } from '../../store/Store.ts'

/** Default most entries held: a few pages of the default page size. */
export const FEED_TAIL_ENTRIES = 2048

export interface FeedTailStats {
  /** Store reads of the feed the tail made (one per step of the feed it saw, at most). */
  reads: number
  /** Stream reads it answered. */
  hits: number
  /** Stream reads that started before it (the stream read the store). */
  misses: number
}

export class FeedTail {
  readonly stats: FeedTailStats = { reads: 0, hits: 0, misses: 0 }
  private readonly store: Store
  private readonly max: number
  /** Every current feed entry with a seq in (start, end] is in `entries`, in seq order. */
  private start = -1
  private end = -1
  private floor = -1
  private entries: FeedEntry[] = []
  /** The seq of each held entry, by record (kind and key). */
  private readonly seqOf = new Map<string, number>()

  constructor (opts: { readonly store: Store, readonly max?: number }) {
    this.store = opts.store
    this.max = Math.max(1, opts.max ?? FEED_TAIL_ENTRIES)
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
    const { lastSeq, feedFloor } = this.store.stats()
    // tombstones collected (rows gone without a new seq), a feed that went back, or more new
    // seqs at once than the tail holds: it starts over at the end
    if (feedFloor !== this.floor || lastSeq < this.end || lastSeq - this.end > this.max) {
      this.reset(lastSeq, feedFloor)
      return
    }
    if (lastSeq === this.end) return
    const page = this.store.changesSince(this.end, { limit: this.max, withVia: true })
    this.stats.reads++
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
