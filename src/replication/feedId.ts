/**
 * The store's feed id (docs/SYNC.md): random, made once when the store is first used for sync
 * and kept in its local metadata. A cursor is only meaningful for the feed id it was taken on,
 * so a store that is recreated (new feed id) is read by its peers from 0 again. Polled and
 * native sync share it.
 */
import { randomBytes } from 'node:crypto'
import type { Store } from '../store/Store.ts'

/** The metadata key the feed id is kept under. */
export const FEED_ID_KEY = 'feed.id'

/** The store's feed id, created (and saved) on first use. */
export function feedIdOf (store: Store): string {
  let id = store.getMeta(FEED_ID_KEY)
  if (id === undefined) {
    id = randomBytes(16).toString('hex')
    store.setMeta(FEED_ID_KEY, id)
  }
  return id
}
