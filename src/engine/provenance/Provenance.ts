/**
 * Everything the engine knows about who wrote what: its own signing key (local batches are sealed
 * here), the gate for records from outside with its counters and review list, the nodes known
 * to sign, revocations and node names. The engine owns one; the API and sync read it.
 */
import type { HlcMark } from '../../core/hlc.ts'
import type { NodeId } from '../../core/ids.ts'
import { recordKey, type MemoryRecord } from '../../core/model.ts'
import { holdsSigned, verifyPageSteps, withoutHeldBatches, type PageSeals, type VerifiedPage } from '../../core/seals.ts'
import { sealBatch, type SignatureVerifier, type Signer } from '../../core/signing.ts'
import { isSystemRecord } from '../../core/system.ts'
import type { ApplySeals, FeedEntry, Store } from '../../store/Store.ts'
import { silentLogger, type Logger } from '../../util/log.ts'
import { LogBudget } from '../../util/logBudget.ts'
import { KnownSigners } from './KnownSigners.ts'
import { NodeDirectory } from './NodeDirectory.ts'
import { RecordGate, REFUSAL_REASONS, type GateResult, type RefusalReason } from './RecordGate.ts'
import { RefusalLog } from './RefusalLog.ts'
import { Revocations } from './Revocations.ts'

export interface ProvenanceOptions {
  readonly store: Store
  readonly self: NodeId
  /** This node's key; absent: its writes are unsigned (a node without an identity, in tests). */
  readonly signer?: Signer
  /** Absent: signatures of others are not checked (every record from outside counts as unsigned). */
  readonly verifier?: SignatureVerifier
  /** sync.requireSignatures, read at each page. Default: off. */
  readonly requireSignatures?: () => boolean
  /** sync.revocationQuorum, read when revocations change. Default 2. */
  readonly revocationQuorum?: () => number
  readonly log?: Logger
  readonly now?: () => number
}

export interface ProvenanceCounters {
  /** Records refused since start, by reason. */
  readonly refused: Record<RefusalReason, number>
  /** Records from outside accepted without a signature since start. */
  unsignedAccepted: number
  /** Records from outside accepted with a verified signature since start. */
  signedAccepted: number
}

/** Refusal log lines a minute (the rest are counted and told with the next line). */
const LOG_LINES_PER_MINUTE = 30
/** Longest stretch of signature checks between two turns of the event loop, ms. */
const VERIFY_SLICE_MS = 8

export class Provenance {
  readonly self: NodeId
  readonly signer: Signer | undefined
  readonly signers: KnownSigners
  readonly revocations: Revocations
  readonly names: NodeDirectory
  readonly refusals: RefusalLog
  readonly counters: ProvenanceCounters
  private readonly gate: RecordGate
  private readonly verifier: SignatureVerifier | undefined
  /** Pages whose signatures verifyAhead checked (`checked`: the records it verified), until admitted. */
  private readonly ahead = new WeakMap<PageSeals, { records: readonly MemoryRecord[], checked: readonly MemoryRecord[], verified: VerifiedPage }>()
  private readonly store: Store
  private readonly log: Logger
  private readonly budget: LogBudget

  constructor (opts: ProvenanceOptions) {
    this.self = opts.self
    this.signer = opts.signer
    this.verifier = opts.verifier
    this.store = opts.store
    this.log = opts.log ?? silentLogger
    this.budget = new LogBudget(LOG_LINES_PER_MINUTE, opts.now)
    this.signers = new KnownSigners(opts.store, opts.signer === undefined ? undefined : opts.self)
    this.revocations = new Revocations(opts.store, opts.self, opts.revocationQuorum ?? (() => 2))
    this.names = new NodeDirectory(opts.store)
    this.refusals = new RefusalLog(opts.store, opts.now)
    this.counters = { refused: Object.fromEntries(REFUSAL_REASONS.map(r => [r, 0])) as Record<RefusalReason, number>, unsignedAccepted: 0, signedAccepted: 0 }
    this.gate = new RecordGate({
      self: opts.self,
      store: opts.store,
      verifier: opts.verifier,
      signers: this.signers,
      revocations: this.revocations,
      requireSignatures: opts.requireSignatures ?? (() => false)
    })
  }

  /** The seals of a local batch: one signature over `records` in this order (none without a key). */
  seal (records: readonly MemoryRecord[], at: HlcMark): ApplySeals | undefined {
    if (this.signer === undefined || records.length === 0) return undefined
    return { batches: [sealBatch(records, this.signer, at)], refs: records.map((_, leaf) => ({ batch: 0, leaf })) }
  }

