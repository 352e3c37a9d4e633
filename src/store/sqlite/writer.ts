/**
 * Every write to the SQLite file. `apply` runs one transaction (BEGIN IMMEDIATE … COMMIT): for
 * each record it reads the current state, decides what to keep (store/decide.ts) and writes a
 * changed state at the next seq, with its seal (its signed batch stored on first use), keeping
 * the state it replaced as history; then it saves the last seq, the clock mark (never lowered),
 * the batches' state counts, the peer's cursor and the caller's metadata (`ApplyOptions.meta`),
 * and commits. Any error rolls everything back and is rethrown, so a batch is either wholly
 * written or not at all. Every live state written is added to the full-text index and every
 * live state replaced is removed from it, in the same transaction (textIndex.ts).
 *
 * Hot path: a triple is first inserted with ON CONFLICT DO NOTHING. For a triple new here (the
 * common case of a local add or a first sync) that one statement is the whole write; only when
 * the id is already present is the current state read and merged.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { INVALID_INPUT } from '../../core/errors.ts'
import type { Seq } from '../../core/ids.ts'
import { compareRecords } from '../../core/merge.ts'
import type { EpisodeRecord, MemoryRecord, NoteRecord, TraceRecord, TripleRecord } from '../../core/model.ts'
import type { StoredSeal } from '../../core/seals.ts'
import type { SignedBatch } from '../../core/signing.ts'
import { checkCursor, checkMark, checkWallMs, nestedWriteError } from '../checks.ts'
import { cameFromPeer, decide } from '../decide.ts'
import type { ApplyOptions, ApplyResult, FeedEntry } from '../Store.ts'
import { BatchTable } from './batches.ts'
import { storeError } from './failures.ts'
import { HistoryTable } from './history.ts'
import type { NodeNames } from './nodes.ts'
import {
  episodeFromRow, noteFromRow, TERM_TAG, termLang, termValue, tripleFromRow, TRIPLE_COLUMNS, NOTE_COLUMNS, EPISODE_COLUMNS,
  type EpisodeRow, type NoteRow, type TripleRow
} from './rows.ts'
import { StateTable, type State } from './state.ts'
import type { SqliteTextIndex } from './textIndex.ts'

const STAMP = 'seq, hlc_wall, hlc_counter, origin, via'
const STAMP_SET = 'seq = ?, hlc_wall = ?, hlc_counter = ?, origin = ?, via = ?'

/** What one `apply` tracks besides the state row: the seals of its records and the batches' count changes. */
class SealWork {
  private readonly batches: BatchTable
  private readonly opts: ApplyOptions
  private readonly ids = new Map<SignedBatch, number>()
  readonly refs = new Map<number, number>()
  /** Batches this apply stored: dropped again at its end when none of its states was written. */
  readonly created = new Set<number>()

  constructor (batches: BatchTable, opts: ApplyOptions) {
    this.batches = batches
    this.opts = opts
  }

  /** The stored seal of input `i` (its batch stored on first use), or undefined when it is unsigned. */
  sealOf (i: number): StoredSeal | undefined {
    const seals = this.opts.seals
    const ref = seals?.refs[i]
    if (ref === undefined) return undefined
    const batch = seals!.batches[ref.batch]
    if (batch === undefined) throw INVALID_INPUT(`seals.refs[${i}].batch`, `must be an index into seals.batches (0 to ${seals!.batches.length - 1})`)
    let id = this.ids.get(batch)
    if (id === undefined) {
      const { id: resolved, created } = this.batches.resolve(batch)
      id = resolved
      this.ids.set(batch, id)
      if (created) this.created.add(id)
    }
    return { batch: id, leaf: ref.leaf }
  }

  /** A state of `seal`'s batch was written (+1) or dropped (-1). */
  count (seal: StoredSeal | undefined, delta: number): void {
    if (seal !== undefined) this.refs.set(seal.batch, (this.refs.get(seal.batch) ?? 0) + delta)
  }
}

export class Writer {
  private readonly db: DatabaseSync
  private readonly file: string
  private readonly nodes: NodeNames
  private readonly state: StateTable
  private readonly text: SqliteTextIndex
  private readonly batches: BatchTable
  readonly history: HistoryTable
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
  private readonly selectUnsealedTrace: StatementSync
  private readonly sealTrace: StatementSync
  private readonly saveCursor: StatementSync
  private readonly putMeta: StatementSync
  private readonly dropMeta: StatementSync
  private readonly deadStats: { triples: StatementSync, notes: StatementSync }
  private readonly deleteDead: { triples: StatementSync, notes: StatementSync }

