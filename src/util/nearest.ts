/** "Did you mean …?": the candidate closest to a misspelt name. */

/** Edit distance (insertions, deletions, substitutions), case-insensitive. */
export function editDistance (a: string, b: string): number {
  const s = a.toLowerCase()
  const t = b.toLowerCase()
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j)
  for (let i = 1; i <= s.length; i++) {
    const cur = [i]
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost)
    }
    prev = cur
  }
  return prev[t.length]!
}

/**
 * The candidate nearest to `name`, or undefined when none is plausibly meant: the distance must
 * be at most about a third of the name's length (and at least 2 edits are always allowed), or
 * the name must be the candidate's last segment (`port` → `api.port`).
 */
export function nearest (name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDist = Infinity
  for (const c of candidates) {
    const d = editDistance(name, c)
    if (d < bestDist) { best = c; bestDist = d }
  }
  if (best !== undefined && bestDist <= Math.max(2, Math.floor(name.length / 3))) return best
  const lower = name.toLowerCase()
  return candidates.find(c => c.toLowerCase().endsWith('.' + lower) || c.toLowerCase().endsWith('_' + lower))
}
