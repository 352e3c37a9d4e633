/**
 * Semantic search: keeps a vector for every live record (VectorStore) in step with the store, and
 * finds the records nearest to a query by meaning.
 *
 * Embedding is a call to another program (Embedder), so it cannot sit in the store's write
 * transaction: it follows the store's changes feed instead, like a peer would, from a cursor kept
 * with the vectors. Each round takes the next page of the feed, embeds the live records' texts
 * (text/document.ts recordText) in one call, and writes their vectors, drops the vectors of
 * deleted records and moves the cursor, at once. Every write of the engine rings the doorbell
 * (`subscribe`); a round that fails (the embedding server is down) is retried later with a delay
 * that doubles, up to `maxRetryMs`, and logged once per failing streak.
 *
 * What it answers is always checked against the store by the caller (Recall): a record deleted
 * after its vector was made is never answered. When tombstone collection has passed the cursor
 * (the feed no longer holds the deletions between), the vectors of records that are gone are
 * dropped by a scan. A different model (or vectors of another length) starts the vectors over.
 */
import { isEngramError } from '../core/errors.ts'
import { isTombstone, recordKey, type RecordKind } from '../core/model.ts'
import type { Store } from '../store/Store.ts'
import { recordText } from '../text/document.ts'
import type { Logger } from '../util/log.ts'
import type { Embedder } from './Embedder.ts'
import type { SemanticSearch } from './Recall.ts'
import type { VectorStore, VectorWrite } from './vectors/VectorStore.ts'

/** Longest text embedded for one record, characters (LIMITS.md); models take a few thousand tokens. */
export const EMBED_MAX_CHARS = 8000

export interface SemanticIndexOptions {
  readonly store: Store
  readonly embedder: Embedder
  readonly vectors: VectorStore
  /** Calls `onChange` after every committed write; answers the unsubscribe function. */
  readonly subscribe: (onChange: () => void) => () => void
  readonly log?: Logger
  /** Feed entries per round (default 64). */
  readonly batch?: number
  /** First delay after a failed round (default 5,000 ms); it doubles up to maxRetryMs (default 300,000). */
  readonly retryMs?: number
  readonly maxRetryMs?: number
}

export interface SemanticStatus {
  readonly model: string
  readonly url: string
  readonly vectors: number
  /** Feed positions not yet embedded. */
  readonly pending: number
  readonly lastError?: string
}

export class SemanticIndex implements SemanticSearch {
  readonly model: string
  private readonly o: SemanticIndexOptions
  private readonly batch: number
  private readonly retryMs: number
  private readonly maxRetryMs: number
  private unsubscribe: (() => void) | undefined
  private running: Promise<void> | undefined
  private again = false
  private stopped = false
  private timer: NodeJS.Timeout | undefined
  private failures = 0
  private lastError: string | undefined
  /** The feed floor the last prune was for. */
  private prunedAt = -1

  constructor (opts: SemanticIndexOptions) {
    this.o = opts
    this.model = opts.embedder.model
    this.batch = opts.batch ?? 64
    this.retryMs = opts.retryMs ?? 5000
    this.maxRetryMs = opts.maxRetryMs ?? 300_000
  }

  start (): void {
    if (this.o.vectors.meta().model !== this.model) {
      this.o.log?.info('semantic search: embedding every record for the model', { model: this.model, url: this.o.embedder.location })
      this.o.vectors.reset(this.model)
    }
    this.unsubscribe = this.o.subscribe(() => this.kick())
    this.kick()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.unsubscribe?.()
    clearTimeout(this.timer)
    await this.running
  }

  status (): SemanticStatus {
    const meta = this.o.vectors.meta()
    return {
      model: this.model,
      url: this.o.embedder.location,
      vectors: meta.count,
      pending: Math.max(0, this.o.store.stats().lastSeq - meta.cursor),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {})
    }
  }

  /** The records nearest to the text by meaning, best first (kind and key; the caller checks them against the store). */
  async nearest (text: string, opts: { limit: number, kinds?: readonly RecordKind[] }): Promise<Array<{ kind: RecordKind, key: string }>> {
    const [v] = await this.o.embedder.embed([text.slice(0, EMBED_MAX_CHARS)])
    return this.o.vectors.nearest(v!, opts.limit, opts.kinds)
  }

  /** Resolves when every change committed so far has its vector (or a round failed). For tests and tools. */
  async settled (): Promise<void> {
    while (this.running !== undefined) await this.running
  }

  /** A write happened: run rounds until the feed is caught up. */
  private kick (): void {
    if (this.stopped || this.timer !== undefined) return
    if (this.running !== undefined) { this.again = true; return }
    this.running = this.rounds().finally(() => { this.running = undefined })
  }

  private async rounds (): Promise<void> {
    do {
      this.again = false
      try {
        while (!this.stopped && await this.round()) { /* next page */ }
        if (this.failures > 0) this.o.log?.info('semantic search: the embedder answers again', { url: this.o.embedder.location })
        this.failures = 0
        this.lastError = undefined
      } catch (e) {
        this.failed(e)
        return
      }
    } while (this.again && !this.stopped)
  }

  /** One page of the feed; answers whether there may be more. */
  private async round (): Promise<boolean> {
    const { store, vectors, embedder } = this.o
    const meta = vectors.meta()
    const stats = store.stats()
    if (meta.cursor < stats.feedFloor && this.prunedAt !== stats.feedFloor) {
      this.prune()
      this.prunedAt = stats.feedFloor
    }
    const page = store.changesSince(meta.cursor, { limit: this.batch })
    if (page.entries.length === 0 && page.lastSeq === meta.cursor) return false
    const live = page.entries.filter(e => !isTombstone(e.record))
    const texts = live.map(e => recordText(e.record, EMBED_MAX_CHARS))
    const embedded = texts.length === 0 ? [] : await embedder.embed(texts)
    if (this.stopped) return false
    let j = 0
    const writes: VectorWrite[] = page.entries.map(e => ({
      kind: e.record.kind,
      key: recordKey(e.record),
      ...(isTombstone(e.record) ? {} : { vector: embedded[j++] })
    }))
    try {
      vectors.write(writes, page.lastSeq)
    } catch (e) {
      if (!isEngramError(e) || e.code !== 'INVALID_INPUT') throw e
      // Vectors of another length under the same model name: the server's model changed.
      this.o.log?.warn('semantic search: the embedder answers vectors of another length; embedding every record again', { model: this.model })
      vectors.reset(this.model)
      return true
    }
    return page.hasMore
  }

  /** Drops the vectors of records no longer in the store (their tombstones were collected). */
  private prune (): void {
    const { store, vectors } = this.o
    const gone = vectors.keys().filter(k => {
      const r = store.get(k.kind, k.key)
      return r === undefined || isTombstone(r)
    })
    vectors.write(gone, vectors.meta().cursor)
  }

  private failed (e: unknown): void {
    this.failures++
    this.lastError = e instanceof Error ? e.message : String(e)
    const delay = Math.min(this.maxRetryMs, this.retryMs * 2 ** (this.failures - 1))
    if (this.failures === 1) {
      this.o.log?.warn('semantic search: embedding failed; search answers with full text alone meanwhile, and embedding is retried', { error: this.lastError, retryInMs: delay })
    }
    if (this.stopped) return
    this.timer = setTimeout(() => { this.timer = undefined; this.kick() }, delay)
    this.timer.unref()
  }
}
