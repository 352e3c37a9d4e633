/**
 * The engine: the one write path of a node. Local writes are validated, stamped by the hybrid
 * logical clock, sealed (one signature per transaction, provenance/Provenance.ts) and merged
 * into the store in one transaction; remote records pass the gate (signatures, revocations:
 * provenance/RecordGate.ts) and the checks (shape, ids, clock drift) and are merged the same
 * way. After each commit the engine emits 'change' with the feed entries that changed, which
 * live push and notifications listen to.
 *
 * Reads go straight to the store.
 */
import { EventEmitter } from 'node:events'
import { INVALID_INPUT, NOT_FOUND } from '../core/errors.ts'
import { tripleId } from '../core/canonical.ts'
import { HybridClock, compareHlc } from '../core/hlc.ts'
import { isNodeId, isTripleId, type NodeId, type TripleId } from '../core/ids.ts'
import { LIMITS } from '../core/limits.ts'
import { namespaceOf, type EpisodeRecord, type Json, type MemoryRecord, type NoteRecord, type TraceRecord, type TripleRecord } from '../core/model.ts'
import { checkRecord, makeTrace, validateEpisodeId, validateNoteKey } from '../core/records.ts'
import type { PageSeals } from '../core/seals.ts'
import { MAX_NODE_NAME, MAX_REVOCATION_REASON, nameKey, nodeNameOf, revocationKey, SYSTEM_NAMESPACE } from '../core/system.ts'
import { checkBatchSize, validateJson, validateJsonObject, validateString, validateTripleContent } from '../core/validate.ts'
import type { ApplyOptions, ApplyResult, ApplySeals, ConflictResolver, FeedEntry, Store, TriplePattern } from '../store/Store.ts'
import { Provenance, type ProvenanceOptions } from './provenance/Provenance.ts'
import type { Refusal } from './provenance/RecordGate.ts'
import { History } from './History.ts'
import { TombstoneBudget } from './TombstoneBudget.ts'

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
  /** history.retentionDays in ms, read when a read of the past is asked. Default: 30 days. */
  readonly historyRetentionMs?: () => number
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
  /** The signatures the page carried (absent: its records are unsigned). */
  readonly seals?: PageSeals
  /**
   * States this node derives from what it holds (the expired-cursor rule, a conflict strategy's
   * deletions): not checked by the gate, and signed by this node (a derived deletion may carry
   * another node's stamp: core/signing.ts maySign).
   */
  readonly derived?: boolean
}

export interface RemoteApplyResult extends ApplyResult {
  /** Records the gate refused (not written). */
  readonly refused: readonly Refusal[]
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
  /** Reads of the past and revert. */
  readonly history: History
  /** Signing, the gate for records from outside, known signers, revocations, node names. */
  readonly provenance: Provenance
  private readonly onListenerError: (err: unknown) => void
  private readonly wallClock: () => number

  constructor (opts: EngineOptions) {
    super()
    this.onListenerError = opts.onListenerError ?? (e => { process.stderr.write(`engram: a change listener failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`) })
    this.store = opts.store
    this.node = opts.node
    this.wallClock = opts.now ?? Date.now
    this.clock = new HybridClock({ node: opts.node, maxDriftMs: opts.maxDriftMs, now: opts.now, initial: opts.store.clockMark() })
    this.tombstones = new TombstoneBudget(opts.unknownTombstonesPerMinute, opts.now)
    this.history = new History({
      store: opts.store,
      node: opts.node,
      stamp: () => this.clock.now(),
      mark: () => this.clock.last,
      commit: records => this.commit(records),
      retentionMs: opts.historyRetentionMs,
      now: opts.now
    })
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
  }

  // ---- triples ----

