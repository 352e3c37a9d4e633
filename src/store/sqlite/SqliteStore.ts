/**
 * The real store: one SQLite file (node:sqlite) in write-ahead-log mode, synchronous FULL by
 * default, so a write acknowledged by `apply` survives a crash or a power cut — but for a
 * `refetchable` batch (a page from a peer), which survives a crash and is fetched again after a
 * power cut (writer.ts).
 *
 * - schema.ts: the layout, its versioned migrations and the connection settings.
 * - writer.ts: every write transaction (apply, tombstone and history collection, the clock
 *   repair); records.ts how one state is written; batches.ts and history.ts the tables of signed
 *   batches and replaced states; knowledge.ts the knowledge vector, voids and held records.
 * - checkpoints.ts: when the write-ahead log is copied into the file (once the store is idle;
 *   on a commit only past the log's bound).
 * - reader.ts: records by key, pattern queries, listings, dump; pastReads.ts the as-of reads.
 * - feed.ts: the changes feed.
 * - nodes.ts: node ids interned as small integers.
 * - textIndex.ts: the full-text index (FTS5), written with the records, and search.
 *
 * Methods are synchronous and the store is used from one thread. Several stores (in one process
 * or several) may open one file: every write transaction re-reads the store's state, and
 * multi-statement reads run on one snapshot.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { isEngramError, STORE_UNAVAILABLE } from '../../core/errors.ts'
import type { HlcMark } from '../../core/hlc.ts'
import type { NodeId, Seq, TripleId } from '../../core/ids.ts'
import type { ClockVoid, KnowledgeEntry } from '../../core/knowledge.ts'
import type { EpisodeRecord, MemoryRecord, NoteRecord, RecordKind, TraceRecord, TripleRecord } from '../../core/model.ts'
import type { SignedBatch } from '../../core/signing.ts'
import { DEFAULT_TEXT_CANDIDATES } from '../../text/rank.ts'
import { newestFirst } from '../asOf.ts'
import { checkMark, checkPage, checkSlice, checkWallMs } from '../checks.ts'
import type {
  ApplyOptions, ApplyResult, ChangesOptions, ChangesPage, ClockRepair, HeldOrigin, HeldRecord, Page, ProvenanceStats, RecordRef, Store,
  StoreHealth, StoreStats, StoredState, TriplePattern
} from '../Store.ts'
import type { TextIndexState, TextQuery, TextSearchResult } from '../textSearch.ts'
import { IDLE_CHECKPOINT_MS, WAL_BOUND_PAGES } from './checkpoints.ts'
import { storeError } from './failures.ts'
import { changesSince } from './feed.ts'
import { HISTORY_KIND } from './history.ts'
import { NodeNames } from './nodes.ts'
import { Reader } from './reader.ts'
import { configure, migrate, type ConnectionOptions } from './schema.ts'
import { SqliteTextIndex } from './textIndex.ts'
import { Writer } from './writer.ts'

/** How long a statement waits for another connection's write lock before failing. */
const BUSY_TIMEOUT_MS = 5000

export interface SqliteStoreOptions extends ConnectionOptions {
  /**
   * Keep the full-text index (default true). False only for measuring what the index costs: the
   * store then neither writes nor searches it, and the next open with the index rebuilds it.
   */
  readonly textIndex?: boolean
  /** Most matching records a search ranks (default DEFAULT_TEXT_CANDIDATES); the newest are ranked. */
  readonly textCandidates?: number
}

interface Parts {
  readonly db: DatabaseSync
  readonly nodes: NodeNames
  readonly reader: Reader
  readonly writer: Writer
  readonly text: SqliteTextIndex
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite'
  /** The file's path. */
  readonly file: string
  private parts: Parts | undefined

  private constructor (file: string, parts: Parts) {
    this.file = file
    this.parts = parts
  }

