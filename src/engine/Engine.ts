/**
 * The engine: the one write path of a node. Local writes are validated, stamped by the hybrid
 * logical clock, sealed (one signature per transaction, provenance/Provenance.ts) and merged
 * into the store in one transaction; records from outside pass the gate (signatures, who may
 * sign, revocations: provenance/RecordGate.ts) and the checks (shape, ids) and are merged the
 * same way. After each commit the engine emits 'change' with the feed entries that changed,
 * which live push and notifications listen to.
 *
 * Remote batches (docs/SYNC.md, core/knowledge.ts), all in the one transaction of the batch,
 * after the gate:
 * - records stamped further ahead of this node's clock than the drift guard allows are held
 *   aside with their seals (not merged, not observed by the clock, not served), never refused:
 *   the rest of the batch applies and the cursor moves; the clock work (ClockKeeper.ts) applies
 *   them once the clock reaches them;
 * - voids that came with the batch drop what they void from the held records;
 * - Rule A drops a triple or note that was deleted here and whose tombstone was collected;
 * - the sender's knowledge vector is learnt (NodeKnowledge).
 *
 * Reads go straight to the store.
 */
import { EventEmitter } from 'node:events'
import { INVALID_INPUT, NOT_FOUND } from '../core/errors.ts'
import { tripleId } from '../core/canonical.ts'
import { HybridClock, type HlcMark } from '../core/hlc.ts'
import { isTripleId, type NodeId, type TripleId } from '../core/ids.ts'
import { LIMITS } from '../core/limits.ts'
import { namespaceOf, type EpisodeRecord, type Json, type MemoryRecord, type NoteRecord, type TraceRecord, type TripleRecord } from '../core/model.ts'
import { makeTrace, validateEpisodeId, validateNoteKey } from '../core/records.ts'
import type { PageSeals } from '../core/seals.ts'
import { SYSTEM_NAMESPACE } from '../core/system.ts'
import { checkBatchSize, validateJson, validateJsonObject, validateString, validateTripleContent } from '../core/validate.ts'
import type { ApplyResult, FeedEntry, Store, TriplePattern } from '../store/Store.ts'
import { ClockKeeper, type HeldSummary } from './ClockKeeper.ts'
import type { ClockRepairResult } from './clockRepair.ts'
import { History } from './History.ts'
import { NodeKnowledge, type KnowledgeToSend } from './NodeKnowledge.ts'
import { Provenance, type ProvenanceOptions } from './provenance/Provenance.ts'
import { SystemWrites } from './provenance/SystemWrites.ts'
import { RemoteWrites, type RemoteApplyOptions, type RemoteApplyResult } from './RemoteWrites.ts'
import { TombstoneBudget } from './TombstoneBudget.ts'

export type { HeldSummary } from './ClockKeeper.ts'
export type { RemoteApplyOptions, RemoteApplyResult } from './RemoteWrites.ts'

export interface EngineOptions extends Pick<ProvenanceOptions, 'signer' | 'verifier' | 'requireSignatures' | 'revocationQuorum' | 'log'> {
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
  /** history.retentionDays in ms, read when a read of the past is asked. Default: 30 days. */
  readonly historyRetentionMs?: () => number
}

export interface ChangeEvent {
  readonly entries: readonly FeedEntry[]
  /** The peer the changes came from; absent for local writes. */
  readonly via?: NodeId
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
  /** Reads of the past and revert. */
  readonly history: History
  /** Signing, the gate for records from outside, known signers, revocations, node names. */
  readonly provenance: Provenance
  /** Held records, ticks, tombstone collection, the clock repair. */
  private readonly clockWork: ClockKeeper
  /** Records from outside. */
  private readonly remote: RemoteWrites
  private readonly systemWrites: SystemWrites
  private readonly onListenerError: (err: unknown) => void

