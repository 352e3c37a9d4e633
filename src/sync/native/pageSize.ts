/**
 * How large a stream's next page may be (FeedSender.ts): larger while the peer is far behind.
 *
 * A receiver applies each page in one transaction with its cursor, and in a large store a commit
 * writes back most of the pages of the random-keyed indexes whatever its size (at a million
 * records about 20 MB of log per commit), so a catch-up in fewer, larger pages costs the
 * receiver less. While more than a catch-up page of the feed lies past the stream's position,
 * a page holds up to `factor` times sync.maxTriplesPerSync records, at most `records`, and about
 * `bytes` encoded. The last stretch of a catch-up, and everything once the peer is live, goes in
 * pages of sync.maxTriplesPerSync records and about NATIVE_LIMITS.pageBytes, so a live write
 * travels and commits as it did.
 *
 * What bounds a catch-up page is the receiver's memory, not the wire. A page is applied in one
 * synchronous transaction while its records are held; the garbage it makes meanwhile is promoted
 * to V8's old generation, and the full collection that frees it waits for the page to end, so
 * the heap grows further between collections as pages grow (live memory after a collection does
 * not change). Measured against pages of 5,000, interleaved: pages of 20,000 raised the peak RSS
 * of a 100,000-record copy by 15 %; catch-up pages of 10,000 by −1 to +2.5 %.
 */
import { NATIVE_LIMITS } from '../../protocol/native/messages.ts'

/** Most records and about how many encoded bytes the next page holds. */
export interface PageSize {
  readonly records: number
  readonly bytes: number
}

/** The catch-up rule's parameters. */
export interface CatchUpPages {
  /** A catch-up page holds up to this many times sync.maxTriplesPerSync records (1: no larger pages)… */
  readonly factor: number
  /** …and at most this many (never fewer than sync.maxTriplesPerSync). */
  readonly records: number
  /** About how many encoded bytes a catch-up page holds. */
  readonly bytes: number
}

/**
 * The default: pages of 10,000 records at the default sync.maxTriplesPerSync (5,000), never more
 * than 10,000, about 2 MiB (a page may go a quarter over before it is cut, well under the 4 MiB
 * frame every version accepts).
 */
export const CATCH_UP_PAGES: CatchUpPages = { factor: 2, records: 10_000, bytes: 2 * 1024 * 1024 }

/**
 * The size of the next page when `behind` entries of the feed lie past the stream's position;
 * `small`: the size of a page once the peer is close to the end (or live).
 */
export function pageSize (behind: number, small: PageSize, catchUp: CatchUpPages = CATCH_UP_PAGES): PageSize {
  const records = Math.max(1, Math.min(small.records, NATIVE_LIMITS.maxPageRecords))
  const large = Math.max(records, Math.min(Math.floor(records * catchUp.factor), catchUp.records, NATIVE_LIMITS.maxPageRecords))
  // far behind: a large page still would not reach the feed's end
  if (large > records && behind > large) return { records: large, bytes: Math.max(small.bytes, catchUp.bytes) }
  return { records, bytes: small.bytes }
}
