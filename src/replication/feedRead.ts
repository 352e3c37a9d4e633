/**
 * The snapshot rule (docs/SYNC.md, "Deletes that stay deleted"): given what a peer says about
 * its cursor on this node's feed, where to serve it from, and whether the answer is a snapshot.
 * Both carriers serve their pages by it (sync/polled/DeltaServer.ts, sync/native/FeedSender.ts).
 *
 * A cursor is continued as it is, unless it cannot be trusted:
 * - it was taken on another feed (this store was recreated: a new feed id);
 * - it is below the peer's feed floor (tombstones it would have needed were collected): the
 *   floor that applies to this peer (Store.feedFloorFor, docs/SYNC.md "Per-peer feed floors"),
 *   which leaves out the tombstones that came from the peer itself — it held those deletions;
 * - it is beyond the end of the feed (no cursor of this feed can be: it is another feed's).
 * Each of these gets a snapshot: every record this node holds, paged from seq 0, tombstones
 * still held included and nothing left out (not even what came from the peer), so that the peer
 * can apply the expired-cursor rule (expiredCursor.ts) at its end. A peer continuing a snapshot
 * (polled sync asks page by page) is served the rest of it.
 *
 * Both carriers read the store's side of it with `feedBounds`.
 */
import type { NodeId } from '../core/ids.ts'
import type { Store } from '../store/Store.ts'

export interface FeedReadInput {
  /** The peer's cursor on this node's feed (0: from the start). */
  readonly cursor: number
  /** The feed the cursor was taken on; undefined on first contact (then it is taken as this feed). */
  readonly feedId: string | undefined
  /** This store's feed id. */
  readonly ownFeedId: string
  /** The feed floor that applies to the peer (Store.feedFloorFor) and the last seq (feedBounds). */
  readonly feedFloor: number
  readonly lastSeq: number
  /** The peer is continuing a snapshot this node started (polled sync's `snapshot: true`). */
  readonly continuing?: boolean
  /** The peer asks for everything (its store lacks its own history, NodeKnowledge): a snapshot from 0. */
  readonly full?: boolean
}

export interface FeedRead {
  /** Serve the entries after this seq. */
  readonly from: number
  /** Whether the pages are a snapshot (nothing left out; the peer applies the expired-cursor rule). */
  readonly snapshot: boolean
}

/** Where to serve a peer's read from (see above). */
export function planFeedRead (i: FeedReadInput): FeedRead {
  if (i.feedId !== undefined && i.feedId !== i.ownFeedId) return { from: 0, snapshot: true }
  if (i.continuing === true && i.cursor <= i.lastSeq) return { from: i.cursor, snapshot: true }
  if (i.full === true) return { from: 0, snapshot: true }
  if (i.cursor < i.feedFloor || i.cursor > i.lastSeq) return { from: 0, snapshot: true }
  return { from: i.cursor, snapshot: false }
}

/** The store's side of a read for `peer`: the feed floor that applies to it, and the last seq. */
export function feedBounds (store: Pick<Store, 'feedFloorFor' | 'stats'>, peer: NodeId): { feedFloor: number, lastSeq: number } {
  return { feedFloor: store.feedFloorFor(peer), lastSeq: store.stats().lastSeq }
}
