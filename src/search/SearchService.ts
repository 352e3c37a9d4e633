/**
 * Search as the node offers it: Recall (the search itself), the Reindexer (rebuilding the
 * full-text index in the background), and semantic search when an embedder is configured. The
 * composition root (node/EngramNode.ts) builds it; the REST API routes use it.
 */
import type { Store } from '../store/Store.ts'
import type { Logger } from '../util/log.ts'
import { Recall, type RecallAnswer, type SearchParams } from './Recall.ts'
import { Reindexer, type ReindexProgress } from './Reindexer.ts'
import type { SemanticIndex, SemanticStatus } from './SemanticIndex.ts'

export interface SearchServiceOptions {
  readonly store: Store
  readonly semantic?: SemanticIndex
  readonly log?: Logger
  /** Feed positions per rebuild transaction (Reindexer). */
  readonly reindexSlice?: number
  /** Tells of every committed change (Engine 'change'): the Reindexer indexes what a catch-up left pending. */
  readonly subscribe?: (onChange: () => void) => () => void
}

export class SearchService {
  readonly recall: Recall
  readonly reindexer: Reindexer
  readonly semantic: SemanticIndex | undefined
  private readonly subscribe: SearchServiceOptions['subscribe']
  private unsubscribe: (() => void) | undefined

  constructor (opts: SearchServiceOptions) {
    this.semantic = opts.semantic
    this.subscribe = opts.subscribe
    this.recall = new Recall({
      store: opts.store,
      semantic: opts.semantic,
      onSemanticError: e => opts.log?.warn('semantic search failed; answering with full text alone', { error: e })
    })
    this.reindexer = new Reindexer({ store: opts.store, log: opts.log, slice: opts.reindexSlice })
  }

  /** Finishes a rebuild the store asks for, follows the changes, and starts embedding (when configured). */
  start (): void {
    this.reindexer.resume()
    this.unsubscribe ??= this.subscribe?.(() => { this.reindexer.changed() })
    this.semantic?.start()
  }

  search (p: SearchParams): Promise<RecallAnswer> { return this.recall.search(p) }

  reindex (): ReindexProgress { return this.reindexer.start() }

  status (): { text: ReindexProgress, semantic: SemanticStatus | null } {
    return { text: this.reindexer.progress(), semantic: this.semantic?.status() ?? null }
  }

  async stop (): Promise<void> {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    await this.reindexer.stop()
    await this.semantic?.stop()
  }
}
