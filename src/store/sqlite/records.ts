/**
 * How one state is written inside the writer's transaction (writer.ts): for each incoming record
 * it reads the current state, drops it by Rule A or decides what to keep (store/decide.ts),
 * writes a changed state at the next seq with its seal (its signed batch stored on first use),
 * keeps the state it replaced as history, and keeps the full-text index and the counts of the
 * state row in step. `SealWork` tracks what one transaction does to the batches.
 *
 * Hot path: a triple is first inserted with ON CONFLICT DO NOTHING. For a triple new here (the
 * common case of a local add or a first sync) that one statement is the whole write; only when
 * the id exists is the current row read and merged.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { hexBytesInto } from '../../core/hex.ts'
import { INVALID_INPUT } from '../../core/errors.ts'
import { covers } from '../../core/knowledge.ts'
import { compareRecords } from '../../core/merge.ts'
import type { EpisodeRecord, MemoryRecord, NoteRecord, TraceRecord, TripleRecord } from '../../core/model.ts'
import type { StoredSeal } from '../../core/seals.ts'
import type { SignedBatch } from '../../core/signing.ts'
import { cameFromPeer, decide, isForgotten } from '../decide.ts'
import type { Seq } from '../../core/ids.ts'
import type { ApplyOptions, ApplySeals, FeedEntry } from '../Store.ts'
import type { BatchTable } from './batches.ts'
import type { HistoryTable } from './history.ts'
import type { NodeNames } from './nodes.ts'
import {
  EPISODE_COLUMNS, episodeFromRow, NOTE_COLUMNS, noteFromRow, sealOf, TERM_TAG, termLang, termValue, TRACE_COLUMNS, traceFromRow,
  TRIPLE_COLUMNS, tripleFromRow, type EpisodeRow, type NoteRow, type TraceRow, type TripleRow
} from './rows.ts'
import type { State } from './state.ts'
import type { SqliteTextIndex } from './textIndex.ts'

const STAMP = 'seq, hlc_wall, hlc_counter, origin, via'
const STAMP_SET = 'seq = ?, hlc_wall = ?, hlc_counter = ?, origin = ?, via = ?'
/** The State counts of each kind's live and dead states (constant names: no key string made per record written). */
const LIVE = { triples: 'triplesLive', notes: 'notesLive' } as const
const DEAD = { triples: 'triplesDead', notes: 'notesDead' } as const

/** What one transaction does to the signed batches: the batches it resolved and their state-count changes. */
export class SealWork {
  private readonly batches: BatchTable
  private readonly ids = new Map<SignedBatch, number>()
  readonly refs = new Map<number, number>()
  /** Batches this transaction stored: dropped again at its end when nothing ended up belonging to them. */
  readonly created = new Set<number>()

  constructor (batches: BatchTable) {
    this.batches = batches
  }

  /** The stored seal of record `i` of `seals` (its batch stored on first use), or undefined when it is unsigned. */
  sealOf (seals: ApplySeals | undefined, i: number, field = 'seals'): StoredSeal | undefined {
    const ref = seals?.refs[i]
    if (ref === undefined) return undefined
    const batch = seals!.batches[ref.batch]
    if (batch === undefined) throw INVALID_INPUT(`${field}.refs[${i}].batch`, `must be an index into ${field}.batches (0 to ${seals!.batches.length - 1})`)
    let id = this.ids.get(batch)
    if (id === undefined) {
      const { id: resolved, created } = this.batches.resolve(batch)
      id = resolved
      this.ids.set(batch, id)
      if (created) this.created.add(id)
    }
    return { batch: id, leaf: ref.leaf }
  }

  /** A state (or held record) of `seal`'s batch was written (+1) or dropped (-1). */
  count (seal: StoredSeal | undefined, delta: number): void {
    if (seal !== undefined) this.refs.set(seal.batch, (this.refs.get(seal.batch) ?? 0) + delta)
  }

  /** Saves the count changes; drops the batches this transaction stored that nothing belongs to. */
  finish (): void {
    this.batches.count(this.refs)
    for (const id of this.created) if ((this.refs.get(id) ?? 0) <= 0) this.batches.drop(id)
  }
}

/**
 * The changes-feed entry of a state just written at `s.lastSeq`, with its seal (absent: unsigned):
 * what a write returns, made once per state written.
 */
function written (s: State, record: MemoryRecord, seal: StoredSeal | undefined): FeedEntry {
  return seal === undefined ? { seq: s.lastSeq as Seq, record } : { seq: s.lastSeq as Seq, record, seal }
}

/** What the writes of one transaction share. */
export interface WriteContext {
  readonly opts: ApplyOptions
  readonly via: number | null
  readonly s: State
  readonly work: SealWork
}

export class RecordWrites {
  private readonly nodes: NodeNames
  private readonly text: SqliteTextIndex
  private readonly history: HistoryTable
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
  private readonly selectTraceRow: StatementSync
  private readonly deleteTraceRow: StatementSync
  /** Changed triples and notes of the running transaction whose previous state was live. */
  replacedLive = 0
  /** Inputs of the running transaction dropped by Rule A. */
  forgotten = 0

  constructor (db: DatabaseSync, nodes: NodeNames, text: SqliteTextIndex, history: HistoryTable) {
    this.nodes = nodes
    this.text = text
    this.history = history
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
    this.selectTraceRow = db.prepare(`SELECT ${TRACE_COLUMNS} FROM traces WHERE id = ?`)
    this.deleteTraceRow = db.prepare('DELETE FROM traces WHERE id = ?')
  }

