/**
 * The engine: the one write path of a node. Local writes are validated, stamped by the hybrid
 * logical clock and merged into the store in one transaction; remote records are checked
 * (shape, ids) and merged the same way. After each commit the engine emits 'change' with the
 * feed entries that changed, which live push and notifications listen to.
 *
 * Remote batches (docs/SYNC.md, core/knowledge.ts), all in the one transaction of the batch:
 * - records stamped further ahead of this node's clock than the drift guard allows are held
 *   aside (not merged, not observed by the clock, not served), never refused: the rest of the
 *   batch applies and the cursor moves; `releaseDue` applies them once the clock reaches them;
 * - voids that came with the batch drop what they void from the held records;
 * - Rule A drops a triple or note that was deleted here and whose tombstone was collected;
 * - the sender's knowledge vector is learnt (NodeKnowledge).
 * Tombstones are collected by Rule B (`collectTombstones`); `repairClock` repairs a clock that
 * ran ahead and was fixed (clockRepair.ts).
 *
 * Reads go straight to the store.
 */
import { EventEmitter } from 'node:events'
import { INVALID_INPUT, NOT_FOUND } from '../core/errors.ts'
import { tripleId } from '../core/canonical.ts'
import { HybridClock, compareHlc, type HlcMark } from '../core/hlc.ts'
import { isTripleId, type NodeId, type TripleId } from '../core/ids.ts'
import { goneMembers, type ClockVoid, type SentKnowledgeEntry } from '../core/knowledge.ts'
import { LIMITS } from '../core/limits.ts'
import type { EpisodeRecord, Json, MemoryRecord, NoteRecord, TraceRecord, TripleRecord } from '../core/model.ts'
import { checkRecord, makeTrace, validateEpisodeId, validateNoteKey } from '../core/records.ts'
import { checkBatchSize, validateJson, validateJsonObject, validateString, validateTripleContent } from '../core/validate.ts'
import type { ApplyOptions, ApplyResult, ConflictResolver, FeedEntry, HeldRecord, Store, TriplePattern } from '../store/Store.ts'
import { repairClock, type ClockRepairResult } from './clockRepair.ts'
import { NodeKnowledge, type KnowledgeToSend } from './NodeKnowledge.ts'
import { TombstoneBudget } from './TombstoneBudget.ts'

/** How far the persisted clock mark may lag the wall clock before a tick writes it (ms). */
const TICK_MS = 1000

export interface EngineOptions {
  readonly store: Store
  readonly node: NodeId
  /** Largest drift ahead of local time accepted from a remote stamp. */
  readonly maxDriftMs: number
  /** Wall clock (tests inject one). */
  readonly now?: () => number
  /** Receives errors thrown by 'change' listeners (default: printed to stderr). */
  readonly onListenerError?: (err: unknown) => void
  /** Deletions of records this node never held that one peer may send per minute (TombstoneBudget.ts). Default 50,000. */
  readonly unknownTombstonesPerMinute?: number
  /**
   * Whether this node's identity may have written states this store never held: its identity is
   * older than its store (a recreated data directory). Such a store, while empty, asks its peers
   * for its own history (NodeKnowledge.ts). Default false: the store holds its whole history.
   */
  readonly ownHistoryElsewhere?: boolean
}

export interface ChangeEvent {
  readonly entries: readonly FeedEntry[]
  /** The peer the changes came from; absent for local writes. */
  readonly via?: NodeId
}

export interface RemoteApplyOptions {
  /** The peer the records came from; absent for states this node makes itself (served to every peer). */
  readonly via?: NodeId
  readonly cursor?: { readonly peer: NodeId, readonly seq: number }
  readonly resolve?: ConflictResolver
  /** Local metadata written in the same transaction (Store ApplyOptions.meta). */
  readonly meta?: ApplyOptions['meta']
  /** The records are fetched again if a power cut loses them (Store ApplyOptions.refetchable). */
  readonly refetchable?: boolean
  /**
   * The sender's knowledge vector, sent with a page that reached the end of its feed (learnt
   * with the cursor, core/knowledge.ts). Only with `cursor`: a batch without one teaches nothing.
   */
  readonly knowledge?: readonly SentKnowledgeEntry[]
  /** The clock voids the sender knows, applied before the records. */
  readonly voids?: readonly ClockVoid[]
  /**
   * The batch ends a snapshot of the sender's feed (nothing left out) that came with its vector:
   * this node now holds its own states the sender held (NodeKnowledge, "its own history").
   */
  readonly endsSnapshot?: boolean
}

