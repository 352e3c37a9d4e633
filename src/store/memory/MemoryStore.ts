/**
 * A store held in memory, for deterministic simulations and tests. It passes the same
 * conformance suite as SqliteStore (test/store/conformance.ts): the same merge decisions
 * (store/decide.ts), the same seqs, orders, filters and errors.
 *
 * Layout: one map per kind from key to slot (state, seq, via), and the changes feed as a map
 * from seq to slot whose insertion order is seq order (a changed record's old seq is removed
 * and its new, largest seq appended); the knowledge vector, the voids and the held records in
 * maps of their own. `apply` stages every change and commits only when the whole batch
 * succeeded, so a failing batch leaves nothing behind. The full-text index
 * (MemoryTextIndex.ts) changes in that same commit.
 */
import { STORE_UNAVAILABLE } from '../../core/errors.ts'
import { compareHlc, compareMark, maxMark, type HlcMark } from '../../core/hlc.ts'
import type { NodeId, Seq, TripleId } from '../../core/ids.ts'
import type { ClockVoid, KnowledgeEntry } from '../../core/knowledge.ts'
import { isTombstone, namespaceOf, recordKey, recordNamespace, RECORD_KINDS } from '../../core/model.ts'
import type { EpisodeRecord, MemoryRecord, NoteRecord, RecordKind, TraceRecord, TripleRecord } from '../../core/model.ts'
import { DEFAULT_TEXT_CANDIDATES } from '../../text/rank.ts'
import { checkChanges, checkCursor, checkMark, checkPage, checkSlice, checkWallMs, nestedWriteError } from '../checks.ts'
import { cameFromPeer, decide, heldIdent, isForgotten, isLive } from '../decide.ts'
import { compareText } from '../order.ts'
import { termEquals } from '../terms.ts'
import type {
  ApplyOptions, ApplyResult, ChangesOptions, ChangesPage, ClockRepair, FeedEntry, HeldOrigin, HeldRecord, Page, Store, StoreHealth,
  StoreStats, TextIndexState, TextQuery, TextSearchResult, TriplePattern
} from '../Store.ts'
import { MemoryTextIndex } from './MemoryTextIndex.ts'

interface Slot {
  readonly record: MemoryRecord
  readonly seq: number
  /** The peer this state came from; undefined for local writes. */
  readonly via: NodeId | undefined
}

type Tables = Record<RecordKind, Map<string, Slot>>
const newTables = (): Tables => ({ triple: new Map(), note: new Map(), episode: new Map(), trace: new Map() })

export class MemoryStore implements Store {
  readonly kind = 'memory'
  private readonly tables = newTables()
  private readonly feed = new Map<number, Slot>()
  private readonly cursors = new Map<string, number>()
  private readonly meta = new Map<string, string>()
  private readonly knowledgeMap = new Map<NodeId, HlcMark>()
  private readonly voidMap = new Map<NodeId, ClockVoid>()
  /** Held records by id; `heldIdents` the identities among them. */
  private readonly heldMap = new Map<number, HeldRecord>()
  private readonly heldIdents = new Set<string>()
  private heldNext = 1
  private lastSeq = 0
  private floor = 0
  private mark: HlcMark = { wall: 0, counter: 0 }
  private closed = false
  /** True while apply runs (a resolver may be called): other writes are refused meanwhile. */
  private writing = false
  private readonly text: MemoryTextIndex

