/**
 * Rows ↔ records. A triple's object is stored as its canonical tag (`okind`), a value (`ovalue`:
 * text, a number, 0/1 for a boolean, canonical JSON text for a JSON literal) and a language tag
 * (`olang`), so equal objects are equal column values and pattern queries match them in SQL.
 * JSON payloads of notes, episodes and traces are stored as JSON text.
 */
import { canonicalJson } from '../../core/canonical.ts'
import { INTERNAL } from '../../core/errors.ts'
import type { TripleId } from '../../core/ids.ts'
import type { StoredSeal } from '../../core/seals.ts'
import type { EpisodeRecord, Json, JsonObject, MemoryRecord, NoteRecord, RecordKind, Term, TraceRecord, TripleRecord } from '../../core/model.ts'
import type { NodeNames } from './nodes.ts'

/** The canonical encoding's tag of each object kind (core/canonical.ts). */
export const TERM_TAG = { node: 1, string: 2, number: 3, boolean: 4, datetime: 5, lang: 6, json: 7 } as const

export function termValue (t: Term): string | number {
  switch (t.kind) {
    case 'boolean': return t.value ? 1 : 0
    case 'json': return canonicalJson(t.value, 'object.json')
    default: return t.value
  }
}

export const termLang = (t: Term): string | null => (t.kind === 'lang' ? t.lang : null)

export function decodeTerm (kind: number, value: string | number, lang: string | null): Term {
  switch (kind) {
    case 1: return { kind: 'node', value: value as string }
    case 2: return { kind: 'string', value: value as string }
    case 3: return { kind: 'number', value: value as number }
    case 4: return { kind: 'boolean', value: value === 1 }
    case 5: return { kind: 'datetime', value: value as string }
    case 6: return { kind: 'lang', value: value as string, lang: lang ?? '' }
    case 7: return { kind: 'json', value: JSON.parse(value as string) as Json }
    default: throw INTERNAL(`unknown triple object kind ${kind} in the store`)
  }
}

export const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')

/** Columns every record table has, in this order, before its own. */
export const STAMP_COLUMNS = 'seq, hlc_wall, hlc_counter, origin, via'
/** A state's place in a signed batch (both NULL: unsigned), after a table's own columns. */
export const SEAL_COLUMNS = 'batch, leaf'

export const TRIPLE_COLUMNS = `${STAMP_COLUMNS}, id, deleted, subject, predicate, okind, ovalue, olang, ${SEAL_COLUMNS}`
export const NOTE_COLUMNS = `${STAMP_COLUMNS}, key, deleted, value, ${SEAL_COLUMNS}`
export const EPISODE_COLUMNS = `${STAMP_COLUMNS}, id, data, ${SEAL_COLUMNS}`
export const TRACE_COLUMNS = `${STAMP_COLUMNS}, id, run_id, type, data, ${SEAL_COLUMNS}`

export interface StampRow {
  seq: number
  hlc_wall: number
  hlc_counter: number
  origin: number
  via: number | null
  batch: number | null
  leaf: number | null
}

/** The seal of a row, or undefined when it is unsigned. */
export const sealOf = (r: { batch: number | null, leaf: number | null }): StoredSeal | undefined =>
  r.batch === null || r.leaf === null ? undefined : { batch: r.batch, leaf: r.leaf }
export interface TripleRow extends StampRow {
  id: Uint8Array
  deleted: number
  subject: string
  predicate: string
  okind: number
  ovalue: string | number
  olang: string | null
}
export interface NoteRow extends StampRow { key: string, deleted: number, value: string | null }
export interface EpisodeRow extends StampRow { id: string, data: string }
export interface TraceRow extends StampRow { id: string, run_id: string, type: string, data: string }

export function tripleFromRow (r: TripleRow, nodes: NodeNames): TripleRecord {
  return {
    kind: 'triple',
    id: hexOf(r.id) as TripleId,
    subject: r.subject,
    predicate: r.predicate,
    object: decodeTerm(r.okind, r.ovalue, r.olang),
    hlc: { wall: r.hlc_wall, counter: r.hlc_counter, node: nodes.nameOf(r.origin) },
    deleted: r.deleted === 1
  }
}

export function noteFromRow (r: NoteRow, nodes: NodeNames): NoteRecord {
  return {
    kind: 'note',
    key: r.key,
    value: r.value === null ? null : JSON.parse(r.value) as Json,
    hlc: { wall: r.hlc_wall, counter: r.hlc_counter, node: nodes.nameOf(r.origin) },
    deleted: r.deleted === 1
  }
}

export function episodeFromRow (r: EpisodeRow, nodes: NodeNames): EpisodeRecord {
  return {
    kind: 'episode',
    id: r.id,
    data: JSON.parse(r.data) as JsonObject,
    hlc: { wall: r.hlc_wall, counter: r.hlc_counter, node: nodes.nameOf(r.origin) }
  }
}

export function traceFromRow (r: TraceRow, nodes: NodeNames): TraceRecord {
  return {
    kind: 'trace',
    id: r.id,
    runId: r.run_id,
    type: r.type,
    data: JSON.parse(r.data) as Json,
    hlc: { wall: r.hlc_wall, counter: r.hlc_counter, node: nodes.nameOf(r.origin) }
  }
}

/**
 * Each kind's table, its columns, its key column, the column its namespace is taken from
 * (core/model.ts recordNamespace) and its row decoder.
 */
export const KIND_TABLES: Readonly<Record<RecordKind, {
  table: string, columns: string, key: string, name: string, decode: (row: never, nodes: NodeNames) => MemoryRecord
}>> = {
  triple: { table: 'triples', columns: TRIPLE_COLUMNS, key: 'id', name: 'subject', decode: (r: TripleRow, n) => tripleFromRow(r, n) },
  note: { table: 'notes', columns: NOTE_COLUMNS, key: 'key', name: 'key', decode: (r: NoteRow, n) => noteFromRow(r, n) },
  episode: { table: 'episodes', columns: EPISODE_COLUMNS, key: 'id', name: 'id', decode: (r: EpisodeRow, n) => episodeFromRow(r, n) },
  trace: { table: 'traces', columns: TRACE_COLUMNS, key: 'id', name: 'run_id', decode: (r: TraceRow, n) => traceFromRow(r, n) }
}