/** Records held aside from one origin, for status and logs. */
export interface HeldSummary {
  readonly node: NodeId
  readonly count: number
  /** How far ahead of this node's clock the newest is, ms. */
  readonly aheadMs: number
  /** When the first of them applies (ms since the epoch): its stamp minus the drift allowed. */
  readonly appliesAt: number
}

/** What an add did: the triples as stored (in input order), and how many were new here. */
export interface AddResult {
  readonly triples: TripleRecord[]
  /** Distinct triples that were not present here (absent or deleted). */
  readonly created: number
  /** Distinct triples that were present here and were asserted again (re-stamped). */
  readonly reasserted: number
}

export interface EngineEvents {
  change: [ChangeEvent]
  /** Records of an origin were held aside (its first ones, or more of them). */
  held: [HeldSummary]
}

export class Engine extends EventEmitter<EngineEvents> {
  readonly store: Store
  readonly node: NodeId
  readonly clock: HybridClock
  /** The tombstone flood rule for records from peers. */
  readonly tombstones: TombstoneBudget
  /** What this node knows and holds aside. */
  readonly knowledge: NodeKnowledge
  private readonly onListenerError: (err: unknown) => void
  private readonly now: () => number

  constructor (opts: EngineOptions) {
    super()
    this.onListenerError = opts.onListenerError ?? (e => { process.stderr.write(`engram: a change listener failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`) })
    this.store = opts.store
    this.node = opts.node
    this.clock = new HybridClock({ node: opts.node, maxDriftMs: opts.maxDriftMs, now: opts.now, initial: opts.store.clockMark() })
    this.tombstones = new TombstoneBudget(opts.unknownTombstonesPerMinute, opts.now)
    this.now = opts.now ?? Date.now
    this.knowledge = new NodeKnowledge(opts.store, opts.node, this.clock.wallNow(), opts.ownHistoryElsewhere ?? false)
  }

  // ---- triples ----

  /**
   * Adds triples in one transaction; returns each input's triple as stored, in input order.
   * See assertTriples.
   */
  addTriples (inputs: readonly unknown[]): TripleRecord[] {
    return this.assertTriples(inputs).triples
  }

  /**
   * Adds triples in one transaction. An add is a fresh assertion: every distinct triple gets a
   * new state with a new stamp, whether it was absent, deleted or present here, so it wins over
   * every delete this node has seen (the new stamp is larger than any stamp observed) and over a
   * delete made elsewhere before it in real time (given clocks in step). `created` counts the
   * triples that were not present here, `reasserted` those that were (re-stamped).
   */
  assertTriples (inputs: readonly unknown[]): AddResult {
    checkBatchSize(inputs.length, 'triples batch')
    const single = inputs.length === 1
    const toWrite: TripleRecord[] = []
    const slot = new Map<string, number>()
    const slots: number[] = new Array<number>(inputs.length)
    for (let i = 0; i < inputs.length; i++) {
      const c = validateTripleContent(inputs[i], single ? 'triple' : `triples[${i}]`)
      const id = tripleId(c)
      let k = slot.get(id)
      if (k === undefined) {
        k = toWrite.length
        slot.set(id, k)
        toWrite.push({ kind: 'triple', id, subject: c.subject, predicate: c.predicate, object: c.object, hlc: this.clock.now(), deleted: false })
      }
      slots[i] = k
    }
    if (toWrite.length === 0) return { triples: [], created: 0, reasserted: 0 }
    // Each stamp is larger than every state stored here (the clock has seen them all), so every
    // triple is written; one that were not would be returned as stored.
    const result = this.store.apply(toWrite, { clock: this.clock.last })
    this.notify(result, undefined)
    const stored = result.changed.length === toWrite.length ? toWrite : toWrite.map(t => this.store.getTriple(t.id) ?? t)
    const created = result.changed.length - result.replacedLive
    return { triples: slots.map(k => stored[k]!), created, reasserted: result.replacedLive }
  }

  /** Deletes one triple (a tombstone). Throws NOT_FOUND when it is absent or already deleted. */
  deleteTriple (id: string): TripleRecord {
    if (!isTripleId(id)) throw INVALID_INPUT('id', 'must be a triple id: 64 lowercase hex digits')
    const current = this.store.getTriple(id)
    if (current === undefined || current.deleted) throw NOT_FOUND('triple', id)
    const tomb = { ...current, hlc: this.clock.now(), deleted: true }
    this.commit([tomb])
    return tomb
  }

