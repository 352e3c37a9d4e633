/**
 * A batch's records decided and staged in a MemoryStore (`apply`, `repairClock`), nothing written
 * yet: each record is merged (store/decide.ts) against the stored state of its key, or the state an
 * earlier record of the same batch staged for it; a new state gets the next seq, keeps its seal
 * only when it is the incoming record itself, and sets aside the state it replaces for the
 * history. The store commits the result only when nothing can fail any more, so a failing batch
 * leaves nothing behind.
 */
import { compareMark, type HlcMark } from '../../core/hlc.ts'
import { compareRecords } from '../../core/merge.ts'
import { recordKey, type MemoryRecord, type RecordKind } from '../../core/model.ts'
import { cameFromPeer, decide, isForgotten, isLive } from '../decide.ts'
import type { ApplyOptions, FeedEntry, StoredState } from '../Store.ts'
import type { BatchStaging } from './MemoryBatches.ts'
import { feedEntry, newTables, stored, type Slot, type Tables } from './MemoryReads.ts'

/** What a batch's records change, staged. */
export interface StagedRecords {
  /** The new slots, in seq order. */
  readonly writes: readonly Slot[]
  /** The states the writes replace, for the history (a trace's is not kept). */
  readonly replaced: ReadonlyArray<{ readonly kind: RecordKind, readonly key: string, readonly state: StoredState }>
  readonly changed: readonly FeedEntry[]
  readonly unchanged: number
  readonly replacedLive: number
  readonly forgotten: number
  /** The last seq given (the store's last seq when nothing changed). */
  readonly seq: number
  /** The clock mark raised by the new states. */
  readonly mark: HlcMark
}

/**
 * Stages `records` over `tables` (read, never changed), seqs after `seq`, the clock mark from
 * `mark`; their seals resolved and counted in `batches`.
 */
export function stageRecords (tables: Tables, records: readonly MemoryRecord[], opts: ApplyOptions, batches: BatchStaging, seq: number, mark: HlcMark): StagedRecords {
  const staged = newTables()
  const writes: Slot[] = []
  const replaced: Array<{ kind: RecordKind, key: string, state: StoredState }> = []
  const changed: FeedEntry[] = []
  let unchanged = 0
  let replacedLive = 0
  let forgotten = 0
  for (let i = 0; i < records.length; i++) {
    const incoming = records[i]!
    const key = recordKey(incoming)
    const seal = batches.sealOf(opts.seals, i)
    const currentSlot = staged[incoming.kind].get(key) ?? tables[incoming.kind].get(key)
    const current = currentSlot?.record
    if (isForgotten(current, incoming, opts)) { forgotten++; unchanged++; continue }
    const state = decide(current, incoming, opts, seal !== undefined && currentSlot !== undefined && currentSlot.seal === undefined)
    if (state === undefined) { unchanged++; continue }
    if (isLive(current)) replacedLive++
    seq++
    const kept = state === incoming ? seal : undefined
    const slot: Slot = { record: state, seq, via: opts.via !== undefined && cameFromPeer(state, incoming) ? opts.via : undefined, seal: kept }
    batches.count(kept?.batch, 1)
    if (currentSlot !== undefined) {
      if (compareRecords(state, currentSlot.record) !== 0) {
        if (incoming.kind !== 'trace') replaced.push({ kind: incoming.kind, key, state: { ...stored(currentSlot), until: state.hlc } })
      } else {
        batches.count(currentSlot.seal?.batch, -1)
      }
    }
    staged[incoming.kind].set(key, slot)
    writes.push(slot)
    if (compareMark(state.hlc, mark) > 0) mark = { wall: state.hlc.wall, counter: state.hlc.counter }
    changed.push(feedEntry(slot))
  }
  return { writes, replaced, changed, unchanged, replacedLive, forgotten, seq, mark }
}
