/**
 * Every write transaction on the SQLite file. `apply` runs one transaction (BEGIN IMMEDIATE …
 * COMMIT): it records the batch's clock voids (dropping what they void from the held records),
 * releases the held records being applied, writes each record (records.ts: Rule A, the merge
 * decision, seals, history), holds aside the records to hold (with their seals), learns the
 * knowledge entries, saves the last seq, the clock mark (never lowered, except by a clock
 * repair), the batches' state counts, the peer's cursor and the caller's metadata
 * (`ApplyOptions.meta`), and commits. Any error rolls everything back and is rethrown, so a batch
 * is either wholly written or not at all.
 *
 * Tombstone collection (Rule B, store/tombstones.ts) moves what it removes into history in the
 * same transaction, raising the feed floor and the floor of each source it removed from
 * (`feed_floors`); history collection drops the replaced states past retention and the batches
 * nothing belongs to any more; a clock repair writes this node's re-stamped (and re-signed)
 * states like any write, the replaced ones going to history.
 *
 * Durability: with store.synchronous = full, a commit waits for the disk (the write-ahead log is
 * synced) unless the batch is `refetchable` (a page from a peer, fetched again after a power
 * cut); those commit with synchronous NORMAL, durable at the next synced commit or flush().
 * `durableSeq` says how far the feed is durable; the feed is never served past it.
 *
 * Checkpoints are not a commit's work (checkpoints.ts): a commit checkpoints only once the
 * write-ahead log is past its bound (64 MiB), and the routine checkpoint runs when no commit came
 * for a moment — not while a catch-up has the secondary indexes left out (deferredIndexes.ts).
 * A local write is acknowledged after its commit synced the log, whether or not the log was
 * copied into the file since; during a catch-up the same index pages change in every page
 * applied, and copying them back into the file after each page was about a third of the
 * receiver's commit time.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import type { HlcMark } from '../../core/hlc.ts'
import type { MemoryRecord } from '../../core/model.ts'
import type { SignedBatch } from '../../core/signing.ts'
import { checkCursor, checkMark, checkWallMs, nestedWriteError } from '../checks.ts'
import type { ApplyOptions, ApplyResult, ClockRepair, FeedEntry } from '../Store.ts'
import { COLLECTABLE_SQL, collectableArgs } from '../tombstones.ts'
import { BatchTable } from './batches.ts'
import { IdleCheckpoints, type CheckpointSettings } from './checkpoints.ts'
import { DeferredIndexes } from './deferredIndexes.ts'
import { storeError } from './failures.ts'
import { HistoryTable } from './history.ts'
import { KnowledgeTables } from './knowledge.ts'
import type { NodeNames } from './nodes.ts'
import { PageCache } from './pageCache.ts'
import { RecordWrites, SealWork, type WriteContext } from './records.ts'
import { StateTable, type State } from './state.ts'
import type { SqliteTextIndex } from './textIndex.ts'


/** Local metadata written by flush(): the last seq it made durable (only written, so that the commit has something to sync). */
const DURABLE_KEY = 'store.durable-seq'

export class Writer {
  private readonly db: DatabaseSync
  private readonly file: string
  private readonly nodes: NodeNames
  private readonly state: StateTable
  private readonly text: SqliteTextIndex
  private readonly batches: BatchTable
  readonly history: HistoryTable
  readonly knowledge: KnowledgeTables
  /** The secondary indexes a far-behind catch-up leaves out (deferredIndexes.ts). */
  readonly deferred: DeferredIndexes
  /** The connection's page cache, grown while a catch-up into a large store defers its indexes (pageCache.ts). */
  readonly cache: PageCache
  private readonly records: RecordWrites
  /** The configured durability (store.synchronous); `refetchable` batches commit with NORMAL whatever it is. */
  private readonly mode: 'full' | 'normal'
  /** The connection's synchronous setting now. */
  private synchronous: 'FULL' | 'NORMAL'
  /** When the log is copied into the file: past its bound on a commit, else once the store is idle. */
  private readonly checkpoints: IdleCheckpoints
  /** Every change up to this seq is on disk (survives a power cut). */
  private durable = -1
  private readonly saveCursor: StatementSync
  private readonly putMeta: StatementSync
  private readonly dropMeta: StatementSync
  /** The collectable tombstones of a table, per source (via; 0: written here): how many, the highest seq. */
  private readonly deadBySource: { triples: StatementSync, notes: StatementSync }
  private readonly deleteDead: { triples: StatementSync, notes: StatementSync }
  private readonly raiseFloor: StatementSync