  /**
   * Replaces a live triple by another in one transaction (an edit: a triple is known by its
   * content, so an edited triple is a new one): the old one gets a tombstone, the new one is
   * added — asserted again with a new stamp when it is live already, as an add is (re-add means
   * present). Replacing a triple by itself changes nothing.
   * Throws NOT_FOUND when the old one is absent or deleted; nothing is written on any error.
   */
  replaceTriple (id: string, input: unknown, field = 'triple'): { replaced: TripleRecord, triple: TripleRecord } {
    if (!isTripleId(id)) throw INVALID_INPUT('id', 'must be a triple id: 64 lowercase hex digits')
    const c = validateTripleContent(input, field)
    const current = this.store.getTriple(id)
    if (current === undefined || current.deleted) throw NOT_FOUND('triple', id)
    const newId = tripleId(c)
    if (newId === id) return { replaced: current, triple: current }
    const tomb: TripleRecord = { ...current, hlc: this.clock.now(), deleted: true }
    const next: TripleRecord = { kind: 'triple', id: newId, subject: c.subject, predicate: c.predicate, object: c.object, hlc: this.clock.now(), deleted: false }
    this.notify(this.store.apply([tomb, next], { clock: this.clock.last }), undefined)
    return { replaced: tomb, triple: this.store.getTriple(newId)! }
  }

  /** Deletes every live triple matching the pattern (at least one field required), in one transaction. */
  deleteTriples (pattern: TriplePattern): TripleRecord[] {
    if (pattern.subject === undefined && pattern.predicate === undefined && pattern.object === undefined && pattern.namespace === undefined) {
      throw INVALID_INPUT('pattern', 'name at least one of subject, predicate, object, namespace (deleting everything is not allowed)')
    }
    const { triples } = this.store.queryTriples({ ...pattern, includeDeleted: false }, { limit: Number.MAX_SAFE_INTEGER, offset: 0 })
    const tombs = triples.map(t => ({ ...t, hlc: this.clock.now(), deleted: true }))
    for (let i = 0; i < tombs.length; i += LIMITS.batchRecords) this.commit(tombs.slice(i, i + LIMITS.batchRecords))
    return tombs
  }

  getTriple (id: TripleId): TripleRecord | undefined {
    const t = this.store.getTriple(id)
    return t?.deleted === true ? undefined : t
  }

  // ---- notes ----

  setNote (key: unknown, value: unknown): NoteRecord {
    const k = validateNoteKey(key)
    if (value === undefined) throw INVALID_INPUT('value', 'is required (any JSON value; use delete to remove a note)')
    validateJson(value, 'value', LIMITS.noteValueBytes)
    const rec: NoteRecord = { kind: 'note', key: k, value: value as Json, hlc: this.clock.now(), deleted: false }
    this.commit([rec])
    return rec
  }

  deleteNote (key: unknown): NoteRecord {
    const k = validateNoteKey(key)
    const current = this.store.getNote(k)
    if (current === undefined || current.deleted) throw NOT_FOUND('note', k)
    const rec: NoteRecord = { kind: 'note', key: k, value: null, hlc: this.clock.now(), deleted: true }
    this.commit([rec])
    return rec
  }

  getNote (key: string): NoteRecord | undefined {
    const n = this.store.getNote(key)
    return n?.deleted === true ? undefined : n
  }

  // ---- episodes ----

  /** Creates or updates an episode (the id is generated when absent). */
  putEpisode (input: { id?: unknown, data: unknown }): EpisodeRecord {
    const id = input.id === undefined ? `ep-${crypto.randomUUID()}` : validateEpisodeId(input.id)
    const data = validateJsonObject(input.data, 'data', LIMITS.episodeBytes)
    const rec: EpisodeRecord = { kind: 'episode', id, data, hlc: this.clock.now() }
    this.commit([rec])
    return rec
  }

  // ---- traces ----

  appendTraces (inputs: readonly { runId: unknown, type: unknown, data: unknown }[]): TraceRecord[] {
    checkBatchSize(inputs.length, 'traces batch')
    const recs = inputs.map((t, i) => {
      const f = inputs.length === 1 ? '' : `traces[${i}].`
      const runId = validateString(t.runId, `${f}runId`, LIMITS.traceNameBytes)
      const type = validateString(t.type, `${f}type`, LIMITS.traceNameBytes)
      if (t.data === undefined) throw INVALID_INPUT(`${f}data`, 'is required (any JSON value)')
      validateJson(t.data, `${f}data`, LIMITS.traceDataBytes)
      return makeTrace(runId, type, t.data as Json, this.clock.now())
    })
    this.commit(recs)
    return recs
  }

  // ---- remote ----

