/**
 * The full-text index of MemoryStore: the in-memory twin of store/sqlite/textIndex.ts, with the
 * same rules, so both stores answer every search alike (test/store/conformance/search.ts):
 * records indexed by seq as they are committed, candidates (the records matching the query's
 * index expression, text/plan.ts) found newest first up to the same cap, those the query matches
 * exactly ranked by text/rank.ts, and the same rebuild bookkeeping (a live record at seq s is indexed
 * exactly when no rebuild runs, or s > upto, or s ≤ done).
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
import type { FeedEntry, TextIndexState, TextQuery, TextSearchResult } from '../Store.ts'

interface Indexed { readonly record: MemoryRecord, readonly doc: SearchDocument }

export class MemoryTextIndex {
  private readonly docs = new Map<number, Indexed>()
  private readonly candidates: number
  private terms = 0
  private upto = 0
  private done = 0

  constructor (candidates: number) {
    this.candidates = candidates
  }

  added (seq: number, r: MemoryRecord): void {
    const doc = documentOf(r)
    this.docs.set(seq, { record: r, doc })
    this.terms += doc.terms.length
  }

  removed (seq: number): void {
    const old = this.docs.get(seq)
    if (old === undefined) return // a rebuild has not indexed it yet
    this.docs.delete(seq)
    this.terms -= old.doc.terms.length
  }

  restart (lastSeq: number): TextIndexState {
    this.docs.clear()
    this.terms = 0
    this.upto = lastSeq
    this.done = 0
    return this.status()
  }

  step (limit: number, feed: (after: number, limit: number) => { entries: readonly FeedEntry[], lastSeq: number }): TextIndexState {
    if (this.upto === 0) return this.status()
    const page = feed(this.done, limit)
    for (const e of page.entries) {
      if (e.seq > this.upto) break
      if (!isTombstone(e.record)) this.added(e.seq, e.record)
    }
    const done = Math.min(this.upto, page.lastSeq)
    if (done >= this.upto) this.upto = this.done = 0
    else this.done = done
    return this.status()
  }

  status (): TextIndexState {
    return { docs: this.docs.size, rebuilding: this.upto !== 0, done: this.done, upto: this.upto }
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
    return { hits, candidates: seen, truncated, partial: this.upto !== 0 }
  }
}
