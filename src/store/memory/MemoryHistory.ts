/**
 * The replaced states of a MemoryStore (the `history` table of the SQLite store), per record,
 * each with the stamp of what ended it.
 */
import type { NodeId } from '../../core/ids.ts'
import type { RecordKind } from '../../core/model.ts'
import type { RecordRef, StoredState } from '../Store.ts'

const keyOf = (kind: RecordKind, key: string): string => `${kind}\u0000${key}`

export class MemoryHistory {
  private readonly byRecord = new Map<string, { ref: RecordRef, states: StoredState[] }>()
  private count = 0

  add (kind: RecordKind, key: string, state: StoredState): void {
    const k = keyOf(kind, key)
    let entry = this.byRecord.get(k)
    if (entry === undefined) {
      entry = { ref: { kind, key }, states: [] }
      this.byRecord.set(k, entry)
    }
    entry.states.push(state)
    this.count++
  }

  states (kind: RecordKind, key: string): StoredState[] {
    return [...(this.byRecord.get(keyOf(kind, key))?.states ?? [])]
  }

  /** Every replaced state of one kind. */
  * ofKind (kind: RecordKind): Iterable<StoredState> {
    for (const { ref, states } of this.byRecord.values()) if (ref.kind === kind) yield * states
  }

  touchedBy (origin: NodeId, from: number, to: number): RecordRef[] {
    const out: RecordRef[] = []
    for (const { ref, states } of this.byRecord.values()) {
      if (states.some(s => s.record.hlc.node === origin && s.record.hlc.wall >= from && s.record.hlc.wall <= to)) out.push(ref)
    }
    return out
  }

  /** Removes the states ended before `beforeWallMs`; returns how many, and per batch how many of them it held (negative). */
  collect (beforeWallMs: number): { removed: number, batches: Map<number, number> } {
    const batches = new Map<number, number>()
    let removed = 0
    for (const [k, entry] of this.byRecord) {
      const kept = entry.states.filter(s => {
        if (s.until!.wall >= beforeWallMs) return true
        if (s.seal !== undefined) batches.set(s.seal.batch, (batches.get(s.seal.batch) ?? 0) - 1)
        removed++
        return false
      })
      if (kept.length === 0) this.byRecord.delete(k)
      else entry.states = kept
    }
    this.count -= removed
    return { removed, batches }
  }

  get size (): number {
    return this.count
  }
}