  constructor (db: DatabaseSync, file: string, nodes: NodeNames, text: SqliteTextIndex, mode: 'full' | 'normal' = 'full',
    checkpoints: CheckpointSettings) {
    this.db = db
    this.file = file
    this.nodes = nodes
    this.text = text
    this.state = new StateTable(db)
    this.batches = new BatchTable(db, nodes)
    this.history = new HistoryTable(db, nodes)
    this.knowledge = new KnowledgeTables(db)
    this.deferred = new DeferredIndexes(db)
    this.cache = new PageCache(db)
    this.records = new RecordWrites(db, nodes, text, this.history)
    this.mode = mode
    this.synchronous = mode === 'normal' ? 'NORMAL' : 'FULL'
    this.checkpoints = new IdleCheckpoints(db, checkpoints)
    this.saveCursor = db.prepare('INSERT INTO cursors (peer, seq) VALUES (?, ?) ON CONFLICT (peer) DO UPDATE SET seq = excluded.seq')
    this.putMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
    this.dropMeta = db.prepare('DELETE FROM meta WHERE key = ?')
    const dead = (table: string): StatementSync =>
      db.prepare(`SELECT coalesce(via, 0) AS source, count(*) AS n, max(seq) AS top FROM ${table} WHERE ${COLLECTABLE_SQL} GROUP BY source`)
    this.deadBySource = { triples: dead('triples'), notes: dead('notes') }
    this.raiseFloor = db.prepare('INSERT INTO feed_floors (source, seq) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET seq = max(seq, excluded.seq)')
    this.deleteDead = {
      triples: db.prepare(`DELETE FROM triples WHERE ${COLLECTABLE_SQL}`),
      notes: db.prepare(`DELETE FROM notes WHERE ${COLLECTABLE_SQL}`)
    }
    // what an earlier process committed without waiting for the disk is made durable before anything is served
    this.flush()
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

  /** The routine checkpoint, now (checkpoints.ts); undefined when nothing was committed since the last one. */
  checkpoint (): { busy: number, log: number, checkpointed: number } | undefined {
    try {
      return this.checkpoints.checkpoint()
    } catch (e) {
      throw storeError(e, this.file, 'copying the write-ahead log into the file')
    }
  }

  /** No checkpoint runs on an idle timer any more (the store is closing). */
  close (): void {
    this.checkpoints.close()
  }

  /** Removes the tombstones Rule B collects (store/tombstones.ts) into history. */
  collectTombstones (beforeWallMs: number, upTo?: HlcMark): number {
    checkWallMs(beforeWallMs)
    if (upTo !== undefined) checkMark(upTo, 'upTo')
    return this.transaction('collecting tombstones', () => {
      const s = this.state.read()
      const args = collectableArgs(beforeWallMs, upTo)
      const t = this.deadBySource.triples.all(...args) as DeadRow[]
      const n = this.deadBySource.notes.all(...args) as DeadRow[]
      const removed = { triples: total(t), notes: total(n) }
      if (removed.triples.n > 0 || removed.notes.n > 0) this.history.keepTombstones(beforeWallMs, upTo)
      // the floor of each source the removed tombstones came from (via; 0: written here)
      for (const row of [...t, ...n]) this.raiseFloor.run(row.source, row.top)
      if (removed.triples.n > 0) this.deleteDead.triples.run(...args)
      if (removed.notes.n > 0) this.deleteDead.notes.run(...args)
      s.triplesDead -= removed.triples.n
      s.notesDead -= removed.notes.n
      s.feedFloor = Math.max(s.feedFloor, removed.triples.top, removed.notes.top)
      this.state.save(s)
      return removed.triples.n + removed.notes.n
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

  /**
   * A clock repair: this node's re-stamped records written whatever their current state, with
   * their seals (a re-stamped trace replaces the old entry; the replaced states of the others go
   * to history), the clock mark set (lowered), the void recorded.
   */
  repairClock (repair: ClockRepair): ApplyResult {
    checkMark(repair.clock)
    return this.transaction('repairing the clock', () => {
      const s = this.state.read()
      this.text.begin()
      this.records.begin()
      const work = new SealWork(this.batches)
      const force: ApplyOptions = { clock: repair.clock, resolve: (_current, incoming) => incoming }
      const c: WriteContext = { opts: force, via: null, s, work }
      for (const id of repair.removeTraces) this.records.removeTrace(id, c)
      const changed: FeedEntry[] = []
      repair.records.forEach((r, i) => {
        const out = this.records.write(r, work.sealOf(repair.seals, i), c)
        if (out !== undefined) changed.push(out)
      })
      s.clockWall = repair.clock.wall
      s.clockCounter = repair.clock.counter
      this.text.end()
      work.finish()
      this.state.save(s)
      this.knowledge.setVoid(repair.void)
      return { changed, unchanged: repair.records.length - changed.length, replacedLive: 0, forgotten: 0, held: 0, voided: 0 }
    })
  }

  /**
   * Runs `body` in one write transaction; rolls back and rethrows on any error. Its commit:
   * `local` (every write but a peer's page: records, metadata, the peer registry, tombstone
   * collection, the text index) waits for the disk as the store is configured; `refetchable` (a
   * peer's page) never does; `synced` (flush) always waits.
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
      // a catch-up with its indexes left out holds the routine checkpoint until they are built (checkpoints.ts)
      this.checkpoints.committed(this.deferred.missing().length > 0)
      this.nodes.commit()
      // A FULL commit syncs the whole write-ahead log: every commit before it is durable too.
      if (sync === 'FULL') this.durable = this.state.read().lastSeq
      return result
    } catch (e) {
      if (this.db.isTransaction) {
        try { this.db.exec('ROLLBACK') } catch { /* the transaction is gone either way */ }
      }
      this.nodes.rollback()
      this.deferred.forget()
      throw storeError(e, this.file, doing)
    }
  }

