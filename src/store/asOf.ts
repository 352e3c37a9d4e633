/**
 * Reading the past, shared by every store so that they answer alike: the state of a record at a
 * time is the largest of its states (in the merge order of core/merge.ts) stamped at or before
 * that time; the states a store holds of a record are listed newest first in the same order.
 */
import { compareRecords } from '../core/merge.ts'
import type { MemoryRecord } from '../core/model.ts'

/** The largest state stamped at or before `wallMs`, or undefined when none is. */
export function stateAt<T extends { readonly record: MemoryRecord }> (states: Iterable<T>, wallMs: number): T | undefined {
  let best: T | undefined
  for (const s of states) {
    if (s.record.hlc.wall > wallMs) continue
    if (best === undefined || compareRecords(s.record, best.record) > 0) best = s
  }
  return best
}

/** States of one record, newest (largest) first. */
export function newestFirst<T extends { readonly record: MemoryRecord }> (states: T[]): T[] {
  return states.sort((a, b) => compareRecords(b.record, a.record))
}

/** The latest state at `wallMs` of each record, from states grouped by `keyOf`. */
export function latestByKey<T extends { readonly record: MemoryRecord }> (states: Iterable<T>, keyOf: (s: T) => string, wallMs: number): T[] {
  const best = new Map<string, T>()
  for (const s of states) {
    if (s.record.hlc.wall > wallMs) continue
    const k = keyOf(s)
    const b = best.get(k)
    if (b === undefined || compareRecords(s.record, b.record) > 0) best.set(k, s)
  }
  return [...best.values()]
}
