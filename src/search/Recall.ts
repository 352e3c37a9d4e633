/**
 * Recall: search over all of a node's memory, the one service behind GET /api/v1/search (and so
 * behind `engram search` and the MCP search tools).
 *
 *   q ──parse (text/query.ts)──► Store.searchText ──► [loosened: any of the words, when all of
 *   them found fewer than `limit`] ──► [hybrid: fused by reciprocal rank with the nearest records
 *   by meaning (SemanticSearch), when an embedder is configured] ──► triples grouped by subject
 *   (one result per entity), snippets ──► [the k-hop neighbourhood of the entities found]
 *
 * Every record answered is live in the store when the answer is made: full-text hits come from
 * the store's own index (same transaction as the records); semantic hits are looked up in the
 * store and left out when deleted or filtered out.
 */
import { INVALID_INPUT } from '../core/errors.ts'
import type { MemoryRecord, NoteRecord, EpisodeRecord, RecordKind, TraceRecord, TripleRecord } from '../core/model.ts'
import { isTombstone, recordNamespace } from '../core/model.ts'
import type { Store } from '../store/Store.ts'
import type { TextHit } from '../store/textSearch.ts'
import { documentOf } from '../text/document.ts'
import { loosen, scoringPhrases, type ScoringPhrase } from '../text/plan.ts'
import { parseQuery } from '../text/query.ts'
import { snippetOf, type Snippet } from '../text/snippet.ts'
import { expand, type Neighbourhood } from './expand.ts'
import { fuse } from './fusion.ts'

export type SearchMode = 'auto' | 'text' | 'hybrid'

export interface SearchParams {
  readonly q: string
  readonly kinds?: readonly RecordKind[]
  readonly namespace?: string
  /** Most results (an entity counts once). */
  readonly limit: number
  /** Hops of graph expansion around the entities found (0: none). */
  readonly expand: number
  /** text: full text only; hybrid: with semantic search (an error when no embedder is configured); auto: hybrid when one is. */
  readonly mode: SearchMode
}

/** Nearest records by meaning (search/SemanticIndex.ts). */
export interface SemanticSearch {
  /** The embedding model, as configured. */
  readonly model: string
  nearest (text: string, opts: { limit: number, kinds?: readonly RecordKind[] }): Promise<Array<{ kind: RecordKind, key: string }>>
}

export interface ScoredTriple { readonly record: TripleRecord, readonly score: number, readonly snippet?: Snippet }

export type RecallResult =
  | { readonly type: 'entity', readonly subject: string, readonly score: number, readonly triples: readonly ScoredTriple[] }
  | { readonly type: 'note', readonly score: number, readonly record: NoteRecord, readonly snippet?: Snippet }
  | { readonly type: 'episode', readonly score: number, readonly record: EpisodeRecord, readonly snippet?: Snippet }
  | { readonly type: 'trace', readonly score: number, readonly record: TraceRecord, readonly snippet?: Snippet }

export interface RecallAnswer {
  readonly query: string
  readonly mode: 'text' | 'hybrid'
  /** all: every result holds every word asked for; any: results holding only some were added (the query was only words). */
  readonly matched: 'all' | 'any'
  readonly results: readonly RecallResult[]
  readonly graph?: Neighbourhood
  /** The full-text index: a rebuild under way (partial), more matches than were ranked (truncated). */
  readonly index: { readonly partial: boolean, readonly truncated: boolean, readonly candidates: number }
  /** Semantic search: the model, and why it was left out of this answer when it failed. */
  readonly semantic?: { readonly model: string, readonly error?: string }
}

/** Hits asked of the index per result wanted (a result may group several triples), and at most. */
const HITS_PER_RESULT = 5
const MAX_HITS = 500

interface Ranked { readonly record: MemoryRecord, readonly score: number, readonly phrases: readonly ScoringPhrase[] }

export class Recall {
  private readonly store: Store
  private readonly semantic: SemanticSearch | undefined
  private readonly onSemanticError: (e: unknown) => void

  constructor (opts: { store: Store, semantic?: SemanticSearch, onSemanticError?: (e: unknown) => void }) {
    this.store = opts.store
    this.semantic = opts.semantic
    this.onSemanticError = opts.onSemanticError ?? (() => {})
  }

