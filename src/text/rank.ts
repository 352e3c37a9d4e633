/**
 * Ranking of full-text candidates: BM25 (Robertson et al.), computed here rather than by FTS5's
 * bm25(), for one reason measured on 1,000,000 records: FTS5 counts the documents of every query
 * phrase by walking its whole posting list on each query, so a query holding one common word took
 * over a second. Here document frequencies come from the store (which caches them, see
 * store/sqlite/textIndex.ts), and only the candidates are scored. Pure.
 *
 *   score(d) = Σ over phrases p of  weight(p) · idf(p) · f(p,d)·(k1+1) / (f(p,d) + k1·(1 − b + b·|d|/avgdl))
 *   idf(t)   = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))        a phrase: the sum over its terms
 *   f(p,d)   = NAME_WEIGHT · (occurrences starting in name fields) + (occurrences starting in the body)
 *
 * with N the records in the index, |d| a record's number of terms and avgdl their mean. The
 * phrases are those of plan.ts scoringPhrases; the side-by-side pairs weigh PAIR_WEIGHT, so a
 * record holding "red apple" ranks above one holding "red … apple" and otherwise alike.
 * Ties are broken by the newer record (larger seq) first.
 */
import type { Seq } from '../core/ids.ts'
import type { SearchDocument } from './document.ts'
import { occursAt, type ScoringPhrase } from './plan.ts'

export const K1 = 1.2
export const B = 0.75
/** How much more a term counts in a name (subject, predicate, key, id) than in the body. */
export const NAME_WEIGHT = 1.5
/** The weight of the side-by-side pair of two query words. */
export const PAIR_WEIGHT = 0.5

/** What ranking needs from an index: its size and each term's document frequency. */
export interface CorpusStats {
  /** Records in the index. */
  readonly docs: number
  /** Terms in all of them. */
  readonly terms: number
  /** How many indexed records hold the term (with `prefix`, a term starting with it). */
  df (term: string, prefix: boolean): number
}

/** A record to rank: where it is in the feed, and its document (what else it carries is kept). */
export interface Candidate {
  readonly seq: Seq
  readonly doc: SearchDocument
}

export const idf = (df: number, docs: number): number => Math.log(1 + (docs - df + 0.5) / (df + 0.5))

/** The idf of each phrase: a phrase's is the sum over its terms (the last one a prefix when it is). */
export function phraseIdfs (phrases: readonly ScoringPhrase[], stats: CorpusStats): number[] {
  const cache = new Map<string, number>()
  const termIdf = (term: string, prefix: boolean): number => {
    const key = (prefix ? '*' : ' ') + term
    let v = cache.get(key)
    if (v === undefined) cache.set(key, v = idf(stats.df(term, prefix), stats.docs))
    return v
  }
  return phrases.map(p => p.terms.reduce((s, t, i) => s + termIdf(t, p.prefix && i === p.terms.length - 1), 0))
}

/** The weighted occurrences of a phrase in a document (by where each one starts). */
export function frequency (p: ScoringPhrase, doc: SearchDocument): number {
  const terms = doc.terms
  let f = 0
  for (const field of doc.fields) {
    const w = field.role === 'name' ? NAME_WEIGHT : 1
    for (let i = field.start; i < field.end; i++) if (occursAt(p, terms, i)) f += w
  }
  return f
}

/** The BM25 score of a document for the phrases, given their idfs. */
export function score (doc: SearchDocument, phrases: readonly ScoringPhrase[], idfs: readonly number[], avgdl: number): number {
  const norm = K1 * (1 - B + B * doc.terms.length / avgdl)
  let s = 0
  for (let i = 0; i < phrases.length; i++) {
    const f = frequency(phrases[i]!, doc)
    if (f === 0) continue
    s += (phrases[i]!.pair ? PAIR_WEIGHT : 1) * idfs[i]! * (f * (K1 + 1)) / (f + norm)
  }
  return s
}

/** The candidates scored, best first (ties: newer first), at most `limit`. */
export function rank<C extends Candidate> (candidates: readonly C[], phrases: readonly ScoringPhrase[], stats: CorpusStats, limit: number): Array<C & { readonly score: number }> {
  if (candidates.length === 0 || limit === 0) return []
  const idfs = phraseIdfs(phrases, stats)
  const avgdl = stats.docs > 0 && stats.terms > 0 ? stats.terms / stats.docs : 1
  const hits = candidates.map(c => ({ ...c, score: score(c.doc, phrases, idfs, avgdl) }))
  hits.sort((a, b) => b.score - a.score || b.seq - a.seq)
  return hits.length > limit ? hits.slice(0, limit) : hits
}

/** Most matching records one search ranks, by default: the newest when more match (LIMITS.md). */
export const DEFAULT_TEXT_CANDIDATES = 500