  /** Opens (creating when missing, with its directory) and migrates the store file. */
  static open (file: string, opts: SqliteStoreOptions = {}): SqliteStore {
    let db: DatabaseSync | undefined
    try {
      mkdirSync(dirname(file), { recursive: true })
      db = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS })
      configure(db, file, opts)
      migrate(db, file)
      const nodes = new NodeNames(db)
      const text = new SqliteTextIndex(db, { enabled: opts.textIndex !== false, candidates: opts.textCandidates ?? DEFAULT_TEXT_CANDIDATES })
      const writer = new Writer(db, file, nodes, text, opts.synchronous, {
        boundPages: opts.walAutoCheckpoint ?? WAL_BOUND_PAGES,
        idleMs: opts.idleCheckpointMs ?? IDLE_CHECKPOINT_MS,
        busyTimeoutMs: BUSY_TIMEOUT_MS
      })
      writer.transaction('checking the text index', () => text.check(writer.readState().lastSeq))
      return new SqliteStore(file, { db, nodes, reader: new Reader(db, nodes), writer, text })
    } catch (e) {
      try { db?.close() } catch { /* already failing */ }
      if (isEngramError(e)) throw e
      const err = storeError(e, file, 'opening')
      if (err !== e) throw err
      throw STORE_UNAVAILABLE(`cannot open the store ${file}: ${e instanceof Error ? e.message : String(e)}`, { file }, e)
    }
  }

  apply (records: readonly MemoryRecord[], opts: ApplyOptions): ApplyResult {
    return this.use().writer.apply(records, opts)
  }

  getTriple (id: TripleId): TripleRecord | undefined { return this.reading('reading a triple', p => p.reader.getTriple(id)) }
  getNote (key: string): NoteRecord | undefined { return this.reading('reading a note', p => p.reader.getNote(key)) }
  getEpisode (id: string): EpisodeRecord | undefined { return this.reading('reading an episode', p => p.reader.getEpisode(id)) }
  getTrace (id: string): TraceRecord | undefined { return this.reading('reading a trace', p => p.reader.getTrace(id)) }
  get (kind: RecordKind, key: string): MemoryRecord | undefined { return this.reading('reading a record', p => p.reader.get(kind, key)) }

  queryTriples (pattern: TriplePattern, page: Page): { triples: TripleRecord[], total: number } {
    return this.reading('querying triples', p => p.reader.queryTriples(pattern, page))
  }

  listNotes (opts: { prefix?: string, asOf?: number } & Page): { notes: NoteRecord[], total: number } {
    return this.reading('listing notes', p => p.reader.listNotes(opts))
  }

  listEpisodes (opts: { prefix?: string } & Page): { episodes: EpisodeRecord[], total: number } {
    return this.reading('listing episodes', p => p.reader.listEpisodes(opts))
  }

  listTraces (opts: { runId?: string } & Page): { traces: TraceRecord[], total: number } {
    return this.reading('listing traces', p => p.reader.listTraces(opts))
  }

  changesSince (after: number, opts: ChangesOptions): ChangesPage {
    return this.reading('reading the changes feed', p => changesSince(p.reader, p.nodes, () => p.writer.readState().lastSeq, after, opts))
  }

  getCursor (peer: NodeId): Seq {
    return this.reading('reading a cursor', p => {
      const row = p.reader.statement('SELECT seq FROM cursors WHERE peer = ?').get(peer) as { seq: number } | undefined
      return (row?.seq ?? 0) as Seq
    })
  }

  collectTombstones (beforeWallMs: number, upTo?: HlcMark): number {
    return this.use().writer.collectTombstones(beforeWallMs, upTo)
  }

  feedFloorFor (peer: NodeId): Seq {
    return this.reading('reading a feed floor', p => {
      const row = p.reader.statement('SELECT coalesce(max(seq), 0) AS floor FROM feed_floors WHERE source <> ?')
        .get(p.nodes.find(peer) ?? -1) as { floor: number }
      return row.floor as Seq
    })
  }

  knowledge (): KnowledgeEntry[] { return this.reading('reading the knowledge vector', p => p.writer.knowledge.knowledge()) }
  voids (): ClockVoid[] { return this.reading('reading clock voids', p => p.writer.knowledge.voids()) }

  held (opts: { readonly limit: number, readonly upToWall?: number }): HeldRecord[] {
    checkPage({ limit: opts.limit, offset: 0 })
    if (opts.upToWall !== undefined) checkWallMs(opts.upToWall, 'upToWall')
    return this.reading('reading held records', p => p.writer.knowledge.held(opts.limit, opts.upToWall))
  }

  heldOrigins (): HeldOrigin[] { return this.reading('reading held records', p => p.writer.knowledge.origins()) }

  stampedAfter (afterWall: number, opts: { readonly limit: number, readonly origin?: NodeId }): MemoryRecord[] {
    checkWallMs(afterWall, 'afterWall')
    checkPage({ limit: opts.limit, offset: 0 })
    return this.reading('reading recent records', p => p.reader.stampedAfter(afterWall, opts.limit, opts.origin))
  }

  repairClock (repair: ClockRepair): ApplyResult {
    checkMark(repair.clock)
    return this.use().writer.repairClock(repair)
  }

  searchText (q: TextQuery): TextSearchResult {
    return this.reading('searching', p => p.reader.read(() => p.text.search(q, p.reader)))
  }

  textIndex (): TextIndexState {
    return this.reading('reading the text index state', p => p.text.status())
  }

  startTextRebuild (): TextIndexState {
    const p = this.use()
    return p.writer.transaction('starting a text index rebuild', () => p.text.restart(p.writer.readState().lastSeq))
  }

  continueTextRebuild (seqs: number): TextIndexState {
    checkSlice(seqs)
    const p = this.use()
    return p.writer.transaction('rebuilding the text index', () => p.text.step(seqs, (kind, from, to) => p.reader.inSeqRange(kind, from, to)))
  }

  deferredIndexes (): number {
    return this.reading('reading the deferred indexes', p => p.writer.deferred.missing().length)
  }

  buildDeferredIndexes (): number {
    const p = this.use()
    return p.writer.transaction('building a deferred index', () => p.writer.buildDeferred())
  }

  getState (kind: RecordKind, key: string): StoredState | undefined {
    return this.reading('reading a record', p => p.reader.getState(kind, key))
  }

  history (kind: RecordKind, key: string): StoredState[] {
    return this.reading('reading history', p => p.reader.read(() => {
      const current = p.reader.getState(kind, key)
      return newestFirst([...(current === undefined ? [] : [current]), ...p.writer.history.states(kind, key)])
    }))
  }

  getBatch (id: number): SignedBatch | undefined {
    return this.reading('reading a batch', p => p.writer.getBatch(id))
  }

  touchedBy (origin: NodeId, fromWall: number, toWall: number): RecordRef[] {
    return this.reading('reading history', p => p.reader.read(() => {
      const kinds = Object.entries(HISTORY_KIND).map(([k, v]) => [v, k] as const)
      const byCode = new Map<number, RecordKind>(kinds as Array<readonly [number, RecordKind]>)
      const seen = new Set<string>()
      const out: RecordRef[] = []
      const add = (kind: RecordKind, key: string): void => {
        const k = `${kind}\u0000${key}`
        if (!seen.has(k)) { seen.add(k); out.push({ kind, key }) }
      }
      for (const r of p.reader.touchedBy(origin, fromWall, toWall)) add(r.kind, r.key)
      for (const r of p.writer.history.touchedBy(origin, fromWall, toWall)) add(byCode.get(r.kind)!, r.key)
      return out
    }))
  }

  unsealed (origin: NodeId, limit: number): MemoryRecord[] {
    return this.reading('reading unsigned states', p => p.reader.unsealed(origin, limit))
  }

  collectHistory (beforeWallMs: number): number {
    return this.use().writer.collectHistory(beforeWallMs)
  }

  provenanceStats (): ProvenanceStats {
    return this.reading('reading stats', p => p.reader.read(() => ({
      history: p.writer.history.size(),
      batches: p.writer.batchCount(),
      unsigned: p.reader.unsignedCount()
    })))
  }

  durableSeq (): Seq {
    return this.use().writer.durableSeq() as Seq
  }

  flush (): void {
    this.use().writer.flush()
  }

  /**
   * Copies the write-ahead log into the file now, as the store does by itself once idle
   * (checkpoints.ts): the pages the log holds and how many of them are in the file now (fewer
   * when another connection's reader still needs older ones); undefined when nothing was
   * committed since the last checkpoint.
   */
  checkpoint (): { pages: number, copied: number } | undefined {
    const row = this.use().writer.checkpoint()
    return row === undefined ? undefined : { pages: row.log, copied: row.checkpointed }
  }

  clockMark (): HlcMark {
    return this.reading('reading the clock mark', p => {
      const s = p.writer.readState()
      return { wall: s.clockWall, counter: s.clockCounter }
    })
  }

  stats (): StoreStats {
    return this.reading('reading stats', p => {
      const s = p.writer.readState()
      return {
        triples: s.triplesLive,
        tripleTombstones: s.triplesDead,
        notes: s.notesLive,
        noteTombstones: s.notesDead,
        episodes: s.episodes,
        traces: s.traces,
        lastSeq: s.lastSeq as Seq,
        feedFloor: s.feedFloor as Seq
      }
    })
  }

  /** Cheap: the file answers a read, and this connection can take the write lock. */
  health (): StoreHealth {
    const p = this.parts
    if (p === undefined) return { ok: false, detail: `the store ${this.file} is closed` }
    const inWrite = p.db.isTransaction
    try {
      p.writer.readState()
      // Inside a write (a resolver asking) the lock is already held; never end that transaction.
      if (!inWrite) {
        p.db.exec('BEGIN IMMEDIATE')
        p.db.exec('ROLLBACK')
      }
      return { ok: true, detail: `sqlite ${this.file}` }
    } catch (e) {
      if (!inWrite && p.db.isTransaction) {
        try { p.db.exec('ROLLBACK') } catch { /* nothing to undo */ }
      }
      return { ok: false, detail: `the store ${this.file} cannot be used: ${e instanceof Error ? e.message : String(e)}` }
    }
  }

  getMeta (key: string): string | undefined {
    return this.reading('reading metadata', p => {
      const row = p.reader.statement('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined
      return row?.value
    })
  }

  setMeta (key: string, value: string | undefined): void {
    const p = this.use()
    p.writer.transaction('writing metadata', () => p.writer.writeMeta([[key, value]]))
  }

  dump (): MemoryRecord[] {
    return this.reading('dumping', p => p.reader.dump())
  }

  /** Bytes of the file's pages: all of them, and those of the full-text index (reads every page: slow on a large file). */
  pageSizes (): { total: number, textIndex: number } {
    return this.reading('measuring the file', p => {
      const rows = p.reader.statement('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name').all() as { name: string, bytes: number }[]
      let total = 0
      let textIndex = 0
      for (const r of rows) {
        total += r.bytes
        if (r.name.startsWith('text_index')) textIndex += r.bytes
      }
      return { total, textIndex }
    })
  }

  /** SQLite's own consistency check of the whole file: 'ok', or the problems it found. */
  integrityCheck (): string {
    return this.reading('checking integrity', p => {
      const rows = p.reader.statement('PRAGMA integrity_check').all() as { integrity_check: string }[]
      return rows.map(r => r.integrity_check).join('\n')
    })
  }

  close (): void {
    const p = this.parts
    if (p === undefined) return
    this.parts = undefined
    p.writer.close()
    try {
      p.db.exec('PRAGMA optimize')
    } catch { /* only a hint for the query planner */ }
    p.db.close()
  }

  private use (): Parts {
    if (this.parts === undefined) throw STORE_UNAVAILABLE(`the store ${this.file} is closed`, { file: this.file })
    return this.parts
  }

  private reading<T> (doing: string, body: (p: Parts) => T): T {
    const p = this.use()
    try {
      return body(p)
    } catch (e) {
      throw storeError(e, this.file, doing)
    }
  }
}

