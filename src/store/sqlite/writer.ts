/**
 * Every write to the SQLite file. `apply` runs one transaction (BEGIN IMMEDIATE … COMMIT): it
 * records the batch's clock voids (dropping what they void from the held records), then for
 * each record reads the current state, drops it by Rule A or decides what to keep
 * (store/decide.ts) and writes a changed state at the next seq; it holds aside the records to
 * hold, learns the knowledge entries, saves the last seq, the clock mark (never lowered, except
 * by a clock repair), the peer's cursor and the caller's metadata (`ApplyOptions.meta`), and
 * commits. Any error rolls everything back and is rethrown, so a batch is either wholly written
 * or not at all. Every live state written is added to the full-text index and every live state
 * replaced is removed from it, in the same transaction (textIndex.ts).
 *
 * Durability: with store.synchronous = full, a commit waits for the disk (the write-ahead log is
 * synced) unless the batch is `refetchable` (a page from a peer, fetched again after a power
 * cut); those commit with synchronous NORMAL, durable at the next synced commit or flush().
 * `durableSeq` says how far the feed is durable; the feed is never served past it.
 *
 * Hot path: a triple is first inserted with ON CONFLICT DO NOTHING. For a triple new here (the
 * common case of a local add or a first sync) that one statement is the whole write; only when
 * the id is already present is the current state read and merged.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { INVALID_INPUT } from '../../core/errors.ts'
import { covers } from '../../core/knowledge.ts'
import type { HlcMark } from '../../core/hlc.ts'
import type { Seq } from '../../core/ids.ts'
import type { EpisodeRecord, MemoryRecord, NoteRecord, TraceRecord, TripleRecord } from '../../core/model.ts'
import { checkCursor, checkMark, checkWallMs, nestedWriteError } from '../checks.ts'
import { cameFromPeer, decide, isForgotten } from '../decide.ts'
import type { ApplyOptions, ApplyResult, ClockRepair, FeedEntry } from '../Store.ts'
import { storeError } from './failures.ts'
import { KnowledgeTables } from './knowledge.ts'
import type { NodeNames } from './nodes.ts'
import {
  episodeFromRow, noteFromRow, TERM_TAG, termLang, termValue, TRACE_COLUMNS, traceFromRow, tripleFromRow, type EpisodeRow, type NoteRow, type TraceRow, type TripleRow
} from './rows.ts'
import { StateTable, type State } from './state.ts'
import type { SqliteTextIndex } from './textIndex.ts'

const STAMP = 'seq, hlc_wall, hlc_counter, origin, via'
/** Local metadata written by flush(): the last seq it made durable (only written, so that the commit has something to sync). */
const DURABLE_KEY = 'store.durable-seq'
const STAMP_SET = 'seq = ?, hlc_wall = ?, hlc_counter = ?, origin = ?, via = ?'

export class Writer {
  private readonly db: DatabaseSync
  private readonly file: string
  private readonly nodes: NodeNames
  private readonly state: StateTable
  private readonly text: SqliteTextIndex
  /** The configured durability (store.synchronous); `refetchable` batches commit with NORMAL whatever it is. */
  private readonly mode: 'full' | 'normal'
  /** The connection's synchronous setting now. */
  private synchronous: 'FULL' | 'NORMAL'
  /** Every change up to this seq is on disk (survives a power cut). */
  private durable = -1
  /** A triple id as bytes, rewritten for each triple (SQLite copies bound values). */
  private readonly idBytes = Buffer.alloc(32)
  private readonly insertTriple: StatementSync
  private readonly selectTriple: StatementSync
  private readonly updateTriple: StatementSync
  private readonly selectNote: StatementSync
  private readonly insertNote: StatementSync
  private readonly updateNote: StatementSync
  private readonly selectEpisode: StatementSync
  private readonly insertEpisode: StatementSync
  private readonly updateEpisode: StatementSync
  private readonly insertTrace: StatementSync
  private readonly saveCursor: StatementSync
  private readonly putMeta: StatementSync
  private readonly dropMeta: StatementSync
  private readonly deadStats: { triples: StatementSync, notes: StatementSync }
  private readonly deleteDead: { triples: StatementSync, notes: StatementSync }
  private readonly deadStatsUpTo: { triples: StatementSync, notes: StatementSync }
  private readonly deleteDeadUpTo: { triples: StatementSync, notes: StatementSync }
  private readonly deleteTrace: StatementSync
  private readonly selectTraceRow: StatementSync
  readonly knowledge: KnowledgeTables
  /** Changed triples and notes of the running apply whose previous state was live. */
  private replacedLive = 0
  /** Inputs of the running apply dropped by Rule A. */
  private forgotten = 0