  constructor (opts: EngineOptions) {
    super()
    this.onListenerError = opts.onListenerError ?? (e => { process.stderr.write(`engram: a change listener failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`) })
    this.store = opts.store
    this.node = opts.node
    this.clock = new HybridClock({ node: opts.node, maxDriftMs: opts.maxDriftMs, now: opts.now, initial: opts.store.clockMark() })
    this.tombstones = new TombstoneBudget(opts.unknownTombstonesPerMinute, opts.now)
    this.knowledge = new NodeKnowledge(opts.store, opts.node, this.clock.wallNow(), opts.ownHistoryElsewhere ?? false)
    const stamp = (): ReturnType<HybridClock['now']> => this.clock.now()
    const mark = (): HlcMark => this.clock.last
    const commit = (records: readonly MemoryRecord[]): void => { this.commit(records) }
    const notify = (result: ApplyResult): void => { this.notify(result, undefined) }
    this.history = new History({ store: opts.store, node: opts.node, stamp, mark, commit, retentionMs: opts.historyRetentionMs, now: opts.now })
    this.provenance = new Provenance({
      store: opts.store,
      self: opts.node,
      signer: opts.signer,
      verifier: opts.verifier,
      requireSignatures: opts.requireSignatures,
      revocationQuorum: opts.revocationQuorum,
      log: opts.log,
      now: opts.now
    })
    this.systemWrites = new SystemWrites({ store: opts.store, node: opts.node, provenance: this.provenance, stamp, mark, commit, notify, now: opts.now ?? Date.now })
    this.clockWork = new ClockKeeper({
      store: opts.store,
      node: opts.node,
      clock: this.clock,
      knowledge: this.knowledge,
      seal: (records, at) => this.provenance.seal(records, at),
      release: (records, seals, via, ids) => {
        if (via === undefined) this.remote.applyLocalStates(records, seals, {}, ids)
        else this.remote.applyRemoteBatch({ records, ...(seals !== undefined ? { seals } : {}) }, { records: [] }, { via }, this.clock.wallNow(), ids)
      },
      notify
    })
    this.remote = new RemoteWrites({
      store: opts.store,
      clock: this.clock,
      tombstones: this.tombstones,
      knowledge: this.knowledge,
      provenance: this.provenance,
      notify: (result, via) => { this.notify(result, via) },
      heldSummary: pt => this.clockWork.heldSummary(pt),
      announce: held => {
        try {
          this.emit('held', held)
        } catch (e) {
          this.onListenerError(e)
        }
      }
    })
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
   * Adds triples in one transaction, sealed. An add is a fresh assertion: every distinct triple
   * gets a new state with a new stamp, whether it was absent, deleted or present here, so it wins
   * over every delete this node has seen (the new stamp is larger than any stamp observed) and
   * over a delete made elsewhere before it in real time (given clocks in step). `created` counts
   * the triples that were not present here, `reasserted` those that were (re-stamped; the state
   * they replace goes to history like any replaced state).
   */
  assertTriples (inputs: readonly unknown[]): AddResult {
    checkBatchSize(inputs.length, 'triples batch')
    const single = inputs.length === 1
    const toWrite: TripleRecord[] = []
    const slot = new Map<string, number>()
    const slots: number[] = new Array<number>(inputs.length)
    for (let i = 0; i < inputs.length; i++) {
      const c = validateTripleContent(inputs[i], single ? 'triple' : `triples[${i}]`)
      notSystem(c.subject, single ? 'triple.subject' : `triples[${i}].subject`)
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
    const result = this.store.apply(toWrite, { clock: this.clock.last, seals: this.provenance.seal(toWrite, this.clock.last) })
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
    notSystem(c.subject, `${field}.subject`)
    const current = this.store.getTriple(id)
    if (current === undefined || current.deleted) throw NOT_FOUND('triple', id)
    const newId = tripleId(c)
    if (newId === id) return { replaced: current, triple: current }
    const tomb: TripleRecord = { ...current, hlc: this.clock.now(), deleted: true }
    const next: TripleRecord = { kind: 'triple', id: newId, subject: c.subject, predicate: c.predicate, object: c.object, hlc: this.clock.now(), deleted: false }
    this.commit([tomb, next])
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
    const k = notSystem(validateNoteKey(key), 'key')
    if (value === undefined) throw INVALID_INPUT('value', 'is required (any JSON value; use delete to remove a note)')
    validateJson(value, 'value', LIMITS.noteValueBytes)
    const rec: NoteRecord = { kind: 'note', key: k, value: value as Json, hlc: this.clock.now(), deleted: false }
    this.commit([rec])
    return rec
  }

  deleteNote (key: unknown): NoteRecord {
    const k = notSystem(validateNoteKey(key), 'key')
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
    const id = input.id === undefined ? `ep-${crypto.randomUUID()}` : notSystem(validateEpisodeId(input.id), 'id')
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
      const runId = notSystem(validateString(t.runId, `${f}runId`, LIMITS.traceNameBytes), `${f}runId`)
      const type = validateString(t.type, `${f}type`, LIMITS.traceNameBytes)
      if (t.data === undefined) throw INVALID_INPUT(`${f}data`, 'is required (any JSON value)')
      validateJson(t.data, `${f}data`, LIMITS.traceDataBytes)
      return makeTrace(runId, type, t.data as Json, this.clock.now())
    })
    this.commit(recs)
    return recs
  }

