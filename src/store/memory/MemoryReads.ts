/**
 * The reads of a MemoryStore (store/sqlite/reader.ts is the SQLite store's): pattern queries and
 * listings (as of a past time too, from the replaced states in MemoryHistory), the changes feed,
 * and the scans the clock repair, revert and the signing of own states use. It reads the store's
 * tables, feed and history as they are; the store checks it is open and owns every write.
 */
import { compareHlc } from '../../core/hlc.ts'
import type { NodeId, Seq } from '../../core/ids.ts'
import { namespaceOf, recordKey, recordNamespace, RECORD_KINDS } from '../../core/model.ts'
import type { EpisodeRecord, MemoryRecord, NoteRecord, RecordKind, TraceRecord, TripleRecord } from '../../core/model.ts'
import type { StoredSeal } from '../../core/seals.ts'
import { SYSTEM_NAMESPACE } from '../../core/system.ts'
import { latestByKey } from '../asOf.ts'
import { checkChanges, checkPage, checkWallMs } from '../checks.ts'
import { compareText } from '../order.ts'
import type { ChangesOptions, ChangesPage, FeedEntry, Page, RecordRef, StoredState, TriplePattern } from '../Store.ts'
import { termEquals } from '../terms.ts'
import type { MemoryHistory } from './MemoryHistory.ts'

export interface Slot {
  readonly record: MemoryRecord
  readonly seq: number
  /** The peer this state came from; undefined for local writes. */
  readonly via: NodeId | undefined
  readonly seal: StoredSeal | undefined
}

/** A slot as the Store interface shows a state (absent fields left out). */
export function stored (slot: { record: MemoryRecord, via: NodeId | undefined, seal: StoredSeal | undefined }): StoredState {
  return { record: slot.record, ...(slot.via !== undefined ? { via: slot.via } : {}), ...(slot.seal !== undefined ? { seal: slot.seal } : {}) }
}

export const feedEntry = (slot: Slot): FeedEntry =>
  slot.seal === undefined ? { seq: slot.seq as Seq, record: slot.record } : { seq: slot.seq as Seq, record: slot.record, seal: slot.seal }

export type Tables = Record<RecordKind, Map<string, Slot>>
export const newTables = (): Tables => ({ triple: new Map(), note: new Map(), episode: new Map(), trace: new Map() })

export class MemoryReads {
  private readonly tables: Tables
  private readonly feed: ReadonlyMap<number, Slot>
  private readonly past: MemoryHistory
  private readonly lastSeq: () => number

  constructor (tables: Tables, feed: ReadonlyMap<number, Slot>, past: MemoryHistory, lastSeq: () => number) {
    this.tables = tables
    this.feed = feed
    this.past = past
    this.lastSeq = lastSeq
  }

  queryTriples (pattern: TriplePattern, page: Page): { triples: TripleRecord[], total: number } {
    checkPage(page)
    const matches: TripleRecord[] = []
    const states = pattern.asOf === undefined
      ? [...this.tables.triple.values()].map(s => s.record as TripleRecord)
      : latestByKey([...this.tables.triple.values(), ...this.past.ofKind('triple')], s => recordKey(s.record), pattern.asOf)
        .map(s => s.record as TripleRecord)
    for (const t of states) {
      if (t.deleted && pattern.includeDeleted !== true) continue
      if (pattern.subject !== undefined && t.subject !== pattern.subject) continue
      if (pattern.predicate !== undefined && t.predicate !== pattern.predicate) continue
      if (pattern.object !== undefined && !termEquals(t.object, pattern.object)) continue
      if (pattern.namespace !== undefined && namespaceOf(t.subject) !== pattern.namespace) continue
      if (pattern.origin !== undefined && t.hlc.node !== pattern.origin) continue
      matches.push(t)
    }
    matches.sort((a, b) => compareText(a.subject, b.subject) || compareText(a.predicate, b.predicate) || compareText(a.id, b.id))
    return { triples: slicePage(matches, page), total: matches.length }
  }

  listNotes (opts: { prefix?: string, asOf?: number } & Page): { notes: NoteRecord[], total: number } {
    checkPage(opts)
    const prefix = opts.prefix ?? ''
    const notes: NoteRecord[] = []
    const states = opts.asOf === undefined
      ? this.tables.note.values()
      : latestByKey([...this.tables.note.values(), ...this.past.ofKind('note')], s => recordKey(s.record), opts.asOf)
    const hideSystem = !prefix.startsWith(`${SYSTEM_NAMESPACE}:`)
    for (const { record } of states) {
      const n = record as NoteRecord
      if (hideSystem && namespaceOf(n.key) === SYSTEM_NAMESPACE) continue
      if (!n.deleted && n.key.startsWith(prefix)) notes.push(n)
    }
    notes.sort((a, b) => compareText(a.key, b.key))
    return { notes: slicePage(notes, opts), total: notes.length }
  }

  listEpisodes (opts: { prefix?: string } & Page): { episodes: EpisodeRecord[], total: number } {
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
    checkChanges(after, opts)
    const kinds = opts.kinds === undefined ? undefined : new Set(opts.kinds)
    const namespaces = opts.namespaces === undefined || opts.namespaces.length === 0 ? undefined : new Set([...opts.namespaces, SYSTEM_NAMESPACE])
    const entries: FeedEntry[] = []
    if (after < this.lastSeq()) {
      for (const slot of this.feed.values()) {
        if (slot.seq <= after) continue
        if (kinds !== undefined && !kinds.has(slot.record.kind)) continue
        if (namespaces !== undefined && !namespaces.has(recordNamespace(slot.record))) continue
        if (opts.excludeVia !== undefined && slot.via === opts.excludeVia) continue
        entries.push(opts.withVia === true && slot.via !== undefined ? { ...feedEntry(slot), via: slot.via } : feedEntry(slot))
        if (entries.length === opts.limit) break
      }
    }
    const lastSeq = entries.length === opts.limit ? entries[entries.length - 1]!.seq : Math.max(after, this.lastSeq())
    return { entries, lastSeq: lastSeq as Seq, hasMore: lastSeq < this.lastSeq() }
  }

  touchedBy (origin: NodeId, fromWall: number, toWall: number): RecordRef[] {
    const out: RecordRef[] = []
    const seen = new Set<string>()
    const add = (ref: RecordRef): void => {
      const k = `${ref.kind}\u0000${ref.key}`
      if (!seen.has(k)) { seen.add(k); out.push(ref) }
    }
    for (const kind of RECORD_KINDS) {
      for (const [key, { record: r }] of this.tables[kind]) {
        if (r.hlc.node === origin && r.hlc.wall >= fromWall && r.hlc.wall <= toWall) add({ kind, key })
      }
    }
    for (const ref of this.past.touchedBy(origin, fromWall, toWall)) add(ref)
    return out
  }

  unsealed (origin: NodeId, limit: number): MemoryRecord[] {
    const out: MemoryRecord[] = []
    for (const slot of this.feed.values()) {
      if (out.length >= limit) break
      if (slot.seal === undefined && slot.record.hlc.node === origin) out.push(slot.record)
    }
    return out
  }

  stampedAfter (afterWall: number, opts: { readonly limit: number, readonly origin?: NodeId }): MemoryRecord[] {
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
}

function slicePage<T> (items: T[], page: Page): T[] {
  return items.slice(page.offset, page.offset + page.limit)
}