  /**
   * Checks the signatures of a page ahead of its write, a batch at a time, letting other work run
   * every few milliseconds: a page may carry thousands of batches (single writes), whose checks
   * would otherwise hold the event loop. `admit` then uses the result (for these same seals and
   * records) instead of checking again. Batches whose records are all held here as they are
   * (`toCheck`) are not checked: a page sent again costs no signature checks.
   */
  async verifyAhead (records: readonly MemoryRecord[], seals: PageSeals | undefined): Promise<void> {
    if (seals === undefined || this.verifier === undefined || seals.batches.length === 0) return
    const page = this.toCheck(records, seals)
    const steps = verifyPageSteps(page.records, page.seals, this.verifier)
    let since = performance.now()
    for (;;) {
      const step = steps.next()
      if (step.done === true) {
        this.ahead.set(seals, { records, checked: page.records, verified: step.value })
        return
      }
      if (performance.now() - since >= VERIFY_SLICE_MS) {
        await new Promise(resolve => setImmediate(resolve))
        since = performance.now()
      }
    }
  }

  /**
   * Checks a page from outside (through `via`), counts and logs what it refuses. Signed records
   * held here as they are, in batches with nothing else of the page (`toCheck`, decided again
   * now when verifyAhead left some out: the store may have changed since), are dropped unchecked:
   * they would change nothing. Every other record is checked as before.
   */
  admit (records: readonly MemoryRecord[], seals: PageSeals | undefined, via: NodeId | undefined): GateResult {
    const ahead = seals === undefined ? undefined : this.ahead.get(seals)
    if (seals !== undefined) this.ahead.delete(seals)
    const same = ahead !== undefined && sameRecords(ahead.records, records)
    // Checked ahead in full (nothing was held then): every batch is verified already, and a
    // copy that became held since changes nothing in the store — no need to look again.
    const whole = same && ahead.checked === records
    const page = whole || seals === undefined || this.verifier === undefined || seals.batches.length === 0 ? { records, seals } : this.toCheck(records, seals)
    const verified = same && (whole || sameRecords(ahead.checked, page.records)) ? ahead.verified : undefined
    const checked = this.gate.check(page.records, page.seals, verified)
    const result = page.records === records ? checked : { ...checked, dropped: checked.dropped + records.length - page.records.length }
    this.counters.unsignedAccepted += result.unsigned
    this.counters.signedAccepted += result.accepted.length - result.unsigned
    if (result.refused.length === 0) return result
    const byReason = new Map<RefusalReason, number>()
    for (const f of result.refused) {
      this.counters.refused[f.reason]++
      byReason.set(f.reason, (byReason.get(f.reason) ?? 0) + 1)
    }
    const skipped = this.budget.take()
    if (skipped !== false) {
      const first = result.refused[0]!
      this.log.warn(`refused ${result.refused.length} record(s) ${via === undefined ? 'from an import' : `relayed by ${via}`}: ` +
        `${first.detail} (first: ${first.record.kind} of ${first.record.hlc.node}); nothing of them was written — ` +
        'a peer relaying forged or tampered records is compromised or broken: see engram refused',
      { via, ...Object.fromEntries(byReason), ...(skipped > 0 ? { unlogged: skipped } : {}) })
    }
    return result
  }

  /** The records of a signed page whose signatures must be checked (core/seals.ts withoutHeldBatches, holdsSigned). */
  private toCheck (records: readonly MemoryRecord[], seals: PageSeals): { records: readonly MemoryRecord[], seals: PageSeals } {
    return withoutHeldBatches(records, seals, r => holdsSigned(this.store.getState(r.kind, recordKey(r)), r))
  }

  /** After a commit: node names and revocations are read again when one of them changed. */
  observe (entries: readonly FeedEntry[]): void {
    let names = false
    let revocations = false
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!
      if (e.record.kind !== 'note' || !isSystemRecord(e.record)) continue
      if (e.record.key.startsWith('_engram:name:')) names = true
      else revocations = true
    }
    if (names) this.names.refresh()
    if (revocations) this.revocations.refresh()
  }
}

/** The same records, in the same order (a copy of the array counts). */
function sameRecords (a: readonly MemoryRecord[], b: readonly MemoryRecord[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
