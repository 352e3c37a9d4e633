/**
 * Argument checks shared by the stores, so both refuse the same inputs with the same errors.
 */
import { INTERNAL, INVALID_INPUT } from '../core/errors.ts'
import type { ChangesOptions, Page } from './Store.ts'
import type { TextQuery } from './textSearch.ts'

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0

export function checkPage (page: Page): void {
  if (!isCount(page.limit)) throw INVALID_INPUT('limit', 'must be an integer ≥ 0')
  if (!isCount(page.offset)) throw INVALID_INPUT('offset', 'must be an integer ≥ 0')
}

export function checkChanges (after: number, opts: ChangesOptions): void {
  if (!isCount(after)) throw INVALID_INPUT('after', 'must be a seq: an integer ≥ 0')
  if (!isCount(opts.limit) || opts.limit < 1) throw INVALID_INPUT('limit', 'must be an integer ≥ 1')
}

export function checkMark (mark: { readonly wall: number, readonly counter: number }, field = 'clock'): void {
  if (!isCount(mark.wall) || !isCount(mark.counter)) throw INVALID_INPUT(field, 'must be a clock mark {wall, counter} of integers ≥ 0')
}

export function checkCursor (cursor: { readonly peer: string, readonly seq: number } | undefined): void {
  if (cursor !== undefined && !isCount(cursor.seq)) throw INVALID_INPUT('cursor.seq', 'must be a seq: an integer ≥ 0')
}

export function checkWallMs (wallMs: number, field = 'beforeWallMs'): void {
  if (!isCount(wallMs)) throw INVALID_INPUT(field, 'must be milliseconds since the epoch: an integer ≥ 0')
}

/** A store write started while another is in progress (a resolver writing to the store). */
export function nestedWriteError (): Error {
  return INTERNAL('a store write was started inside another write (a conflict resolver must not write to the store)')
}

const TEXT_KINDS: ReadonlySet<string> = new Set(['triple', 'note', 'episode', 'trace'])

export function checkTextQuery (q: TextQuery): void {
  if (!isCount(q.limit)) throw INVALID_INPUT('limit', 'must be an integer ≥ 0')
  for (const k of q.kinds ?? []) if (!TEXT_KINDS.has(k)) throw INVALID_INPUT('kinds', `must be triple, note, episode or trace, got ${JSON.stringify(k)}`)
  if (q.namespace !== undefined && typeof q.namespace !== 'string') throw INVALID_INPUT('namespace', 'must be a string')
}

export function checkSlice (seqs: number): void {
  if (!isCount(seqs) || seqs < 1) throw INVALID_INPUT('seqs', 'must be an integer ≥ 1')
}
