/**
 * Trace entries: an append-only execution log, grouped by run.
 *
 *   POST /api/v1/traces   {runId, type, data}  → 201 trace
 *                         {traces: [...]}      → 201 {traces, created}
 *   GET  /api/v1/traces?runId=&limit=&offset=  → {traces, total, limit, offset}, oldest first
 *   GET  /api/v1/traces/:id                    → trace | 404
 */
import type { FastifyInstance } from 'fastify'
import { NOT_FOUND } from '../../core/errors.ts'
import { recordViews } from '../provenance.ts'
import { createTracesBody, listTracesQuery, traceIdParams } from '../schemas.ts'
import type { ApiDeps } from '../types.ts'

type TraceBody = { runId: string, type: string, data: unknown }

export function traceRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const { engine } = deps

  app.post<{ Body: TraceBody | { traces: TraceBody[] } }>('/api/v1/traces', { schema: { body: createTracesBody } }, async (request, reply) => {
    const body = request.body
    if ('traces' in body) {
      const records = engine.appendTraces(body.traces)
      return reply.code(201).send({ traces: records.map(recordViews(engine).trace), created: records.length })
    }
    const [record] = engine.appendTraces([body])
    return reply.code(201).send(recordViews(engine).trace(record!))
  })

  app.get<{ Querystring: { runId?: string, limit: number, offset: number } }>('/api/v1/traces',
    { schema: { querystring: listTracesQuery } },
    async (request) => {
      const { runId, limit, offset } = request.query
      const { traces, total } = engine.store.listTraces({ runId, limit, offset })
      return { traces: traces.map(recordViews(engine).trace), total, limit, offset }
    })

  app.get<{ Params: { id: string } }>('/api/v1/traces/:id', { schema: { params: traceIdParams } }, async (request) => {
    const trace = engine.store.getTrace(request.params.id)
    if (trace === undefined) throw NOT_FOUND('trace', request.params.id)
    return recordViews(engine).trace(trace)
  })
}
