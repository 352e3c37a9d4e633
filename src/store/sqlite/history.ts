/**
 * The `history` table (provenanceSchema.ts): every state a write replaced, and every tombstone
 * collection removed, with the stamp of what ended it (`until`). Written inside the write
 * transaction that replaces the state, so history and current state never disagree; collected by
 * `collect` once `until` is older than the retention (the same rule on every node).
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite'
import type { Hlc, HlcMark } from '../../core/hlc.ts'
import type { NodeId, TripleId } from '../../core/ids.ts'
import type { Json, JsonObject, MemoryRecord, RecordKind } from '../../core/model.ts'
import type { StoredState } from '../Store.ts'
import { COLLECTABLE_SQL, collectableArgs } from '../tombstones.ts'
import type { NodeNames } from './nodes.ts'
import { decodeTerm, sealOf, type EpisodeRow, type NoteRow, type StampRow, type TripleRow } from './rows.ts'

/** The `kind` column of history rows. */
export const HISTORY_KIND: Partial<Record<RecordKind, number>> = { triple: 0, note: 1, episode: 2 }

export const HISTORY_COLUMNS = 'kind, key, deleted, hlc_wall, hlc_counter, origin, via, batch, leaf, ' +
  'until_wall, until_counter, until_origin, body, subject, predicate, okind, ovalue, olang'

export interface HistoryRow extends Omit<StampRow, 'seq'> {
  kind: number
  key: string
  deleted: number
  until_wall: number
  until_counter: number
  until_origin: number
  body: string | null
  subject: string | null
  predicate: string | null
  okind: number | null
  ovalue: string | number | null
  olang: string | null
}

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')

/** A history row as the state it was, with its provenance and end. */
export function historyState (r: HistoryRow, nodes: NodeNames): StoredState {
  const hlc: Hlc = { wall: r.hlc_wall, counter: r.hlc_counter, node: nodes.nameOf(r.origin) }
  let record: MemoryRecord
  switch (r.kind) {
    case 0:
      record = {
        kind: 'triple', id: r.key as TripleId, subject: r.subject!, predicate: r.predicate!,
        object: decodeTerm(r.okind!, r.ovalue!, r.olang), hlc, deleted: r.deleted === 1
      }
      break
    case 1:
      record = { kind: 'note', key: r.key, value: r.body === null ? null : JSON.parse(r.body) as Json, hlc, deleted: r.deleted === 1 }
      break
    default:
      record = { kind: 'episode', id: r.key, data: JSON.parse(r.body!) as JsonObject, hlc }
  }
  const seal = sealOf(r)
  return {
    record,
    ...(r.via !== null ? { via: nodes.nameOf(r.via) } : {}),
    ...(seal !== undefined ? { seal } : {}),
    until: { wall: r.until_wall, counter: r.until_counter, node: nodes.nameOf(r.until_origin) }
  }
}

export class HistoryTable {
  private readonly nodes: NodeNames
  private readonly insert: StatementSync
  private readonly moveTriples: StatementSync
  private readonly moveNotes: StatementSync
  private readonly batchRefs: StatementSync
  private readonly remove: StatementSync
  private readonly selectStates: StatementSync
  private readonly selectTouched: StatementSync
  private readonly countRows: StatementSync

  constructor (db: DatabaseSync, nodes: NodeNames) {
    this.nodes = nodes
    this.selectStates = db.prepare(`SELECT ${HISTORY_COLUMNS} FROM history WHERE kind = ? AND key = ?`)
    this.selectTouched = db.prepare('SELECT DISTINCT kind, key FROM history WHERE origin = ? AND hlc_wall BETWEEN ? AND ?')
    this.countRows = db.prepare('SELECT count(*) AS n FROM history')
    this.insert = db.prepare(`INSERT INTO history (${HISTORY_COLUMNS}) VALUES (${HISTORY_COLUMNS.split(',').map(() => '?').join(', ')})`)
    const moved = (kind: number, key: string, content: string): string => `INSERT INTO history (${HISTORY_COLUMNS})
      SELECT ${kind}, ${key}, 1, hlc_wall, hlc_counter, origin, via, batch, leaf, hlc_wall, hlc_counter, origin, ${content}`
    this.moveTriples = db.prepare(`${moved(0, 'lower(hex(id))', 'NULL, subject, predicate, okind, ovalue, olang')}
      FROM triples WHERE ${COLLECTABLE_SQL}`)
    this.moveNotes = db.prepare(`${moved(1, 'key', 'NULL, NULL, NULL, NULL, NULL, NULL')} FROM notes WHERE ${COLLECTABLE_SQL}`)
    this.batchRefs = db.prepare('SELECT batch, count(*) AS n FROM history WHERE until_wall < ? AND batch IS NOT NULL GROUP BY batch')
    this.remove = db.prepare('DELETE FROM history WHERE until_wall < ?')
  }

  private keep (kind: number, key: string, row: TripleRow | NoteRow | EpisodeRow, deleted: number, until: Hlc, body: string | null,
    content: readonly SQLInputValue[]): void {
    this.insert.run(kind, key, deleted, row.hlc_wall, row.hlc_counter, row.origin, row.via, row.batch, row.leaf,
      until.wall, until.counter, this.nodes.idOf(until.node), body, ...content)
  }

  /** Keeps a triple's stored state, replaced by the state stamped `until`. In a write transaction. */
  keepTriple (row: TripleRow, until: Hlc): void {
    this.keep(0, hexOf(row.id), row, row.deleted, until, null, [row.subject, row.predicate, row.okind, row.ovalue, row.olang])
  }

  keepNote (row: NoteRow, until: Hlc): void {
    this.keep(1, row.key, row, row.deleted, until, row.value, [null, null, null, null, null])
  }

  keepEpisode (row: EpisodeRow, until: Hlc): void {
    this.keep(2, row.id, row, 0, until, row.data, [null, null, null, null, null])
  }

  /**
   * Copies the tombstones a collection with these bounds is about to remove (store/tombstones.ts,
   * the same rule) into history, ended by their own stamp. In a write transaction.
   */
  keepTombstones (beforeWallMs: number, upTo: HlcMark | undefined): void {
    const args = collectableArgs(beforeWallMs, upTo)
    this.moveTriples.run(...args)
    this.moveNotes.run(...args)
  }

  /**
   * Removes the states whose end is older than `beforeWallMs`; returns how many, and how many of
   * them belonged to each batch. In a write transaction.
   */
  collect (beforeWallMs: number): { removed: number, batches: Map<number, number> } {
    const batches = new Map<number, number>()
    for (const r of this.batchRefs.all(beforeWallMs) as unknown as { batch: number, n: number }[]) batches.set(r.batch, -r.n)
    return { removed: Number(this.remove.run(beforeWallMs).changes), batches }
  }

  /** The replaced states of one record (any order). */
  states (kind: RecordKind, key: string): StoredState[] {
    const code = HISTORY_KIND[kind]
    if (code === undefined) return []
    const rows = this.selectStates.all(code, key) as unknown as HistoryRow[]
    return rows.map(r => historyState(r, this.nodes))
  }

  /** (kind code, key) of the replaced states stamped by `origin` with a wall time in [from, to]. */
  touchedBy (origin: NodeId, from: number, to: number): Array<{ kind: number, key: string }> {
    const id = this.nodes.find(origin)
    if (id === undefined) return []
    return this.selectTouched.all(id, from, to) as unknown as Array<{ kind: number, key: string }>
  }

  size (): number {
    return (this.countRows.get() as { n: number }).n
  }
}
