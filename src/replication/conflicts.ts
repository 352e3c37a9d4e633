/**
 * Conflict strategies for records received from a peer by either carrier (`sync.conflictStrategy`), specified
 * with their convergence properties in docs/SYNC.md.
 *
 * A conflict is two different current values that met in a merge:
 * - a note: the incoming live value differs from the local live value, and the peer had not
 *   seen the local value when it sent its own (the local state was not written by the peer and
 *   is not yet in what the peer has pulled from this node). When the peer had seen it, its value replaced the local one
 *   knowingly: an ordinary update, not a conflict (and had the two been concurrent, the peer saw
 *   the conflict when it pulled the local value).
 * - a triple whose predicate is single-valued (`sync.singleValuedPredicates`): after the page,
 *   one (subject, predicate) would have more than one live triple. Two triples that merely share
 *   a subject and predicate are not a conflict otherwise.
 *
 * | strategy         | note                             | single-valued triple                                    | converges |
 * |------------------|----------------------------------|---------------------------------------------------------|-----------|
 * | last-writer-wins | larger stamp wins                | larger stamp stays, the others deleted (lostAt)         | yes       |
 * | keep-both        | larger stamp is current; the     | all stay live; each local/incoming pair listed          | yes       |
 * |                  | other value kept in the list     |                                                         |           |
 * | local-priority   | local value kept                 | incoming triple not adopted                             | no        |
 * | remote-priority  | incoming value replaces local    | local triples deleted (fresh stamp), incoming adopted   | no        |
 */
import { canonicalJson } from '../core/canonical.ts'
import type { ConflictStrategy } from '../config/schema.ts'
import { blake3Hex } from '../core/hash.ts'
import { compareHlc, type Hlc } from '../core/hlc.ts'
import { isTripleId, type NodeId } from '../core/ids.ts'
import { markBelow } from '../core/knowledge.ts'
import { namespaceOf, type Json, type MemoryRecord, type NoteRecord, type TripleRecord } from '../core/model.ts'
import { recordToPlain } from '../core/records.ts'
import { compareRecords } from '../core/merge.ts'
import type { ConflictResolver, Store } from '../store/Store.ts'

export type { ConflictStrategy }

export interface ConflictEntry {
  /** Hash of the two states: the same conflict seen twice is listed once. */
  readonly id: string
  readonly kind: 'note' | 'triple'
  /** Note key, or "subject predicate" for triples. */
  readonly key: string
  /** Notes: the state that stayed current. Triples: the local triple. (Plain form, core/records.ts.) */
  readonly kept: Json
  /** Notes: the value that lost. Triples: the incoming triple. */
  readonly other: Json
  /** The peer (its name in the peer book) the other value came from. */
  readonly peer: string
  readonly detectedAt: string
}

const INDEX_KEY = 'sync.conflicts'
const entryKey = (id: string): string => `sync.conflict.${id}`
/** Conflicts listed at most; beyond it the oldest are dropped (and the drop is logged). */
export const MAX_CONFLICTS = 10_000
/** Local note changes scanned at most to tell which ones a peer has seen; beyond it, all count as unseen. */
const SEEN_SCAN_MAX = 100_000

const plainHlc = (p: Json): Hlc => (p as unknown as { hlc: Hlc }).hlc

/**
 * The keep-both conflict list, in the store's local metadata (never replicated): an index of
 * ids and one entry per key. An entry that no longer describes the store (a triple of it is no
 * longer live; the note was written or deleted after both of its values) is stale: the conflict
 * was resolved here or elsewhere, and it is dropped when the list is read.
 */
export class ConflictLog {
  private readonly store: Store
  private readonly onDrop: (count: number) => void
  /** The last count, with what it was counted on: the store's feed position and the index. */
  private counted: { readonly seq: number, readonly index: string, readonly n: number } | undefined

  constructor (store: Store, onDrop: (count: number) => void = () => {}) {
    this.store = store
    this.onDrop = onDrop
  }