  constructor (db: DatabaseSync, file: string, nodes: NodeNames, text: SqliteTextIndex, mode: 'full' | 'normal' = 'full') {
    this.db = db
    this.file = file
    this.nodes = nodes
    this.text = text
    this.state = new StateTable(db)
    this.mode = mode
    this.synchronous = mode === 'normal' ? 'NORMAL' : 'FULL'
    this.insertTriple = db.prepare(`INSERT INTO triples (${STAMP}, id, deleted, subject, predicate, okind, ovalue, olang)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
    this.selectTriple = db.prepare(`SELECT ${STAMP}, id, deleted, subject, predicate, okind, ovalue, olang FROM triples WHERE id = ?`)
    this.updateTriple = db.prepare(`UPDATE triples SET ${STAMP_SET}, deleted = ? WHERE seq = ?`)
    this.selectNote = db.prepare(`SELECT ${STAMP}, key, deleted, value FROM notes WHERE key = ?`)
    this.insertNote = db.prepare(`INSERT INTO notes (${STAMP}, key, deleted, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
    this.updateNote = db.prepare(`UPDATE notes SET ${STAMP_SET}, deleted = ?, value = ? WHERE seq = ?`)
    this.selectEpisode = db.prepare(`SELECT ${STAMP}, id, data FROM episodes WHERE id = ?`)
    this.insertEpisode = db.prepare(`INSERT INTO episodes (${STAMP}, id, data) VALUES (?, ?, ?, ?, ?, ?, ?)`)
    this.updateEpisode = db.prepare(`UPDATE episodes SET ${STAMP_SET}, data = ? WHERE seq = ?`)
    this.insertTrace = db.prepare(`INSERT INTO traces (${STAMP}, id, run_id, type, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO NOTHING`)
    this.saveCursor = db.prepare('INSERT INTO cursors (peer, seq) VALUES (?, ?) ON CONFLICT (peer) DO UPDATE SET seq = excluded.seq')
    this.putMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
    this.dropMeta = db.prepare('DELETE FROM meta WHERE key = ?')
    const dead = (table: string): StatementSync =>
      db.prepare(`SELECT count(*) AS n, coalesce(max(seq), 0) AS top FROM ${table} WHERE deleted = 1 AND hlc_wall < ?`)
    this.deadStats = { triples: dead('triples'), notes: dead('notes') }
    this.deleteDead = {
      triples: db.prepare('DELETE FROM triples WHERE deleted = 1 AND hlc_wall < ?'),
      notes: db.prepare('DELETE FROM notes WHERE deleted = 1 AND hlc_wall < ?')
    }
    // Rule B: below the TTL cut and at or below the stable mark.
    const stable = 'deleted = 1 AND hlc_wall < ? AND (hlc_wall < ? OR (hlc_wall = ? AND hlc_counter <= ?))'
    const deadUpTo = (table: string): StatementSync =>
      db.prepare(`SELECT count(*) AS n, coalesce(max(seq), 0) AS top FROM ${table} WHERE ${stable}`)
    this.deadStatsUpTo = { triples: deadUpTo('triples'), notes: deadUpTo('notes') }
    this.deleteDeadUpTo = {
      triples: db.prepare(`DELETE FROM triples WHERE ${stable}`),
      notes: db.prepare(`DELETE FROM notes WHERE ${stable}`)
    }
    this.deleteTrace = db.prepare('DELETE FROM traces WHERE id = ?')
    this.selectTraceRow = db.prepare(`SELECT ${TRACE_COLUMNS} FROM traces WHERE id = ?`)
    this.knowledge = new KnowledgeTables(db)
    // what an earlier process committed without waiting for the disk is made durable before anything is served
    this.flush()
  }

  readState (): State {
    return this.state.read()
  }

  apply (records: readonly MemoryRecord[], opts: ApplyOptions): ApplyResult {
    checkMark(opts.clock)
    checkCursor(opts.cursor)
    return this.transaction('applying a batch', () => this.applyAll(records, opts), opts.refetchable === true ? 'refetchable' : 'local')
  }

  /** Every change up to this seq survives a power cut. */
  durableSeq (): number {
    return this.durable
  }

  /**
   * Makes every committed change durable: one small commit with synchronous FULL (the seq made
   * durable, in `meta`), which syncs the write-ahead log and so every commit before it — about
   * the cost of the sync a FULL commit of the pages would have paid, once for all of them.
   */
  flush (): void {
    const last = this.state.read().lastSeq
    if (this.durable >= last) return
    this.transaction('making the last writes durable', () => this.putMeta.run(DURABLE_KEY, String(last)), 'synced')
  }

  private setSynchronous (value: 'FULL' | 'NORMAL'): void {
    if (this.synchronous === value) return
    this.db.exec(`PRAGMA synchronous = ${value}`)
    this.synchronous = value
  }

  collectTombstones (beforeWallMs: number, upTo?: HlcMark): number {
    checkWallMs(beforeWallMs)
    if (upTo !== undefined) checkMark(upTo, 'upTo')
    return this.transaction('collecting tombstones', () => {
      const s = this.state.read()
      const args = upTo === undefined ? [beforeWallMs] : [beforeWallMs, upTo.wall, upTo.wall, upTo.counter]
      const stats = upTo === undefined ? this.deadStats : this.deadStatsUpTo
      const del = upTo === undefined ? this.deleteDead : this.deleteDeadUpTo
      const t = stats.triples.get(...args) as { n: number, top: number }
      const n = stats.notes.get(...args) as { n: number, top: number }
      if (t.n > 0) del.triples.run(...args)
      if (n.n > 0) del.notes.run(...args)
      s.triplesDead -= t.n
      s.notesDead -= n.n
      s.feedFloor = Math.max(s.feedFloor, t.top, n.top)
      this.state.save(s)
      return t.n + n.n
    })
  }

  /**
   * A clock repair: this node's re-stamped records written whatever their current state (a
   * re-stamped trace replaces the old entry), the clock mark set (lowered), the void recorded.
   */
  repairClock (repair: ClockRepair): ApplyResult {
    checkMark(repair.clock)
    return this.transaction('repairing the clock', () => {
      const s = this.state.read()
      this.text.begin()
      for (const id of repair.removeTraces) {
        const row = this.selectTraceRow.get(id) as TraceRow | undefined
        if (row === undefined) continue
        this.deleteTrace.run(id)
        s.traces--
        this.text.removed(row.seq, traceFromRow(row, this.nodes))
      }
      const changed: FeedEntry[] = []
      const force: ApplyOptions = { clock: repair.clock, resolve: (_current, incoming) => incoming }
      for (const r of repair.records) {
        const written = r.kind === 'triple'
          ? this.applyTriple(r, force, null, s)
          : r.kind === 'note' ? this.applyNote(r, force, null, s) : r.kind === 'episode' ? this.applyEpisode(r, force, null, s) : this.applyTrace(r, null, s)
        if (written !== undefined) changed.push({ seq: s.lastSeq as Seq, record: written })
      }
      s.clockWall = repair.clock.wall
      s.clockCounter = repair.clock.counter
      this.text.end()
      this.state.save(s)
      this.knowledge.setVoid(repair.void)
      return { changed, unchanged: repair.records.length - changed.length, replacedLive: 0, forgotten: 0, held: 0, voided: 0 }
    })
  }

  /**
   * Runs `body` in one write transaction; rolls back and rethrows on any error. Its commit:
   * `local` (every write but a peer's page: records, metadata, the peer registry, tombstone
   * collection, the text index) waits for the disk as the store is configured; `refetchable` (a
   * peer's page) never does; `synced` (flush) always does.
   */
  transaction<T> (doing: string, body: () => T, durability: 'local' | 'refetchable' | 'synced' = 'local'): T {
    // Never touch a transaction this call did not open: the outer write rolls itself back.
    if (this.db.isTransaction) throw nestedWriteError()
    // SQLite refuses to change the setting inside a transaction: it is chosen before BEGIN.
    const sync = durability === 'synced' || (durability === 'local' && this.mode === 'full') ? 'FULL' : 'NORMAL'
    try {
      this.setSynchronous(sync)
      this.db.exec('BEGIN IMMEDIATE')
    } catch (e) {
      throw storeError(e, this.file, doing)
    }
    try {
      const result = body()
      this.db.exec('COMMIT')
      this.nodes.commit()
      // A FULL commit syncs the whole write-ahead log: every commit before it is durable too.
      if (sync === 'FULL') this.durable = this.state.read().lastSeq
      return result
    } catch (e) {
      if (this.db.isTransaction) {
        try { this.db.exec('ROLLBACK') } catch { /* the transaction is gone either way */ }
      }
      this.nodes.rollback()
      throw storeError(e, this.file, doing)
    }
  }

  private applyAll (records: readonly MemoryRecord[], opts: ApplyOptions): ApplyResult {
    const s = this.state.read()
    this.text.begin()
    const via = opts.via === undefined ? null : this.nodes.idOf(opts.via)
    if (opts.clock.wall > s.clockWall || (opts.clock.wall === s.clockWall && opts.clock.counter > s.clockCounter)) {
      s.clockWall = opts.clock.wall
      s.clockCounter = opts.clock.counter
    }
    let voided = 0
    for (const v of opts.voids ?? []) voided += Math.max(0, this.knowledge.applyVoid(v))
    for (const id of opts.release ?? []) this.knowledge.unhold(id)
    const changed: FeedEntry[] = []
    let unchanged = 0
    this.replacedLive = 0
    this.forgotten = 0
    for (const r of records) {
      const written = r.kind === 'triple'
        ? this.applyTriple(r, opts, via, s)
        : r.kind === 'note'
          ? this.applyNote(r, opts, via, s)
          : r.kind === 'episode' ? this.applyEpisode(r, opts, via, s) : this.applyTrace(r, via, s)
      if (written === undefined) { unchanged++; continue }
      const h = written.hlc
      if (h.wall > s.clockWall || (h.wall === s.clockWall && h.counter > s.clockCounter)) {
        s.clockWall = h.wall
        s.clockCounter = h.counter
      }
      changed.push({ seq: s.lastSeq as Seq, record: written })
    }
    let held = 0
    for (const r of opts.hold?.records ?? []) if (this.knowledge.hold(r, opts.via, opts.hold!.at)) held++
    for (const e of opts.learn ?? []) this.knowledge.learn(e.node, e)
    this.text.end()
    this.state.save(s)
    if (opts.cursor !== undefined) this.saveCursor.run(opts.cursor.peer, opts.cursor.seq)
    if (opts.meta !== undefined) this.writeMeta(opts.meta())
    return { changed, unchanged, replacedLive: this.replacedLive, forgotten: this.forgotten, held, voided }
  }

  /** Writes metadata pairs inside the current transaction (`undefined` deletes the key). */
  writeMeta (pairs: ReadonlyArray<readonly [string, string | undefined]>): void {
    for (const [key, value] of pairs) {
      if (value === undefined) this.dropMeta.run(key)
      else this.putMeta.run(key, value)
    }
  }

  /** Each `apply…` returns the state written (at seq `s.lastSeq`), or undefined when unchanged. */
  private applyTriple (r: TripleRecord, opts: ApplyOptions, via: number | null, s: State): MemoryRecord | undefined {
    const id = this.idBytes
    if (r.id.length !== 64 || id.write(r.id, 'hex') !== 32) throw INVALID_INPUT('id', 'must be a triple id: 64 lowercase hex digits')
    // Rule A: a triple the knowledge covers is inserted only if it was never deleted here.
    if (opts.known !== undefined && covers(opts.known, r.hlc) && this.selectTriple.get(id) === undefined) {
      this.forgotten++
      return undefined
    }
    const o = r.object
    const inserted = this.insertTriple.run(s.lastSeq + 1, r.hlc.wall, r.hlc.counter, this.nodes.idOf(r.hlc.node), via,
      id, r.deleted ? 1 : 0, r.subject, r.predicate, TERM_TAG[o.kind], termValue(o), termLang(o))
    if (inserted.changes !== 0) {
      s.lastSeq++
      if (r.deleted) s.triplesDead++
      else {
        s.triplesLive++
        this.text.added(s.lastSeq, r)
      }
      return r
    }
    const row = this.selectTriple.get(id) as unknown as TripleRow
    const current = tripleFromRow(row, this.nodes)
    const w = decide(current, r, opts) as TripleRecord | undefined
    if (w === undefined) return undefined
    s.lastSeq++
    this.updateTriple.run(s.lastSeq, w.hlc.wall, w.hlc.counter, this.nodes.idOf(w.hlc.node), cameFromPeer(w, r) ? via : null,
      w.deleted ? 1 : 0, row.seq)
    if (current.deleted) s.triplesDead--
    else {
      s.triplesLive--
      this.replacedLive++
      this.text.removed(row.seq, current)
    }
    if (w.deleted) s.triplesDead++
    else {
      s.triplesLive++
      this.text.added(s.lastSeq, w)
    }
    return w
  }

  private applyNote (r: NoteRecord, opts: ApplyOptions, via: number | null, s: State): MemoryRecord | undefined {
    const row = this.selectNote.get(r.key) as unknown as NoteRow | undefined
    const current = row === undefined ? undefined : noteFromRow(row, this.nodes)
    if (isForgotten(current, r, opts)) { this.forgotten++; return undefined }
    const w = decide(current, r, opts) as NoteRecord | undefined
    if (w === undefined) return undefined
    s.lastSeq++
    const origin = this.nodes.idOf(w.hlc.node)
    const from = cameFromPeer(w, r) ? via : null
    const value = w.deleted ? null : JSON.stringify(w.value)
    if (row === undefined) {
      this.insertNote.run(s.lastSeq, w.hlc.wall, w.hlc.counter, origin, from, w.key, w.deleted ? 1 : 0, value)
    } else {
      this.updateNote.run(s.lastSeq, w.hlc.wall, w.hlc.counter, origin, from, w.deleted ? 1 : 0, value, row.seq)
      if (current!.deleted) s.notesDead--
      else {
        s.notesLive--
        this.replacedLive++
        this.text.removed(row.seq, current!)
      }
    }
    if (w.deleted) s.notesDead++
    else {
      s.notesLive++
      this.text.added(s.lastSeq, w)
    }
    return w
  }

  private applyEpisode (r: EpisodeRecord, opts: ApplyOptions, via: number | null, s: State): MemoryRecord | undefined {
    const row = this.selectEpisode.get(r.id) as unknown as EpisodeRow | undefined
    const current = row === undefined ? undefined : episodeFromRow(row, this.nodes)
    const w = decide(current, r, opts) as EpisodeRecord | undefined
    if (w === undefined) return undefined
    s.lastSeq++
    const origin = this.nodes.idOf(w.hlc.node)
    const from = cameFromPeer(w, r) ? via : null
    if (row === undefined) {
      this.insertEpisode.run(s.lastSeq, w.hlc.wall, w.hlc.counter, origin, from, w.id, JSON.stringify(w.data))
      s.episodes++
    } else {
      this.updateEpisode.run(s.lastSeq, w.hlc.wall, w.hlc.counter, origin, from, JSON.stringify(w.data), row.seq)
      this.text.removed(row.seq, current!)
    }
    this.text.added(s.lastSeq, w)
    return w
  }

  /** Insert or ignore: a trace id is the hash of its content, so a present id is the same entry. */
  private applyTrace (r: TraceRecord, via: number | null, s: State): MemoryRecord | undefined {
    const inserted = this.insertTrace.run(s.lastSeq + 1, r.hlc.wall, r.hlc.counter, this.nodes.idOf(r.hlc.node), via,
      r.id, r.runId, r.type, JSON.stringify(r.data))
    if (inserted.changes === 0) return undefined
    s.lastSeq++
    s.traces++
    this.text.added(s.lastSeq, r)
    return r
  }
}
