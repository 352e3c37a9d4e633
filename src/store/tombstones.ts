/**
 * Which tombstones a collection removes (Rule B, core/knowledge.ts; docs/SYNC.md "Deletes that
 * stay deleted"): a deletion of a triple or note stamped before the TTL cut and, when a stable
 * mark is given, at or below it. One rule, used by every store both to remove the tombstones and
 * to move them into history (docs/DATA-MODEL.md, "History"), in the two forms a store needs: a
 * test of one record, and the same test as SQL over a record table's columns.
 */
import { compareMark, type HlcMark } from '../core/hlc.ts'
import type { MemoryRecord } from '../core/model.ts'

/** Whether a collection with this cut and stable mark removes `r`. */
export function collectable (r: MemoryRecord, beforeWallMs: number, upTo: HlcMark | undefined): boolean {
  if ((r.kind !== 'triple' && r.kind !== 'note') || !r.deleted || r.hlc.wall >= beforeWallMs) return false
  return upTo === undefined || compareMark(r.hlc, upTo) <= 0
}

/** `collectable` over the columns `deleted`, `hlc_wall`, `hlc_counter`; bind `collectableArgs`. */
export const COLLECTABLE_SQL = 'deleted = 1 AND hlc_wall < ? AND (hlc_wall < ? OR (hlc_wall = ? AND hlc_counter <= ?))'

/** The parameters of COLLECTABLE_SQL (no stable mark: every stamp is at or below the bound). */
export function collectableArgs (beforeWallMs: number, upTo: HlcMark | undefined): [number, number, number, number] {
  return upTo === undefined ? [beforeWallMs, Number.MAX_SAFE_INTEGER, 0, 0] : [beforeWallMs, upTo.wall, upTo.wall, upTo.counter]
}