  private ids (): string[] {
    const raw = this.store.getMeta(INDEX_KEY)
    return raw === undefined ? [] : JSON.parse(raw) as string[]
  }

  get (id: string): ConflictEntry | undefined {
    const raw = /^[0-9a-f]{32}$/.test(id) ? this.store.getMeta(entryKey(id)) : undefined
    return raw === undefined ? undefined : JSON.parse(raw) as ConflictEntry
  }

  /** Live conflicts, oldest first; stale ones are removed on the way. */
  list (): ConflictEntry[] {
    const out: ConflictEntry[] = []
    const stale: string[] = []
    for (const id of this.ids()) {
      const e = this.get(id)
      if (e === undefined || this.isStale(e)) stale.push(id)
      else out.push(e)
    }
    if (stale.length > 0) this.commit(this.writes([], stale))
    return out
  }

  /**
   * How many conflicts list() returns, for the status and the metrics, which ask at every build
   * and scrape: the entries are read again only when the store's feed or the index moved since
   * the last count (an entry turns stale only by a write, which moves the feed).
   */
  count (): number {
    const index = this.store.getMeta(INDEX_KEY)
    if (index === undefined || index === '[]') return 0
    const seq = this.store.stats().lastSeq
    const c = this.counted
    if (c !== undefined && c.seq === seq && c.index === index) return c.n
    const n = this.list().length
    // list() drops stale entries: the count stands for the index as it left it
    this.counted = { seq, index: this.store.getMeta(INDEX_KEY) ?? '[]', n }
    return n
  }

  /**
   * Metadata writes that add `added` and drop `removed`, for ApplyOptions.meta: evaluated inside
   * the transaction of the page that found the conflicts, so they are recorded exactly when the
   * page is.
   */
  writes (added: readonly ConflictEntry[], removed: readonly string[] = []): Array<[string, string | undefined]> {
    if (added.length === 0 && removed.length === 0) return []
    const ids = this.ids()
    const present = new Set(ids)
    const out: Array<[string, string | undefined]> = []
    const drop = new Set(removed.filter(id => present.has(id)))
    for (const e of added) {
      if (present.has(e.id) && !drop.has(e.id)) continue
      drop.delete(e.id)
      if (!present.has(e.id)) { ids.push(e.id); present.add(e.id) }
      out.push([entryKey(e.id), JSON.stringify(e)])
    }
    let kept = ids.filter(id => !drop.has(id))
    const over = kept.length - MAX_CONFLICTS
    if (over > 0) {
      for (const id of kept.slice(0, over)) drop.add(id)
      kept = kept.slice(over)
      this.onDrop(over)
    }
    for (const id of drop) out.push([entryKey(id), undefined])
    out.push([INDEX_KEY, JSON.stringify(kept)])
    return out
  }

  remove (id: string): void {
    this.commit(this.writes([], [id]))
  }

  private commit (pairs: ReadonlyArray<readonly [string, string | undefined]>): void {
    for (const [k, v] of pairs) this.store.setMeta(k, v)
  }

  private isStale (e: ConflictEntry): boolean {
    if (e.kind === 'triple') {
      for (const p of [e.kept, e.other]) {
        const id = (p as { id?: unknown }).id
        const t = isTripleId(id) ? this.store.getTriple(id) : undefined
        if (t === undefined || t.deleted) return true
      }
      return false
    }
    const current = this.store.getNote(e.key)
    if (current === undefined || current.deleted) return true
    return compareHlc(current.hlc, plainHlc(e.kept)) > 0 && compareHlc(current.hlc, plainHlc(e.other)) > 0
  }
}

function entry (kind: 'note' | 'triple', key: string, kept: MemoryRecord, other: MemoryRecord, peer: string, at: string): ConflictEntry {
  const k = recordToPlain(kept)
  const o = recordToPlain(other)
  return { id: blake3Hex(canonicalJson([k, o])).slice(0, 32), kind, key, kept: k, other: o, peer, detectedAt: at }
}