  /**
   * Checks and merges records from a peer in one transaction, advancing the peer's cursor in the
   * same transaction. Every record is checked first (shape, content id, clock drift); if any
   * fails, nothing is written and the error is thrown, so a cursor never moves past a record
   * that was not applied.
   */
  applyRemote (inputs: readonly unknown[], opts: RemoteApplyOptions): ApplyResult {
    return this.applyChecked(inputs.map((r, i) => checkRecord(r, `records[${i}]`)), opts)
  }

  /**
   * Merges already-checked records (the caller ran checkRecord). Records from a peer (`via`)
   * pass the tombstone flood rule first (RATE_LIMITED: the batch changes nothing, the clock
   * included); those stamped too far ahead are held aside; voids, Rule A and the knowledge the
   * batch teaches apply in its transaction (see the file comment).
   */
  applyChecked (records: readonly MemoryRecord[], opts: RemoteApplyOptions): ApplyResult {
    if (opts.via === undefined) return this.applyLocalStates(records, opts)
    this.tombstones.charge(opts.via, records, this.store)
    const pt = this.clock.wallNow()
    const apply: MemoryRecord[] = []
    const hold: MemoryRecord[] = []
    for (const r of records) (this.clock.isTooFarAhead(r.hlc, pt) ? hold : apply).push(r)
    return this.applyRemoteBatch(apply, hold, opts, pt, [])
  }

  /** A batch from a peer, split into records to apply and records to hold aside. */
  private applyRemoteBatch (apply: readonly MemoryRecord[], hold: readonly MemoryRecord[], opts: RemoteApplyOptions, pt: number, release: readonly number[]): ApplyResult {
    const voids = this.knowledge.newVoids(opts.voids)
    const known = this.knowledge.known(this.clock.last, voids)
    const learn = opts.cursor !== undefined ? this.knowledge.toLearn(opts.knowledge, voids, hold) : []
    // A peer's whole feed applied, with its vector: this node holds its own states that peer held.
    const completes = opts.endsSnapshot === true && opts.knowledge !== undefined ? this.knowledge.completesOwnHistory() : []
    const meta = completes.length === 0 ? opts.meta : () => [...(opts.meta?.() ?? []), ...completes]
    let newest: MemoryRecord['hlc'] | undefined
    for (const r of apply) if (newest === undefined || compareHlc(r.hlc, newest) > 0) newest = r.hlc
    // Every record to apply is within the drift guard, so observing cannot fail.
    if (newest !== undefined) this.clock.observe(newest, opts.via)
    const result = this.store.apply(apply, {
      clock: this.clock.last,
      via: opts.via,
      cursor: opts.cursor,
      resolve: opts.resolve,
      meta,
      known,
      ...(opts.refetchable === true ? { refetchable: true } : {}),
      ...(learn.length > 0 ? { learn } : {}),
      ...(voids.length > 0 ? { voids } : {}),
      ...(hold.length > 0 ? { hold: { records: hold, at: pt } } : {}),
      ...(release.length > 0 ? { release } : {})
    })
    if (completes.length > 0) this.knowledge.ownHistoryCompleted()
    if (learn.length > 0 || voids.length > 0) this.knowledge.reload()
    else if (hold.length > 0 || release.length > 0) this.knowledge.reloadHeld()
    this.notify(result, opts.via)
    if (result.held > 0) this.announceHeld(hold, pt)
    return result
  }

  /** States this node makes itself (conflict strategies, the expired-cursor rule): merged like local writes. */
  private applyLocalStates (records: readonly MemoryRecord[], opts: RemoteApplyOptions): ApplyResult {
    let newest: MemoryRecord['hlc'] | undefined
    for (const r of records) if (newest === undefined || compareHlc(r.hlc, newest) > 0) newest = r.hlc
    if (newest !== undefined) this.clock.observe(newest)
    const result = this.store.apply(records, { clock: this.clock.last, cursor: opts.cursor, resolve: opts.resolve, meta: opts.meta })
    this.notify(result, undefined)
    return result
  }

  private announceHeld (hold: readonly MemoryRecord[], pt: number): void {
    const origins = new Set(hold.map(r => r.hlc.node))
    for (const o of this.heldSummary(pt)) {
      if (!origins.has(o.node)) continue
      try {
        this.emit('held', o)
      } catch (e) {
        this.onListenerError(e)
      }
    }
  }

  /** The records held aside, per origin: how many, how far ahead, when they apply. */
  heldSummary (pt: number = this.clock.wallNow()): HeldSummary[] {
    return this.knowledge.held().map(o => ({ node: o.node, count: o.count, aheadMs: o.max.wall - pt, appliesAt: o.min.wall - this.clock.maxDriftMs }))
  }

