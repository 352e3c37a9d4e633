/**
 * The full-text index of MemoryStore: the in-memory twin of store/sqlite/textIndex.ts, with the
 * same rules, so both stores answer every search alike (test/store/conformance/search.ts):
 * records indexed by seq as they are committed, candidates (the records matching the query's
 * index expression, text/plan.ts) found newest first up to the same cap, those the query matches
 * exactly ranked by text/rank.ts, and the same bookkeeping of a pending range (store/textPending.ts:
 * a rebuild, or a catch-up's pages written with their indexing deferred).
 *
 * Matching and document frequencies are plain scans of the indexed documents: this index serves
 * tests and simulations, not a million records.
 */
import type { Seq } from '../../core/ids.ts'
import { isTombstone, type MemoryRecord } from '../../core/model.ts'
import { documentOf, type SearchDocument } from '../../text/document.ts'
import { matches, matchesIndex, scoringPhrases } from '../../text/plan.ts'
import { rank, type Candidate } from '../../text/rank.ts'
import { checkTextQuery } from '../checks.ts'
import type { TextIndexState, TextQuery, TextSearchResult } from '../textSearch.ts'
import { deferAt, doneTo, isIndexed, NOTHING_PENDING, pendingAll, type TextPending } from '../textPending.ts'

interface Indexed { readonly record: MemoryRecord, readonly doc: SearchDocument }

export class MemoryTextIndex {
  private readonly docs = new Map<number, Indexed>()
  private readonly candidates: number
  private terms = 0
  private pending: TextPending = NOTHING_PENDING

  constructor (candidates: number) {
    this.candidates = candidates
  }

  /** A live record was written at `seq`; `defer`: it is left pending (ApplyOptions.deferText). */
  added (seq: number, r: MemoryRecord, defer = false): void {
    if (defer) {
      this.pending = deferAt(this.pending, seq)
      return
    }
    const doc = documentOf(r)
    this.docs.set(seq, { record: r, doc })
    this.terms += doc.terms.length
  }

  removed (seq: number): void {
    if (!isIndexed(this.pending, seq)) return // pending: not indexed yet
    const old = this.docs.get(seq)
    if (old === undefined) return
    this.docs.delete(seq)
    this.terms -= old.doc.terms.length
  }

  restart (lastSeq: number): TextIndexState {
    this.docs.clear()
    this.terms = 0
    this.pending = pendingAll(lastSeq)
    return this.status()
  }

  /** Indexes the live records at the next `limit` feed positions after `done`; `at`: the record at a seq. */
  step (limit: number, at: (seq: number) => MemoryRecord | undefined): TextIndexState {
    const p = this.pending
    if (p.upto === 0) return this.status()
    const to = Math.min(p.upto, p.done + limit)
    for (let seq = p.done + 1; seq <= to; seq++) {
      const r = at(seq)
      // a record in a kept stretch was indexed when it was written
      if (r !== undefined && !isTombstone(r) && !isIndexed(p, seq)) this.added(seq, r)
    }
    this.pending = doneTo(p, to)
    return this.status()
  }

  status (): TextIndexState {
    const p = this.pending
    return { docs: this.docs.size, rebuilding: p.upto !== 0, done: p.done, upto: p.upto }
  }

  search (q: TextQuery): TextSearchResult {
    checkTextQuery(q)
    const kinds = q.kinds !== undefined && q.kinds.length > 0 ? new Set(q.kinds) : undefined
    const seqs = [...this.docs.keys()].sort((a, b) => b - a)
    const found: Array<Candidate & { record: MemoryRecord }> = []
    let seen = 0
    let truncated = false
    for (const seq of seqs) {
      const { record, doc } = this.docs.get(seq)!
      if (kinds !== undefined && !kinds.has(record.kind)) continue
      if (q.namespace !== undefined && doc.namespace !== q.namespace) continue
      if (!matchesIndex(q.query, doc.terms)) continue
      if (seen === this.candidates) { truncated = true; break }
      seen++
      if (matches(q.query, doc.terms)) found.push({ seq: seq as Seq, record, doc })
    }
    const df = (term: string, prefix: boolean): number => {
      let n = 0
      for (const { doc } of this.docs.values()) if (doc.terms.some(t => prefix ? t.startsWith(term) : t === term)) n++
      return n
    }
    const hits = rank(found, scoringPhrases(q.query), { docs: this.docs.size, terms: this.terms, df }, q.limit)
    return { hits, candidates: seen, truncated, partial: this.pending.upto !== 0 }
  }
}
