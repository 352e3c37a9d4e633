/**
 * The records refused by the gate (RecordGate.ts), listed for review: the last MAX_REFUSALS, in
 * the store's local metadata, written in the transaction of the page they were refused from.
 * Only what identifies a record is kept (kind, key, stamp, origin, signer), not its content.
 */
import { formatHlc } from '../../core/hlc.ts'
import type { NodeId } from '../../core/ids.ts'
import { recordKey, type RecordKind } from '../../core/model.ts'
import type { Store } from '../../store/Store.ts'
import type { Refusal, RefusalReason } from './RecordGate.ts'

const META_KEY = 'provenance.refused'
/** Refusals kept for review (the oldest are dropped first). */
export const MAX_REFUSALS = 1000

export interface RefusalEntry {
  /** When it was refused (ISO). */
  readonly at: string
  /** The peer it came through (absent: an import). */
  readonly via?: string
  readonly reason: RefusalReason
  readonly detail: string
  readonly kind: RecordKind
  readonly key: string
  readonly origin: string
  /** The stamp, in text form. */
  readonly hlc: string
  readonly signer?: string
}

export class RefusalLog {
  private readonly store: Store
  private readonly now: () => number

  constructor (store: Store, now: () => number = Date.now) {
    this.store = store
    this.now = now
  }

  /** Newest last. */
  list (): RefusalEntry[] {
    const raw = this.store.getMeta(META_KEY)
    return raw === undefined ? [] : JSON.parse(raw) as RefusalEntry[]
  }

  /** The metadata write that adds `refused` (for ApplyOptions.meta, inside the page's transaction). */
  writes (refused: readonly Refusal[], via: NodeId | undefined): Array<[string, string]> {
    if (refused.length === 0) return []
    const at = new Date(this.now()).toISOString()
    const added: RefusalEntry[] = refused.slice(-MAX_REFUSALS).map(f => ({
      at,
      ...(via !== undefined ? { via } : {}),
      reason: f.reason,
      detail: f.detail,
      kind: f.record.kind,
      key: recordKey(f.record),
      origin: f.record.hlc.node,
      hlc: formatHlc(f.record.hlc),
      ...(f.signer !== undefined ? { signer: f.signer } : {})
    }))
    return [[META_KEY, JSON.stringify([...this.list(), ...added].slice(-MAX_REFUSALS))]]
  }
}
