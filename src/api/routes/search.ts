/**
 * Search over all memory (search/Recall.ts, docs/API.md):
 *
 *   GET  /api/v1/search?q=&kind=&namespace=&limit=&expand=&mode=   → SearchResponse (contract.ts)
 *   GET  /api/v1/search/index                                      → the full-text index (and semantic search)
 *   POST /api/v1/search/reindex                                    → starts rebuilding the full-text index; 202 with its state
 *
 * A query the language does not allow is a 400 INVALID_INPUT naming the problem (field `q`).
 */
import type { FastifyInstance } from 'fastify'
import type { RecordKind } from '../../core/model.ts'
import type { SearchMode } from '../../search/Recall.ts'
import { SearchService } from '../../search/SearchService.ts'
import { searchQuery } from '../schemas.ts'
import type { SearchIndexResponse } from '../contract.ts'
import { recordViews } from '../provenance.ts'
import { searchResponse } from '../searchDto.ts'
import type { ApiDeps } from '../types.ts'

interface SearchQuerystring { q: string, kind?: string, namespace?: string, limit: number, expand: number, mode: SearchMode }

export function searchRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const search = deps.search ?? new SearchService({ store: deps.engine.store })

  app.get<{ Querystring: SearchQuerystring }>('/api/v1/search', { schema: { querystring: searchQuery } }, async (request) => {
    const { q, kind, namespace, limit, expand, mode } = request.query
    const kinds = kind === undefined ? undefined : [...new Set(kind.split(','))] as RecordKind[]
    return searchResponse(await search.search({ q, kinds, namespace, limit, expand, mode }), recordViews(deps.engine))
  })

  app.get('/api/v1/search/index', async (): Promise<SearchIndexResponse> => search.status())

  app.post('/api/v1/search/reindex', async (_request, reply) => {
    reply.code(202)
    return { text: search.reindex() }
  })
}