  private applyAll (records: readonly MemoryRecord[], opts: ApplyOptions): ApplyResult {
    const s = this.state.read()
    this.text.begin(opts.deferText === true)
    if (opts.deferIndexes === true) {
      this.deferred.drop()
      this.cache.catchUp(s.triplesLive + s.triplesDead)
    }
    this.records.begin()
    const via = opts.via === undefined ? null : this.nodes.idOf(opts.via)
    if (opts.clock.wall > s.clockWall || (opts.clock.wall === s.clockWall && opts.clock.counter > s.clockCounter)) {
      s.clockWall = opts.clock.wall
      s.clockCounter = opts.clock.counter
    }
    const work = new SealWork(this.batches)
    let voided = 0
    for (const v of opts.voids ?? []) voided += Math.max(0, this.knowledge.applyVoid(v, work))
    for (const id of opts.release ?? []) this.knowledge.unhold(id, work)
    const c: WriteContext = { opts, via, s, work }
    const changed: FeedEntry[] = []
    let unchanged = 0
    for (let i = 0; i < records.length; i++) {
      const out = this.records.write(records[i]!, work.sealOf(opts.seals, i), c)
      if (out === undefined) { unchanged++; continue }
      const h = out.record.hlc
      if (h.wall > s.clockWall || (h.wall === s.clockWall && h.counter > s.clockCounter)) {
        s.clockWall = h.wall
        s.clockCounter = h.counter
      }
      changed.push(out)
    }
    let held = 0
    const hold = opts.hold
    hold?.records.forEach((r, i) => {
      const seal = work.sealOf(hold.seals, i, 'hold.seals')
      if (this.knowledge.hold(r, opts.via, hold.at, seal)) {
        held++
        work.count(seal, 1)
      }
    })
    for (const e of opts.learn ?? []) this.knowledge.learn(e.node, e)
    this.text.end()
    work.finish()
    this.state.save(s)
    if (opts.cursor !== undefined) this.saveCursor.run(opts.cursor.peer, opts.cursor.seq)
    if (opts.meta !== undefined) this.writeMeta(opts.meta())
    return { changed, unchanged, replacedLive: this.records.replacedLive, forgotten: this.records.forgotten, held, voided }
  }

  /** Builds the next index a catch-up left out (inside the caller's transaction); how many are left. The last one ends the catch-up's larger cache. */
  buildDeferred (): number {
    const left = this.deferred.buildNext()
    if (left === 0) this.cache.restore()
    return left
  }

  /** Writes metadata pairs inside the current transaction (`undefined` deletes the key). */
  writeMeta (pairs: ReadonlyArray<readonly [string, string | undefined]>): void {
    for (const [key, value] of pairs) {
      if (value === undefined) this.dropMeta.run(key)
      else this.putMeta.run(key, value)
    }
  }
}

/** Collectable tombstones of one source in one table (Writer.deadBySource). */
type DeadRow = { source: number, n: number, top: number }

/** How many tombstones the rows hold in all, and the highest seq among them (0: none). */
function total (rows: readonly DeadRow[]): { n: number, top: number } {
  let n = 0
  let top = 0
  for (const r of rows) { n += r.n; if (r.top > top) top = r.top }
  return { n, top }
}
