/**
 * Reciprocal-rank fusion (Cormack, Clarke and Büttcher, 2009) of a full-text ranking and a
 * semantic one: each record scores Σ 1 / (RRF_K + rank) over the lists it is in (ranks from 1),
 * and the fused list is in that order (ties: the full-text order, then the semantic one). It needs
 * no calibration between BM25 scores and similarities, only the two orders. Pure.
 */
import { recordKey, type MemoryRecord } from '../core/model.ts'
import type { ScoringPhrase } from '../text/plan.ts'

export const RRF_K = 60

export interface FusedItem {
  readonly record: MemoryRecord
  /** The fused score. */
  readonly score: number
  /** What the snippet highlights: the phrases of the full-text query that found it. */
  readonly phrases: readonly ScoringPhrase[]
}

const keyOf = (r: MemoryRecord): string => `${r.kind}:${recordKey(r)}`

export function fuse (text: ReadonlyArray<{ record: MemoryRecord, phrases: readonly ScoringPhrase[] }>, semantic: readonly MemoryRecord[], phrases: readonly ScoringPhrase[]): FusedItem[] {
  const items = new Map<string, { record: MemoryRecord, score: number, phrases: readonly ScoringPhrase[], order: number }>()
  let order = 0
  text.forEach((t, i) => {
    const k = keyOf(t.record)
    if (!items.has(k)) items.set(k, { record: t.record, score: 1 / (RRF_K + i + 1), phrases: t.phrases, order: order++ })
  })
  semantic.forEach((r, i) => {
    const k = keyOf(r)
    const it = items.get(k)
    if (it !== undefined) it.score += 1 / (RRF_K + i + 1)
    else items.set(k, { record: r, score: 1 / (RRF_K + i + 1), phrases, order: order++ })
  })
  return [...items.values()].sort((a, b) => b.score - a.score || a.order - b.order).map(({ record, score, phrases }) => ({ record, score, phrases }))
}
