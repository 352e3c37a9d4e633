/**
 * A store held in memory, for deterministic simulations and tests. It passes the same
 * conformance suite as SqliteStore (test/store/conformance.ts): the same merge decisions
 * (store/decide.ts), the same seqs, orders, filters and errors.
 *
 * Layout: one map per kind from key to slot (state, seq, via, seal), and the changes feed as a
 * map from seq to slot whose insertion order is seq order (a changed record's old seq is removed
 * and its new, largest seq appended); replaced states in MemoryHistory, signed batches in
 * MemoryBatches, the knowledge vector, the voids and the held records in MemoryKnowledge; the
 * queries, listings and scans in MemoryReads (as reader.ts is the SQLite store's). `apply` stages
 * every change (the records' merge decisions in MemoryStaging) and commits only when the whole
 * batch succeeded, so a failing batch leaves nothing behind. The full-text index
 * (MemoryTextIndex.ts) changes in that same commit; a clock repair goes through the same staging.
 */
import { STORE_UNAVAILABLE } from '../../core/errors.ts'
import { maxMark, type HlcMark } from '../../core/hlc.ts'
import type { NodeId, Seq, TripleId } from '../../core/ids.ts'
import type { ClockVoid, KnowledgeEntry } from '../../core/knowledge.ts'
import { isTombstone, recordKey, RECORD_KINDS } from '../../core/model.ts'
import type { EpisodeRecord, MemoryRecord, NoteRecord, RecordKind, TraceRecord, TripleRecord } from '../../core/model.ts'
import type { SignedBatch } from '../../core/signing.ts'
import { DEFAULT_TEXT_CANDIDATES } from '../../text/rank.ts'
import { newestFirst } from '../asOf.ts'
import { checkCursor, checkMark, checkSlice, checkWallMs, nestedWriteError } from '../checks.ts'
import { compareText } from '../order.ts'
import { collectable } from '../tombstones.ts'
import type {
  ApplyOptions, ApplyResult, ChangesOptions, ChangesPage, ClockRepair, HeldOrigin, HeldRecord, Page, ProvenanceStats,
  RecordRef, Store, StoreHealth, StoreStats, StoredState, TriplePattern
} from '../Store.ts'
import type { TextIndexState, TextQuery, TextSearchResult } from '../textSearch.ts'
import { MemoryBatches } from './MemoryBatches.ts'
import { MemoryHistory } from './MemoryHistory.ts'
import { MemoryFeedFloors } from './MemoryFeedFloors.ts'
import { MemoryKnowledge } from './MemoryKnowledge.ts'
import { stageRecords } from './MemoryStaging.ts'
import { MemoryReads, newTables, stored, type Slot } from './MemoryReads.ts'
import { MemoryTextIndex } from './MemoryTextIndex.ts'

/** The secondary indexes SqliteStore leaves out for a write with `deferIndexes` (sqlite/deferredIndexes.ts DEFERRABLE). */
const DEFERRED_INDEXES = 3

export class MemoryStore implements Store {
  readonly kind = 'memory'
  private readonly tables = newTables()
  private readonly feed = new Map<number, Slot>()
  private readonly cursors = new Map<string, number>()
  private readonly meta = new Map<string, string>()
  private readonly batches = new MemoryBatches()
  private readonly past = new MemoryHistory()
  private readonly known = new MemoryKnowledge()
  private lastSeq = 0
  private readonly floors = new MemoryFeedFloors()
  private mark: HlcMark = { wall: 0, counter: 0 }
  private closed = false
  /** True while apply runs (a resolver may be called): other writes are refused meanwhile. */
  private writing = false
  private readonly text: MemoryTextIndex
  private readonly reads: MemoryReads
  /** Indexes a write with `deferIndexes` left out, not built yet: this store has none, it only counts them as SqliteStore does. */
  private deferred = 0

  constructor (opts: { textCandidates?: number } = {}) {
    this.reads = new MemoryReads(this.tables, this.feed, this.past, () => this.lastSeq)
    this.text = new MemoryTextIndex(opts.textCandidates ?? DEFAULT_TEXT_CANDIDATES)
  }

  apply (records: readonly MemoryRecord[], opts: ApplyOptions): ApplyResult {
    this.assertWritable()
    checkMark(opts.clock)
    checkCursor(opts.cursor)
    this.writing = true
    try {
      return this.applyAll(records, opts)
    } finally {
      this.writing = false
    }
  }

