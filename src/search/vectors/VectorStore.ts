/**
 * Where the vectors of semantic search live: one vector per record (kind and key), the model
 * that made them, and how far into the store's changes feed they are up to date. Local data:
 * never synced, always rebuildable from the records. Two implementations pass one conformance
 * suite (test/search/vectors.test.ts): SqliteVectorStore (a file beside the store) and
 * MemoryVectorStore.
 *
 * Vectors are kept normalized (length 1), so the similarity of two is their dot product (cosine).
 */
import type { RecordKind } from '../../core/model.ts'

export interface VectorWrite {
  readonly kind: RecordKind
  readonly key: string
  /** The record's vector; absent: the record has none any more (deleted). */
  readonly vector?: Float32Array
}

export interface VectorHit {
  readonly kind: RecordKind
  readonly key: string
  /** Cosine similarity, −1 to 1. */
  readonly similarity: number
}

export interface VectorMeta {
  /** The model the vectors were made by; undefined when there are none yet. */
  readonly model: string | undefined
  /** The store's feed position the vectors are up to date with. */
  readonly cursor: number
  readonly count: number
}

export interface VectorStore {
  meta (): VectorMeta
  /** Writes and removes vectors and moves the cursor, all at once (a crash keeps all or none). */
  write (entries: readonly VectorWrite[], cursor: number): void
  /** Forgets every vector and starts over for `model`, at cursor 0. */
  reset (model: string): void
  /** The `limit` vectors most similar to `vector`, best first, only of `kinds` when given. */
  nearest (vector: Float32Array, limit: number, kinds?: readonly RecordKind[]): VectorHit[]
  /** Every (kind, key) that has a vector. */
  keys (): Array<{ kind: RecordKind, key: string }>
  close (): void
}
