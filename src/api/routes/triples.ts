/**
 * Triples: create one or a batch, list by pattern, read, delete by id or by pattern.
 *
 *   POST   /api/v1/triples          {subject, predicate, object} → 201 triple + {created}
 *                                   {triples: [...]}             → 201 {triples, created, reasserted}
 *   GET    /api/v1/triples?subject=&predicate=&object=&namespace=&origin=&asOf=&limit=&offset=
 *                                   → {triples, total, limit, offset}
 *   GET    /api/v1/triples/:id[?asOf=]  → triple | 404
 *   DELETE /api/v1/triples/:id      → {deleted: 1, id, hlc} | 404
 *   DELETE /api/v1/triples?subject=&predicate=&object=&namespace=  → {deleted: n}
 *   POST   /api/v1/triples/:id/replace  {subject, predicate, object} → {triple, replaced: id}
 *                                   (an edit, in one transaction: the old triple deleted, the new one added)
 *
 * An add is a fresh assertion (Engine.assertTriples): a triple that is already present is
 * re-stamped, so it wins over a delete it follows. `created` counts the triples that were not
 * present here, `reasserted` those that were; a single add says `created: true|false`. Every
 * triple carries its provenance (api/provenance.ts); `asOf` reads the state at a past time
 * (docs/API.md).
 */
import type { FastifyInstance } from 'fastify'
import { NOT_FOUND } from '../../core/errors.ts'
import { formatHlc } from '../../core/hlc.ts'
import type { TripleId } from '../../core/ids.ts'
import type { TripleRecord } from '../../core/model.ts'
import { LIMITS } from '../../core/limits.ts'
import { parseTerm, validateString } from '../../core/validate.ts'
import { stateAt } from '../../store/asOf.ts'
import { recordViews } from '../provenance.ts'
import { asOfParam, patternFromQuery, withinHistory, type PatternFields } from '../pattern.ts'
import { asOfQuery, createTriplesBody, deleteTriplesQuery, listTriplesQuery, tripleIdParams, tripleInput } from '../schemas.ts'
import type { ApiDeps } from '../types.ts'

type TripleBody = { subject: string, predicate: string, object: unknown }
type CreateBody = TripleBody | { triples: TripleBody[] }
type PatternQuery = PatternFields & { object?: string }
type Paged = { limit: number, offset: number }

export function tripleRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const { engine } = deps

  app.post<{ Body: CreateBody }>('/api/v1/triples', { schema: { body: createTriplesBody } }, async (request, reply) => {
    const body = request.body
    if ('triples' in body) {
      const { triples, created, reasserted } = engine.assertTriples(body.triples)
      return reply.code(201).send({ triples: triples.map(recordViews(engine).triple), created, reasserted })
    }
    // Checked here too so that messages name the body's own fields (`subject`, not `triple.subject`).
    validateString(body.subject, 'subject', LIMITS.nameBytes)
    validateString(body.predicate, 'predicate', LIMITS.nameBytes)
    parseTerm(body.object, 'object')
    const { triples, created } = engine.assertTriples([body])
    return reply.code(201).send({ ...recordViews(engine).triple(triples[0]!), created: created === 1 })
  })

  app.post<{ Params: { id: string }, Body: TripleBody }>('/api/v1/triples/:id/replace',
    { schema: { params: tripleIdParams, body: tripleInput } },
    async (request) => {
      const body = request.body
      validateString(body.subject, 'subject', LIMITS.nameBytes)
      validateString(body.predicate, 'predicate', LIMITS.nameBytes)
      parseTerm(body.object, 'object')
      const { replaced, triple } = engine.replaceTriple(request.params.id, body)
      return { triple: recordViews(engine).triple(triple), replaced: replaced.id }
    })

  app.get<{ Querystring: PatternQuery & Paged }>('/api/v1/triples', { schema: { querystring: listTriplesQuery } }, async (request) => {
    const { limit, offset, ...filter } = request.query
    const { triples, total } = engine.store.queryTriples(withinHistory(engine, patternFromQuery(filter)), { limit, offset })
    return { triples: triples.map(recordViews(engine).triple), total, limit, offset }
  })

  app.get<{ Params: { id: string }, Querystring: { asOf?: string } }>('/api/v1/triples/:id',
    { schema: { params: tripleIdParams, querystring: asOfQuery } }, async (request) => {
      const asOf = asOfParam(engine, request.query.asOf)
      const t = asOf === undefined
        ? engine.getTriple(request.params.id as TripleId)
        : stateAt(engine.store.history('triple', request.params.id), asOf)?.record as TripleRecord | undefined
      if (t === undefined || t.deleted) throw NOT_FOUND('triple', request.params.id)
      return recordViews(engine).triple(t)
    })

  app.delete<{ Params: { id: string } }>('/api/v1/triples/:id', { schema: { params: tripleIdParams } }, async (request) => {
    const tomb = engine.deleteTriple(request.params.id)
    return { deleted: 1, id: tomb.id, hlc: formatHlc(tomb.hlc) }
  })

  app.delete<{ Querystring: PatternQuery }>('/api/v1/triples', { schema: { querystring: deleteTriplesQuery } }, async (request) => {
    const tombs = engine.deleteTriples(patternFromQuery(request.query))
    return { deleted: tombs.length }
  })
}
