/**
 * Notes: key → JSON value, last writer wins.
 *
 *   PUT    /api/v1/notes/<key>   {value}  → note
 *   GET    /api/v1/notes/<key>[?asOf=]    → note | 404
 *   DELETE /api/v1/notes/<key>            → {deleted: 1, key, hlc} | 404
 *   GET    /api/v1/notes?prefix=&asOf=&limit=&offset=  → {notes, total, limit, offset}
 *
 * The key is the rest of the path after `/api/v1/notes/`, %-decoded, so keys may contain '/',
 * ':' and spaces: `/api/v1/notes/project/engram%3Agoal` is the key "project/engram:goal".
 */
import type { FastifyInstance } from 'fastify'
import { NOT_FOUND } from '../../core/errors.ts'
import { formatHlc } from '../../core/hlc.ts'
import type { Json, NoteRecord } from '../../core/model.ts'
import { validateNoteKey } from '../../core/records.ts'
import { stateAt } from '../../store/asOf.ts'
import { recordViews } from '../provenance.ts'
import { asOfParam } from '../pattern.ts'
import { asOfQuery, listNotesQuery, putNoteBody, wildcardParams } from '../schemas.ts'
import type { ApiDeps } from '../types.ts'

type KeyParams = { '*': string }
const key = (params: KeyParams): string => validateNoteKey(params['*'], 'key')

export function noteRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const { engine } = deps

  app.put<{ Params: KeyParams, Body: { value: Json } }>('/api/v1/notes/*',
    { schema: { params: wildcardParams, body: putNoteBody } },
    async (request) => recordViews(engine).note(engine.setNote(key(request.params), request.body.value)))

  app.get<{ Params: KeyParams, Querystring: { asOf?: string } }>('/api/v1/notes/*', { schema: { params: wildcardParams, querystring: asOfQuery } }, async (request) => {
    const k = key(request.params)
    const asOf = asOfParam(engine, request.query.asOf)
    const note = asOf === undefined ? engine.getNote(k) : stateAt(engine.store.history('note', k), asOf)?.record as NoteRecord | undefined
    if (note === undefined || note.deleted) throw NOT_FOUND('note', k)
    return recordViews(engine).note(note)
  })

  app.delete<{ Params: KeyParams }>('/api/v1/notes/*', { schema: { params: wildcardParams } }, async (request) => {
    const rec = engine.deleteNote(key(request.params))
    return { deleted: 1, key: rec.key, hlc: formatHlc(rec.hlc) }
  })

  app.get<{ Querystring: { prefix?: string, asOf?: string, limit: number, offset: number } }>('/api/v1/notes',
    { schema: { querystring: listNotesQuery } },
    async (request) => {
      const { prefix, limit, offset } = request.query
      const asOf = asOfParam(engine, request.query.asOf)
      const { notes, total } = engine.store.listNotes({ prefix, limit, offset, ...(asOf !== undefined ? { asOf } : {}) })
      return { notes: notes.map(recordViews(engine).note), total, limit, offset }
    })
}