  /** Starts a transaction's count of replaced live states and of records dropped by Rule A. */
  begin (): void {
    this.replacedLive = 0
    this.forgotten = 0
  }

  /** Writes `r` with `seal`; the feed entry of the state written (at seq `s.lastSeq`), or undefined when unchanged. */
  write (r: MemoryRecord, seal: StoredSeal | undefined, c: WriteContext): FeedEntry | undefined {
    switch (r.kind) {
      case 'triple': return this.applyTriple(r, seal, c)
      case 'note': return this.applyNote(r, seal, c)
      case 'episode': return this.applyEpisode(r, seal, c)
      default: return this.applyTrace(r, seal, c)
    }
  }

  /** Removes a trace entry (a clock repair re-stamped it: a trace id hashes its stamp). */
  removeTrace (id: string, c: WriteContext): void {
    const row = this.selectTraceRow.get(id) as TraceRow | undefined
    if (row === undefined) return
    this.deleteTraceRow.run(id)
    c.s.traces--
    c.work.count(sealOf(row), -1)
    this.text.removed(row.seq, traceFromRow(row, this.nodes))
  }

  /** A triple's or note's state written at `s.lastSeq`: counted live or dead, a live one's words indexed. */
  private countIn (s: State, kind: 'triples' | 'notes', r: TripleRecord | NoteRecord): void {
    if (r.deleted) { s[DEAD[kind]]++; return }
    s[LIVE[kind]]++
    this.text.added(s.lastSeq, r)
  }

  /** A triple's or note's state replaced at its row `seq`: uncounted, a live one's words out of the index. */
  private countOut (s: State, kind: 'triples' | 'notes', r: TripleRecord | NoteRecord, seq: number): void {
    if (r.deleted) { s[DEAD[kind]]--; return }
    s[LIVE[kind]]--
    this.replacedLive++
    this.text.removed(seq, r)
  }

  /*
   * Each `apply…` returns the feed entry of the state written (at seq `s.lastSeq`, with its
   * seal), or undefined when unchanged. A written state takes the incoming seal only when it is the incoming state (a
   * state a resolver made is this node's, unsigned here until a signed copy arrives).
   */

  private applyTriple (r: TripleRecord, seal: StoredSeal | undefined, c: WriteContext): FeedEntry | undefined {
    const { opts, via, s, work } = c
    const id = this.idBytes
    // 64 lowercase hex digits through a table (every triple written); anything else as Buffer writes it
    if (!hexBytesInto(r.id, id, 0) && (r.id.length !== 64 || id.write(r.id, 'hex') !== 32)) {
      throw INVALID_INPUT('id', 'must be a triple id: 64 lowercase hex digits')
    }
    // Rule A: a triple the knowledge covers is inserted only if it was never deleted here.
    if (opts.known !== undefined && covers(opts.known, r.hlc) && this.selectTriple.get(id) === undefined) {
      this.forgotten++
      return undefined
    }
    const o = r.object
    const inserted = this.insertTriple.run(s.lastSeq + 1, r.hlc.wall, r.hlc.counter, this.nodes.idOf(r.hlc.node), via,
      id, r.deleted ? 1 : 0, r.subject, r.predicate, TERM_TAG[o.kind], termValue(o), termLang(o), seal?.batch ?? null, seal?.leaf ?? null)
    if (inserted.changes !== 0) {
      s.lastSeq++
      this.countIn(s, 'triples', r)
      work.count(seal, 1)
      return written(s, r, seal)
    }
    const row = this.selectTriple.get(id) as unknown as TripleRow
    const current = tripleFromRow(row, this.nodes)
    const w = decide(current, r, opts, seal !== undefined && row.batch === null) as TripleRecord | undefined
    if (w === undefined) return undefined
    const kept = this.replace(w, r, seal, current, row, work, () => this.history.keepTriple(row, w.hlc))
    s.lastSeq++
    this.updateTriple.run(s.lastSeq, w.hlc.wall, w.hlc.counter, this.nodes.idOf(w.hlc.node), cameFromPeer(w, r) ? via : null,
      w.deleted ? 1 : 0, kept?.batch ?? null, kept?.leaf ?? null, row.seq)
    this.countOut(s, 'triples', current, row.seq)
    this.countIn(s, 'triples', w)
    return written(s, w, kept)
  }

  private applyNote (r: NoteRecord, seal: StoredSeal | undefined, c: WriteContext): FeedEntry | undefined {
    const { opts, via, s, work } = c
    const row = this.selectNote.get(r.key) as unknown as NoteRow | undefined
    const current = row === undefined ? undefined : noteFromRow(row, this.nodes)
    if (isForgotten(current, r, opts)) { this.forgotten++; return undefined }
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
      this.countOut(s, 'notes', current!, row.seq)
    }
    this.countIn(s, 'notes', w)
    return written(s, w, kept)
  }

  private applyEpisode (r: EpisodeRecord, seal: StoredSeal | undefined, c: WriteContext): FeedEntry | undefined {
    const { opts, via, s, work } = c
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
    return written(s, w, kept)
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
    else work.count(sealOf(row), -1)
    return kept
  }

  /** Insert or ignore: a trace id is the hash of its content, so a present id is the same entry. */
  private applyTrace (r: TraceRecord, seal: StoredSeal | undefined, c: WriteContext): FeedEntry | undefined {
    const { via, s, work } = c
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
    return written(s, r, seal)
  }
}
