/**
 * Pattern query over triples, with every field optional:
 *
 *   POST /api/v1/query  {subject?, predicate?, object?, namespace?, limit?, offset?}
 *                       → {matches, total, limit, offset}
 *
 * `object` is a term in its JSON form ("vim", 42, true, {"node": "user:bob"}, …). An empty
 * pattern matches every live triple (paged).
 */
import type { FastifyInstance } from 'fastify'
import { tripleDto } from '../dto.ts'
import { patternFromBody, type PatternFields } from '../pattern.ts'
import { queryBody } from '../schemas.ts'
import type { ApiDeps } from '../types.ts'

type QueryBody = PatternFields & { object?: unknown, limit: number, offset: number }

export function queryRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.post<{ Body: QueryBody }>('/api/v1/query', { schema: { body: queryBody } }, async (request) => {
    const { limit, offset, ...pattern } = request.body
    const { triples, total } = deps.engine.store.queryTriples(patternFromBody(pattern), { limit, offset })
    return { matches: triples.map(tripleDto), total, limit, offset }
  })
}