  constructor (db: DatabaseSync, file: string, nodes: NodeNames, text: SqliteTextIndex) {
    this.db = db
    this.file = file
    this.nodes = nodes
    this.text = text
    this.state = new StateTable(db)
    this.batches = new BatchTable(db, nodes)
    this.history = new HistoryTable(db, nodes)
    this.insertTriple = db.prepare(`INSERT INTO triples (${STAMP}, id, deleted, subject, predicate, okind, ovalue, olang, batch, leaf)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
    this.selectTriple = db.prepare(`SELECT ${TRIPLE_COLUMNS} FROM triples WHERE id = ?`)
    this.updateTriple = db.prepare(`UPDATE triples SET ${STAMP_SET}, deleted = ?, batch = ?, leaf = ? WHERE seq = ?`)
    this.selectNote = db.prepare(`SELECT ${NOTE_COLUMNS} FROM notes WHERE key = ?`)
    this.insertNote = db.prepare(`INSERT INTO notes (${STAMP}, key, deleted, value, batch, leaf) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    this.updateNote = db.prepare(`UPDATE notes SET ${STAMP_SET}, deleted = ?, value = ?, batch = ?, leaf = ? WHERE seq = ?`)
    this.selectEpisode = db.prepare(`SELECT ${EPISODE_COLUMNS} FROM episodes WHERE id = ?`)
    this.insertEpisode = db.prepare(`INSERT INTO episodes (${STAMP}, id, data, batch, leaf) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    this.updateEpisode = db.prepare(`UPDATE episodes SET ${STAMP_SET}, data = ?, batch = ?, leaf = ? WHERE seq = ?`)
    this.insertTrace = db.prepare(`INSERT INTO traces (${STAMP}, id, run_id, type, data, batch, leaf) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (id) DO NOTHING`)
    this.selectUnsealedTrace = db.prepare('SELECT seq FROM traces WHERE id = ? AND batch IS NULL')
    this.sealTrace = db.prepare('UPDATE traces SET seq = ?, via = ?, batch = ?, leaf = ? WHERE seq = ?')
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
  }

  readState (): State {
    return this.state.read()
  }

  getBatch (id: number): SignedBatch | undefined {
    return this.batches.get(id)
  }

  batchCount (): number {
    return this.batches.size()
  }

  apply (records: readonly MemoryRecord[], opts: ApplyOptions): ApplyResult {
    checkMark(opts.clock)
    checkCursor(opts.cursor)
    return this.transaction('applying a batch', () => this.applyAll(records, opts))
  }

  collectTombstones (beforeWallMs: number): number {
    checkWallMs(beforeWallMs)
    return this.transaction('collecting tombstones', () => {
      const s = this.state.read()
      const t = this.deadStats.triples.get(beforeWallMs) as { n: number, top: number }
      const n = this.deadStats.notes.get(beforeWallMs) as { n: number, top: number }
      if (t.n > 0 || n.n > 0) this.history.keepTombstones(beforeWallMs)
      if (t.n > 0) this.deleteDead.triples.run(beforeWallMs)
      if (n.n > 0) this.deleteDead.notes.run(beforeWallMs)
      s.triplesDead -= t.n
      s.notesDead -= n.n
      s.feedFloor = Math.max(s.feedFloor, t.top, n.top)
      this.state.save(s)
      return t.n + n.n
    })
  }

  collectHistory (beforeWallMs: number): number {
    checkWallMs(beforeWallMs)
    return this.transaction('collecting history', () => {
      const { removed, batches } = this.history.collect(beforeWallMs)
      this.batches.count(batches)
      this.batches.collect()
      return removed
    })
  }

  /** Runs `body` in one write transaction; rolls back and rethrows on any error. */
  transaction<T> (doing: string, body: () => T): T {
    // Never touch a transaction this call did not open: the outer write rolls itself back.
    if (this.db.isTransaction) throw nestedWriteError()
    try {
      this.db.exec('BEGIN IMMEDIATE')
    } catch (e) {
      throw storeError(e, this.file, doing)
    }
    try {
      const result = body()
      this.db.exec('COMMIT')
      this.nodes.commit()
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
    const changed: FeedEntry[] = []
    const work = new SealWork(this.batches, opts)
    let unchanged = 0
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      const seal = work.sealOf(i)
      const out = r.kind === 'triple'
        ? this.applyTriple(r, seal, opts, via, s, work)
        : r.kind === 'note'
          ? this.applyNote(r, seal, opts, via, s, work)
          : r.kind === 'episode' ? this.applyEpisode(r, seal, opts, via, s, work) : this.applyTrace(r, seal, via, s, work)
      if (out === undefined) { unchanged++; continue }
      const h = out.record.hlc
      if (h.wall > s.clockWall || (h.wall === s.clockWall && h.counter > s.clockCounter)) {
        s.clockWall = h.wall
        s.clockCounter = h.counter
      }
      changed.push(out.seal === undefined ? { seq: s.lastSeq as Seq, record: out.record } : { seq: s.lastSeq as Seq, record: out.record, seal: out.seal })
    }
    this.text.end()
    this.batches.count(work.refs)
    for (const id of work.created) if ((work.refs.get(id) ?? 0) === 0) this.batches.drop(id)
    this.state.save(s)
    if (opts.cursor !== undefined) this.saveCursor.run(opts.cursor.peer, opts.cursor.seq)
    if (opts.meta !== undefined) this.writeMeta(opts.meta())
    return { changed, unchanged }
  }

  /** Writes metadata pairs inside the current transaction (`undefined` deletes the key). */
  writeMeta (pairs: ReadonlyArray<readonly [string, string | undefined]>): void {
    for (const [key, value] of pairs) {
      if (value === undefined) this.dropMeta.run(key)
      else this.putMeta.run(key, value)
    }
  }

  /**
   * Each `apply…` returns the state written (at seq `s.lastSeq`) with its seal, or undefined when
   * unchanged. A written state takes the incoming seal only when it is the incoming state (a
   * state a resolver made is this node's, unsigned here until a signed copy arrives).
   */
  private applyTriple (r: TripleRecord, seal: StoredSeal | undefined, opts: ApplyOptions, via: number | null, s: State, work: SealWork): Written | undefined {
    const id = this.idBytes
    if (r.id.length !== 64 || id.write(r.id, 'hex') !== 32) throw INVALID_INPUT('id', 'must be a triple id: 64 lowercase hex digits')
    const o = r.object
    const inserted = this.insertTriple.run(s.lastSeq + 1, r.hlc.wall, r.hlc.counter, this.nodes.idOf(r.hlc.node), via,
      id, r.deleted ? 1 : 0, r.subject, r.predicate, TERM_TAG[o.kind], termValue(o), termLang(o), seal?.batch ?? null, seal?.leaf ?? null)
    if (inserted.changes !== 0) {
      s.lastSeq++
      if (r.deleted) s.triplesDead++
      else {
        s.triplesLive++
        this.text.added(s.lastSeq, r)
      }
      work.count(seal, 1)
      return { record: r, seal }
    }
    const row = this.selectTriple.get(id) as unknown as TripleRow
    const current = tripleFromRow(row, this.nodes)
    const w = decide(current, r, opts, seal !== undefined && row.batch === null) as TripleRecord | undefined
    if (w === undefined) return undefined
    const kept = this.replace(w, r, seal, current, row, work, () => this.history.keepTriple(row, w.hlc))
    s.lastSeq++
    this.updateTriple.run(s.lastSeq, w.hlc.wall, w.hlc.counter, this.nodes.idOf(w.hlc.node), cameFromPeer(w, r) ? via : null,
      w.deleted ? 1 : 0, kept?.batch ?? null, kept?.leaf ?? null, row.seq)
    if (current.deleted) s.triplesDead--
    else {
      s.triplesLive--
      this.text.removed(row.seq, current)
    }
    if (w.deleted) s.triplesDead++
    else {
      s.triplesLive++
      this.text.added(s.lastSeq, w)
    }
    return { record: w, seal: kept }
  }

  private applyNote (r: NoteRecord, seal: StoredSeal | undefined, opts: ApplyOptions, via: number | null, s: State, work: SealWork): Written | undefined {
    const row = this.selectNote.get(r.key) as unknown as NoteRow | undefined
    const current = row === undefined ? undefined : noteFromRow(row, this.nodes)
    const w = decide(current, r, opts, seal !== undefined && row?.batch === null) as NoteRecord | undefined
    if (w === undefined) return undefined
    const kept = this.replace(w, r, seal, current, row, work, () => this.history.keepNote(row!, w.hlc))
    s.lastSeq++
    const origin = this.nodes.idOf(w.hlc.node)
    const from = cameFromPeer(w, r) ? via : null
    const value = w.deleted ? null : JSON.stringify(w.value)
    if (row === undefined) {
      this.insertNote.run(s.lastSeq, w.hlc.wall, w.hlc.counter, origin, from, w.key, w.deleted ? 1 : 0, value, kept?.batch ?? null, kept?.leaf ?? null)
    } else {
      this.updateNote.run(s.lastSeq, w.hlc.wall, w.hlc.counter, origin, from, w.deleted ? 1 : 0, value, kept?.batch ?? null, kept?.leaf ?? null, row.seq)
      if (current!.deleted) s.notesDead--
      else {
        s.notesLive--
        this.text.removed(row.seq, current!)
      }
    }
    if (w.deleted) s.notesDead++
    else {
      s.notesLive++
      this.text.added(s.lastSeq, w)
    }
    return { record: w, seal: kept }
  }

  private applyEpisode (r: EpisodeRecord, seal: StoredSeal | undefined, opts: ApplyOptions, via: number | null, s: State, work: SealWork): Written | undefined {
    const row = this.selectEpisode.get(r.id) as unknown as EpisodeRow | undefined
    const current = row === undefined ? undefined : episodeFromRow(row, this.nodes)
    const w = decide(current, r, opts, seal !== undefined && row?.batch === null) as EpisodeRecord | undefined
    if (w === undefined) return undefined
    const kept = this.replace(w, r, seal, current, row, work, () => this.history.keepEpisode(row!, w.hlc))
    s.lastSeq++
    const origin = this.nodes.idOf(w.hlc.node)
    const from = cameFromPeer(w, r) ? via : null
    if (row === undefined) {
      this.insertEpisode.run(s.lastSeq, w.hlc.wall, w.hlc.counter, origin, from, w.id, JSON.stringify(w.data), kept?.batch ?? null, kept?.leaf ?? null)
      s.episodes++
    } else {
      this.updateEpisode.run(s.lastSeq, w.hlc.wall, w.hlc.counter, origin, from, JSON.stringify(w.data), kept?.batch ?? null, kept?.leaf ?? null, row.seq)
      this.text.removed(row.seq, current!)
    }
    this.text.added(s.lastSeq, w)
    return { record: w, seal: kept }
  }

  /**
   * What replacing `current` (absent: a new record) by the written state `w` does besides the
   * row: the replaced state goes to history (`keep`) unless only a signature was added, and the
   * batches' counts follow. Returns the written state's seal.
   */
  private replace (w: MemoryRecord, incoming: MemoryRecord, seal: StoredSeal | undefined, current: MemoryRecord | undefined,
    row: { batch: number | null, leaf: number | null } | undefined, work: SealWork, keep: () => void): StoredSeal | undefined {
    const kept = w === incoming ? seal : undefined
    work.count(kept, 1)
    if (current === undefined || row === undefined) return kept
    if (compareRecords(w, current) !== 0) keep()
    else work.count(row.batch === null ? undefined : { batch: row.batch, leaf: row.leaf ?? 0 }, -1)
    return kept
  }

  /** Insert or ignore: a trace id is the hash of its content, so a present id is the same entry. */
  private applyTrace (r: TraceRecord, seal: StoredSeal | undefined, via: number | null, s: State, work: SealWork): Written | undefined {
    const inserted = this.insertTrace.run(s.lastSeq + 1, r.hlc.wall, r.hlc.counter, this.nodes.idOf(r.hlc.node), via,
      r.id, r.runId, r.type, JSON.stringify(r.data), seal?.batch ?? null, seal?.leaf ?? null)
    if (inserted.changes === 0) {
      // The same entry: a signed copy of one held unsigned adds its signature and moves it to the next seq.
      if (seal === undefined) return undefined
      const held = this.selectUnsealedTrace.get(r.id) as { seq: number } | undefined
      if (held === undefined) return undefined
      this.sealTrace.run(s.lastSeq + 1, via, seal.batch, seal.leaf, held.seq)
      this.text.removed(held.seq, r)
    } else {
      s.traces++
    }
    s.lastSeq++
    this.text.added(s.lastSeq, r)
    work.count(seal, 1)
    return { record: r, seal }
  }
}

interface Written {
  readonly record: MemoryRecord
  readonly seal: StoredSeal | undefined
}
