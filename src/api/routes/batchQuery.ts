/**
 * Several pattern queries in one request, answered from one consistent state of the store:
 *
 *   POST /api/v1/query/batch  {"queries": [{subject?, predicate?, object?, namespace?, limit?, offset?}, …]}
 *                             → {"results": [{matches, total, limit, offset}, …]}   (in query order)
 *
 * Each query is exactly a POST /api/v1/query body (`object` a term in its JSON form). The queries
 * run one after the other with no write in between, so together they see one state.
 *
 * Bounded in time and memory (docs/LIMITS.md): at most 1,000 queries, their limits adding up to
 * at most 20,000 matches, and an answer of at most 32 MiB of JSON text. Each query's answer is
 * written out as text as soon as it is read, so no more than one query's matches are ever held
 * as objects; past the answer cap the request is refused (413) naming the query it reached.
 */
import type { FastifyInstance } from 'fastify'
import { LIMIT_EXCEEDED } from '../../core/errors.ts'
import { parseTerm } from '../../core/validate.ts'
import type { TriplePattern } from '../../store/Store.ts'
import { recordViews } from '../provenance.ts'
import { patternFromBody, withinHistory, type PatternFields } from '../pattern.ts'
import { queryBody } from '../schemas.ts'
import type { ApiDeps } from '../types.ts'
import { BATCH_QUERY_LIMITS } from '../contract.ts'


type QueryItem = PatternFields & { object?: unknown, limit: number, offset: number }

const batchQueryBody = {
  type: 'object',
  required: ['queries'],
  properties: { queries: { type: 'array', items: queryBody } },
  additionalProperties: false
} as const

function patternOf (q: QueryItem, i: number): TriplePattern {
  const { limit: _limit, offset: _offset, object, ...fields } = q
  const p = patternFromBody(fields)
  return object === undefined ? p : { ...p, object: parseTerm(object, `queries[${i}].object`) }
}

export function batchQueryRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.post<{ Body: { queries: QueryItem[] } }>('/api/v1/query/batch', { schema: { body: batchQueryBody } }, async (request, reply) => {
    const { queries } = request.body
    if (queries.length > BATCH_QUERY_LIMITS.queries) throw LIMIT_EXCEEDED('queries batch', BATCH_QUERY_LIMITS.queries, queries.length)
    const total = queries.reduce((sum, q) => sum + q.limit, 0)
    if (total > BATCH_QUERY_LIMITS.totalLimit) throw LIMIT_EXCEEDED('sum of the queries\' limits', BATCH_QUERY_LIMITS.totalLimit, total)
    // Every pattern is checked before any query runs, so an error answers nothing partial.
    const patterns = queries.map((q, i) => withinHistory(deps.engine, patternOf(q, i)))
    const store = deps.engine.store
    const view = recordViews(deps.engine)
    const parts: string[] = []
    let chars = 0
    for (const [i, q] of queries.entries()) {
      const { triples, total } = store.queryTriples(patterns[i]!, { limit: q.limit, offset: q.offset })
      const part = JSON.stringify({ matches: triples.map(view.triple), total, limit: q.limit, offset: q.offset })
      chars += part.length + 1
      if (chars > BATCH_QUERY_LIMITS.answerChars) {
        throw LIMIT_EXCEEDED(`the answer of the queries batch, up to queries[${i}], in characters,`, BATCH_QUERY_LIMITS.answerChars, chars,
          'ask for fewer matches per request (smaller limits, or fewer queries)')
      }
      parts.push(part)
    }
    return await reply.type('application/json; charset=utf-8').send(`{"results":[${parts.join(',')}]}`)
  })
}
