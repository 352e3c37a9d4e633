/**
 * One `changes` page of a feed stream (docs/PROTOCOL.md §2), drafted from what the stream read
 * (feedScan.ts) and where it stands: its records with their signatures (core/seals.ts sealPage),
 * cut to about the page's byte size (a page up to a quarter over goes as it is; a record alone
 * always goes), the knowledge vector with a page that reaches the feed's end, voids with a page
 * that carries records, the announcements of pruned origins left out (PrunedOrigins.ts); an empty
 * page that moves the peer's cursor as far as the feed is durable; a snapshot's pages. Drafting
 * changes nothing: the stream's state moves when the page is sent.
 *
 * Used by FeedSender.ts (`prepare`).
 */
import type { ClockVoid } from '../../core/knowledge.ts'
import { sealPage } from '../../core/seals.ts'
import { encodeMessage, type ChangesMessage } from '../../protocol/native/messages.ts'
import type { BatchCache } from '../../replication/BatchCache.ts'
import type { Store } from '../../store/Store.ts'
import type { Scan } from './feedScan.ts'
import type { PageSize } from './pageSize.ts'
import { announcements, leftOutList, type PrunedOrigins } from './PrunedOrigins.ts'

/** Where the stream stands, and what it read, for the page after `position`. */
export interface PageInput {
  /** The entries read after `position` (feedScan.ts). */
  readonly scan: Scan
  /** The `from` of the page. */
  readonly position: number
  /** While a snapshot is being sent: the peerCursor its pages carry. */
  readonly snapshot: { readonly peerCursor: number } | undefined
  /** How large the page may be (pageSize.ts). */
  readonly size: PageSize
  /** The feed's last position, read once for this page: how much is left, for the receiver's progress. */
  readonly lastSeq: number
  /** The first page after a cursor goes even when empty, so the peer knows its cursor arrived. */
  readonly answerCursor: boolean
  /** An (empty) page with the knowledge vector is due once caught up. */
  readonly knowledgeDue: boolean
  readonly store: Store
  /** The clock voids this node knows, sent with every page that carries records. */
  readonly voids: (() => readonly ClockVoid[]) | undefined
  /** The origins the peer pruned; absent: none. */
  readonly pruned: PrunedOrigins | undefined
  /** The batches the last pages' records belonged to. */
  readonly batches: BatchCache
}

/** A page ready to send. */
export interface PageDraft {
  readonly msg: ChangesMessage
  readonly frame: Uint8Array
  /** The entries read but not in this page. */
  readonly rest: Scan | undefined
  /** This page is the snapshot's last. */
  readonly endsSnapshot: boolean
}

/** The page after `position` (with its frame), or undefined when there is nothing to send. */
export function draftPage (p: PageInput): PageDraft | undefined {
  const { scan, position, size, lastSeq } = p
  const snap = p.snapshot
  // The vector goes with a page that reaches the end of the feed as its scan read it; voids go with every page that carries records.
  const lz = announcements(scan.left)
  const ls = lz !== undefined ? leftOutList(scan.stamps) : undefined
  const time = (more: boolean, withRecords: boolean): Pick<ChangesMessage, 'k' | 'vd' | 'lz' | 'ls'> => {
    const k = !more ? scan.knowledge : undefined
    const vd = k?.voids ?? (withRecords ? p.voids?.() : undefined)
    // a snapshot leaves nothing out: its vector goes whole
    const entries = k !== undefined && p.pruned !== undefined && !scan.snapshot ? p.pruned.strip(k.entries) : k?.entries
    return { ...(entries !== undefined ? { k: entries } : {}), ...(vd !== undefined && vd.length > 0 ? { vd } : {}), ...(lz !== undefined ? { lz } : {}), ...(ls !== undefined ? { ls } : {}) }
  }
  if (scan.entries.length === 0) {
    if (snap === undefined) {
      // Nothing new, or only entries left out: an empty page moves the peer's cursor past them
      // — as far as they are durable (no flush for a page that carries nothing; see FeedSender.ts sendPage) —
      // and carries the knowledge vector when it is due and the page reaches the feed's end.
      const to = Math.min(scan.lastSeq, Math.max(position, p.store.durableSeq()))
      const complete = !scan.hasMore && to === scan.lastSeq
      const due = p.knowledgeDue && complete && scan.knowledge !== undefined
      if (to <= position && !p.answerCursor && !due) return undefined
      const msg: ChangesMessage = { t: 'changes', from: position, to: Math.max(position, to), records: [], more: scan.hasMore && to === scan.lastSeq, ...time(!complete, false) }
      return { msg, frame: encodeMessage(msg), rest: undefined, endsSnapshot: false }
    }
    // A snapshot always ends with a page whose `more` is false, even an empty one.
    const msg: ChangesMessage = { t: 'changes', from: position, to: scan.lastSeq, records: [], more: false, snapshot: true, peerCursor: snap.peerCursor, ...time(false, false) }
    return { msg, frame: encodeMessage(msg), rest: undefined, endsSnapshot: true }
  }
  let entries = scan.entries
  let to: number = scan.lastSeq
  let more = scan.hasMore
  let rest: Scan | undefined
  // The page ends after its first `keep` entries; the rest starts the next page. The
  // announcements go with this page (early is harmless: the peer only waits longer).
  const cutAt = (keep: number): void => {
    entries = scan.entries.slice(0, keep)
    to = entries[entries.length - 1]!.seq
    more = true
    rest = { after: to, entries: scan.entries.slice(keep), lastSeq: scan.lastSeq, hasMore: scan.hasMore, snapshot: scan.snapshot, ...(scan.knowledge !== undefined ? { knowledge: scan.knowledge } : {}) }
  }
  // what is left of a larger page (a catch-up page cut by bytes) goes at most a page's worth at a time
  if (entries.length > size.records) cutAt(size.records)
  // how much is left, for the receiver's progress
  const end = Math.max(to, lastSeq)
  const build = (): ChangesMessage => {
    const records = entries.map(e => e.record)
    const seals = sealPage(entries, p.batches.load, p.batches.reload)
    const signed = seals.batches.length > 0 ? { seals } : {}
    return snap !== undefined
      ? { t: 'changes', from: position, to, end, records, more, snapshot: true, peerCursor: snap.peerCursor, ...signed, ...time(more, true) }
      : { t: 'changes', from: position, to, end, records, more, ...signed, ...time(more, true) }
  }
  let msg = build()
  let frame = encodeMessage(msg)
  const target = size.bytes
  // "About" the target: a page up to a quarter over it goes as it is; a larger one is cut where
  // the target falls (by average record size), and the rest starts the next page. A record
  // alone always goes, whatever its size.
  for (let cuts = 0; cuts < 32 && entries.length > 1 && frame.byteLength > target * 1.25; cuts++) {
    cutAt(Math.max(1, Math.min(entries.length - 1, Math.floor(entries.length * target / frame.byteLength))))
    msg = build()
    frame = encodeMessage(msg)
  }
  return { msg, frame, rest, endsSnapshot: snap !== undefined && !more }
}