  /**
   * Writes a batch (or a clock repair: `repair`), all or nothing: every change is staged first,
   * and committed only when nothing can fail any more.
   */
  private applyAll (records: readonly MemoryRecord[], opts: ApplyOptions, repair?: ClockRepair): ApplyResult {
    const batches = this.batches.stage()
    // Voids first: what they drop is not held any more when the batch's records come.
    const known = this.known.stage(opts, batches)
    const removed: Slot[] = []
    for (const id of repair?.removeTraces ?? []) {
      const old = this.tables.trace.get(id)
      if (old === undefined) continue
      removed.push(old)
      batches.count(old.seal?.batch, -1)
    }
    const { writes, replaced, changed, unchanged, replacedLive, forgotten, seq, mark } =
      stageRecords(this.tables, records, opts, batches, this.lastSeq, repair === undefined ? maxMark(this.mark, opts.clock) : repair.clock)
    const hold = opts.hold
    hold?.records.forEach((r, i) => {
      const seal = batches.sealOf(hold.seals, i, 'hold.seals')
      if (this.known.hold(known, r, opts.via, hold.at, seal)) batches.count(seal?.batch, 1)
    })
    this.known.learn(known, opts.learn ?? [])
    const metaWrites = opts.meta?.() ?? []
    // Nothing above changed the store; from here on nothing can fail.
    this.batches.commit(batches)
    for (const r of replaced) this.past.add(r.kind, r.key, r.state)
    for (const old of removed) {
      this.tables.trace.delete(recordKey(old.record))
      this.feed.delete(old.seq)
      this.text.removed(old.seq)
    }
    for (const slot of writes) this.put(slot, opts.deferText === true)
    this.lastSeq = seq
    this.mark = mark
    if (opts.deferIndexes === true) this.deferred = DEFERRED_INDEXES
    if (opts.cursor !== undefined) this.cursors.set(opts.cursor.peer, opts.cursor.seq)
    for (const [key, value] of metaWrites) {
      if (value === undefined) this.meta.delete(key)
      else this.meta.set(key, value)
    }
    this.known.commit(known)
    if (repair !== undefined) this.known.setVoid(repair.void)
    return { changed, unchanged, replacedLive, forgotten, held: known.holding.length, voided: known.voided }
  }

  /** Writes a slot: its record's old feed entry goes, the new one is appended. */
  private put (slot: Slot, deferText: boolean): void {
    const table = this.tables[slot.record.kind]
    const key = recordKey(slot.record)
    const old = table.get(key)
    if (old !== undefined) {
      this.feed.delete(old.seq)
      if (!isTombstone(old.record)) this.text.removed(old.seq)
    }
    if (!isTombstone(slot.record)) this.text.added(slot.seq, slot.record, deferText)
    table.set(key, slot)
    this.feed.set(slot.seq, slot)
  }

  getTriple (id: TripleId): TripleRecord | undefined { return this.get('triple', id) as TripleRecord | undefined }
  getNote (key: string): NoteRecord | undefined { return this.get('note', key) as NoteRecord | undefined }
  getEpisode (id: string): EpisodeRecord | undefined { return this.get('episode', id) as EpisodeRecord | undefined }
  getTrace (id: string): TraceRecord | undefined { return this.get('trace', id) as TraceRecord | undefined }

  get (kind: RecordKind, key: string): MemoryRecord | undefined {
    this.assertOpen()
    return this.tables[kind].get(key)?.record
  }

  queryTriples (pattern: TriplePattern, page: Page): { triples: TripleRecord[], total: number } {
    this.assertOpen()
    return this.reads.queryTriples(pattern, page)
  }

  listNotes (opts: { prefix?: string, asOf?: number } & Page): { notes: NoteRecord[], total: number } {
    this.assertOpen()
    return this.reads.listNotes(opts)
  }

  listEpisodes (opts: { prefix?: string } & Page): { episodes: EpisodeRecord[], total: number } {
    this.assertOpen()
    return this.reads.listEpisodes(opts)
  }

  listTraces (opts: { runId?: string } & Page): { traces: TraceRecord[], total: number } {
    this.assertOpen()
    return this.reads.listTraces(opts)
  }

  changesSince (after: number, opts: ChangesOptions): ChangesPage {
    this.assertOpen()
    return this.reads.changesSince(after, opts)
  }

  getCursor (peer: NodeId): Seq {
    this.assertOpen()
    return (this.cursors.get(peer) ?? 0) as Seq
  }

  collectTombstones (beforeWallMs: number, upTo?: HlcMark): number {
    this.assertWritable()
    checkWallMs(beforeWallMs)
    if (upTo !== undefined) checkMark(upTo, 'upTo')
    let removed = 0
    for (const kind of ['triple', 'note'] as const) {
      const table = this.tables[kind]
      for (const [key, slot] of table) {
        const r = slot.record
        if (!collectable(r, beforeWallMs, upTo)) continue
        this.past.add(kind, key, { ...stored(slot), until: r.hlc })
        table.delete(key)
        this.feed.delete(slot.seq)
        this.floors.raise(slot.via, slot.seq)
        removed++
      }
    }
    return removed
  }

  feedFloorFor (peer: NodeId): Seq {
    this.assertOpen()
    return this.floors.highest(peer)
  }

  searchText (q: TextQuery): TextSearchResult {
    this.assertOpen()
    return this.text.search(q)
  }

  textIndex (): TextIndexState {
    this.assertOpen()
    return this.text.status()
  }

  startTextRebuild (): TextIndexState {
    this.assertWritable()
    return this.text.restart(this.lastSeq)
  }

