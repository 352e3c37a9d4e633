/**
 * The size of SQLite's page cache of the store's connection: CACHE_KIB (schema.ts) always, but
 * for a large store while a far-behind catch-up leaves the secondary indexes out
 * (deferredIndexes.ts), when it grows with the store, up to MAX_CATCH_UP_CACHE_KIB.
 *
 * Why: what such a catch-up still writes at random places is the UNIQUE index of the triple ids
 * (32 random bytes each: some 46 bytes of index per triple). Once that index outgrows the cache,
 * nearly every insert of a page reads its index page from the file again (through the OS's
 * cache) and the transaction's dirty pages spill out of the cache before the commit. Measured in
 * one process (1,000,000 triples in catch-up pages of 10,000 with the indexes left out, load
 * 4–6): the store's CPU time 14.0 s with 16 MiB (4.0 GB read from the file), 13.2 s with
 * 32 MiB, 11.9 s with 64 MiB (0.8 GB read); the last tenth of the pages 225 → 153 ms each.
 *
 * The cache holds what a write touched, up to its size, and stays: a larger one costs that much
 * resident memory. So it only grows where it pays — a store past CATCH_UP_CACHE_FROM triples
 * (CATCH_UP_BYTES_PER_TRIPLE of cache per triple: the id index and the pages being appended to),
 * never for a small store (a 100,000-record copy keeps 8 MiB) — and goes back to CACHE_KIB when
 * the deferred indexes are built (the catch-up is over). SQLite frees the pages above a lowered
 * size at once. A restart starts at CACHE_KIB; the next deferring page grows it again.
 */
import type { DatabaseSync } from 'node:sqlite'
import { CACHE_KIB } from './schema.ts'

/** Cache bytes per triple while a catch-up defers its indexes: the id index (~46 bytes a triple) and headroom. */
export const CATCH_UP_BYTES_PER_TRIPLE = 64
/** The largest cache a catch-up grows to, KiB: a million triples' worth. */
export const MAX_CATCH_UP_CACHE_KIB = 64 * 1024
/** Triples from which a catch-up's cache is larger than CACHE_KIB. */
export const CATCH_UP_CACHE_FROM = CACHE_KIB * 1024 / CATCH_UP_BYTES_PER_TRIPLE

/** The page cache (KiB) for a store of `triples` while a catch-up defers its indexes. */
export function catchUpCacheKib (triples: number): number {
  const kib = Math.ceil(Math.max(0, triples) * CATCH_UP_BYTES_PER_TRIPLE / 1024)
  return Math.min(MAX_CATCH_UP_CACHE_KIB, Math.max(CACHE_KIB, kib))
}

export class PageCache {
  private readonly db: DatabaseSync
  /** The connection's cache size now, KiB (configure() set CACHE_KIB). */
  private kib = CACHE_KIB

  constructor (db: DatabaseSync) {
    this.db = db
  }

  /** A page of a catch-up that defers its indexes is written to a store of `triples`: the cache grows with it (never shrinks here). */
  catchUp (triples: number): void {
    const want = catchUpCacheKib(triples)
    if (want > this.kib) this.set(want)
  }

  /** The catch-up is over (its indexes are built): back to the ordinary size. */
  restore (): void {
    if (this.kib !== CACHE_KIB) this.set(CACHE_KIB)
  }

  private set (kib: number): void {
    this.db.exec(`PRAGMA cache_size = -${kib}`)
    this.kib = kib
  }
}
