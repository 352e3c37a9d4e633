/**
 * Graph expansion: the neighbourhood of some nodes, k hops deep, over triples whose object is a
 * node (an edge from subject to object, followed either way).
 *
 * Hop 0 is the seeds. For every node reached at hop h < k: its edges out and in, and the nodes at
 * their other ends at hop h + 1. The result holds every node reached with its distance, and the
 * triples about them (every live triple whose subject is a node reached, whatever its object) and
 * the edges followed into them. Bounded by EXPAND_LIMITS (a hub with a million edges must not
 * answer a million triples); `truncated` says a bound was met.
 */
import { LIMITS } from '../core/limits.ts'
import type { TripleRecord } from '../core/model.ts'
import type { Store } from '../store/Store.ts'

/** Deepest expansion, and the most nodes and triples one expansion answers (LIMITS.md). */
export const EXPAND_LIMITS = { depth: LIMITS.searchExpandMax, nodes: 200, triples: 2000 } as const

export interface Neighbourhood {
  readonly depth: number
  /** Every node reached, by distance from the seeds then in the order met. */
  readonly nodes: ReadonlyArray<{ readonly id: string, readonly hops: number }>
  readonly triples: readonly TripleRecord[]
  readonly truncated: boolean
}

export function expand (store: Store, seeds: readonly string[], depth: number, limits: { nodes: number, triples: number } = EXPAND_LIMITS): Neighbourhood {
  const hops = new Map<string, number>()
  const triples = new Map<string, TripleRecord>()
  let truncated = false
  const reach = (id: string, h: number, frontier: string[]): void => {
    if (hops.has(id)) return
    if (hops.size >= limits.nodes) { truncated = true; return }
    hops.set(id, h)
    frontier.push(id)
  }
  /** The live triples matching a pattern, as many as still fit. */
  const take = (pattern: Parameters<Store['queryTriples']>[0]): TripleRecord[] => {
    const room = limits.triples - triples.size
    if (room <= 0) { truncated = true; return [] }
    const page = store.queryTriples(pattern, { limit: room, offset: 0 })
    if (page.total > page.triples.length) truncated = true
    for (const t of page.triples) triples.set(t.id, t)
    return page.triples
  }
  let frontier: string[] = []
  for (const s of seeds) reach(s, 0, frontier)
  for (let h = 0; h <= depth && frontier.length > 0; h++) {
    const next: string[] = []
    for (const node of frontier) {
      const out = take({ subject: node })
      if (h === depth) continue
      for (const t of out) if (t.object.kind === 'node') reach(t.object.value, h + 1, next)
      for (const t of take({ object: { kind: 'node', value: node } })) reach(t.subject, h + 1, next)
    }
    frontier = next
  }
  return {
    depth,
    nodes: [...hops].map(([id, h]) => ({ id, hops: h })),
    triples: [...triples.values()],
    truncated
  }
}