  continueTextRebuild (seqs: number): TextIndexState {
    this.assertWritable()
    checkSlice(seqs)
    return this.text.step(seqs, seq => this.feed.get(seq)?.record)
  }

  deferredIndexes (): number {
    this.assertOpen()
    return this.deferred
  }

  buildDeferredIndexes (): number {
    this.assertWritable()
    this.deferred = Math.max(0, this.deferred - 1)
    return this.deferred
  }

  getState (kind: RecordKind, key: string): StoredState | undefined {
    this.assertOpen()
    const slot = this.tables[kind].get(key)
    return slot === undefined ? undefined : stored(slot)
  }

  history (kind: RecordKind, key: string): StoredState[] {
    const current = this.getState(kind, key)
    return newestFirst([...(current === undefined ? [] : [current]), ...this.past.states(kind, key)])
  }

  getBatch (id: number): SignedBatch | undefined {
    this.assertOpen()
    return this.batches.get(id)
  }

  touchedBy (origin: NodeId, fromWall: number, toWall: number): RecordRef[] {
    this.assertOpen()
    return this.reads.touchedBy(origin, fromWall, toWall)
  }

  unsealed (origin: NodeId, limit: number): MemoryRecord[] {
    this.assertOpen()
    return this.reads.unsealed(origin, limit)
  }

  collectHistory (beforeWallMs: number): number {
    this.assertWritable()
    checkWallMs(beforeWallMs)
    const { removed, batches } = this.past.collect(beforeWallMs)
    this.batches.count(batches)
    this.batches.collect()
    return removed
  }

  provenanceStats (): ProvenanceStats {
    this.assertOpen()
    let unsigned = 0
    for (const slot of this.feed.values()) if (slot.seal === undefined) unsigned++
    return { history: this.past.size, batches: this.batches.size, unsigned }
  }

  /** Memory holds nothing across a power cut, and loses nothing short of one: every change counts as durable. */
  durableSeq (): Seq {
    this.assertOpen()
    return this.lastSeq as Seq
  }

  flush (): void {
    this.assertOpen()
  }

  knowledge (): KnowledgeEntry[] {
    this.assertOpen()
    return this.known.knowledge()
  }

  voids (): ClockVoid[] {
    this.assertOpen()
    return this.known.voids()
  }

  held (opts: { readonly limit: number, readonly upToWall?: number }): HeldRecord[] {
    this.assertOpen()
    return this.known.held(opts)
  }

  heldOrigins (): HeldOrigin[] {
    this.assertOpen()
    return this.known.origins()
  }

  stampedAfter (afterWall: number, opts: { readonly limit: number, readonly origin?: NodeId }): MemoryRecord[] {
    this.assertOpen()
    return this.reads.stampedAfter(afterWall, opts)
  }

  repairClock (repair: ClockRepair): ApplyResult {
    this.assertWritable()
    checkMark(repair.clock)
    this.writing = true
    try {
      const force: ApplyOptions = { clock: repair.clock, resolve: (_current, incoming) => incoming, ...(repair.seals !== undefined ? { seals: repair.seals } : {}) }
      return this.applyAll(repair.records, force, repair)
    } finally {
      this.writing = false
    }
  }

  clockMark (): HlcMark {
    this.assertOpen()
    return { wall: this.mark.wall, counter: this.mark.counter }
  }

  stats (): StoreStats {
    this.assertOpen()
    const count = (kind: 'triple' | 'note'): [number, number] => {
      let dead = 0
      for (const { record } of this.tables[kind].values()) if ((record as TripleRecord | NoteRecord).deleted) dead++
      return [this.tables[kind].size - dead, dead]
    }
    const [triples, tripleTombstones] = count('triple')
    const [notes, noteTombstones] = count('note')
    return {
      triples,
      tripleTombstones,
      notes,
      noteTombstones,
      episodes: this.tables.episode.size,
      traces: this.tables.trace.size,
      lastSeq: this.lastSeq as Seq,
      feedFloor: this.floors.highest()
    }
  }

  health (): StoreHealth {
    return this.closed ? { ok: false, detail: 'memory store is closed' } : { ok: true, detail: 'memory store' }
  }

  getMeta (key: string): string | undefined {
    this.assertOpen()
    return this.meta.get(key)
  }

  setMeta (key: string, value: string | undefined): void {
    this.assertWritable()
    if (value === undefined) this.meta.delete(key)
    else this.meta.set(key, value)
  }

  dump (): MemoryRecord[] {
    this.assertOpen()
    const out: MemoryRecord[] = []
    for (const kind of RECORD_KINDS) {
      const keys = [...this.tables[kind].keys()].sort(compareText)
      for (const key of keys) out.push(this.tables[kind].get(key)!.record)
    }
    return out
  }

  close (): void {
    this.closed = true
  }

  private assertOpen (): void {
    if (this.closed) throw STORE_UNAVAILABLE('the store is closed')
  }

  private assertWritable (): void {
    this.assertOpen()
    if (this.writing) throw nestedWriteError()
  }
}
