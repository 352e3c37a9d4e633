/**
 * Every read of the SQLite file except the changes feed and history: records by key (with their
 * provenance), pattern queries over triples (as-of ones in pastReads.ts), listings of notes,
 * episodes and traces, and the canonical dump. Statements are prepared once per distinct SQL
 * text and cached.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite'
import { isTripleId, type NodeId, type TripleId } from '../../core/ids.ts'
import type { EpisodeRecord, MemoryRecord, NoteRecord, RecordKind, TraceRecord, TripleRecord } from '../../core/model.ts'
import { SYSTEM_NAMESPACE } from '../../core/system.ts'
import { checkPage } from '../checks.ts'
import { compareText, prefixUpperBound } from '../order.ts'
import type { Page, StoredState, TriplePattern } from '../Store.ts'
import type { NodeNames } from './nodes.ts'
import { notesAsOf, triplesAsOf } from './pastReads.ts'
import {
  EPISODE_COLUMNS, episodeFromRow, KIND_TABLES, NOTE_COLUMNS, noteFromRow, sealOf, TERM_TAG, termValue, TRACE_COLUMNS, traceFromRow,
  TRIPLE_COLUMNS, tripleFromRow, type EpisodeRow, type NoteRow, type TraceRow, type TripleRow
} from './rows.ts'

const nodeName = (table: string): string => `(SELECT name FROM nodes WHERE nodes.id = ${table}.origin)`

export class Reader {
  private readonly db: DatabaseSync
  private readonly nodes: NodeNames
  private readonly cache = new Map<string, StatementSync>()
  private readonly arrayCache = new Map<string, StatementSync>()
  private readonly idBytes = Buffer.alloc(32)

  constructor (db: DatabaseSync, nodes: NodeNames) {
    this.db = db
    this.nodes = nodes
  }

  /** A prepared statement for `sql`, prepared on first use. */
  statement (sql: string): StatementSync {
    let st = this.cache.get(sql)
    if (st === undefined) {
      st = this.db.prepare(sql)
      this.cache.set(sql, st)
    }
    return st
  }

  /** As `statement`, its rows read as arrays (rows.ts ArrayRow). */
  arrays (sql: string): StatementSync {
    let st = this.arrayCache.get(sql)
    if (st === undefined) {
      st = this.db.prepare(sql)
      st.setReturnArrays(true)
      this.arrayCache.set(sql, st)
    }
    return st
  }

  getTriple (id: TripleId): TripleRecord | undefined {
    if (!isTripleId(id)) return undefined
    this.idBytes.write(id, 'hex')
    const row = this.statement(`SELECT ${TRIPLE_COLUMNS} FROM triples WHERE id = ?`).get(this.idBytes) as TripleRow | undefined
    return row === undefined ? undefined : tripleFromRow(row, this.nodes)
  }

  getNote (key: string): NoteRecord | undefined {
    const row = this.statement(`SELECT ${NOTE_COLUMNS} FROM notes WHERE key = ?`).get(key) as NoteRow | undefined
    return row === undefined ? undefined : noteFromRow(row, this.nodes)
  }

  getEpisode (id: string): EpisodeRecord | undefined {
    const row = this.statement(`SELECT ${EPISODE_COLUMNS} FROM episodes WHERE id = ?`).get(id) as EpisodeRow | undefined
    return row === undefined ? undefined : episodeFromRow(row, this.nodes)
  }

  getTrace (id: string): TraceRecord | undefined {
    const row = this.statement(`SELECT ${TRACE_COLUMNS} FROM traces WHERE id = ?`).get(id) as TraceRow | undefined
    return row === undefined ? undefined : traceFromRow(row, this.nodes)
  }

  get (kind: RecordKind, key: string): MemoryRecord | undefined {
    switch (kind) {
      case 'triple': return this.getTriple(key as TripleId)
      case 'note': return this.getNote(key)
      case 'episode': return this.getEpisode(key)
      case 'trace': return this.getTrace(key)
    }
  }

  /** The records of a kind whose current states sit at these seqs (those that exist), by seq. */
  /** The current states of `kind` at seqs in (from, to], with their seqs. */
  inSeqRange (kind: RecordKind, from: number, to: number): Array<[number, MemoryRecord]> {
    const t = KIND_TABLES[kind]
    const rows = this.statement(`SELECT ${t.columns} FROM ${t.table} WHERE seq > ? AND seq <= ?`).all(from, to)
    return rows.map(row => [(row as { seq: number }).seq, t.decode(row as never, this.nodes)])
  }

  bySeqs (kind: RecordKind, seqs: readonly number[]): Map<number, MemoryRecord> {
    const out = new Map<number, MemoryRecord>()
    if (seqs.length === 0) return out
    const t = KIND_TABLES[kind]
    const rows = this.statement(`SELECT ${t.columns} FROM ${t.table} WHERE seq IN (SELECT value FROM json_each(?))`).all(JSON.stringify(seqs))
    for (const row of rows) out.set((row as { seq: number }).seq, t.decode(row as never, this.nodes))
    return out
  }

  /** The current state of a record with where it came from and its seal. */
  getState (kind: RecordKind, key: string): StoredState | undefined {
    const t = KIND_TABLES[kind]
    let param: SQLInputValue = key
    if (kind === 'triple') {
      if (!isTripleId(key)) return undefined
      param = Buffer.from(key, 'hex')
    }
    const row = this.statement(`SELECT ${t.columns} FROM ${t.table} WHERE ${t.key} = ?`).get(param) as
      (TripleRow & NoteRow & EpisodeRow & TraceRow) | undefined
    if (row === undefined) return undefined
    const seal = sealOf(row)
    return {
      record: t.decode(row as never, this.nodes),
      ...(row.via !== null ? { via: this.nodes.nameOf(row.via) } : {}),
      ...(seal !== undefined ? { seal } : {})
    }
  }

  /** (kind, key) of the current states stamped by `origin` with a wall time in [from, to]. */
  touchedBy (origin: NodeId, from: number, to: number): Array<{ kind: RecordKind, key: string }> {
    const id = this.nodes.find(origin)
    if (id === undefined) return []
    const out: Array<{ kind: RecordKind, key: string }> = []
    for (const [kind, t] of Object.entries(KIND_TABLES) as Array<[RecordKind, typeof KIND_TABLES[RecordKind]]>) {
      const key = kind === 'triple' ? 'lower(hex(id))' : t.key
      const rows = this.statement(`SELECT ${key} AS k FROM ${t.table} WHERE origin = ? AND hlc_wall BETWEEN ? AND ?`).all(id, from, to) as Array<{ k: string }>
      for (const r of rows) out.push({ kind, key: r.k })
    }
    return out
  }

  /** Current states of `origin` without a seal, in feed order. */
  unsealed (origin: NodeId, limit: number): MemoryRecord[] {
    const id = this.nodes.find(origin)
    if (id === undefined || limit < 1) return []
    return this.read(() => {
      const out: Array<{ seq: number, record: MemoryRecord }> = []
      for (const t of Object.values(KIND_TABLES)) {
        const rows = this.statement(`SELECT ${t.columns} FROM ${t.table} WHERE origin = ? AND batch IS NULL ORDER BY seq LIMIT ?`).all(id, limit) as
          unknown as Array<TripleRow & NoteRow & EpisodeRow & TraceRow>
        for (const r of rows) out.push({ seq: r.seq, record: t.decode(r as never, this.nodes) })
      }
      return out.sort((a, b) => a.seq - b.seq).slice(0, limit).map(e => e.record)
    })
  }

  /** Current states without a seal. */
  unsignedCount (): number {
    return this.read(() => Object.values(KIND_TABLES).reduce((n, t) =>
      n + (this.statement(`SELECT count(*) AS n FROM ${t.table} WHERE batch IS NULL`).get() as { n: number }).n, 0))
  }

  queryTriples (pattern: TriplePattern, page: Page): { triples: TripleRecord[], total: number } {
    checkPage(page)
    const where: string[] = []
    const params: SQLInputValue[] = []
    if (pattern.subject !== undefined) { where.push('subject = ?'); params.push(pattern.subject) }
    if (pattern.predicate !== undefined) { where.push('predicate = ?'); params.push(pattern.predicate) }
    if (pattern.object !== undefined) {
      const o = pattern.object
      // The kind as a literal, so that the partial index of node objects applies (schema.ts).
      where.push(`okind = ${TERM_TAG[o.kind]}`, 'ovalue = ?')
      params.push(termValue(o))
      if (o.kind === 'lang') { where.push('olang = ?'); params.push(o.lang) }
    }
    const ns = pattern.namespace
    if (ns !== undefined) {
      // A namespace never contains ':' (it is what precedes the first one).
      if (ns.includes(':')) return { triples: [], total: 0 }
      if (ns === '') {
        where.push("instr(subject, ':') = 0")
      } else {
        // Subjects in namespace ns are exactly those in ['ns:', 'ns;'): an index range.
        where.push('subject >= ?', 'subject < ?')
        params.push(`${ns}:`, `${ns};`)
      }
    }
    if (pattern.asOf !== undefined) return triplesAsOf(this, this.nodes, { ...pattern, asOf: pattern.asOf }, { where, params }, page)
    if (pattern.includeDeleted !== true) where.unshift('deleted = 0')
    if (pattern.origin !== undefined) {
      const origin = this.nodes.find(pattern.origin)
      if (origin === undefined) return { triples: [], total: 0 }
      where.push('origin = ?')
      params.push(origin)
    }
    const filter = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`
    return this.read(() => {
      const total = (this.statement(`SELECT count(*) AS n FROM triples ${filter}`).get(...params) as { n: number }).n
      if (page.limit === 0 || page.offset >= total) return { triples: [], total }
      const rows = this.statement(`SELECT ${TRIPLE_COLUMNS} FROM triples ${filter} ORDER BY subject, predicate, id LIMIT ? OFFSET ?`)
        .all(...params, page.limit, page.offset) as unknown as TripleRow[]
      return { triples: rows.map(r => tripleFromRow(r, this.nodes)), total }
    })
  }

  listNotes (opts: { prefix?: string, asOf?: number } & Page): { notes: NoteRecord[], total: number } {
    checkPage(opts)
    const where: string[] = []
    const params: SQLInputValue[] = []
    const prefix = opts.prefix ?? ''
    if (prefix !== '') {
      const upper = prefixUpperBound(prefix)
      where.push('key >= ?')
      params.push(prefix)
      if (upper !== undefined) { where.push('key < ?'); params.push(upper) }
    }
    // The system namespace only when asked for by prefix: keys in ['_engram:', '_engram;') are left out.
    if (!prefix.startsWith(`${SYSTEM_NAMESPACE}:`)) {
      where.push('NOT (key >= ? AND key < ?)')
      params.push(`${SYSTEM_NAMESPACE}:`, `${SYSTEM_NAMESPACE};`)
    }
    if (opts.asOf !== undefined) return notesAsOf(this, this.nodes, opts.asOf, { where, params }, opts)
    const filter = `WHERE ${['deleted = 0', ...where].join(' AND ')}`
    return this.read(() => {
      const total = (this.statement(`SELECT count(*) AS n FROM notes ${filter}`).get(...params) as { n: number }).n
      if (opts.limit === 0 || opts.offset >= total) return { notes: [], total }
      const rows = this.statement(`SELECT ${NOTE_COLUMNS} FROM notes ${filter} ORDER BY key LIMIT ? OFFSET ?`)
        .all(...params, opts.limit, opts.offset) as unknown as NoteRow[]
      return { notes: rows.map(r => noteFromRow(r, this.nodes)), total }
    })
  }

  listEpisodes (opts: { prefix?: string } & Page): { episodes: EpisodeRecord[], total: number } {
    checkPage(opts)
    const [range, params] = prefixRange('id', opts.prefix)
    const filter = range === '' ? '' : `WHERE ${range.slice(' AND '.length)}`
    return this.read(() => {
      const total = (this.statement(`SELECT count(*) AS n FROM episodes ${filter}`).get(...params) as { n: number }).n
      if (opts.limit === 0 || opts.offset >= total) return { episodes: [], total }
      const order = `hlc_wall DESC, hlc_counter DESC, ${nodeName('episodes')} DESC, id`
      const rows = this.statement(`SELECT ${EPISODE_COLUMNS} FROM episodes ${filter} ORDER BY ${order} LIMIT ? OFFSET ?`)
        .all(...params, opts.limit, opts.offset) as unknown as EpisodeRow[]
      return { episodes: rows.map(r => episodeFromRow(r, this.nodes)), total }
    })
  }

  listTraces (opts: { runId?: string } & Page): { traces: TraceRecord[], total: number } {
    checkPage(opts)
    const filter = opts.runId === undefined ? '' : 'WHERE run_id = ?'
    const params: SQLInputValue[] = opts.runId === undefined ? [] : [opts.runId]
    return this.read(() => {
      const total = (this.statement(`SELECT count(*) AS n FROM traces ${filter}`).get(...params) as { n: number }).n
      if (opts.limit === 0 || opts.offset >= total) return { traces: [], total }
      const order = `hlc_wall, hlc_counter, ${nodeName('traces')}, id`
      const rows = this.statement(`SELECT ${TRACE_COLUMNS} FROM traces ${filter} ORDER BY ${order} LIMIT ? OFFSET ?`)
        .all(...params, opts.limit, opts.offset) as unknown as TraceRow[]
      return { traces: rows.map(r => traceFromRow(r, this.nodes)), total }
    })
  }

  /** Current states stamped after `afterWall` (of `origin` only, when given), in stamp order (then kind, key); a scan of every table. */
  stampedAfter (afterWall: number, limit: number, origin?: NodeId): MemoryRecord[] {
    return this.read(() => {
      const id = origin === undefined ? undefined : this.nodes.find(origin)
      if (origin !== undefined && id === undefined) return []
      const where = `WHERE ${id === undefined ? '' : 'origin = ? AND '}hlc_wall > ? ORDER BY hlc_wall, hlc_counter LIMIT ?`
      const args = id === undefined ? [afterWall, limit] : [id, afterWall, limit]
      const out: MemoryRecord[] = [
        ...(this.statement(`SELECT ${TRIPLE_COLUMNS} FROM triples ${where}`).all(...args) as unknown as TripleRow[]).map(r => tripleFromRow(r, this.nodes)),
        ...(this.statement(`SELECT ${NOTE_COLUMNS} FROM notes ${where}`).all(...args) as unknown as NoteRow[]).map(r => noteFromRow(r, this.nodes)),
        ...(this.statement(`SELECT ${EPISODE_COLUMNS} FROM episodes ${where}`).all(...args) as unknown as EpisodeRow[]).map(r => episodeFromRow(r, this.nodes)),
        ...(this.statement(`SELECT ${TRACE_COLUMNS} FROM traces ${where}`).all(...args) as unknown as TraceRow[]).map(r => traceFromRow(r, this.nodes))
      ]
      const key = (r: MemoryRecord): string => r.kind === 'note' ? r.key : r.id
      out.sort((a, b) => (a.hlc.wall - b.hlc.wall) || (a.hlc.counter - b.hlc.counter) || compareText(a.kind, b.kind) || compareText(key(a), key(b)))
      return out.slice(0, limit)
    })
  }

  dump (): MemoryRecord[] {
    return this.read(() => {
      const out: MemoryRecord[] = []
      for (const r of this.statement(`SELECT ${TRIPLE_COLUMNS} FROM triples ORDER BY id`).iterate()) {
        out.push(tripleFromRow(r as unknown as TripleRow, this.nodes))
      }
      for (const r of this.statement(`SELECT ${NOTE_COLUMNS} FROM notes ORDER BY key`).iterate()) {
        out.push(noteFromRow(r as unknown as NoteRow, this.nodes))
      }
      for (const r of this.statement(`SELECT ${EPISODE_COLUMNS} FROM episodes ORDER BY id`).iterate()) {
        out.push(episodeFromRow(r as unknown as EpisodeRow, this.nodes))
      }
      for (const r of this.statement(`SELECT ${TRACE_COLUMNS} FROM traces ORDER BY id`).iterate()) {
        out.push(traceFromRow(r as unknown as TraceRow, this.nodes))
      }
      return out
    })
  }

  /**
   * Runs several statements on one snapshot of the file (a read transaction), unless a
   * transaction is already open (a resolver reading during apply sees that transaction).
   */
  read<T> (body: () => T): T {
    if (this.db.isTransaction) return body()
    this.db.exec('BEGIN')
    try {
      return body()
    } finally {
      this.db.exec('COMMIT')
    }
  }
}

/** ` AND col >= ? AND col < ?` (and its parameters) for a prefix match; '' for no prefix. */
function prefixRange (column: string, prefix: string | undefined): [string, SQLInputValue[]] {
  if (prefix === undefined || prefix === '') return ['', []]
  const upper = prefixUpperBound(prefix)
  return upper === undefined
    ? [` AND ${column} >= ?`, [prefix]]
    : [` AND ${column} >= ? AND ${column} < ?`, [prefix, upper]]
}
