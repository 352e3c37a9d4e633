/**
 * Which nodes this node refuses new records from (docs/SECURITY.md, "Revoking a node").
 *
 * A revocation is a signed, synced note `_engram:revoke:<target>:<issuer>` = `{after, reason?}`
 * (core/system.ts). Any node may issue one, but one compromised member must not be able to cut
 * everyone else off, so a node honors a revocation of `target`:
 *
 * - when it issued one itself (effective from its own `after`), or
 * - when at least `quorum` distinct other nodes issued one (`sync.revocationQuorum`, default 2),
 *   effective from the `quorum`-th earliest `after` among them.
 *
 * Revocations are taken in stamp order, and one whose issuer was already revoked at its stamp
 * does not count, so a revoked node cannot revoke its way back. A node never honors a revocation
 * of itself (it would only refuse its own writes); one that names it is listed, so the user sees
 * it. Withdrawing a revocation is deleting one's own note.
 */
import { compareHlc } from '../../core/hlc.ts'
import type { NodeId } from '../../core/ids.ts'
import type { NoteRecord } from '../../core/model.ts'
import { REVOCATION_PREFIX, revocationOf, type Revocation } from '../../core/system.ts'
import type { Store } from '../../store/Store.ts'

/** Revocation notes read at most. */
const MAX_REVOCATIONS = 10_000

export interface RevocationStatus {
  readonly target: NodeId
  /** The live revocations of `target`, by issuer, in stamp order. */
  readonly issued: readonly Revocation[]
  /** From when records of `target` are refused here (ms); absent when this node does not honor it. */
  readonly effectiveAfter?: number
  /** Why it is not honored here, when it is not. */
  readonly pending?: string
}

export class Revocations {
  private readonly store: Store
  private readonly self: NodeId
  private readonly quorum: () => number
  private effective = new Map<string, number>()
  private statuses: RevocationStatus[] = []

  constructor (store: Store, self: NodeId, quorum: () => number) {
    this.store = store
    this.self = self
    this.quorum = quorum
    this.refresh()
  }

  /** From when records of `node` are refused (ms), or undefined. */
  revokedAfter (node: NodeId): number | undefined {
    return this.effective.get(node)
  }

  get size (): number {
    return this.effective.size
  }

  list (): readonly RevocationStatus[] {
    return this.statuses
  }

  /** Reads the revocation notes again (after a change to one). */
  refresh (): void {
    const notes = this.store.listNotes({ prefix: REVOCATION_PREFIX, limit: MAX_REVOCATIONS, offset: 0 }).notes
    const revs = notes.map((n: NoteRecord) => revocationOf(n)).filter((r): r is Revocation => r !== undefined && r.target !== r.issuer && r.hlc.node === r.issuer)
    revs.sort((a, b) => compareHlc(a.hlc, b.hlc))
    const quorum = Math.max(1, this.quorum())
    const effective = new Map<string, number>()
    const counted = new Map<string, number[]>()
    const own = new Map<string, number>()
    for (const r of revs) {
      const issuerRevoked = effective.get(r.issuer)
      if (issuerRevoked !== undefined && r.hlc.wall >= issuerRevoked) continue
      if (r.issuer === this.self) {
        own.set(r.target, r.after)
      } else {
        const afters = counted.get(r.target) ?? []
        afters.push(r.after)
        counted.set(r.target, afters)
      }
      const t = this.timeOf(own.get(r.target), counted.get(r.target), quorum)
      if (t !== undefined) effective.set(r.target, t)
    }
    effective.delete(this.self)
    this.effective = effective
    const byTarget = new Map<string, Revocation[]>()
    for (const r of revs) byTarget.set(r.target, [...(byTarget.get(r.target) ?? []), r])
    this.statuses = [...byTarget].map(([target, issued]) => {
      const after = effective.get(target)
      if (after !== undefined) return { target: target as NodeId, issued, effectiveAfter: after }
      const pending = target === this.self
        ? 'it names this node, which never refuses its own records'
        : `${counted.get(target)?.length ?? 0} of the ${quorum} issuers needed (sync.revocationQuorum), or one issued on this node`
      return { target: target as NodeId, issued, pending }
    })
  }

  private timeOf (own: number | undefined, others: readonly number[] | undefined, quorum: number): number | undefined {
    const sorted = [...(others ?? [])].sort((a, b) => a - b)
    const byQuorum = sorted.length >= quorum ? sorted[quorum - 1] : undefined
    if (own === undefined) return byQuorum
    return byQuorum === undefined ? own : Math.min(own, byQuorum)
  }
}
