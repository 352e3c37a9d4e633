/**
 * Records from outside, the engine's remote write path (docs/SYNC.md, docs/SECURITY.md "Signed
 * records"): every record first passes the gate (provenance/RecordGate.ts: signature, who may
 * sign, revocations; refusals counted, logged and listed in the page's transaction), unless this
 * node derived it (then this node signs it). Records from a peer (`via`) then pass the tombstone
 * flood rule; those stamped too far ahead of this node's clock are held aside with their seals
 * (ClockKeeper.ts releases them, not checked again); the batch's voids, Rule A and the knowledge
 * it teaches apply in its one transaction. Records that came through no peer (an import, a
 * conflict strategy's deletions) are merged like local writes, the drift guard checked.
 */
import { compareHlc, type HybridClock } from '../core/hlc.ts'
import type { NodeId } from '../core/ids.ts'
import type { ClockVoid, SentKnowledgeEntry } from '../core/knowledge.ts'
import type { MemoryRecord } from '../core/model.ts'
import { checkRecord } from '../core/records.ts'
import type { PageSeals } from '../core/seals.ts'
import type { ApplyOptions, ApplyResult, ApplySeals, ConflictResolver, Store } from '../store/Store.ts'
import type { HeldSummary } from './ClockKeeper.ts'
import type { NodeKnowledge } from './NodeKnowledge.ts'
import type { Provenance } from './provenance/Provenance.ts'
import type { Refusal } from './provenance/RecordGate.ts'
import type { TombstoneBudget } from './TombstoneBudget.ts'

export interface RemoteApplyOptions {
  /** The peer the records came from; absent for an import, and for states this node makes itself (served to every peer). */
  readonly via?: NodeId
  readonly cursor?: { readonly peer: NodeId, readonly seq: number }
  readonly resolve?: ConflictResolver
  /** Local metadata written in the same transaction (Store ApplyOptions.meta). */
  readonly meta?: ApplyOptions['meta']
  /** The records are fetched again if a power cut loses them (Store ApplyOptions.refetchable). */
  readonly refetchable?: boolean
  /** The signatures the page carried (absent: its records are unsigned). */
  readonly seals?: PageSeals
  /**
   * States this node derives from what it holds (the expired-cursor rule, a conflict strategy's
   * deletions): not checked by the gate, and signed by this node (a derived deletion may carry
   * another node's stamp: core/signing.ts maySign).
   */
  readonly derived?: boolean
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
  /** The records' full-text indexing waits (Store ApplyOptions.deferText): a far-behind catch-up's page (replication/farBehind.ts). */
  readonly deferText?: boolean
  /** The store's secondary indexes are left out (Store ApplyOptions.deferIndexes): a far-behind catch-up's page. */
  readonly deferIndexes?: boolean
}

export interface RemoteApplyResult extends ApplyResult {
  /** Records the gate refused (not written). */
  readonly refused: readonly Refusal[]
}

/** What the remote write path needs of the engine. */
export interface RemoteWritesDeps {
  readonly store: Store
  readonly clock: HybridClock
  readonly tombstones: TombstoneBudget
  readonly knowledge: NodeKnowledge
  readonly provenance: Provenance
  /** Tells listeners about a commit (`via`: the peer it came from). */
  readonly notify: (result: ApplyResult, via: NodeId | undefined) => void
  /** The records held aside, per origin. */
  readonly heldSummary: (pt: number) => HeldSummary[]
  /** Tells listeners that records of an origin were held aside. */
  readonly announce: (held: HeldSummary) => void
}

export class RemoteWrites {
  private readonly d: RemoteWritesDeps

  constructor (deps: RemoteWritesDeps) {
    this.d = deps
  }

