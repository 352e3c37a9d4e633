/**
 * The one decision `Store.apply` makes for each incoming state, shared by every store so that
 * they merge identically: the default rule of core/merge.ts, then the optional conflict
 * resolver; and a signed copy of the very state held unsigned replaces it.
 */
import { INTERNAL } from '../core/errors.ts'
import { formatHlc } from '../core/hlc.ts'
import { covers } from '../core/knowledge.ts'
import { compareRecords, mergeInto } from '../core/merge.ts'
import { recordKey, type MemoryRecord } from '../core/model.ts'
import type { ApplyOptions } from './Store.ts'

/**
 * Rule A (core/knowledge.ts): an incoming triple or note whose key is absent here (`current`
 * undefined) and whose stamp `opts.known` covers was held and deleted here: it is dropped.
 */
export function isForgotten (current: MemoryRecord | undefined, incoming: MemoryRecord, opts: ApplyOptions): boolean {
  return current === undefined && opts.known !== undefined && (incoming.kind === 'triple' || incoming.kind === 'note') && covers(opts.known, incoming.hlc)
}

/** What identifies a held record: its kind, key and stamp (the same state held twice is held once). */
export const heldIdent = (r: MemoryRecord): string => `${r.kind}:${recordKey(r)}@${formatHlc(r.hlc)}`

/**
 * The state to write for `incoming`, or undefined when the current state stays as it is.
 * `current` is absent when the record is new here (then the incoming state is written and the
 * resolver is not consulted: there is nothing to conflict with). `signs`: the incoming state is
 * signed and the current one is not — then the same state is written again, now with its seal.
 */
export function decide (current: MemoryRecord | undefined, incoming: MemoryRecord, opts: ApplyOptions, signs = false): MemoryRecord | undefined {
  if (current === undefined) return incoming
  let kept = mergeInto(current, incoming).result
  if (opts.resolve !== undefined && compareRecords(incoming, current) !== 0) {
    const answer = opts.resolve(current, incoming)
    if (answer !== null) {
      if (answer.kind !== incoming.kind || recordKey(answer) !== recordKey(incoming)) {
        throw INTERNAL('a conflict resolver returned a state of another record', {
          kind: incoming.kind, key: recordKey(incoming), answerKind: answer.kind, answerKey: recordKey(answer)
        })
      }
      kept = answer
    }
  }
  if (compareRecords(kept, current) !== 0) return kept
  return signs && compareRecords(incoming, current) === 0 ? incoming : undefined
}

/** Whether `current` is a live state of a triple or note (a record that was present). */
export function isLive (current: MemoryRecord | undefined): boolean {
  return current !== undefined && (current.kind === 'triple' || current.kind === 'note') && !current.deleted
}

/**
 * Whether a written state came from the peer: true when it is the incoming state, false when a
 * resolver made a state the peer does not have (that one must be served back to it).
 */
export function cameFromPeer (written: MemoryRecord, incoming: MemoryRecord): boolean {
  return written === incoming || compareRecords(written, incoming) === 0
}
