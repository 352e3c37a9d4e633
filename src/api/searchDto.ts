/**
 * Search answers as the REST API sends them (GET /api/v1/search), built here from what
 * search/Recall.ts answers, in the shapes of the REST contract (contract.ts), which clients read.
 * Records are in their usual DTO form (dto.ts), each result with its score and snippet.
 */
import type { RecallAnswer, RecallResult } from '../search/Recall.ts'
import type { Snippet } from '../text/snippet.ts'
import type { SearchResponse, SearchResultDto } from './contract.ts'
import { episodeDto, noteDto, traceDto, tripleDto } from './dto.ts'

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
