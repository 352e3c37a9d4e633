/**
 * Revert (docs/DATA-MODEL.md, "History"): which earlier state a record goes back to, and the new
 * state that restores it. A revert is a new write with a fresh stamp, so it syncs and converges
 * like any other write; nothing is rewritten in place.
 *
 * - A record goes back to the state before its last change (`previousTarget`).
 * - For one origin's window [from, to], each record it changed goes back to the latest of its
 *   states that origin did not write in the window (`windowTarget`).
 *
 * `restoreState` turns a target into the state to write now: a triple or note whose target is
 * absent (or deleted) is deleted; one whose target is live gets that content back; an episode
 * cannot be deleted (union) and a trace never changes, so those are reported, not reverted.
 */
import { canonicalJson } from './canonical.ts'
import type { Hlc } from './hlc.ts'
import type { NodeId } from './ids.ts'
import type { MemoryRecord } from './model.ts'

/** The states of one record, newest first, as history lists them. */
export type StatesNewestFirst = ReadonlyArray<{ readonly record: MemoryRecord }>

/** The state before the last change: the second newest state (undefined: the record did not exist). */
export function previousTarget (states: StatesNewestFirst): MemoryRecord | undefined {
  return states[1]?.record
}

/** The latest state not written by `origin` with a wall time in [from, to] (undefined: none). */
export function windowTarget (states: StatesNewestFirst, origin: NodeId, from: number, to: number): MemoryRecord | undefined {
  return states.find(s => !(s.record.hlc.node === origin && s.record.hlc.wall >= from && s.record.hlc.wall <= to))?.record
}

export type Restore =
  | { readonly write: MemoryRecord }
  | { readonly unchanged: true }
  | { readonly skipped: string }

const live = (r: MemoryRecord | undefined): boolean =>
  r !== undefined && !((r.kind === 'triple' || r.kind === 'note') && r.deleted)

/**
 * What gives the record whose current state is `current` (undefined: not held) the content of
 * `target` (undefined: absent), stamped `hlc`.
 */
export function restoreState (current: MemoryRecord | undefined, target: MemoryRecord | undefined, hlc: Hlc): Restore {
  const base = current ?? target
  if (base === undefined) return { unchanged: true }
  switch (base.kind) {
    case 'triple': {
      if (live(target) === live(current)) return { unchanged: true }
      return { write: { ...base, hlc, deleted: !live(target) } }
    }
    case 'note': {
      if (!live(target)) return live(current) ? { write: { kind: 'note', key: base.key, value: null, hlc, deleted: true } } : { unchanged: true }
      const value = (target as typeof base).value
      if (live(current) && canonicalJson((current as typeof base).value) === canonicalJson(value)) return { unchanged: true }
      return { write: { kind: 'note', key: base.key, value, hlc, deleted: false } }
    }
    case 'episode': {
      if (target === undefined) return current === undefined ? { unchanged: true } : { skipped: 'an episode cannot be deleted (episodes merge by union)' }
      const data = (target as typeof base).data
      if (current !== undefined && canonicalJson((current as typeof base).data) === canonicalJson(data)) return { unchanged: true }
      return { write: { kind: 'episode', id: base.id, data, hlc } }
    }
    case 'trace':
      return target === undefined && current !== undefined ? { skipped: 'a trace entry never changes (traces are append-only)' } : { unchanged: true }
  }
}
