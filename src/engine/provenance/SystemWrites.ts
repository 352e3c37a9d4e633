/**
 * The writes provenance makes through the engine: this node's name and its revocations (signed
 * system notes, core/system.ts, synced like any note), and the signing of this node's own states
 * written before it signed (the migration of docs/DATA-MODEL.md, "Signed records").
 */
import { INVALID_INPUT, NOT_FOUND } from '../../core/errors.ts'
import type { Hlc, HlcMark } from '../../core/hlc.ts'
import { isNodeId, type NodeId } from '../../core/ids.ts'
import { LIMITS } from '../../core/limits.ts'
import type { Json, MemoryRecord, NoteRecord } from '../../core/model.ts'
import { MAX_NODE_NAME, MAX_REVOCATION_REASON, nameKey, nodeNameOf, revocationKey } from '../../core/system.ts'
import type { ApplyResult, Store } from '../../store/Store.ts'
import type { Provenance } from './Provenance.ts'

export interface SystemWritesDeps {
  readonly store: Store
  readonly node: NodeId
  readonly provenance: Provenance
  /** A fresh stamp from the engine's clock. */
  readonly stamp: () => Hlc
  /** The clock's mark. */
  readonly mark: () => HlcMark
  /** Writes states through the engine (sealed, merged, announced). */
  readonly commit: (records: readonly MemoryRecord[]) => void
  /** Tells listeners about a commit made here. */
  readonly notify: (result: ApplyResult) => void
  readonly now: () => number
}

export class SystemWrites {
  private readonly d: SystemWritesDeps

  constructor (deps: SystemWritesDeps) {
    this.d = deps
  }

  /** Publishes this node's name (a signed system note), when it is not the one published already. */
  publishName (name: string): NoteRecord | undefined {
    const { store, node } = this.d
    if (name.length < 1 || name.length > MAX_NODE_NAME) throw INVALID_INPUT('node.name', `must be 1 to ${MAX_NODE_NAME} characters`)
    const current = store.getNote(nameKey(node))
    if (current !== undefined && !current.deleted && nodeNameOf(current.value) === name && current.hlc.node === node) return undefined
    const rec: NoteRecord = { kind: 'note', key: nameKey(node), value: { name }, hlc: this.d.stamp(), deleted: false }
    this.d.commit([rec])
    return rec
  }

  /**
   * Revokes `target`: records it stamped at or after `after` (default: now) are refused by every
   * node that honors the revocation (Revocations.ts). A signed, synced system note.
   */
  revoke (target: unknown, opts: { after?: number, reason?: string } = {}): NoteRecord {
    if (!isNodeId(target)) throw INVALID_INPUT('node', 'must be a node id')
    if (target === this.d.node) throw INVALID_INPUT('node', 'is this node: a node cannot revoke itself (revoke it from another node)')
    const after = opts.after ?? this.d.now()
    if (!Number.isSafeInteger(after) || after < 0) throw INVALID_INPUT('after', 'must be a time')
    if (opts.reason !== undefined && opts.reason.length > MAX_REVOCATION_REASON) throw INVALID_INPUT('reason', `must be at most ${MAX_REVOCATION_REASON} characters`)
    const value: Json = opts.reason === undefined ? { after } : { after, reason: opts.reason }
    const rec: NoteRecord = { kind: 'note', key: revocationKey(target, this.d.node), value, hlc: this.d.stamp(), deleted: false }
    this.d.commit([rec])
    return rec
  }

  /** Withdraws this node's revocation of `target`. Throws NOT_FOUND when it issued none. */
  withdrawRevocation (target: unknown): NoteRecord {
    if (!isNodeId(target)) throw INVALID_INPUT('node', 'must be a node id')
    const key = revocationKey(target, this.d.node)
    const current = this.d.store.getNote(key)
    if (current === undefined || current.deleted) throw NOT_FOUND('revocation by this node of', target)
    const rec: NoteRecord = { kind: 'note', key, value: null, hlc: this.d.stamp(), deleted: true }
    this.d.commit([rec])
    return rec
  }

  /**
   * Signs this node's own states written before it signed: in transactions of `batch` states,
   * each re-written with its signature (same state, new seq), yielding to the event loop between
   * them. Returns how many were signed.
   */
  async sealOwnStates (onProgress?: (done: number) => void, batch: number = LIMITS.batchRecords): Promise<number> {
    const { store, node, provenance } = this.d
    if (provenance.signer === undefined) return 0
    let done = 0
    for (let guard = 0; guard < 1_000_000; guard++) {
      const states = store.unsealed(node, batch)
      if (states.length === 0) break
      const result = store.apply(states, { clock: this.d.mark(), seals: provenance.seal(states, this.d.mark()) })
      if (result.changed.length === 0) break
      done += result.changed.length
      this.d.notify(result)
      onProgress?.(done)
      await new Promise(resolve => setImmediate(resolve))
    }
    return done
  }
}