const liveNote = (r: MemoryRecord): r is NoteRecord => r.kind === 'note' && !r.deleted

/** What the peer has pulled from this node, from its last delta answer. */
export interface PeerView {
  readonly node: NodeId
  /** The peer's cursor on this node's feed. */
  readonly cursor: number
  /** Namespaces the peer pulls from this node (null: all). */
  readonly namespaces: readonly string[] | null
}

export interface PreparedPage {
  /** The peer's records to apply (with `via` = the peer). */
  readonly page: MemoryRecord[]
  /** States this node makes (deletions the strategy decides): applied as local writes, so every peer gets them. */
  readonly local: MemoryRecord[]
}

export interface ConflictPassOptions {
  readonly strategy: ConflictStrategy
  readonly singleValued: ReadonlySet<string>
  /** The peer's name, recorded in entries. */
  readonly peer: string
  /** A fresh local stamp (remote-priority deletes local triples with it). */
  readonly stampNow: () => Hlc
  readonly now?: () => number
}

/**
 * One pull's conflict handling. For each page: `prepare` (before the page is applied) rewrites
 * it for single-valued predicates; `resolve` is the per-record resolver for notes, consulted
 * inside the page's transaction; `take` hands over the entries found (keep-both).
 */
export class ConflictPass {
  readonly opts: ConflictPassOptions
  /** Conflicts met in this pull, whatever the strategy. */
  count = 0
  private added: ConflictEntry[] = []
  private store: Store | undefined
  private view: PeerView | undefined
  private unseen: { readonly cursor: number, readonly keys: ReadonlySet<string> | 'all' } | undefined

  constructor (opts: ConflictPassOptions) {
    this.opts = opts
  }

  private at (): string {
    return new Date((this.opts.now ?? Date.now)()).toISOString()
  }

  /** Rewrites a checked page (see the table above) and remembers the peer's view for `resolve`. */
  prepare (store: Store, view: PeerView, page: readonly MemoryRecord[]): PreparedPage {
    this.store = store
    this.view = view
    if (this.opts.singleValued.size === 0) return { page: [...page], local: [] }
    // Live triples of single-valued predicates, grouped by (subject, predicate); ids this page deletes.
    const groups = new Map<string, TripleRecord[]>()
    const deletes = new Map<string, TripleRecord>()
    for (const r of page) {
      if (r.kind !== 'triple' || !this.opts.singleValued.has(r.predicate)) continue
      if (r.deleted) { deletes.set(r.id, r); continue }
      const k = `${r.subject} ${r.predicate}`
      const g = groups.get(k)
      if (g === undefined) groups.set(k, [r])
      else g.push(r)
    }
    const dropped = new Set<MemoryRecord>()
    const local: MemoryRecord[] = []
    for (const [key, incoming] of groups) {
      const ids = new Set(incoming.map(t => t.id))
      const locals = store.queryTriples({ subject: incoming[0]!.subject, predicate: incoming[0]!.predicate }, { limit: 1000, offset: 0 }).triples
        .filter(t => !ids.has(t.id) && !supersededBy(t, deletes.get(t.id)))
      const live = [...locals, ...incoming.filter(t => !supersededBy(t, deletes.get(t.id)))]
      if (live.length < 2) continue
      this.count += live.length - 1
      switch (this.opts.strategy) {
        case 'last-writer-wins': {
          const winner = live.reduce((a, b) => (compareHlc(b.hlc, a.hlc) > 0 || (compareHlc(b.hlc, a.hlc) === 0 && b.id > a.id) ? b : a))
          for (const t of live) if (t !== winner) local.push({ ...t, hlc: lostAt(t, winner), deleted: true })
          break
        }
        case 'keep-both':
          for (const l of locals) for (const r of incoming) this.added.push(entry('triple', key, l, r, this.opts.peer, this.at()))
          break
        case 'local-priority':
          if (locals.length > 0) for (const r of incoming) dropped.add(r)
          break
        case 'remote-priority':
          for (const l of locals) local.push({ ...l, hlc: this.opts.stampNow(), deleted: true })
          break
      }
    }
    return { page: dropped.size === 0 ? [...page] : page.filter(r => !dropped.has(r)), local }
  }

