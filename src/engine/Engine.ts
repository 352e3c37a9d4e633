/**
 * The engine: the one write path of a node. Local writes are validated, stamped by the hybrid
 * logical clock and merged into the store in one transaction; remote records are checked
 * (shape, ids, clock drift) and merged the same way. After each commit the engine emits
 * 'change' with the feed entries that changed, which live push and notifications listen to.
 *
 * Reads go straight to the store.
 */
import { EventEmitter } from 'node:events'
import { INVALID_INPUT, NOT_FOUND } from '../core/errors.ts'
import { tripleId } from '../core/canonical.ts'
import { HybridClock, compareHlc } from '../core/hlc.ts'
import { isTripleId, type NodeId, type TripleId } from '../core/ids.ts'
import { LIMITS } from '../core/limits.ts'
import type { EpisodeRecord, Json, MemoryRecord, NoteRecord, TraceRecord, TripleRecord } from '../core/model.ts'
import { checkRecord, makeTrace, validateEpisodeId, validateNoteKey } from '../core/records.ts'
import { checkBatchSize, validateJson, validateJsonObject, validateString, validateTripleContent } from '../core/validate.ts'
import type { ApplyOptions, ApplyResult, ConflictResolver, FeedEntry, Store, TriplePattern } from '../store/Store.ts'
import { TombstoneBudget } from './TombstoneBudget.ts'

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
}

export class Engine extends EventEmitter<EngineEvents> {
  readonly store: Store
  readonly node: NodeId
  readonly clock: HybridClock
  /** The tombstone flood rule for records from peers. */
  readonly tombstones: TombstoneBudget
  private readonly onListenerError: (err: unknown) => void

  constructor (opts: EngineOptions) {
    super()
    this.onListenerError = opts.onListenerError ?? (e => { process.stderr.write(`engram: a change listener failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`) })
    this.store = opts.store
    this.node = opts.node
    this.clock = new HybridClock({ node: opts.node, maxDriftMs: opts.maxDriftMs, now: opts.now, initial: opts.store.clockMark() })
    this.tombstones = new TombstoneBudget(opts.unknownTombstonesPerMinute, opts.now)
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
   * pass the drift guard (HLC_DRIFT) and the tombstone flood rule (RATE_LIMITED) first; a page
   * refused by either changes nothing, the clock included.
   */
  applyChecked (records: readonly MemoryRecord[], opts: RemoteApplyOptions): ApplyResult {
    // The largest stamp of the page decides both the drift check and the clock update, so the
    // clock is checked against one reading and left unchanged when the page is refused.
    let newest: MemoryRecord['hlc'] | undefined
    for (const r of records) if (newest === undefined || compareHlc(r.hlc, newest) > 0) newest = r.hlc
    if (newest !== undefined) this.clock.check(newest, opts.via)
    if (opts.via !== undefined) this.tombstones.charge(opts.via, records, this.store)
    if (newest !== undefined) this.clock.observe(newest, opts.via)
    const result = this.store.apply(records, { clock: this.clock.last, via: opts.via, cursor: opts.cursor, resolve: opts.resolve, meta: opts.meta })
    this.notify(result, opts.via)
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
