/**
 * Conflict strategies for records received by sync (`sync.conflictStrategy`), specified with
 * their convergence properties in docs/SYNC.md.
 *
 * A conflict is two different current values for one note key, or two different live triples
 * for one (subject, predicate) when the predicate is single-valued (`sync.singleValuedPredicates`).
 * Two triples that merely share a subject and predicate are not a conflict.
 *
 * | strategy         | note                            | single-valued triple                                  | converges |
 * |------------------|---------------------------------|-------------------------------------------------------|-----------|
 * | last-writer-wins | larger stamp wins               | larger stamp stays, the other is deleted (same stamp) | yes       |
 * | keep-both        | larger stamp is current, other  | both stay live                                        | yes       |
 * |                  | kept in the conflict list       | both listed as a conflict                             |           |
 * | local-priority   | local value kept                | incoming triple not adopted                           | no        |
 * | remote-priority  | incoming value replaces local   | local triples deleted, incoming adopted               | no        |
 */
import { canonicalJson } from '../core/canonical.ts'
import { blake3Hex } from '../core/hash.ts'
import { compareHlc, type Hlc } from '../core/hlc.ts'
import type { MemoryRecord, NoteRecord, TripleRecord } from '../core/model.ts'
import { recordToPlain } from '../core/records.ts'
import { compareRecords } from '../core/merge.ts'
import type { ConflictResolver, Store } from '../store/Store.ts'
import type { Json } from '../core/model.ts'

export type ConflictStrategy = 'last-writer-wins' | 'keep-both' | 'local-priority' | 'remote-priority'
export const CONFLICT_STRATEGIES: readonly ConflictStrategy[] = ['last-writer-wins', 'keep-both', 'local-priority', 'remote-priority']

export interface ConflictEntry {
  /** Hash of the two states: the same conflict seen twice is listed once. */
  readonly id: string
  readonly kind: 'note' | 'triple'
  /** Note key, or "subject predicate" for triples. */
  readonly key: string
  /** The state that stayed current (plain form). */
  readonly kept: Json
  /** The other state (plain form). */
  readonly other: Json
  readonly peer: string
  readonly detectedAt: string
}

const LOG_KEY = 'sync.conflicts'
/** Conflicts listed at most; the oldest are dropped first (their values are still in the log of the peer). */
export const MAX_CONFLICTS = 10_000

/** The keep-both conflict list, in the store's local metadata (not replicated). */
export class ConflictLog {
  private readonly store: Store

  constructor (store: Store) {
    this.store = store
  }

  list (): ConflictEntry[] {
    const raw = this.store.getMeta(LOG_KEY)
    return raw === undefined ? [] : JSON.parse(raw) as ConflictEntry[]
  }

  add (entries: readonly ConflictEntry[]): void {
    if (entries.length === 0) return
    const all = this.list()
    const ids = new Set(all.map(e => e.id))
    for (const e of entries) if (!ids.has(e.id)) { all.push(e); ids.add(e.id) }
    this.store.setMeta(LOG_KEY, JSON.stringify(all.slice(-MAX_CONFLICTS)))
  }

  remove (id: string): ConflictEntry | undefined {
    const all = this.list()
    const i = all.findIndex(e => e.id === id)
    if (i < 0) return undefined
    const [e] = all.splice(i, 1)
    this.store.setMeta(LOG_KEY, JSON.stringify(all))
    return e
  }
}

function entry (kind: 'note' | 'triple', key: string, kept: MemoryRecord, other: MemoryRecord, peer: string): ConflictEntry {
  const k = recordToPlain(kept)
  const o = recordToPlain(other)
  return { id: blake3Hex(canonicalJson([k, o])).slice(0, 32), kind, key, kept: k, other: o, peer, detectedAt: new Date().toISOString() }
}

const liveNote = (r: MemoryRecord): r is NoteRecord => r.kind === 'note' && !r.deleted

/**
 * One sync page's conflict handling. `prepare` rewrites the page before it is applied (adds the
 * deletions single-valued predicates call for, drops what local-priority refuses); `resolve` is
 * the per-record resolver for notes; `entries` are the conflicts to list (keep-both).
 */
export class ConflictPass {
  readonly strategy: ConflictStrategy
  readonly singleValued: ReadonlySet<string>
  readonly peer: string
  private readonly stampNow: () => Hlc
  count = 0
  readonly entries: ConflictEntry[] = []

  constructor (strategy: ConflictStrategy, singleValued: ReadonlySet<string>, peer: string, stampNow: () => Hlc) {
    this.strategy = strategy
    this.singleValued = singleValued
    this.peer = peer
    this.stampNow = stampNow
  }

  readonly resolve: ConflictResolver = (current, incoming) => {
    if (!liveNote(current) || !liveNote(incoming)) return null
    if (canonicalJson(current.value) === canonicalJson(incoming.value)) return null
    this.count++
    switch (this.strategy) {
      case 'last-writer-wins': return null
      case 'keep-both': {
        const incomingWins = compareRecords(incoming, current) > 0
        this.entries.push(entry('note', current.key, incomingWins ? incoming : current, incomingWins ? current : incoming, this.peer))
        return null
      }
      case 'local-priority': return current
      case 'remote-priority': return incoming
    }
  }

  /** Rewrites a checked page for single-valued predicates. */
  prepare (store: Store, page: readonly MemoryRecord[]): MemoryRecord[] {
    if (this.singleValued.size === 0) return [...page]
    const out: MemoryRecord[] = []
    const extra = new Map<string, TripleRecord>()
    for (const r of page) {
      if (r.kind !== 'triple' || r.deleted || !this.singleValued.has(r.predicate)) { out.push(r); continue }
      const locals = store.queryTriples({ subject: r.subject, predicate: r.predicate }, { limit: 1000, offset: 0 }).triples
        .filter(t => t.id !== r.id && !t.deleted)
      if (locals.length === 0) { out.push(r); continue }
      this.count += locals.length
      const key = `${r.subject} ${r.predicate}`
      switch (this.strategy) {
        case 'last-writer-wins': {
          // Every node deletes the same losers with the same stamp: the winner's.
          const all = [r, ...locals].sort((a, b) => compareHlc(b.hlc, a.hlc))
          const winner = all[0]!
          out.push(r)
          for (const loser of all.slice(1)) {
            const tomb: TripleRecord = { ...loser, hlc: winner.hlc, deleted: true }
            extra.set(loser.id, tomb)
          }
          break
        }
        case 'keep-both':
          out.push(r)
          for (const l of locals) this.entries.push(entry('triple', key, l, r, this.peer))
          break
        case 'local-priority':
          break
        case 'remote-priority': {
          out.push(r)
          for (const l of locals) extra.set(l.id, { ...l, hlc: this.stampNow(), deleted: true })
          break
        }
      }
    }
    // Deletions go last: a loser that is itself in this page is added, then deleted, in one transaction.
    return [...out, ...extra.values()]
  }
}
