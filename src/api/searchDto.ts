/**
 * Search answers as the REST API sends them (GET /api/v1/search), built here from what
 * search/Recall.ts answers, in the shapes of the REST contract (contract.ts), which clients read.
 * Records are in their usual DTO form (dto.ts) with their provenance (provenance.ts), each
 * result with its score and snippet.
 */
import type { RecallAnswer, RecallResult } from '../search/Recall.ts'
import type { Snippet } from '../text/snippet.ts'
import type { SearchResponse, SearchResultDto } from './contract.ts'
import type { recordViews } from './provenance.ts'

/** The record DTOs of one request, with provenance (provenance.ts recordViews). */
type Views = ReturnType<typeof recordViews>

const withSnippet = (snippet: Snippet | undefined): { snippet?: Snippet } => (snippet !== undefined ? { snippet } : {})

function resultDto (r: RecallResult, v: Views): SearchResultDto {
  switch (r.type) {
    case 'entity': return { type: 'entity', subject: r.subject, score: r.score, triples: r.triples.map(t => ({ ...v.triple(t.record), score: t.score, ...withSnippet(t.snippet) })) }
    case 'note': return { type: 'note', score: r.score, note: v.note(r.record), ...withSnippet(r.snippet) }
    case 'episode': return { type: 'episode', score: r.score, episode: v.episode(r.record), ...withSnippet(r.snippet) }
    case 'trace': return { type: 'trace', score: r.score, trace: v.trace(r.record), ...withSnippet(r.snippet) }
  }
}

export function searchResponse (a: RecallAnswer, v: Views): SearchResponse {
  return {
    query: a.query,
    mode: a.mode,
    matched: a.matched,
    results: a.results.map(r => resultDto(r, v)),
    ...(a.graph !== undefined ? { graph: { ...a.graph, triples: a.graph.triples.map(v.triple) } } : {}),
    index: a.index,
    ...(a.semantic !== undefined ? { semantic: a.semantic } : {})
  }
}
