/**
 * Records as the REST API shows them. Every response that carries a record is built here.
 *
 * Each DTO carries the record's stamp in text form (`hlc`, sortable as a string), the node that
 * wrote it (`origin`) and the stamp's wall time as an ISO date-time (`created_at` for records
 * that are written once, `updated_at` for those that change). A triple's `object` is in the JSON
 * form that POST /api/v1/triples accepts, so a triple read back can be written back unchanged.
 * Every record the API returns carries `provenance` too: provenance.ts (`recordViews`) builds the
 * DTOs of one request with it.
 */
import { formatHlc, type Hlc } from '../core/hlc.ts'
import type { EpisodeRecord, Json, JsonObject, MemoryRecord, NoteRecord, TraceRecord, TripleRecord } from '../core/model.ts'
import { termToJson } from '../core/validate.ts'

/**
 * Where a record came from, on every record the API returns (provenance.ts builds it):
 * `origin` wrote this state at `time`; `via` is the peer it arrived through (null: written here);
 * `signed` whether it carries a verified signature, `signer` whose (the origin's own, except for a
 * derived deletion). Names are those nodes published (node.name), null when unknown.
 */
export interface ProvenanceDto {
  readonly origin: string
  readonly origin_name: string | null
  readonly time: string
  readonly via: string | null
  readonly via_name: string | null
  readonly signed: boolean
  readonly signer?: string
  readonly signer_name?: string | null
}

export interface TripleDto {
  readonly id: string
  readonly subject: string
  readonly predicate: string
  readonly object: Json
  readonly created_at: string
  readonly hlc: string
  readonly origin: string
  readonly provenance?: ProvenanceDto
}

export interface NoteDto {
  readonly key: string
  readonly value: Json
  readonly hlc: string
  readonly origin: string
  readonly updated_at: string
  readonly provenance?: ProvenanceDto
}

export interface EpisodeDto {
  readonly id: string
  readonly data: JsonObject
  readonly hlc: string
  readonly origin: string
  readonly updated_at: string
  readonly provenance?: ProvenanceDto
}

export interface TraceDto {
  readonly id: string
  readonly runId: string
  readonly type: string
  readonly data: Json
  readonly hlc: string
  readonly origin: string
  readonly created_at: string
  readonly provenance?: ProvenanceDto
}

/** The wall time of a stamp as ISO-8601 UTC with milliseconds. */
export const stampTime = (h: Hlc): string => new Date(h.wall).toISOString()

export function tripleDto (t: TripleRecord): TripleDto {
  return {
    id: t.id,
    subject: t.subject,
    predicate: t.predicate,
    object: termToJson(t.object),
    created_at: stampTime(t.hlc),
    hlc: formatHlc(t.hlc),
    origin: t.hlc.node
  }
}

export function noteDto (n: NoteRecord): NoteDto {
  return { key: n.key, value: n.value, hlc: formatHlc(n.hlc), origin: n.hlc.node, updated_at: stampTime(n.hlc) }
}

export function episodeDto (e: EpisodeRecord): EpisodeDto {
  return { id: e.id, data: e.data, hlc: formatHlc(e.hlc), origin: e.hlc.node, updated_at: stampTime(e.hlc) }
}

export function traceDto (t: TraceRecord): TraceDto {
  return { id: t.id, runId: t.runId, type: t.type, data: t.data, hlc: formatHlc(t.hlc), origin: t.hlc.node, created_at: stampTime(t.hlc) }
}

/** The DTO of any record. */
export function recordDto (r: MemoryRecord): TripleDto | NoteDto | EpisodeDto | TraceDto {
  switch (r.kind) {
    case 'triple': return tripleDto(r)
    case 'note': return noteDto(r)
    case 'episode': return episodeDto(r)
    case 'trace': return traceDto(r)
  }
}
