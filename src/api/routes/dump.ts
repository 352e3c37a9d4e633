/**
 * The whole store, out and in (src/core/dump.ts describes the format):
 *
 *   GET  /api/v1/export?namespaces=&kinds=  → 200 application/x-ndjson: the header line, every
 *                                             record (tombstones included), streamed page by page,
 *                                             then the end line
 *   POST /api/v1/import {records: [...]}    → 200 {received, applied, unchanged}: at most 10,000
 *                                             records in one transaction, merged as records from a
 *                                             peer are (every record checked first; one bad record
 *                                             and nothing is written, 400 naming it)
 *
 * An export reads the changes feed from its start in pages, so it never holds the store in
 * memory and never blocks writes; a record written during the export is in it, or in a later
 * export. Both routes are for this machine only (remoteAccess.ts).
 */
import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { dumpEnd, dumpHeader } from '../../core/dump.ts'
import { LIMITS } from '../../core/limits.ts'
import type { RecordKind } from '../../core/model.ts'
import { recordToPlain } from '../../core/records.ts'
import type { Engine } from '../../engine/Engine.ts'
import { parseChangeFilter } from '../changeSummary.ts'
import type { ApiDeps } from '../types.ts'

/** Records read from the feed per page of an export. */
const EXPORT_PAGE = 2000

const exportQuery = {
  type: 'object',
  properties: { namespaces: { type: 'string' }, kinds: { type: 'string' } },
  additionalProperties: false
} as const

const importBody = {
  type: 'object',
  required: ['records'],
  properties: { records: { type: 'array', maxItems: LIMITS.batchRecords } },
  additionalProperties: false
} as const

async function * dumpLines (engine: Engine, opts: { namespaces?: readonly string[], kinds?: readonly RecordKind[] }): AsyncGenerator<string> {
  const s = engine.store.stats()
  yield JSON.stringify(dumpHeader(engine.node, s.triples + s.tripleTombstones + s.notes + s.noteTombstones + s.episodes + s.traces, new Date())) + '\n'
  let after = 0
  let written = 0
  for (;;) {
    const page = engine.store.changesSince(after, { limit: EXPORT_PAGE, ...opts })
    if (page.entries.length > 0) yield page.entries.map(e => JSON.stringify(recordToPlain(e.record))).join('\n') + '\n'
    written += page.entries.length
    after = page.lastSeq
    if (!page.hasMore) break
  }
  yield JSON.stringify(dumpEnd(written)) + '\n'
}

export function dumpRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.get<{ Querystring: { namespaces?: string, kinds?: string } }>('/api/v1/export', { schema: { querystring: exportQuery } }, async (request, reply) => {
    const filter = parseChangeFilter(request.query)
    const lines = dumpLines(deps.engine, {
      ...(filter.namespaces !== undefined ? { namespaces: [...filter.namespaces] } : {}),
      ...(filter.kinds !== undefined ? { kinds: [...filter.kinds] } : {})
    })
    return reply.type('application/x-ndjson; charset=utf-8').send(Readable.from(lines))
  })

  app.post<{ Body: { records: unknown[] } }>('/api/v1/import', { schema: { body: importBody } }, async (request) => {
    const { records } = request.body
    const r = deps.engine.applyRemote(records, {})
    return { received: records.length, applied: r.changed.length, unchanged: r.unchanged }
  })
}
