/**
 * The engine's part of history (docs/DATA-MODEL.md, "History"): the limit on reads of the past,
 * and revert — of one record, or of everything one origin wrote in a window — as new writes
 * with fresh stamps that go through the engine's one write path (signed, synced, converging
 * like any write). Which state to go back to is core/revert.ts.
 */
import { INVALID_INPUT, NOT_FOUND } from '../core/errors.ts'
import type { Hlc, HlcMark } from '../core/hlc.ts'
import { isNodeId, type NodeId } from '../core/ids.ts'
import { LIMITS } from '../core/limits.ts'
import type { MemoryRecord, RecordKind } from '../core/model.ts'
import { previousTarget, restoreState, windowTarget } from '../core/revert.ts'
import type { Store } from '../store/Store.ts'

export const DAY_MS = 86_400_000

/** What a revert did. */
export interface RevertResult {
  /** The states written (or, with dryRun, that would be). */
  readonly written: readonly MemoryRecord[]
  /** Records already in the state asked for. */
  readonly unchanged: number
  /** Records that cannot go back (an episode would have to be deleted, a trace changed), and why. */
  readonly skipped: ReadonlyArray<{ readonly kind: RecordKind, readonly key: string, readonly why: string }>
}

export interface HistoryOptions {
  readonly store: Store
  readonly node: NodeId
  /** A fresh stamp from the engine's clock. */
  readonly stamp: () => Hlc
  /** The clock's mark (stamps shown by a dry run). */
  readonly mark: () => HlcMark
  /** Writes states through the engine (sealed, merged, announced). */
  readonly commit: (records: readonly MemoryRecord[]) => void
  /** history.retentionDays in ms, read at each use. Default 30 days. */
  readonly retentionMs?: () => number
  readonly now?: () => number
}

export class History {
  private readonly opts: HistoryOptions
  private readonly now: () => number

  constructor (opts: HistoryOptions) {
    this.opts = opts
    this.now = opts.now ?? Date.now
  }

  /** The oldest time history covers (ms). */
  earliest (): number {
    return this.now() - (this.opts.retentionMs?.() ?? 30 * DAY_MS)
  }

  /** `asOf` when history covers it; else INVALID_INPUT naming `field`. */
  checkAsOf (asOf: number, field = 'asOf'): number {
    const earliest = this.earliest()
    if (asOf < earliest) {
      throw INVALID_INPUT(field, `is before ${new Date(earliest).toISOString()}, the oldest time history covers (history.retentionDays); ` +
        'states replaced before it were collected')
    }
    return asOf
  }

  /** Writes the state a record had before its last change again, with a fresh stamp. */
  revertRecord (kind: RecordKind, key: string, opts: { dryRun?: boolean } = {}): RevertResult {
    const states = this.opts.store.history(kind, key)
    if (states.length === 0) throw NOT_FOUND(kind, key)
    return this.restore([{ kind, key, target: previousTarget(states) }], opts)
  }

  /** Undoes what `origin` wrote with stamps in [from, to] (ms), as new writes. */
  revertWindow (origin: unknown, from: number, to: number, opts: { dryRun?: boolean } = {}): RevertResult {
    if (!isNodeId(origin)) throw INVALID_INPUT('origin', 'must be a node id')
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from > to) throw INVALID_INPUT('since', 'must be a time at or before until')
    this.checkAsOf(from, 'since')
    const { store } = this.opts
    const refs = store.touchedBy(origin, from, to)
    return this.restore(refs.map(r => ({ ...r, target: windowTarget(store.history(r.kind, r.key), origin, from, to) })), opts)
  }

  private restore (items: ReadonlyArray<{ kind: RecordKind, key: string, target: MemoryRecord | undefined }>, opts: { dryRun?: boolean }): RevertResult {
    const written: MemoryRecord[] = []
    const skipped: Array<{ kind: RecordKind, key: string, why: string }> = []
    let unchanged = 0
    let pending: MemoryRecord[] = []
    const flush = (): void => {
      if (opts.dryRun !== true && pending.length > 0) this.opts.commit(pending)
      pending = []
    }
    for (const item of items) {
      const current = this.opts.store.get(item.kind, item.key)
      const hlc = opts.dryRun === true ? { ...this.opts.mark(), node: this.opts.node } : this.opts.stamp()
      const r = restoreState(current, item.target, hlc)
      if ('write' in r) {
        written.push(r.write)
        pending.push(r.write)
        if (pending.length >= LIMITS.batchRecords) flush()
      } else if ('skipped' in r) {
        skipped.push({ kind: item.kind, key: item.key, why: r.skipped })
      } else {
        unchanged++
      }
    }
    flush()
    return { written, unchanged, skipped }
  }
}
