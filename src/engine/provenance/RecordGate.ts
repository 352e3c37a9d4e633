/**
 * The gate every record from outside passes before it is written (docs/SECURITY.md, "Signed
 * records"): whoever relayed it, a record is written only if
 *
 * 1. its signature verifies (core/seals.ts verifyPage): the batch it belongs to was signed by its
 *    signer's key, and the signer may sign it (its own state, or a derived deletion);
 * 2. or it is unsigned and unsigned records are acceptable for its origin: not this node's own id,
 *    not a node known to sign (KnownSigners.ts), and `sync.requireSignatures` off — an unsigned
 *    copy of a state already held, or of one older than the state held, is dropped quietly: it
 *    would change nothing (an older relay sent back what this node had);
 * 3. a record of the system namespace is written by the node its key names, and signed by it;
 * 4. neither its origin nor its signer is revoked here (Revocations.ts) as of its stamp.
 *
 * Everything else is refused: left out of the page (the rest of the page is applied), counted
 * by reason, and reported to the caller, which logs it and lists it for review.
 */
import type { NodeId } from '../../core/ids.ts'
import { compareRecords } from '../../core/merge.ts'
import { recordKey, type MemoryRecord } from '../../core/model.ts'
import { verifyPage, type PageSeals, type SealFailure, type VerifiedPage } from '../../core/seals.ts'
import type { SignatureVerifier, SignedBatch } from '../../core/signing.ts'
import { isSystemRecord, systemRecordProblem } from '../../core/system.ts'
import type { ApplySeals, Store } from '../../store/Store.ts'
import type { KnownSigners } from './KnownSigners.ts'
import type { Revocations } from './Revocations.ts'

export type RefusalReason = SealFailure | 'unsigned' | 'revoked' | 'system'
export const REFUSAL_REASONS: readonly RefusalReason[] = ['bad-signature', 'not-signer', 'unsigned', 'revoked', 'system']

export interface Refusal {
  readonly reason: RefusalReason
  readonly record: MemoryRecord
  /** The node whose signature it carried (absent: unsigned). */
  readonly signer?: NodeId
  readonly detail: string
}

export interface GateResult {
  /** The records to write, in page order. */
  readonly accepted: MemoryRecord[]
  /** Their signatures, for Store.apply. */
  readonly seals: ApplySeals | undefined
  readonly refused: Refusal[]
  /** Accepted records without a signature. */
  readonly unsigned: number
  /** Unsigned copies of states held already (or older), and signed copies of states held signed as they are (Provenance.admit), dropped. */
  readonly dropped: number
}

export interface RecordGateOptions {
  readonly self: NodeId
  readonly store: Store
  /** Absent: signatures are not checked (a node without keys, in tests); every record counts as unsigned. */
  readonly verifier?: SignatureVerifier
  readonly signers: KnownSigners
  readonly revocations: Revocations
  readonly requireSignatures: () => boolean
}

export class RecordGate {
  private readonly opts: RecordGateOptions

  constructor (opts: RecordGateOptions) {
    this.opts = opts
  }

  /** `verified`: the page's signatures checked already (verifyPageSteps, ahead of the write); else they are checked here. */
  check (records: readonly MemoryRecord[], seals: PageSeals | undefined, verified?: VerifiedPage): GateResult {
    const { verifier, signers, revocations } = this.opts
    if (verified === undefined && seals !== undefined && verifier !== undefined && seals.batches.length > 0) verified = verifyPage(records, seals, verifier)
    for (const b of verified?.batches ?? []) if (b !== undefined) signers.learn(b.header.signer)
    const accepted: MemoryRecord[] = []
    const refs: Array<{ batch: number, leaf: number } | undefined> = []
    const used = new Map<number, number>()
    const batches: SignedBatch[] = []
    const refused: Refusal[] = []
    let unsigned = 0
    let dropped = 0
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!
      const check = verified?.checks[i]
      if (check !== undefined && !check.ok) {
        refused.push({ reason: check.why, record: r, signer: check.signer, detail: check.why === 'bad-signature' ? 'its signature does not verify' : `${check.signer} may not sign a live record of ${r.hlc.node}` })
        continue
      }
      const batch = check?.ok === true ? verified!.batches[check.batch]! : undefined
      const signer = batch?.header.signer
      if (batch === undefined) {
        const why = this.unsignedProblem(r)
        if (why !== undefined) {
          if (this.changesNothing(r)) { dropped++; continue }
          refused.push({ reason: 'unsigned', record: r, detail: why })
          continue
        }
      }
      if (isSystemRecord(r)) {
        const why = systemRecordProblem(r, signer)
        if (why !== undefined) { refused.push({ reason: 'system', record: r, ...(signer !== undefined ? { signer } : {}), detail: why }); continue }
      }
      const revoked = revocations.revokedAfter(r.hlc.node)
      if (revoked !== undefined && r.hlc.wall >= revoked) {
        refused.push({ reason: 'revoked', record: r, ...(signer !== undefined ? { signer } : {}), detail: `${r.hlc.node} is revoked for records stamped from ${new Date(revoked).toISOString()}` })
        continue
      }
      if (batch !== undefined && signer !== r.hlc.node) {
        const signerRevoked = revocations.revokedAfter(signer!)
        if (signerRevoked !== undefined && batch.header.at.wall >= signerRevoked) {
          refused.push({ reason: 'revoked', record: r, signer: signer!, detail: `its signer ${signer} is revoked from ${new Date(signerRevoked).toISOString()}` })
          continue
        }
      }
      accepted.push(r)
      if (batch === undefined || check?.ok !== true) {
        refs.push(undefined)
        unsigned++
        continue
      }
      let slot = used.get(check.batch)
      if (slot === undefined) {
        slot = batches.length
        used.set(check.batch, slot)
        batches.push(batch)
      }
      refs.push({ batch: slot, leaf: check.leaf })
    }
    return { accepted, seals: batches.length === 0 ? undefined : { batches, refs }, refused, unsigned, dropped }
  }

  /** Why an unsigned record may not be taken, or undefined when it may. */
  private unsignedProblem (r: MemoryRecord): string | undefined {
    const { self, signers, requireSignatures } = this.opts
    if (requireSignatures()) return 'it is unsigned, and sync.requireSignatures is on'
    if (r.hlc.node === self && signers.has(self)) return 'it is unsigned and claims to be this node\'s own record'
    if (signers.has(r.hlc.node)) return `it is unsigned, and ${r.hlc.node} signs its records`
    return undefined
  }

  /** Whether the store holds this state, or a later one of the record (merging it would change nothing). */
  private changesNothing (r: MemoryRecord): boolean {
    const current = this.opts.store.get(r.kind, recordKey(r))
    return current !== undefined && compareRecords(current, r) >= 0
  }
}
