/**
 * The one decision `Store.apply` makes for each incoming state, shared by every store so that
 * they merge identically: the default rule of core/merge.ts, then `keepLive`, then the
 * optional conflict resolver; and a signed copy of the very state held unsigned replaces it.
 */
import { INTERNAL } from '../core/errors.ts'
import { compareRecords, mergeInto } from '../core/merge.ts'
import { recordKey, type MemoryRecord } from '../core/model.ts'
import type { ApplyOptions } from './Store.ts'

/**
 * The state to write for `incoming`, or undefined when the current state stays as it is.
 * `current` is absent when the record is new here (then the incoming state is written and the
 * resolver is not consulted: there is nothing to conflict with). `signs`: the incoming state is
 * signed and the current one is not — then the same state is written again, now with its seal.
 */
export function decide (current: MemoryRecord | undefined, incoming: MemoryRecord, opts: ApplyOptions, signs = false): MemoryRecord | undefined {
  if (current === undefined) return incoming
  if (opts.keepLive === true && incoming.kind === 'triple' && !incoming.deleted && current.kind === 'triple' && !current.deleted) {
    return signs && compareRecords(incoming, current) === 0 ? incoming : undefined
  }
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

/**
 * Whether a written state came from the peer: true when it is the incoming state, false when a
 * resolver made a state the peer does not have (that one must be served back to it).
 */
export function cameFromPeer (written: MemoryRecord, incoming: MemoryRecord): boolean {
  return written === incoming || compareRecords(written, incoming) === 0
}
