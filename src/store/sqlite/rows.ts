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
import type { SQLOutputValue } from 'node:sqlite'
import type { Hlc } from '../../core/hlc.ts'
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
  return tripleOf(hexOf(r.id) as TripleId, r.subject, r.predicate, decodeTerm(r.okind, r.ovalue, r.olang), stampOf(r.hlc_wall, r.hlc_counter, r.origin, nodes), r.deleted)
}

export function noteFromRow (r: NoteRow, nodes: NodeNames): NoteRecord {
  return noteOf(r.key, r.value, stampOf(r.hlc_wall, r.hlc_counter, r.origin, nodes), r.deleted)
}

export function episodeFromRow (r: EpisodeRow, nodes: NodeNames): EpisodeRecord {
  return episodeOf(r.id, r.data, stampOf(r.hlc_wall, r.hlc_counter, r.origin, nodes))
}

export function traceFromRow (r: TraceRow, nodes: NodeNames): TraceRecord {
  return traceOf(r.id, r.run_id, r.type, r.data, stampOf(r.hlc_wall, r.hlc_counter, r.origin, nodes))
}

const stampOf = (wall: number, counter: number, origin: number, nodes: NodeNames): Hlc => ({ wall, counter, node: nodes.nameOf(origin) })

const tripleOf = (id: TripleId, subject: string, predicate: string, object: Term, hlc: Hlc, deleted: number): TripleRecord =>
  ({ kind: 'triple', id, subject, predicate, object, hlc, deleted: deleted === 1 })

const noteOf = (key: string, value: string | null, hlc: Hlc, deleted: number): NoteRecord =>
  ({ kind: 'note', key, value: value === null ? null : JSON.parse(value) as Json, hlc, deleted: deleted === 1 })

const episodeOf = (id: string, data: string, hlc: Hlc): EpisodeRecord =>
  ({ kind: 'episode', id, data: JSON.parse(data) as JsonObject, hlc })

const traceOf = (id: string, runId: string, type: string, data: string, hlc: Hlc): TraceRecord =>
  ({ kind: 'trace', id, runId, type, data: JSON.parse(data) as Json, hlc })

/**
 * A row read as an array (node:sqlite setReturnArrays: no object with a property per column
 * made per row, the cheaper read for a page of thousands), in the order of a table's
 * `arrayColumns`: the stamp columns, the table's own, then batch and leaf. A triple's id is read
 * as its hex text (SQLite writes it: no byte array per row, nor a conversion here).
 */
export type ArrayRow = readonly SQLOutputValue[]

/** Where the seal columns of an array row start: after the stamp columns and the kind's own (they end every column list). */
const sealAt = (columns: string): number => columns.split(',').length - SEAL_COLUMNS.split(',').length
const SEAL_AT: Readonly<Record<RecordKind, number>> = {
  triple: sealAt(TRIPLE_COLUMNS), note: sealAt(NOTE_COLUMNS), episode: sealAt(EPISODE_COLUMNS), trace: sealAt(TRACE_COLUMNS)
}

const fromArray: Readonly<Record<RecordKind, (a: ArrayRow, nodes: NodeNames) => MemoryRecord>> = {
  triple: (a, n) => tripleOf(a[5] as TripleId, a[7] as string, a[8] as string, decodeTerm(a[9] as number, a[10] as string | number, a[11] as string | null),
    stampOf(a[1] as number, a[2] as number, a[3] as number, n), a[6] as number),
  note: (a, n) => noteOf(a[5] as string, a[7] as string | null, stampOf(a[1] as number, a[2] as number, a[3] as number, n), a[6] as number),
  episode: (a, n) => episodeOf(a[5] as string, a[6] as string, stampOf(a[1] as number, a[2] as number, a[3] as number, n)),
  trace: (a, n) => traceOf(a[5] as string, a[6] as string, a[7] as string, a[8] as string, stampOf(a[1] as number, a[2] as number, a[3] as number, n))
}

/** The seal of an array row of `kind`, or undefined when it is unsigned. */
export function arraySealOf (kind: RecordKind, a: ArrayRow): StoredSeal | undefined {
  const at = SEAL_AT[kind]
  const batch = a[at] as number | null
  const leaf = a[at + 1] as number | null
  return batch === null || leaf === null ? undefined : { batch, leaf }
}

/**
 * Each kind's table, its columns, its key column, the column its namespace is taken from
 * (core/model.ts recordNamespace) and its row decoder.
 */
export const KIND_TABLES: Readonly<Record<RecordKind, {
  table: string, columns: string, key: string, name: string, decode: (row: never, nodes: NodeNames) => MemoryRecord
  /** The columns of an array row (ArrayRow) and its decoder. */
  arrayColumns: string, fromArray: (row: ArrayRow, nodes: NodeNames) => MemoryRecord
}>> = {
  triple: {
    table: 'triples', columns: TRIPLE_COLUMNS, key: 'id', name: 'subject', decode: (r: TripleRow, n) => tripleFromRow(r, n),
    arrayColumns: TRIPLE_COLUMNS.replace(', id,', ', lower(hex(id)),'), fromArray: fromArray.triple
  },
  note: { table: 'notes', columns: NOTE_COLUMNS, key: 'key', name: 'key', decode: (r: NoteRow, n) => noteFromRow(r, n), arrayColumns: NOTE_COLUMNS, fromArray: fromArray.note },
  episode: { table: 'episodes', columns: EPISODE_COLUMNS, key: 'id', name: 'id', decode: (r: EpisodeRow, n) => episodeFromRow(r, n), arrayColumns: EPISODE_COLUMNS, fromArray: fromArray.episode },
  trace: { table: 'traces', columns: TRACE_COLUMNS, key: 'id', name: 'run_id', decode: (r: TraceRow, n) => traceFromRow(r, n), arrayColumns: TRACE_COLUMNS, fromArray: fromArray.trace }
}