  /**
   * Applies the held records the clock has reached (stamped within the drift guard now), each
   * through the same path as a batch from the peer it came from, without moving any cursor.
   * Returns how many were released.
   */
  releaseDue (): number {
    let released = 0
    for (let round = 0; round < 1000; round++) {
      const pt = this.clock.wallNow()
      const minWall = this.knowledge.heldMinWall()
      if (minWall === undefined || minWall > pt + this.clock.maxDriftMs) return released
      const due = this.store.held({ limit: 1000, upToWall: pt + this.clock.maxDriftMs })
      if (due.length === 0) { this.knowledge.reloadHeld(); return released }
      const byVia = new Map<NodeId | undefined, HeldRecord[]>()
      for (const h of due) {
        let list = byVia.get(h.via)
        if (list === undefined) byVia.set(h.via, list = [])
        list.push(h)
      }
      for (const [via, list] of byVia) {
        const recs = list.map(h => h.record)
        const ids = list.map(h => h.id)
        if (via === undefined) this.applyHeldLocal(recs, ids)
        else this.applyRemoteBatch(recs, [], { via }, pt, ids)
        released += list.length
      }
    }
    return released
  }

  private applyHeldLocal (records: readonly MemoryRecord[], ids: readonly number[]): void {
    let newest: MemoryRecord['hlc'] | undefined
    for (const r of records) if (newest === undefined || compareHlc(r.hlc, newest) > 0) newest = r.hlc
    if (newest !== undefined) this.clock.observe(newest)
    this.notify(this.store.apply(records, { clock: this.clock.last, release: ids }), undefined)
    this.knowledge.reloadHeld()
  }

  /**
   * Advances the clock's persisted mark to the wall clock when it is more than a second behind
   * it (a "tick"), so an idle node's own knowledge entry keeps moving and its peers can collect
   * tombstones (Rule B); at most one store write a second. Returns the persisted mark (the
   * entry this node advertises for itself: only persisted marks are advertised).
   */
  tick (): HlcMark {
    const pt = this.clock.wallNow()
    const persisted = this.store.clockMark()
    if (pt - persisted.wall < TICK_MS) return persisted
    if (pt > this.clock.last.wall) this.clock.advanceTo({ wall: pt, counter: 0 })
    this.store.apply([], { clock: this.clock.last })
    return this.store.clockMark()
  }

  /** What to send a peer with a page that reaches the end of the feed: ticks first. */
  knowledgeToSend (): KnowledgeToSend {
    return this.knowledge.toSend(this.tick())
  }

  /**
   * Collects tombstones older than `ttlMs` that every member that is not gone (no news of it
   * for `goneMs`, core/knowledge.ts stableMark) knows past. Returns how many, the stable mark,
   * and the members declared gone.
   */
  collectTombstones (ttlMs: number, goneMs: number): { removed: number, stable: HlcMark | undefined, gone: NodeId[] } {
    const now = this.clock.wallNow()
    const stable = this.knowledge.stable(now, goneMs)
    const removed = this.store.collectTombstones(Math.max(0, Math.floor(now - ttlMs)), stable)
    return { removed, stable, gone: goneMembers(this.knowledge.list(), this.node, now, goneMs) }
  }

  /**
   * Repairs the clock after a wall clock that ran ahead was fixed (clockRepair.ts): the caller
   * has checked that this node's wall clock agrees with its peers'. Undefined when the persisted
   * mark is not ahead of the wall clock by more than the drift guard.
   */
  repairClock (): ClockRepairResult | undefined {
    const result = repairClock({ store: this.store, clock: this.clock, node: this.node, voidOf: n => this.knowledge.voidOf(n) })
    if (result === undefined) return undefined
    this.knowledge.reload()
    this.notify(result.applied, undefined)
    return result
  }

  private commit (records: readonly MemoryRecord[]): void {
    if (records.length === 0) return
    this.notify(this.store.apply(records, { clock: this.clock.last }), undefined)
  }

  /**
   * Tells listeners about committed changes. A listener that throws cannot turn a committed
   * write into a failed one: its error goes to `onListenerError`.
   */
  private notify (result: ApplyResult, via: NodeId | undefined): void {
    if (result.changed.length === 0) return
    try {
      this.emit('change', via === undefined ? { entries: result.changed } : { entries: result.changed, via })
    } catch (e) {
      this.onListenerError(e)
    }
  }
}
