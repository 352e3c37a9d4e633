/**
 * The node's gossip window index (WindowIndex.ts), fed lazily. Every committed change is queued
 * (`observe`); the index takes the queue in when it is read (`current()`: gossip rounds, the
 * status) or when the queue grows long. A bulk inflow — a peer's feed streamed in page after
 * page — is then committed and acknowledged without hashing each record for the index in
 * between, and the index is exact whenever anyone looks at it.
 */
import type { FeedEntry, Store } from '../../store/Store.ts'
import { WindowIndex } from './WindowIndex.ts'

/** Entries queued before they are taken in without waiting for a read. */
const MAX_QUEUED = 250_000

export class LazyWindow {
  /**
   * The index itself, possibly behind the queue: for holding a reference (a session's gossip
   * side) without taking the queue in; read it through current().
   */
  readonly index: WindowIndex
  private queue: Array<readonly FeedEntry[]> = []
  private queued = 0

  constructor (opts: { store: Store, ttlMs: number, now: () => number }) {
    this.index = new WindowIndex({ store: opts.store, ttlMs: Math.max(8, opts.ttlMs), now: opts.now })
  }

  /** Queues the entries of a committed change (an engine 'change' event). */
  observe (entries: readonly FeedEntry[]): void {
    this.queue.push(entries)
    this.queued += entries.length
    if (this.queued >= MAX_QUEUED) this.current()
  }

  /** The index with every queued entry taken in, in commit order. */
  current (): WindowIndex {
    if (this.queue.length > 0) {
      const pending = this.queue
      this.queue = []
      this.queued = 0
      for (const entries of pending) this.index.observe(entries)
    }
    return this.index
  }

  /** The digest of the window set, in the status form. */
  view (): { start: number, n: number, x: string } {
    const d = this.current().digest()
    return { start: d.ws, n: d.n, x: Buffer.from(d.x).toString('hex') }
  }
}
