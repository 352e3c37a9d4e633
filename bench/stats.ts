/**
 * The summary statistics every bench reports, in one place: the median (the middle value; the
 * mean of the two middle values of an even count) and the nearest-rank percentile of sorted
 * samples (p99 of 100 samples is the 99th smallest).
 */

/** The median of `xs` (unsorted; not modified); NaN for none. */
export function median (xs: readonly number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** The nearest-rank percentile `p` (0–1) of `sorted` (ascending); NaN for none. */
export function percentile (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}
