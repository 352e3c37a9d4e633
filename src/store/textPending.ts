/**
 * Which live records the full-text index holds, when it is behind its records: the one rule both
 * stores keep (store/sqlite/textIndex.ts, store/memory/MemoryTextIndex.ts). Pure.
 *
 * The index is behind in a range of the feed, (done, upto]: after a rebuild starts (every record
 * up to the last seq then), or while a far-behind catch-up's pages are written without their words
 * (ApplyOptions.deferText: each live record such a write makes extends `upto` to its seq). A
 * rebuild's slices (continueTextRebuild) index the range from `done` on. Records written into
 * the range's middle by ordinary writes — a local write, a page of another peer, between two
 * deferred pages — were indexed as they were written: such stretches are `kept`. So:
 *
 *   a live record at seq s is in the index exactly when no range is pending (upto = 0), or
 *   s > upto, or s ≤ done, or s lies in a kept stretch.
 *
 * A record's state that leaves seq s (replaced, deleted) leaves the index only when it was in it;
 * the rebuild indexes the live records of the range that are not in kept stretches, each once.
 */

/** A stretch of seqs [lo, hi] inside the pending range whose live records are indexed. */
export interface SeqRange {
  readonly lo: number
  readonly hi: number
}

export interface TextPending {
  readonly done: number
  /** 0: nothing is pending. */
  readonly upto: number
  /** Disjoint, in order, inside (done, upto]. */
  readonly kept: readonly SeqRange[]
}

export const NOTHING_PENDING: TextPending = { done: 0, upto: 0, kept: [] }

/** Whether the live record at `seq` is in the index. */
export function isIndexed (p: TextPending, seq: number): boolean {
  if (p.upto === 0 || seq > p.upto || seq <= p.done) return true
  for (const r of p.kept) if (r.lo <= seq && seq <= r.hi) return true
  return false
}

/** Everything up to `lastSeq` is pending (a rebuild starts). */
export function pendingAll (lastSeq: number): TextPending {
  return lastSeq === 0 ? NOTHING_PENDING : { done: 0, upto: lastSeq, kept: [] }
}

/**
 * A live record written at `seq` (the feed's last seq) is not indexed now: the range extends to
 * it, and what was written since the range's end (indexed as written) is kept.
 */
export function deferAt (p: TextPending, seq: number): TextPending {
  if (p.upto === 0) return { done: seq - 1, upto: seq, kept: [] }
  if (seq <= p.upto) return p
  const kept = seq - 1 > p.upto ? [...p.kept, { lo: p.upto + 1, hi: seq - 1 }] : p.kept
  return { done: p.done, upto: seq, kept }
}

/**
 * Whether `seq` is the one right after a pending range: deferAt(p, seq) is then `p` with `upto`
 * moved to `seq` (nothing kept, `done` as it is), which a caller holding the range's fields may
 * do in place (every record of a catch-up page that defers the index comes here).
 */
export const extendsByOne = (p: TextPending, seq: number): boolean => p.upto !== 0 && seq === p.upto + 1

/** A rebuild's slice reached `done`: the range shrinks, and ends once it reaches `upto`. */
export function doneTo (p: TextPending, done: number): TextPending {
  if (p.upto === 0 || done >= p.upto) return NOTHING_PENDING
  return { done, upto: p.upto, kept: p.kept.filter(r => r.hi > done) }
}
