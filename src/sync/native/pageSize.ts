/**
 * How large a stream's next page may be (FeedSender.ts): larger while the peer is far behind.
 *
 * A receiver applies each page in one transaction with its cursor, and in a large store a commit
 * writes back most of the pages of the random-keyed indexes whatever its size (at a million
 * records about 20 MB of log per commit), so a catch-up in fewer, larger pages costs the
 * receiver less. While more than a catch-up page of the feed lies past the stream's position,
 * a page holds up to `factor` times sync.maxTriplesPerSync records (at most
 * NATIVE_LIMITS.maxPageRecords, what every version accepts) and about `bytes` encoded. The last
 * stretch of a catch-up, and everything once the peer is live, goes in pages of
 * sync.maxTriplesPerSync records and about NATIVE_LIMITS.pageBytes, so a live write travels and
 * commits as it did. A page's bytes bound what a receiver holds decoded per page in flight.
 */
import { NATIVE_LIMITS } from '../../protocol/native/messages.ts'

/** Most records and about how many encoded bytes the next page holds. */
export interface PageSize {
  readonly records: number
  readonly bytes: number
}

/** The catch-up rule's parameters. */
export interface CatchUpPages {
  /** A catch-up page holds up to this many times sync.maxTriplesPerSync records (1: no larger pages). */
  readonly factor: number
  /** About how many encoded bytes a catch-up page holds. */
  readonly bytes: number
}

/**
 * The default: pages of 20,000 records at the default sync.maxTriplesPerSync, about 2 MiB
 * (a page may go a quarter over before it is cut, well under the 4 MiB frame limit).
 */
export const CATCH_UP_PAGES: CatchUpPages = { factor: 4, bytes: 2 * 1024 * 1024 }

/**
 * The size of the next page when `behind` entries of the feed lie past the stream's position;
 * `records` and `bytes`: the size of a page once the peer is close to the end (or live).
 */
export function pageSize (behind: number, small: PageSize, catchUp: CatchUpPages = CATCH_UP_PAGES): PageSize {
  const records = Math.max(1, Math.min(small.records, NATIVE_LIMITS.maxPageRecords))
  const large = Math.max(records, Math.min(Math.floor(records * catchUp.factor), NATIVE_LIMITS.maxPageRecords))
  // far behind: a large page still would not reach the feed's end
  if (large > records && behind > large) return { records: large, bytes: Math.max(small.bytes, catchUp.bytes) }
  return { records, bytes: small.bytes }
}
