/**
 * The origins one peer pruned from the stream this node sends it (protocol/native/gossipRoutes.ts,
 * docs/PROTOCOL.md §2 "Dissemination").
 *
 * - `split` takes a feed read apart: the entries that go, and per origin left out the highest
 *   stamp left out (the page's `lz` announcement) and every record left out, by stamp and print
 *   (its `ls`: the receiver answers the announcement once it holds each of them). The page's `to` still covers what was left
 *   out, as for records that came via the peer.
 * - `strip` leaves out of the knowledge vector sent to the peer every origin pruned now: the
 *   peer's cursor on this feed does not say it holds that origin's records (core/knowledge.ts
 *   invariant I). What the stream left out before, the peer keeps beside its cursor with the
 *   highest stamp announced, and learns this node's entry for the origin again only once its own
 *   knowledge of the origin reaches that stamp (replication/peerCursor.ts leftOutUnheld).
 * - `graft` puts origins back (the peer's cursor named them in `g`: the stream restarts there).
 */
import type { HlcMark } from '../../core/hlc.ts'
import { compareMark } from '../../core/hlc.ts'
import type { NodeId } from '../../core/ids.ts'
import type { SentKnowledgeEntry } from '../../core/knowledge.ts'
import type { Announcement } from '../../protocol/native/gossipRoutes.ts'
import { leftOutPrint, type LeftOutStamp, type LeftOutStamps } from '../../protocol/native/leftOutList.ts'
import type { FeedEntry } from '../../store/Store.ts'

export interface Split {
  readonly kept: readonly FeedEntry[]
  /** Origin → the highest stamp left out. */
  readonly left: ReadonlyMap<NodeId, HlcMark>
  /** Origin → every record left out, as its stamp and print (the page's `ls`). */
  readonly stamps: ReadonlyMap<NodeId, readonly LeftOutStamp[]>
}

export class PrunedOrigins {
  private readonly current = new Set<NodeId>()

  get size (): number {
    return this.current.size
  }

  has (origin: NodeId): boolean {
    return this.current.has(origin)
  }

  prune (origins: readonly NodeId[]): void {
    for (const o of origins) this.current.add(o)
  }

  graft (origins: readonly NodeId[]): void {
    for (const o of origins) this.current.delete(o)
  }

  split (entries: readonly FeedEntry[]): Split {
    if (this.current.size === 0) return { kept: entries, left: new Map(), stamps: new Map() }
    const kept: FeedEntry[] = []
    const left = new Map<NodeId, HlcMark>()
    const stamps = new Map<NodeId, LeftOutStamp[]>()
    for (const e of entries) {
      const o = e.record.hlc.node
      if (!this.current.has(o)) { kept.push(e); continue }
      const m = left.get(o)
      if (m === undefined || compareMark(e.record.hlc, m) > 0) left.set(o, { wall: e.record.hlc.wall, counter: e.record.hlc.counter })
      const list = stamps.get(o) ?? []
      list.push({ wall: e.record.hlc.wall, counter: e.record.hlc.counter, print: leftOutPrint(e.record) })
      stamps.set(o, list)
    }
    return { kept, left, stamps }
  }

  strip (k: readonly SentKnowledgeEntry[]): readonly SentKnowledgeEntry[] {
    return this.current.size === 0 ? k : k.filter(e => !this.current.has(e.node))
  }
}

/** The records a page left out, per origin (its `ls` rows). */
export function leftOutList (stamps: ReadonlyMap<NodeId, readonly LeftOutStamp[]> | undefined): LeftOutStamps[] | undefined {
  if (stamps === undefined || stamps.size === 0) return undefined
  return [...stamps].map(([node, list]) => ({ node, stamps: list }))
}

/** The announcements of a page: what `split` left out, as `lz` rows. */
export function announcements (left: ReadonlyMap<NodeId, HlcMark> | undefined): Announcement[] | undefined {
  if (left === undefined || left.size === 0) return undefined
  return [...left].map(([node, m]) => ({ node, wall: m.wall, counter: m.counter }))
}
