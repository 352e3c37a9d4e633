/**
 * Search answers as the REST API sends them (GET /api/v1/search, /api/v1/search/index), built
 * here from what search/Recall.ts answers; the client (cli/client.ts) reads the same types.
 * Records are in their usual DTO form (dto.ts), each result with its score and snippet.
 */
import type { RecallAnswer, RecallResult } from '../search/Recall.ts'
import type { ReindexProgress } from '../search/Reindexer.ts'
import type { Snippet } from '../text/snippet.ts'
import { episodeDto, noteDto, traceDto, tripleDto, type EpisodeDto, type NoteDto, type TraceDto, type TripleDto } from './dto.ts'

export type { Snippet }

export type ScoredTripleDto = TripleDto & { readonly score: number, readonly snippet?: Snippet }

export type SearchResultDto =
  | { readonly type: 'entity', readonly subject: string, readonly score: number, readonly triples: ScoredTripleDto[] }
  | { readonly type: 'note', readonly score: number, readonly note: NoteDto, readonly snippet?: Snippet }
  | { readonly type: 'episode', readonly score: number, readonly episode: EpisodeDto, readonly snippet?: Snippet }
  | { readonly type: 'trace', readonly score: number, readonly trace: TraceDto, readonly snippet?: Snippet }

export interface SearchGraphDto {
  readonly depth: number
  readonly nodes: ReadonlyArray<{ readonly id: string, readonly hops: number }>
  readonly triples: TripleDto[]
  readonly truncated: boolean
}

export interface SearchResponse {
  readonly query: string
  readonly mode: 'text' | 'hybrid'
  readonly matched: 'all' | 'any'
  readonly results: SearchResultDto[]
  readonly graph?: SearchGraphDto
  readonly index: { readonly partial: boolean, readonly truncated: boolean, readonly candidates: number }
  readonly semantic?: { readonly model: string, readonly error?: string }
}

/** GET /api/v1/search/index: the full-text index, and semantic search when an embedder is configured. */
export interface SearchIndexResponse {
  readonly text: ReindexProgress
  readonly semantic: SemanticStatusDto | null
}

export interface SemanticStatusDto {
  readonly model: string
  readonly url: string
  /** Records with a vector. */
  readonly vectors: number
  /** Feed positions not yet embedded. */
  readonly pending: number
  readonly lastError?: string
}

const withSnippet = (snippet: Snippet | undefined): { snippet?: Snippet } => (snippet !== undefined ? { snippet } : {})

function resultDto (r: RecallResult): SearchResultDto {
  switch (r.type) {
    case 'entity': return { type: 'entity', subject: r.subject, score: r.score, triples: r.triples.map(t => ({ ...tripleDto(t.record), score: t.score, ...withSnippet(t.snippet) })) }
    case 'note': return { type: 'note', score: r.score, note: noteDto(r.record), ...withSnippet(r.snippet) }
    case 'episode': return { type: 'episode', score: r.score, episode: episodeDto(r.record), ...withSnippet(r.snippet) }
    case 'trace': return { type: 'trace', score: r.score, trace: traceDto(r.record), ...withSnippet(r.snippet) }
  }
}

export function searchResponse (a: RecallAnswer): SearchResponse {
  return {
    query: a.query,
    mode: a.mode,
    matched: a.matched,
    results: a.results.map(resultDto),
    ...(a.graph !== undefined ? { graph: { ...a.graph, triples: a.graph.triples.map(tripleDto) } } : {}),
    index: a.index,
    ...(a.semantic !== undefined ? { semantic: a.semantic } : {})
  }
}