  readonly resolve: ConflictResolver = (current, incoming) => {
    if (!liveNote(current) || !liveNote(incoming)) return null
    if (canonicalJson(current.value) === canonicalJson(incoming.value)) return null
    if (this.seenByPeer(current)) return null
    this.count++
    switch (this.opts.strategy) {
      case 'last-writer-wins': return null
      case 'keep-both': {
        const incomingWins = compareRecords(incoming, current) > 0
        this.added.push(entry('note', current.key, incomingWins ? incoming : current, incomingWins ? current : incoming, this.opts.peer, this.at()))
        return null
      }
      case 'local-priority': return current
      case 'remote-priority': return incoming
    }
  }

  /** The entries found since the last call. */
  take (): ConflictEntry[] {
    return this.added.splice(0)
  }

  /**
   * Whether the peer had pulled this node's current state of a note: it came from the peer, or
   * it is at or below the peer's cursor on this node in a namespace the peer pulls. Decided from
   * the local changes the peer has not pulled yet (scanned once per pull, bounded).
   */
  private seenByPeer (current: NoteRecord): boolean {
    const view = this.view
    const store = this.store
    if (view === undefined || store === undefined) return false
    if (current.hlc.node === view.node) return true
    if (view.cursor <= 0) return false
    if (view.namespaces !== null && view.namespaces.length > 0 && !view.namespaces.includes(namespaceOf(current.key))) return false
    if (this.unseen?.cursor !== view.cursor) this.unseen = { cursor: view.cursor, keys: unseenNotes(store, view) }
    return this.unseen.keys !== 'all' && !this.unseen.keys.has(current.key)
  }
}

/**
 * The stamp of a last-writer-wins deletion (docs/SYNC.md, "Conflicts"): the largest stamp under
 * the loser's own node that is not above the winner's — the winner's time, or the mark just below
 * it when the loser's node sorts after the winner's. Every node that meets the two derives the
 * same tombstone; it is never below the loser's stamp (both are the loser's node's, and the
 * loser's is not above the winner's; an exact tie goes to the delete), and any stamp above the
 * winner's — a re-add made after it — still wins. The node matters for Rule A, which reads a stamp
 * its knowledge covers as proof that it saw that node's states up to it: under the loser's node
 * that proof holds (a node covering the tombstone held the loser); under the winner's node it did
 * not — a node that never held the loser dropped the tombstone, and a node holding the loser with
 * an older state, whose only peers were such nodes, was never corrected (divergent records, and
 * a value live on one node and deleted on the others).
 */
export function lostAt (loser: TripleRecord, winner: TripleRecord): Hlc {
  const node = loser.hlc.node
  const mark = node <= winner.hlc.node ? winner.hlc : markBelow(winner.hlc)
  return { wall: mark.wall, counter: mark.counter, node }
}

/** True when `tomb` (a deletion in the same page) wins over `t`. */
function supersededBy (t: TripleRecord, tomb: TripleRecord | undefined): boolean {
  return tomb !== undefined && compareRecords(tomb, t) > 0
}

/** Keys of the local notes whose current state the peer has not pulled yet ('all' past the scan bound). */
function unseenNotes (store: Store, view: PeerView): ReadonlySet<string> | 'all' {
  const keys = new Set<string>()
  let after = view.cursor
  const pageSize = 5000
  for (let pages = 0; pages < SEEN_SCAN_MAX / pageSize; pages++) {
    const page = store.changesSince(after, { limit: pageSize, kinds: ['note'], excludeVia: view.node, namespaces: view.namespaces ?? undefined })
    for (const e of page.entries) keys.add((e.record as NoteRecord).key)
    if (!page.hasMore) return keys
    after = page.lastSeq
  }
  return 'all'
}
