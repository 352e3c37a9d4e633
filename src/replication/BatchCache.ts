/**
 * The signed batches a sender read to prove its last pages (core/seals.ts sealPage), both
 * carriers alike: the native feed sender per session, the REST delta server per node.
 * Consecutive pages of a bulk write share a batch, and proving a page computes inner hashes of
 * its tree that the next page's proof reuses (KnownHashes.derived), so reading and hashing a
 * batch of thousands of records once instead of once per page is most of a signed catch-up's
 * cost on the sending side.
 *
 * A batch's number is never reused, so a cached copy never names another batch; it may lack
 * hashes that arrived since it was read, and then cannot prove a page: `reload` reads it again
 * (sealPage calls it for exactly that case). Least recently used copies go first.
 */
import type { SignedBatch } from '../core/signing.ts'
import type { Store } from '../store/Store.ts'

/** Batches kept by default: a bulk write's batch spans a few pages, a page a few batches. */
export const BATCH_CACHE_SIZE = 8

export class BatchCache {
  private readonly store: Pick<Store, 'getBatch'>
  private readonly size: number
  private readonly batches = new Map<number, SignedBatch | undefined>()

  constructor (store: Pick<Store, 'getBatch'>, size = BATCH_CACHE_SIZE) {
    this.store = store
    this.size = size
  }

  /** The batch, from the cache when it is there. */
  readonly load = (id: number): SignedBatch | undefined => {
    if (!this.batches.has(id)) return this.reload(id)
    const b = this.batches.get(id)
    this.batches.delete(id)
    this.batches.set(id, b)
    return b
  }

  /** The batch as the store holds it now (and kept). */
  readonly reload = (id: number): SignedBatch | undefined => {
    const b = this.store.getBatch(id)
    this.batches.delete(id)
    this.batches.set(id, b)
    if (this.batches.size > this.size) this.batches.delete(this.batches.keys().next().value!)
    return b
  }
}
