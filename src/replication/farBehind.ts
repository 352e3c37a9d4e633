/**
 * When a peer's page belongs to a far-behind catch-up: the one rule both carriers apply (native
 * pages, polled pulls; replication/applyPage.ts). Pure.
 *
 * A far-behind catch-up's pages are applied without writing the full-text index (Store
 * ApplyOptions.deferText): at a million records the index is a tenth of what a receiver spends
 * on a page, and more of each commit's dirty pages. The index keeps their seqs pending
 * (store/textPending.ts), search says it is partial, and the index catches up in the background
 * once the pages stop deferring (search/Reindexer.ts). The last stretch of a catch-up, and every
 * live page, is indexed as it is written, so a record written on a peer that is in step is found
 * here from the commit that brings it.
 *
 * The same pages may leave out the store's secondary indexes of triples (ApplyOptions.deferIndexes,
 * store/sqlite/deferredIndexes.ts), built once when the catch-up is over (search/Reindexer.ts,
 * before the text it left pending): when the catch-up brings more triples than the store holds, or
 * an earlier page of it already left them out. A store that holds more than a catch-up brings
 * keeps its indexes (building them again would cost more than the catch-up saves), and so does a
 * node with single-valued predicates: its conflict pass looks up (subject, predicate) for every
 * page (replication/conflicts.ts).
 *
 * What is left is what the page says (native: `end` − `to`; polled: `remaining`): the receiver
 * decides alone, nothing on the wire changes, and a page from a sender that does not say (an
 * older version) is indexed as it is written.
 */

/**
 * More entries than this left after a page: the page defers its indexing. A catch-up page's
 * worth (sync/native/pageSize.ts CATCH_UP_PAGES.records): a catch-up shorter than two pages
 * indexes as it goes.
 */
export const FAR_BEHIND = 10_000

/** Whether a page that leaves `left` entries of the peer's feed after it defers its full-text indexing. */
export function defersTextIndex (left: number | undefined): boolean {
  return left !== undefined && left > FAR_BEHIND
}

/** What decides whether a far-behind page leaves the secondary indexes out. */
export interface IndexesNow {
  /** Triples the store holds. */
  readonly triples: number
  /** The store left them out already (Store.deferredIndexes() > 0). */
  readonly deferred: boolean
  /** The conflict pass looks up (subject, predicate) for the page's records (sync.singleValuedPredicates). */
  readonly lookups: boolean
}

/** Whether a page that leaves `left` entries of the peer's feed after it defers the store's secondary indexes. */
export function defersIndexes (left: number | undefined, now: IndexesNow): boolean {
  if (!defersTextIndex(left) || now.lookups) return false
  return now.deferred || left! > now.triples
}
