/**
 * The tombstone flood rule (docs/SECURITY.md, docs/LIMITS.md): a peer may send at most
 * `perMinute` deletions of records this node has never held, per minute. A tombstone must be
 * kept for its whole TTL even for a record never seen here (an old copy may still arrive from
 * elsewhere), so a flood of invented deletions would otherwise grow the store without bound.
 *
 * Nothing is ever dropped: a page that finds the peer's budget spent is refused whole with
 * RATE_LIMITED and taken again later (the peer resends it; the cursor has not moved). The budget
 * may go into debt by one page, so a page larger than the budget still passes, after which the
 * peer waits until the debt is paid back. Deletions of records this node holds (the normal case)
 * are never counted.
 */
import { RATE_LIMITED } from '../core/errors.ts'
import type { NodeId } from '../core/ids.ts'
import type { MemoryRecord } from '../core/model.ts'
import type { Store } from '../store/Store.ts'
import { KeyedBuckets } from '../util/tokenBucket.ts'

/** Peers whose budgets are kept (the least recently seen are forgotten, starting full again). */
const MAX_PEERS = 4096

export const DEFAULT_UNKNOWN_TOMBSTONES_PER_MINUTE = 50_000

export class TombstoneBudget {
  private readonly buckets: KeyedBuckets
  readonly perMinute: number
  /** Pages refused so far. */
  refused = 0

  constructor (perMinute: number = DEFAULT_UNKNOWN_TOMBSTONES_PER_MINUTE, now: () => number = Date.now) {
    this.perMinute = perMinute
    this.buckets = new KeyedBuckets({ ratePerSecond: perMinute / 60, burst: perMinute }, MAX_PEERS, now)
  }

  /**
   * Counts the tombstones of `records` for records `store` does not hold, and charges them to
   * `peer`. Throws RATE_LIMITED (nothing charged) while the peer's budget is in debt.
   */
  charge (peer: NodeId, records: readonly MemoryRecord[], store: Store): void {
    let unknown = 0
    // indexed, not for…of: called once per page, its loop may run before it is optimized (an iterator result per record)
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      if (r.kind === 'triple' && r.deleted) { if (store.getTriple(r.id) === undefined) unknown++ } else if (r.kind === 'note' && r.deleted) { if (store.getNote(r.key) === undefined) unknown++ }
    }
    if (unknown === 0) return
    const bucket = this.buckets.get(peer)
    if (bucket.takeDebt(unknown)) return
    this.refused++
    const wait = Math.max(1000, bucket.retryAfterMs(1))
    throw RATE_LIMITED(`${peer} sent ${unknown} deletions of records this node never held, over its budget of ${this.perMinute} per minute; ` +
      `the page is taken again in about ${Math.ceil(wait / 1000)} s`, wait, { peer, unknown, perMinute: this.perMinute })
  }
}
