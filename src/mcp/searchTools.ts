/**
 * search_memory: ranked search over all of engram's memory (triples, notes, episodes, traces)
 * with snippets, through GET /api/v1/search. The text content is compact (one line per result,
 * matching words in **bold**) because agents read it; the structured content is the REST answer.
 */
import type { SearchResponse, SearchResultDto, Snippet } from '../api/contract.ts'
import { LIMITS } from '../core/limits.ts'
import { markSnippet } from '../text/snippet.ts'
import { arr, defineTool, obj, READ_ONLY, root, str, type JsonSchema, type Tool } from './tool.ts'

const KINDS = ['triple', 'note', 'episode', 'trace'] as const

/** The snippet with its highlights in **bold**, on one line. */
const bold = (s: Snippet): string => markSnippet(s, '**', '**')

const line = (label: string, s: Snippet | undefined, fallback: unknown): string =>
  `${label}: ${s !== undefined ? bold(s) : JSON.stringify(fallback)}`

function resultText (r: SearchResultDto): string {
  switch (r.type) {
    case 'entity': return `${r.subject}\n${r.triples.map(t => `  ${t.predicate} ${t.snippet?.field === 'object' ? bold(t.snippet) : JSON.stringify(t.object)}`).join('\n')}`
    case 'note': return line(`note ${r.note.key}`, r.snippet, r.note.value)
    case 'episode': return line(`episode ${r.episode.id}`, r.snippet, r.episode.data)
    case 'trace': return line(`trace ${r.trace.runId} ${r.trace.type}`, r.snippet, r.trace.data)
  }
}

export function searchText (a: SearchResponse): string {
  // the index is behind its records (a rebuild, or a catch-up's pages not indexed yet)
  const partial = a.index?.partial === true ? '\n(The full-text index is catching up: some records are not found yet.)' : ''
  if (a.results.length === 0) return `Nothing matches.${partial}`
  const parts = a.results.map(resultText)
  if (a.graph !== undefined) parts.push(`Neighbourhood (${a.graph.depth} hops):\n${a.graph.triples.map(t => `  ${t.subject} ${t.predicate} ${JSON.stringify(t.object)}`).join('\n')}`)
  return parts.join('\n') + partial
}

const int = (description: string, min: number, max: number): JsonSchema => ({ type: 'integer', minimum: min, maximum: max, description })

export const searchMemory = defineTool<{ query: string, kinds?: string[], namespace?: string, limit?: number, expand?: number }>({
  name: 'search_memory',
  title: 'Search Memory',
  description: 'Ranked search of all memory (graph, notes, episodes, traces). Words must all match; "phrase", prefix*, OR, -exclude.',
  inputSchema: root(obj({
    query: str('Words to find'),
    kinds: arr({ type: 'string', enum: [...KINDS] }, 'Only these kinds'),
    namespace: str('Only this namespace'),
    limit: int('Most results (default 10)', 1, LIMITS.searchLimitMax),
    expand: int('Graph hops around entities found', 0, LIMITS.searchExpandMax)
  }, { required: ['query'] })),
  outputSchema: root(obj({ results: arr({ type: 'object' }), matched: str(), mode: str() }, { required: ['results'] })),
  annotations: READ_ONLY,
  async run ({ query, kinds, namespace, limit = 10, expand = 0 }, { api }) {
    const a = await api.search({ q: query, kind: kinds !== undefined && kinds.length > 0 ? [...new Set(kinds)].join(',') : undefined, namespace, limit, expand })
    if (a === undefined) return { structured: { results: [] }, text: 'This engram daemon has no search; upgrade it.' }
    return { structured: { ...a }, text: searchText(a) }
  }
})

export const SEARCH_TOOLS: readonly Tool[] = [searchMemory]
