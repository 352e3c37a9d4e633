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