  constructor (opts: { textCandidates?: number } = {}) {
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

  private applyAll (records: readonly MemoryRecord[], opts: ApplyOptions): ApplyResult {
    const staged = newTables()
    const writes: Slot[] = []
    const changed: FeedEntry[] = []
    let unchanged = 0
    let replacedLive = 0
    let forgotten = 0
    let seq = this.lastSeq
    let mark = maxMark(this.mark, opts.clock)
    // Voids first: what they drop is not held any more when the batch's records come.
    const voids = new Map(this.voidMap)
    const voidedIds = new Set<number>()
    const knowledge = new Map(this.knowledgeMap)
    for (const v of opts.voids ?? []) {
      if ((voids.get(v.node)?.generation ?? 0) >= v.generation) continue
      voids.set(v.node, v)
      for (const [id, h] of this.heldMap) if (h.record.hlc.node === v.node && compareMark(h.record.hlc, v) > 0) voidedIds.add(id)
      const k = knowledge.get(v.node)
      if (k !== undefined && compareMark(k, v) > 0) knowledge.set(v.node, { wall: v.wall, counter: v.counter })
    }
    const dropHeld = new Set<number>([...voidedIds, ...(opts.release ?? [])])
    const voided = voidedIds.size
    for (const incoming of records) {
      const key = recordKey(incoming)
      const current = (staged[incoming.kind].get(key) ?? this.tables[incoming.kind].get(key))?.record
      if (isForgotten(current, incoming, opts)) { forgotten++; unchanged++; continue }
      const state = decide(current, incoming, opts)
      if (state === undefined) { unchanged++; continue }
      if (isLive(current)) replacedLive++
      seq++
      const slot: Slot = { record: state, seq, via: opts.via !== undefined && cameFromPeer(state, incoming) ? opts.via : undefined }
      staged[incoming.kind].set(key, slot)
      writes.push(slot)
      if (compareMark(state.hlc, mark) > 0) mark = { wall: state.hlc.wall, counter: state.hlc.counter }
      changed.push({ seq: seq as Seq, record: state })
    }
    const holding: HeldRecord[] = []
    const idents = new Set<string>()
    let nextHeld = this.heldNext
    for (const r of opts.hold?.records ?? []) {
      const ident = heldIdent(r)
      if (this.heldIdents.has(ident) || idents.has(ident)) continue
      idents.add(ident)
      holding.push({ id: nextHeld++, record: r, via: opts.via, arrivedAt: opts.hold!.at })
    }
    for (const e of opts.learn ?? []) {
      const k = knowledge.get(e.node)
      if (k === undefined || compareMark(e, k) > 0) knowledge.set(e.node, { wall: e.wall, counter: e.counter })
    }
    const metaWrites = opts.meta?.() ?? []
    // Nothing above changed the store; from here on nothing can fail.
    for (const slot of writes) this.put(slot)
    this.lastSeq = seq
    this.mark = mark
    if (opts.cursor !== undefined) this.cursors.set(opts.cursor.peer, opts.cursor.seq)
    for (const [key, value] of metaWrites) {
      if (value === undefined) this.meta.delete(key)
      else this.meta.set(key, value)
    }
    for (const id of dropHeld) {
      const h = this.heldMap.get(id)
      if (h === undefined) continue
      this.heldMap.delete(id)
      this.heldIdents.delete(heldIdent(h.record))
    }
    for (const h of holding) { this.heldMap.set(h.id, h); this.heldIdents.add(heldIdent(h.record)) }
    this.heldNext = nextHeld
    this.knowledgeMap.clear()
    for (const [k, v] of knowledge) this.knowledgeMap.set(k, v)
    for (const [k, v] of voids) this.voidMap.set(k, v)
    return { changed, unchanged, replacedLive, forgotten, held: holding.length, voided }
  }

  /** Writes a slot: its record's old feed entry goes, the new one is appended. */
  private put (slot: Slot): void {
    const table = this.tables[slot.record.kind]
    const key = recordKey(slot.record)
    const old = table.get(key)
    if (old !== undefined) {
      this.feed.delete(old.seq)
      if (!isTombstone(old.record)) this.text.removed(old.seq)
    }
    if (!isTombstone(slot.record)) this.text.added(slot.seq, slot.record)
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
    checkPage(page)
    const matches: TripleRecord[] = []
    for (const { record } of this.tables.triple.values()) {
      const t = record as TripleRecord
      if (t.deleted && pattern.includeDeleted !== true) continue
      if (pattern.subject !== undefined && t.subject !== pattern.subject) continue
      if (pattern.predicate !== undefined && t.predicate !== pattern.predicate) continue
      if (pattern.object !== undefined && !termEquals(t.object, pattern.object)) continue
      if (pattern.namespace !== undefined && namespaceOf(t.subject) !== pattern.namespace) continue
      matches.push(t)
    }
    matches.sort((a, b) => compareText(a.subject, b.subject) || compareText(a.predicate, b.predicate) || compareText(a.id, b.id))
    return { triples: slicePage(matches, page), total: matches.length }
  }

  listNotes (opts: { prefix?: string } & Page): { notes: NoteRecord[], total: number } {
    this.assertOpen()
    checkPage(opts)
    const prefix = opts.prefix ?? ''
    const notes: NoteRecord[] = []
    for (const { record } of this.tables.note.values()) {
      const n = record as NoteRecord
      if (!n.deleted && n.key.startsWith(prefix)) notes.push(n)
    }
    notes.sort((a, b) => compareText(a.key, b.key))
    return { notes: slicePage(notes, opts), total: notes.length }
  }

  listEpisodes (opts: { prefix?: string } & Page): { episodes: EpisodeRecord[], total: number } {
    this.assertOpen()
    checkPage(opts)
    const prefix = opts.prefix ?? ''
    const episodes: EpisodeRecord[] = []
    for (const { record } of this.tables.episode.values()) {
      if ((record as EpisodeRecord).id.startsWith(prefix)) episodes.push(record as EpisodeRecord)
    }
    episodes.sort((a, b) => compareHlc(b.hlc, a.hlc) || compareText(a.id, b.id))
    return { episodes: slicePage(episodes, opts), total: episodes.length }
  }

  listTraces (opts: { runId?: string } & Page): { traces: TraceRecord[], total: number } {
    this.assertOpen()
    checkPage(opts)
    const traces: TraceRecord[] = []
    for (const { record } of this.tables.trace.values()) {
      const t = record as TraceRecord
      if (opts.runId === undefined || t.runId === opts.runId) traces.push(t)
    }
    traces.sort((a, b) => compareHlc(a.hlc, b.hlc) || compareText(a.id, b.id))
    return { traces: slicePage(traces, opts), total: traces.length }
  }

  changesSince (after: number, opts: ChangesOptions): ChangesPage {
    this.assertOpen()
    checkChanges(after, opts)
    const kinds = opts.kinds === undefined ? undefined : new Set(opts.kinds)
    const namespaces = opts.namespaces === undefined || opts.namespaces.length === 0 ? undefined : new Set(opts.namespaces)
    const entries: FeedEntry[] = []
    if (after < this.lastSeq) {
      for (const slot of this.feed.values()) {
        if (slot.seq <= after) continue
        if (kinds !== undefined && !kinds.has(slot.record.kind)) continue
        if (namespaces !== undefined && !namespaces.has(recordNamespace(slot.record))) continue
        if (opts.excludeVia !== undefined && slot.via === opts.excludeVia) continue
        entries.push({ seq: slot.seq as Seq, record: slot.record })
        if (entries.length === opts.limit) break
      }
    }
    const lastSeq = entries.length === opts.limit ? entries[entries.length - 1]!.seq : Math.max(after, this.lastSeq)
    return { entries, lastSeq: lastSeq as Seq, hasMore: lastSeq < this.lastSeq }
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
        const r = slot.record as TripleRecord | NoteRecord
        if (!r.deleted || r.hlc.wall >= beforeWallMs) continue
        if (upTo !== undefined && compareMark(r.hlc, upTo) > 0) continue
        table.delete(key)
        this.feed.delete(slot.seq)
        if (slot.seq > this.floor) this.floor = slot.seq
        removed++
      }
    }
    return removed
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
    return this.text.step(seqs, (after, limit) => this.changesSince(after, { limit }))
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
    return [...this.knowledgeMap].sort(([a], [b]) => compareText(a, b)).map(([node, m]) => ({ node, wall: m.wall, counter: m.counter }))
  }

  voids (): ClockVoid[] {
    this.assertOpen()
    return [...this.voidMap.values()].sort((a, b) => compareText(a.node, b.node))
  }

  held (opts: { readonly limit: number, readonly upToWall?: number }): HeldRecord[] {
    this.assertOpen()
    checkPage({ limit: opts.limit, offset: 0 })
    const upTo = opts.upToWall
    return [...this.heldMap.values()]
      .filter(h => upTo === undefined || h.record.hlc.wall <= upTo)
      .sort((a, b) => compareHlc(a.record.hlc, b.record.hlc) || a.id - b.id)
      .slice(0, opts.limit)
  }

  heldOrigins (): HeldOrigin[] {
    this.assertOpen()
    const by = new Map<NodeId, { count: number, min: HlcMark, max: HlcMark }>()
    for (const { record: { hlc } } of this.heldMap.values()) {
      const o = by.get(hlc.node)
      if (o === undefined) by.set(hlc.node, { count: 1, min: hlc, max: hlc })
      else { o.count++; if (compareMark(hlc, o.min) < 0) o.min = hlc; if (compareMark(hlc, o.max) > 0) o.max = hlc }
    }
    return [...by].sort(([a], [b]) => compareText(a, b)).map(([node, o]) => ({
      node, count: o.count, min: { wall: o.min.wall, counter: o.min.counter }, max: { wall: o.max.wall, counter: o.max.counter }
    }))
  }

  stampedAfter (afterWall: number, opts: { readonly limit: number, readonly origin?: NodeId }): MemoryRecord[] {
    this.assertOpen()
    checkWallMs(afterWall, 'afterWall')
    checkPage({ limit: opts.limit, offset: 0 })
    const out: MemoryRecord[] = []
    for (const kind of RECORD_KINDS) {
      for (const { record } of this.tables[kind].values()) {
        if (record.hlc.wall > afterWall && (opts.origin === undefined || record.hlc.node === opts.origin)) out.push(record)
      }
    }
    return out.sort((a, b) => compareHlc(a.hlc, b.hlc) || compareText(a.kind, b.kind) || compareText(recordKey(a), recordKey(b))).slice(0, opts.limit)
  }

  repairClock (repair: ClockRepair): ApplyResult {
    this.assertWritable()
    checkMark(repair.clock)
    const changed: FeedEntry[] = []
    let seq = this.lastSeq
    for (const id of repair.removeTraces) {
      const old = this.tables.trace.get(id)
      if (old === undefined) continue
      this.tables.trace.delete(id)
      this.feed.delete(old.seq)
      this.text.removed(old.seq)
    }
    for (const r of repair.records) {
      seq++
      this.put({ record: r, seq, via: undefined })
      changed.push({ seq: seq as Seq, record: r })
    }
    this.lastSeq = seq
    this.mark = { wall: repair.clock.wall, counter: repair.clock.counter }
    this.voidMap.set(repair.void.node, repair.void)
    return { changed, unchanged: 0, replacedLive: 0, forgotten: 0, held: 0, voided: 0 }
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
      feedFloor: this.floor as Seq
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

function slicePage<T> (items: T[], page: Page): T[] {
  return items.slice(page.offset, page.offset + page.limit)
}