  /**
   * Checks and merges records from a peer in one transaction, advancing the peer's cursor in the
   * same transaction. Every record is checked first (shape, content id); if any fails, nothing is
   * written and the error is thrown, so a cursor never moves past a record that was not applied.
   */
  applyRemote (inputs: readonly unknown[], opts: RemoteApplyOptions): RemoteApplyResult {
    return this.applyChecked(inputs.map((r, i) => checkRecord(r, `records[${i}]`)), opts)
  }

  /**
   * Merges already-checked records (the caller ran checkRecord). Records from outside pass the
   * gate first (signatures, revocations): a record it refuses is left out — counted, logged,
   * listed in the same transaction — and the rest of the page goes on. Records from a peer
   * (`via`) then pass the tombstone flood rule (RATE_LIMITED: the batch changes nothing, the
   * clock included); those stamped too far ahead are held aside with their seals; voids, Rule A
   * and the knowledge the batch teaches apply in its transaction (see the file comment).
   */
  applyChecked (records: readonly MemoryRecord[], opts: RemoteApplyOptions): RemoteApplyResult {
    let page = records
    let seals: ApplySeals | undefined
    let refused: readonly Refusal[] = []
    if (opts.derived !== true) {
      const admitted = this.d.provenance.admit(records, opts.seals, opts.via)
      page = admitted.accepted
      seals = admitted.seals
      refused = admitted.refused
    } else {
      seals = this.d.provenance.seal(page, this.d.clock.last)
    }
    const listed = refused.length === 0 ? undefined : this.d.provenance.refusals.writes(refused, opts.via)
    const withRefusals = listed === undefined ? opts : { ...opts, meta: () => [...(opts.meta?.() ?? []), ...listed] }
    if (opts.via === undefined) return { ...this.applyLocalStates(page, seals, withRefusals, []), refused }
    this.d.tombstones.charge(opts.via, page, this.d.store)
    const pt = this.d.clock.wallNow()
    const { apply, hold } = this.split(page, seals, pt)
    // What the gate refused is not held here: the page's vector is not learnt past it either, or
    // Rule A would take a genuine copy arriving later for one deleted here.
    const result = this.applyRemoteBatch(apply, hold, withRefusals, pt, [], refused.map(f => f.record))
    return { ...result, refused }
  }

  /**
   * A batch from a peer, split into records to apply and records to hold aside, each with their
   * seals; the knowledge it teaches is learnt below what it holds aside and below `refused`.
   */
  applyRemoteBatch (apply: SealedPart, hold: SealedPart, opts: RemoteApplyOptions, pt: number, release: readonly number[],
    refused: readonly MemoryRecord[] = []): ApplyResult {
    const voids = this.d.knowledge.newVoids(opts.voids)
    const known = this.d.knowledge.known(this.d.clock.last, voids)
    const learn = opts.cursor !== undefined ? this.d.knowledge.toLearn(opts.knowledge, voids, [...hold.records, ...refused]) : []
    // A peer's whole feed applied, with its vector: this node holds its own states that peer held.
    const completes = opts.endsSnapshot === true && opts.knowledge !== undefined ? this.d.knowledge.completesOwnHistory() : []
    const meta = completes.length === 0 ? opts.meta : () => [...(opts.meta?.() ?? []), ...completes]
    const newest = newestOf(apply.records)
    // Every record to apply is within the drift guard, so observing cannot fail.
    if (newest !== undefined) this.d.clock.observe(newest, opts.via)
    const result = this.d.store.apply(apply.records, {
      clock: this.d.clock.last,
      via: opts.via,
      cursor: opts.cursor,
      resolve: opts.resolve,
      meta,
      known,
      ...(apply.seals !== undefined ? { seals: apply.seals } : {}),
      ...(opts.refetchable === true ? { refetchable: true } : {}),
      ...(opts.deferText === true ? { deferText: true } : {}),
      ...(opts.deferIndexes === true ? { deferIndexes: true } : {}),
      ...(learn.length > 0 ? { learn } : {}),
      ...(voids.length > 0 ? { voids } : {}),
      ...(hold.records.length > 0 ? { hold: { records: hold.records, at: pt, ...(hold.seals !== undefined ? { seals: hold.seals } : {}) } } : {}),
      ...(release.length > 0 ? { release } : {})
    })
    if (completes.length > 0) this.d.knowledge.ownHistoryCompleted()
    if (learn.length > 0 || voids.length > 0) this.d.knowledge.reload()
    else if (hold.records.length > 0 || release.length > 0) this.d.knowledge.reloadHeld()
    this.d.notify(result, opts.via)
    if (result.held > 0) this.announceHeld(hold.records, pt)
    return result
  }