  /**
   * Adds triples in one transaction. A triple that is already present keeps its stamp (adding it
   * again changes nothing); one that was deleted is added back with a new stamp. Returns each
   * input's triple as stored, in input order.
   *
   * Every distinct input is stamped and handed to the store with `keepLive`, which keeps a triple
   * that is live there unchanged; the store reads each id once, inside the transaction. (A stamp
   * issued for a triple that turns out to be present is simply never used.)
   */
  addTriples (inputs: readonly unknown[]): TripleRecord[] {
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
    if (toWrite.length === 0) return []
    const result = this.store.apply(toWrite, { clock: this.clock.last, keepLive: true, seals: this.provenance.seal(toWrite, this.clock.last) })
    // `changed` lists, in input order, the triples written; the others were live already.
    const stored: TripleRecord[] = new Array<TripleRecord>(toWrite.length)
    let j = 0
    for (let k = 0; k < toWrite.length; k++) {
      const entry = result.changed[j]
      if (entry !== undefined && (entry.record as TripleRecord).id === toWrite[k]!.id) {
        stored[k] = entry.record as TripleRecord
        j++
      } else {
        stored[k] = this.store.getTriple(toWrite[k]!.id)!
      }
    }
    this.notify(result, undefined)
    return slots.map(k => stored[k]!)
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
   * added — kept as it is when it is live already. Replacing a triple by itself changes nothing.
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
    this.notify(this.store.apply([tomb, next], { clock: this.clock.last, keepLive: true }), undefined)
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

  // ---- provenance: names, revocations, signing old states ----

  /** Publishes this node's name (a signed system note), when it is not the one published already. */
  publishName (name: string): NoteRecord | undefined {
    if (name.length < 1 || name.length > MAX_NODE_NAME) throw INVALID_INPUT('node.name', `must be 1 to ${MAX_NODE_NAME} characters`)
    const current = this.store.getNote(nameKey(this.node))
    if (current !== undefined && !current.deleted && nodeNameOf(current.value) === name && current.hlc.node === this.node) return undefined
    const rec: NoteRecord = { kind: 'note', key: nameKey(this.node), value: { name }, hlc: this.clock.now(), deleted: false }
    this.commit([rec])
    return rec
  }

  /**
   * Revokes `target`: records it stamped at or after `after` (default: now) are refused by every
   * node that honors the revocation (provenance/Revocations.ts). A signed, synced system note.
   */
  revoke (target: unknown, opts: { after?: number, reason?: string } = {}): NoteRecord {
    if (!isNodeId(target)) throw INVALID_INPUT('node', 'must be a node id')
    if (target === this.node) throw INVALID_INPUT('node', 'is this node: a node cannot revoke itself (revoke it from another node)')
    const after = opts.after ?? this.wallClock()
    if (!Number.isSafeInteger(after) || after < 0) throw INVALID_INPUT('after', 'must be a time')
    if (opts.reason !== undefined && opts.reason.length > MAX_REVOCATION_REASON) throw INVALID_INPUT('reason', `must be at most ${MAX_REVOCATION_REASON} characters`)
    const value: Json = opts.reason === undefined ? { after } : { after, reason: opts.reason }
    const rec: NoteRecord = { kind: 'note', key: revocationKey(target, this.node), value, hlc: this.clock.now(), deleted: false }
    this.commit([rec])
    return rec
  }

  /** Withdraws this node's revocation of `target`. Throws NOT_FOUND when it issued none. */
  withdrawRevocation (target: unknown): NoteRecord {
    if (!isNodeId(target)) throw INVALID_INPUT('node', 'must be a node id')
    const key = revocationKey(target, this.node)
    const current = this.store.getNote(key)
    if (current === undefined || current.deleted) throw NOT_FOUND('revocation by this node of', target)
    const rec: NoteRecord = { kind: 'note', key, value: null, hlc: this.clock.now(), deleted: true }
    this.commit([rec])
    return rec
  }

  /**
   * Signs this node's own states written before it signed (the migration of docs/DATA-MODEL.md):
   * in transactions of `batch` states, each re-written with its signature (same state, new seq),
   * yielding to the event loop between them. Returns how many were signed.
   */
  async sealOwnStates (onProgress?: (done: number) => void, batch: number = LIMITS.batchRecords): Promise<number> {
    if (this.provenance.signer === undefined) return 0
    let done = 0
    for (let guard = 0; guard < 1_000_000; guard++) {
      const states = this.store.unsealed(this.node, batch)
      if (states.length === 0) break
      const result = this.store.apply(states, { clock: this.clock.last, seals: this.provenance.seal(states, this.clock.last) })
      if (result.changed.length === 0) break
      done += result.changed.length
      this.notify(result, undefined)
      onProgress?.(done)
      await new Promise(resolve => setImmediate(resolve))
    }
    return done
  }

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
   * same transaction. Every record is checked first (shape, content id, clock drift); if any
   * fails, nothing is written and the error is thrown, so a cursor never moves past a record
   * that was not applied.
   */
  applyRemote (inputs: readonly unknown[], opts: RemoteApplyOptions): RemoteApplyResult {
    return this.applyChecked(inputs.map((r, i) => checkRecord(r, `records[${i}]`)), opts)
  }

  /**
   * Merges already-checked records (the caller ran checkRecord). Records from outside pass the
   * gate first (signatures, revocations): a record it refuses is left out — counted, logged,
   * listed in the same transaction — and the rest of the page goes on. Records from a peer
   * (`via`) then pass the drift guard (HLC_DRIFT) and the tombstone flood rule (RATE_LIMITED); a
   * page refused by either changes nothing, the clock included.
   */
  applyChecked (records: readonly MemoryRecord[], opts: RemoteApplyOptions): RemoteApplyResult {
    let page = records
    let seals: ApplySeals | undefined
    let refused: readonly Refusal[] = []
    if (opts.derived !== true) {
      const admitted = this.provenance.admit(records, opts.seals, opts.via)
      page = admitted.accepted
      seals = admitted.seals
      refused = admitted.refused
    }
    // The largest stamp of the page decides both the drift check and the clock update, so the
    // clock is checked against one reading and left unchanged when the page is refused.
    let newest: MemoryRecord['hlc'] | undefined
    for (const r of page) if (newest === undefined || compareHlc(r.hlc, newest) > 0) newest = r.hlc
    if (newest !== undefined) this.clock.check(newest, opts.via)
    if (opts.via !== undefined) this.tombstones.charge(opts.via, page, this.store)
    if (newest !== undefined) this.clock.observe(newest, opts.via)
    if (opts.derived === true) seals = this.provenance.seal(page, this.clock.last)
    const listed = refused.length === 0 ? undefined : this.provenance.refusals.writes(refused, opts.via)
    const meta = listed === undefined ? opts.meta : () => [...(opts.meta?.() ?? []), ...listed]
    const result = this.store.apply(page, { clock: this.clock.last, via: opts.via, cursor: opts.cursor, resolve: opts.resolve, meta, seals })
    this.notify(result, opts.via)
    return { ...result, refused }
  }

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
