/**
 * Pattern query over triples, with every field optional:
 *
 *   POST /api/v1/query  {subject?, predicate?, object?, namespace?, origin?, asOf?, limit?, offset?}
 *                       → {matches, total, limit, offset}
 *
 * `object` is a term in its JSON form ("vim", 42, true, {"node": "user:bob"}, …). An empty
 * pattern matches every live triple (paged). `origin` keeps the triples a node wrote; `asOf`
 * (ISO-8601 or ms) reads the state at that time, within history's retention.
 */
import type { FastifyInstance } from 'fastify'
import { recordViews } from '../provenance.ts'
import { patternFromBody, withinHistory, type PatternFields } from '../pattern.ts'
import { queryBody } from '../schemas.ts'
import type { ApiDeps } from '../types.ts'

type QueryBody = PatternFields & { object?: unknown, limit: number, offset: number }

export function queryRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.post<{ Body: QueryBody }>('/api/v1/query', { schema: { body: queryBody } }, async (request) => {
    const { limit, offset, ...pattern } = request.body
    const { triples, total } = deps.engine.store.queryTriples(withinHistory(deps.engine, patternFromBody(pattern)), { limit, offset })
    return { matches: triples.map(recordViews(deps.engine).triple), total, limit, offset }
  })
}