  /**
   * Records that came through no peer (an import, a conflict strategy's deletions, released
   * records held without one): merged like local writes, the drift guard checked (HLC_DRIFT:
   * nothing written, the clock unchanged).
   */
  applyLocalStates (records: readonly MemoryRecord[], seals: ApplySeals | undefined, opts: RemoteApplyOptions, release: readonly number[]): ApplyResult {
    const newest = newestOf(records)
    if (newest !== undefined) this.d.clock.observe(newest)
    const result = this.d.store.apply(records, {
      clock: this.d.clock.last,
      cursor: opts.cursor,
      resolve: opts.resolve,
      meta: opts.meta,
      ...(seals !== undefined ? { seals } : {}),
      ...(release.length > 0 ? { release } : {})
    })
    if (release.length > 0) this.d.knowledge.reloadHeld()
    this.d.notify(result, undefined)
    return result
  }

  /**
   * The records of a page to apply and those to hold aside (stamped too far ahead of `pt`), each
   * with their seals. The common page holds none aside: it is applied as it is, no copy made.
   */
  private split (page: readonly MemoryRecord[], seals: ApplySeals | undefined, pt: number): { apply: SealedPart, hold: SealedPart } {
    let ahead = false
    for (let i = 0; i < page.length && !ahead; i++) ahead = this.d.clock.isTooFarAhead(page[i]!.hlc, pt)
    if (!ahead) return { apply: withSeals({ records: page, refs: seals?.refs ?? [] }, seals), hold: { records: [] } }
    const apply = { records: [] as MemoryRecord[], refs: [] as Array<ApplySeals['refs'][number]> }
    const hold = { records: [] as MemoryRecord[], refs: [] as Array<ApplySeals['refs'][number]> }
    page.forEach((r, i) => {
      const part = this.d.clock.isTooFarAhead(r.hlc, pt) ? hold : apply
      part.records.push(r)
      part.refs.push(seals?.refs[i])
    })
    return { apply: withSeals(apply, seals), hold: withSeals(hold, seals) }
  }

  private announceHeld (hold: readonly MemoryRecord[], pt: number): void {
    const origins = new Set(hold.map(r => r.hlc.node))
    for (const o of this.d.heldSummary(pt)) if (origins.has(o.node)) this.d.announce(o)
  }
}

/** Records with their seals (`refs` aligned with them). */
interface Sealed { readonly records: readonly MemoryRecord[], readonly refs: ReadonlyArray<ApplySeals['refs'][number]> }
/** Records with the seals Store.apply takes for them. */
interface SealedPart { readonly records: readonly MemoryRecord[], readonly seals?: ApplySeals }

function withSeals (part: Sealed, seals: ApplySeals | undefined): SealedPart {
  if (seals === undefined || part.refs.every(r => r === undefined)) return { records: part.records }
  return { records: part.records, seals: part.refs === seals.refs ? seals : { batches: seals.batches, refs: part.refs } }
}

function newestOf (records: readonly MemoryRecord[]): MemoryRecord['hlc'] | undefined {
  let newest: MemoryRecord['hlc'] | undefined
  for (let i = 0; i < records.length; i++) {
    const h = records[i]!.hlc
    if (newest === undefined || compareHlc(h, newest) > 0) newest = h
  }
  return newest
}