  // ---- provenance: names, revocations, signing old states (provenance/SystemWrites.ts) ----

  publishName (name: string): NoteRecord | undefined { return this.systemWrites.publishName(name) }
  revoke (target: unknown, opts: { after?: number, reason?: string } = {}): NoteRecord { return this.systemWrites.revoke(target, opts) }
  withdrawRevocation (target: unknown): NoteRecord { return this.systemWrites.withdrawRevocation(target) }
  sealOwnStates (onProgress?: (done: number) => void, batch?: number): Promise<number> { return this.systemWrites.sealOwnStates(onProgress, batch) }

  // ---- remote ----

  /**
   * Checks the signatures a page carries ahead of `applyChecked`, letting other work run between
   * batches (a carrier awaits it before applying a page; applyChecked then does not check again).
   */
  verifyAhead (records: readonly MemoryRecord[], seals: PageSeals | undefined): Promise<void> {
    return this.provenance.verifyAhead(records, seals)
  }

  /**
   * Checks and merges records from a peer in one transaction, advancing the peer's cursor in the
   * same transaction (RemoteWrites.ts).
   */
  applyRemote (inputs: readonly unknown[], opts: RemoteApplyOptions): RemoteApplyResult {
    return this.remote.applyRemote(inputs, opts)
  }

  /** Merges already-checked records from outside: the gate, the flood rule, held records (RemoteWrites.ts). */
  applyChecked (records: readonly MemoryRecord[], opts: RemoteApplyOptions): RemoteApplyResult {
    return this.remote.applyChecked(records, opts)
  }

  // ---- clock work (ClockKeeper.ts) ----

  /** The records held aside, per origin: how many, how far ahead, when they apply. */
  heldSummary (pt?: number): HeldSummary[] { return this.clockWork.heldSummary(pt) }
  /** Applies the held records the clock has reached; returns how many. */
  releaseDue (): number { return this.clockWork.releaseDue() }
  /** Drops held records void although they arrived after their void, of origins whose clock is `settled` (ClockKeeper.ts). */
  dropVoidedHeld (settled: (origin: NodeId) => boolean): number { return this.clockWork.dropVoidedHeld(settled) }
  /** Advances the persisted clock mark to the wall clock (at most once a second); returns the persisted mark. */
  tick (): HlcMark { return this.clockWork.tick() }
  /** What to send a peer with a page that reaches the end of the feed: ticks first. */
  knowledgeToSend (): KnowledgeToSend { return this.clockWork.knowledgeToSend() }
  /** Collects tombstones by Rule B, into history. */
  collectTombstones (ttlMs: number, goneMs: number): { removed: number, stable: HlcMark | undefined, gone: NodeId[] } {
    return this.clockWork.collectTombstones(ttlMs, goneMs)
  }

  /** Repairs a clock that ran ahead and was fixed; its re-stamped states signed. */
  repairClock (): ClockRepairResult | undefined { return this.clockWork.repairClock() }

  private commit (records: readonly MemoryRecord[]): void {
    if (records.length === 0) return
    this.notify(this.store.apply(records, { clock: this.clock.last, seals: this.provenance.seal(records, this.clock.last) }), undefined)
  }

  /**
   * Tells listeners about committed changes. A listener that throws cannot turn a committed
   * write into a failed one: its error goes to `onListenerError`.
   */
  private notify (result: ApplyResult, via: NodeId | undefined): void {
    if (result.changed.length === 0) return
    try {
      this.provenance.observe(result.changed)
    } catch (e) {
      this.onListenerError(e)
    }
    try {
      this.emit('change', via === undefined ? { entries: result.changed } : { entries: result.changed, via })
    } catch (e) {
      this.onListenerError(e)
    }
  }
}

/** Refuses a name in the system namespace (core/system.ts): engram writes it itself. */
function notSystem (name: string, field: string): string {
  if (namespaceOf(name) === SYSTEM_NAMESPACE) {
    throw INVALID_INPUT(field, `the ${SYSTEM_NAMESPACE} namespace is written by engram itself (node names, revocations); use another namespace`)
  }
  return name
}
