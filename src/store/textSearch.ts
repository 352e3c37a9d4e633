/**
 * What the store's full-text search takes and gives (Store.ts `searchText`, `textIndex` and the
 * rebuild): a query, its hits and result, and how far the index is. Implemented by both stores'
 * indexes (sqlite/textIndex.ts, memory/MemoryTextIndex.ts), checked in checks.ts, read by
 * search/Recall.ts and search/Reindexer.ts.
 */
import type { Seq } from '../core/ids.ts'
import type { MemoryRecord, RecordKind } from '../core/model.ts'
import type { SearchDocument } from '../text/document.ts'
import type { QueryNode } from '../text/query.ts'

/** A full-text query (text/query.ts parses what users write). */
export interface TextQuery {
  readonly query: QueryNode
  /** Only these kinds (absent or empty: all). */
  readonly kinds?: readonly RecordKind[]
  /** Only records in this namespace. */
  readonly namespace?: string
  /** Most hits to return, best first. */
  readonly limit: number
}

export interface TextHit {
  readonly seq: Seq
  readonly record: MemoryRecord
  /** The record's indexed fields and tokens (for snippets). */
  readonly doc: SearchDocument
  /** BM25 (text/rank.ts): larger is better. */
  readonly score: number
}

export interface TextSearchResult {
  readonly hits: TextHit[]
  /** Records the index found for the query and this search read (at most the candidate cap); those the query matches were ranked. */
  readonly candidates: number
  /** More records matched than a query ranks (the store's candidate cap): the newest were ranked. */
  readonly truncated: boolean
  /** A rebuild of the index is under way: records it has not reached are not found yet. */
  readonly partial: boolean
}

export interface TextIndexState {
  /** Records in the index. */
  readonly docs: number
  /** A rebuild is under way: it has indexed the feed up to seq `done` of `upto`. */
  readonly rebuilding: boolean
  readonly done: number
  readonly upto: number
}
