/**
 * Which node of a benchmark mesh dials which (bench/mesh.ts): pure, so a run is repeatable.
 *
 * A full mesh: node i dials every node j > i (N − 1 sessions a node). A partial mesh of degree
 * k, the way a real deployment grows (each machine configured with a few peers it knows, not
 * with all of them): node i dials node i + 1 (a ring, so the mesh is connected whatever the
 * draws) and k − 1 others drawn with a fixed seed, never one it already shares a session with;
 * each node then holds about 2k sessions (those it dialled and those dialled to it).
 */
import { mulberry32 } from '../src/util/random.ts'

/** An edge: `from` dials `to`. */
export interface Dial { readonly from: number, readonly to: number }

/**
 * The dials of a mesh of `n` nodes: a full mesh when `degree` is undefined or at least n − 1,
 * else a ring plus `degree − 1` seeded chords a node.
 */
export function meshDials (n: number, degree?: number, seed = 17): Dial[] {
  if (!Number.isSafeInteger(n) || n < 2) throw new RangeError(`a mesh needs at least 2 nodes (got ${n})`)
  if (degree !== undefined && (!Number.isSafeInteger(degree) || degree < 1)) throw new RangeError(`the degree of a partial mesh is a positive integer (got ${degree})`)
  const dials: Dial[] = []
  if (degree === undefined || degree >= n - 1) {
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) dials.push({ from: i, to: j })
    return dials
  }
  const linked = new Set<string>()
  const key = (a: number, b: number): string => a < b ? `${a}-${b}` : `${b}-${a}`
  const add = (from: number, to: number): void => { linked.add(key(from, to)); dials.push({ from, to }) }
  for (let i = 0; i < n; i++) if (!linked.has(key(i, (i + 1) % n))) add(i, (i + 1) % n)
  const random = mulberry32(seed)
  for (let i = 0; i < n; i++) {
    let added = 0
    // bounded: a node that is already linked to nearly everyone gives up after a few draws
    for (let draw = 0; added < degree - 1 && draw < 20 * degree; draw++) {
      const j = Math.floor(random() * n)
      if (j === i || linked.has(key(i, j))) continue
      add(i, j)
      added++
    }
  }
  return dials
}

/** The sessions each node holds once every dial has opened (its degree in the mesh). */
export function sessionsPerNode (n: number, dials: readonly Dial[]): number[] {
  const out = new Array<number>(n).fill(0)
  for (const d of dials) { out[d.from]!++; out[d.to]!++ }
  return out
}

/** Each node's hops from node `from` (-1: unreachable). */
export function hopsFrom (n: number, dials: readonly Dial[], from: number): number[] {
  const adj: number[][] = Array.from({ length: n }, () => [])
  for (const d of dials) { adj[d.from]!.push(d.to); adj[d.to]!.push(d.from) }
  const dist = new Array<number>(n).fill(-1)
  dist[from] = 0
  const queue = [from]
  for (let q = 0; q < queue.length; q++) {
    const u = queue[q]!
    for (const v of adj[u]!) if (dist[v] === -1) { dist[v] = dist[u]! + 1; queue.push(v) }
  }
  return dist
}

/** The longest shortest path in hops (how many relays a write may need to reach every node). */
export function diameter (n: number, dials: readonly Dial[]): number {
  let worst = 0
  for (let s = 0; s < n; s++) {
    const dist = hopsFrom(n, dials, s)
    if (dist.includes(-1)) return Infinity
    worst = Math.max(worst, ...dist)
  }
  return worst
}
