/**
 * A peer's cursor and the feed it was taken on (docs/SYNC.md, "The changes feed and cursors").
 *
 * The cursor — the last seq of a peer's feed applied here — is kept by the store
 * (`Store.getCursor`) and moved by `ApplyOptions.cursor` in the transaction of the page that
 * moved it. A seq only means something on the feed it was taken on (a peer whose store was
 * recreated has a new feed id, and its seqs start again from 1), so the feed id is kept beside
 * it under one metadata key, written in that same transaction by whichever carrier (polled or
 * native) moved the cursor. Both carriers read the pair through this file.
 *
 * Stores written before the two carriers shared the key may hold native sync's own key
 * (`p2p.feed.<node>`) as well: it is read when the shared key is absent, and dropped the next
 * time a cursor is saved. When both are there and disagree, which carrier moved the cursor last
 * is unknown, so the cursor is not trusted: the peer is read from the start again (merging is
 * idempotent; nothing is lost, only time).
 */
import type { NodeId } from '../core/ids.ts'
import type { Store } from '../store/Store.ts'

/** The metadata key holding the feed id this node's cursor on `peer` was taken on. */
export const cursorFeedKey = (peer: string): string => `sync.cursor-feed.${peer}`

/** The key native sync kept the same fact under before it shared cursorFeedKey. */
const legacyNativeKey = (peer: string): string => `p2p.feed.${peer}`

export interface PeerCursor {
  /** The last seq of the peer's feed applied here (0 when no feed is known for it). */
  readonly seq: number
  /** The feed `seq` belongs to; undefined when none is known (then `seq` is 0). */
  readonly feedId: string | undefined
}

/** This node's cursor on `peer`'s feed, with the feed it was taken on. */
export function readPeerCursor (store: Store, peer: NodeId): PeerCursor {
  const shared = store.getMeta(cursorFeedKey(peer))
  const legacy = store.getMeta(legacyNativeKey(peer))
  const feedId = shared === undefined ? legacy : legacy === undefined || legacy === shared ? shared : undefined
  return feedId === undefined ? { seq: 0, feedId: undefined } : { seq: store.getCursor(peer), feedId }
}

/** This node's cursor on `peer`'s feed `feedId`: the stored one when it was taken on that feed, else 0. */
export function cursorOn (store: Store, peer: NodeId, feedId: string): number {
  const c = readPeerCursor(store, peer)
  return c.feedId === feedId ? c.seq : 0
}

/**
 * What this node has applied of `peer`'s feed, as told to the peer in a snapshot (`peerCursor`):
 * the cursor on `peerFeed` when the peer's feed id is known, else the cursor on whatever feed is
 * recorded (polled sync: the caller does not send its own feed id).
 */
export function seenOfPeer (store: Store, peer: NodeId, peerFeed?: string): number {
  return peerFeed !== undefined ? cursorOn(store, peer, peerFeed) : readPeerCursor(store, peer).seq
}

/** Metadata writes that record `feedId` as the feed of `peer`'s cursor (ApplyOptions.meta, with the cursor). */
export function cursorFeedWrites (peer: NodeId, feedId: string): Array<[string, string | undefined]> {
  return [[cursorFeedKey(peer), feedId], [legacyNativeKey(peer), undefined]]
}