  async search (p: SearchParams): Promise<RecallAnswer> {
    const tree = parseQuery(p.q)
    const hybrid = p.mode === 'hybrid' || (p.mode === 'auto' && this.semantic !== undefined)
    const want = Math.min(MAX_HITS, p.limit * HITS_PER_RESULT)
    const filter = { kinds: p.kinds, namespace: p.namespace }
    const first = this.store.searchText({ query: tree, ...filter, limit: want })
    const phrases = scoringPhrases(tree)
    let hits: Ranked[] = first.hits.map(h => ranked(h, phrases))
    let matched: 'all' | 'any' = 'all'
    let truncated = first.truncated
    let candidates = first.candidates
    const loose = distinctUnits(first.hits) < p.limit ? loosen(tree) : undefined
    if (loose !== undefined) {
      const more = this.store.searchText({ query: loose, ...filter, limit: want })
      const seen = new Set(first.hits.map(h => h.seq))
      const extra = more.hits.filter(h => !seen.has(h.seq))
      if (extra.length > 0) matched = 'any'
      const loosePhrases = scoringPhrases(loose)
      hits = [...hits, ...extra.map(h => ranked(h, loosePhrases))]
      truncated ||= more.truncated
      candidates += more.candidates
    }
    let semantic: RecallAnswer['semantic']
    if (hybrid) {
      const s = this.semantic
      if (s === undefined) throw semanticOff()
      try {
        const near = await s.nearest(p.q, { limit: want, kinds: p.kinds })
        hits = fuse(hits, this.live(near, p), phrases)
        semantic = { model: s.model }
      } catch (e) {
        this.onSemanticError(e)
        semantic = { model: s.model, error: e instanceof Error ? e.message : String(e) }
      }
    }
    const results = group(hits).slice(0, p.limit)
    const answer: RecallAnswer = {
      query: p.q,
      mode: hybrid ? 'hybrid' : 'text',
      matched,
      results,
      index: { partial: first.partial, truncated, candidates },
      ...(semantic !== undefined ? { semantic } : {})
    }
    if (p.expand === 0) return answer
    const seeds = results.flatMap(r => (r.type === 'entity' ? [r.subject] : []))
    return { ...answer, graph: expand(this.store, seeds, p.expand) }
  }

  /** The live records of semantic hits that pass the filters, in their order. */
  private live (near: ReadonlyArray<{ kind: RecordKind, key: string }>, p: SearchParams): MemoryRecord[] {
    const out: MemoryRecord[] = []
    for (const n of near) {
      if (p.kinds !== undefined && p.kinds.length > 0 && !p.kinds.includes(n.kind)) continue
      const r = this.store.get(n.kind, n.key)
      if (r === undefined || isTombstone(r)) continue
      if (p.namespace !== undefined && recordNamespace(r) !== p.namespace) continue
      out.push(r)
    }
    return out
  }
}

function semanticOff (): Error {
  return INVALID_INPUT('mode', 'is hybrid, but no embedder is configured (search.embedder.url and search.embedder.model); use mode text or auto')
}

const ranked = (h: TextHit, phrases: readonly ScoringPhrase[]): Ranked => ({ record: h.record, score: h.score, phrases })

/** Results the hits make: triples of one subject count once. */
function distinctUnits (hits: readonly TextHit[]): number {
  const units = new Set<string>()
  for (const h of hits) units.add(h.record.kind === 'triple' ? `s:${h.record.subject}` : `${h.record.kind}:${h.seq}`)
  return units.size
}

/**
 * Triples grouped by subject, every other record alone, in the order of the hits (best first): an
 * entity stands where its best triple does and scores as it.
 */
function group (hits: readonly Ranked[]): RecallResult[] {
  const out: RecallResult[] = []
  const entities = new Map<string, ScoredTriple[]>()
  for (const h of hits) {
    const snippet = snippetOf(documentOf(h.record), h.phrases)
    const extra = snippet !== undefined ? { snippet } : {}
    const r = h.record
    switch (r.kind) {
      case 'triple': {
        let triples = entities.get(r.subject)
        if (triples === undefined) {
          entities.set(r.subject, triples = [])
          out.push({ type: 'entity', subject: r.subject, score: h.score, triples })
        }
        triples.push({ record: r, score: h.score, ...extra })
        break
      }
      case 'note': out.push({ type: 'note', score: h.score, record: r, ...extra }); break
      case 'episode': out.push({ type: 'episode', score: h.score, record: r, ...extra }); break
      case 'trace': out.push({ type: 'trace', score: h.score, record: r, ...extra }); break
    }
  }
  return out
}
