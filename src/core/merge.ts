/**
 * Merge rules. Each kind's rule is the maximum under a total order of its states, so merging is
 * commutative, associative and idempotent (a join semilattice) and every node that has seen the
 * same set of states holds the same state, whatever the order of arrival:
 *
 * - triple: order by (stamp, deleted). The later of add/delete wins; a delete and an add with the
 *   very same stamp resolve to the delete.
 * - note: order by (stamp, deleted, hash of value). Last writer wins; a delete wins an exact tie;
 *   equal stamps with different values (which only a misbehaving node can produce) still converge.
 * - episode: order by (stamp, hash of data). Never deleted by a merge (union of ids).
 * - trace: the id is the hash of the content, so two states with one id are equal: insert or ignore.
 *
 * These are the default (last-writer-wins) rules. Other conflict strategies for polled sync are
 * layered on top in sync/ and documented with their convergence properties in docs/SYNC.md.
 */
import { jsonHash } from './canonical.ts'
import { compareHlc } from './hlc.ts'
import type { EpisodeRecord, MemoryRecord, NoteRecord, TraceRecord, TripleRecord } from './model.ts'

const cmpBool = (a: boolean, b: boolean): number => (a === b ? 0 : a ? 1 : -1)
const cmpStr = (a: string, b: string): number => (a === b ? 0 : a < b ? -1 : 1)

export function compareTriple (a: TripleRecord, b: TripleRecord): number {
  return compareHlc(a.hlc, b.hlc) || cmpBool(a.deleted, b.deleted)
}

export function compareNote (a: NoteRecord, b: NoteRecord): number {
  const c = compareHlc(a.hlc, b.hlc) || cmpBool(a.deleted, b.deleted)
  if (c !== 0 || a.deleted) return c
  return cmpStr(jsonHash(a.value), jsonHash(b.value))
}

export function compareEpisode (a: EpisodeRecord, b: EpisodeRecord): number {
  const c = compareHlc(a.hlc, b.hlc)
  return c !== 0 ? c : cmpStr(jsonHash(a.data), jsonHash(b.data))
}

export function compareTrace (_a: TraceRecord, _b: TraceRecord): number {
  return 0
}

/**
 * Compares two states of the same record (same kind and key). Positive: `a` wins.
 * Zero: the same state.
 */
export function compareRecords (a: MemoryRecord, b: MemoryRecord): number {
  switch (a.kind) {
    case 'triple': return compareTriple(a, b as TripleRecord)
    case 'note': return compareNote(a, b as NoteRecord)
    case 'episode': return compareEpisode(a, b as EpisodeRecord)
    case 'trace': return compareTrace(a, b as TraceRecord)
  }
}

/** The merged state of two states of one record. */
export function merge<R extends MemoryRecord> (a: R, b: R): R {
  return compareRecords(a, b) >= 0 ? a : b
}

export interface MergeOutcome<R extends MemoryRecord> {
  /** The state to keep. */
  readonly result: R
  /** True when `result` is `incoming` and differs from `current` (a write is needed). */
  readonly changed: boolean
}

/** Merges an incoming state into the current one (absent when the record is new here). */
export function mergeInto<R extends MemoryRecord> (current: R | undefined, incoming: R): MergeOutcome<R> {
  if (current === undefined) return { result: incoming, changed: true }
  return compareRecords(incoming, current) > 0 ? { result: incoming, changed: true } : { result: current, changed: false }
}
