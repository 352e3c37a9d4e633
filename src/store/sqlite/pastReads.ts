/**
 * As-of reads of the SQLite store: the states stamped at or before the time, current and
 * history alike, filtered in SQL by content (a triple's content is the same in all its states),
 * then the latest of each record picked by the shared rule (store/asOf.ts) and ordered as the
 * current-state reads order. They scan every state at or before the time: a read of the past,
 * not a hot path.
 */
import type { SQLInputValue, StatementSync } from 'node:sqlite'
import type { NodeId } from '../../core/ids.ts'
import type { MemoryRecord, NoteRecord, TripleRecord } from '../../core/model.ts'
import { latestByKey } from '../asOf.ts'
import { compareText } from '../order.ts'
import type { Page, StoredState, TriplePattern } from '../Store.ts'
import { HISTORY_COLUMNS, historyState, type HistoryRow } from './history.ts'
import type { NodeNames } from './nodes.ts'
import { NOTE_COLUMNS, noteFromRow, TRIPLE_COLUMNS, tripleFromRow, type NoteRow, type TripleRow } from './rows.ts'

/** What the as-of reads need of the reader (reader.ts): cached statements, and one snapshot for several. */
export interface Reader {
  statement (sql: string): StatementSync
  read<T> (body: () => T): T
}

/** SQL conditions (and their parameters) that hold for the columns of both a record table and history. */
export interface Conditions {
  readonly where: readonly string[]
  readonly params: readonly SQLInputValue[]
}

function statesAt (reader: Reader, nodes: NodeNames, table: string, columns: string, kind: number, c: Conditions, wallMs: number,
  decode: (row: never) => MemoryRecord): StoredState[] {
  const where = [...c.where, 'hlc_wall <= ?'].join(' AND ')
  const current = reader.statement(`SELECT ${columns} FROM ${table} WHERE ${where}`).all(...c.params, wallMs)
  const past = reader.statement(`SELECT ${HISTORY_COLUMNS} FROM history WHERE kind = ${kind} AND ${where}`).all(...c.params, wallMs)
  return [
    ...current.map(r => ({ record: decode(r as never) })),
    ...(past as unknown as HistoryRow[]).map(r => historyState(r, nodes))
  ]
}

const byOrigin = (origin: NodeId | undefined) => (r: MemoryRecord): boolean => origin === undefined || r.hlc.node === origin

export function triplesAsOf (reader: Reader, nodes: NodeNames, pattern: TriplePattern & { asOf: number }, c: Conditions, page: Page): { triples: TripleRecord[], total: number } {
  return reader.read(() => {
    const states = statesAt(reader, nodes, 'triples', TRIPLE_COLUMNS, 0, c, pattern.asOf, (r: TripleRow) => tripleFromRow(r, nodes))
    const keep = byOrigin(pattern.origin)
    const triples = latestByKey(states, s => (s.record as TripleRecord).id, pattern.asOf)
      .map(s => s.record as TripleRecord)
      .filter(t => (pattern.includeDeleted === true || !t.deleted) && keep(t))
      .sort((a, b) => compareText(a.subject, b.subject) || compareText(a.predicate, b.predicate) || compareText(a.id, b.id))
    return { triples: triples.slice(page.offset, page.offset + page.limit), total: triples.length }
  })
}

export function notesAsOf (reader: Reader, nodes: NodeNames, asOf: number, c: Conditions, page: Page): { notes: NoteRecord[], total: number } {
  return reader.read(() => {
    const states = statesAt(reader, nodes, 'notes', NOTE_COLUMNS, 1, c, asOf, (r: NoteRow) => noteFromRow(r, nodes))
    const notes = latestByKey(states, s => (s.record as NoteRecord).key, asOf)
      .map(s => s.record as NoteRecord)
      .filter(n => !n.deleted)
      .sort((a, b) => compareText(a.key, b.key))
    return { notes: notes.slice(page.offset, page.offset + page.limit), total: notes.length }
  })
}
