/**
 * Eager routes: which peer's stream delivers each origin's records to this node, after Plumtree
 * (Leitão, Pereira & Rodrigues, "Epidemic broadcast trees", 2007), over engram's feed streams
 * (docs/PROTOCOL.md §2, "Dissemination").
 *
 * Every stream starts eager: it carries every record of the sender's feed. The receiver keeps,
 * per origin (the node whose stamp a record carries), the peer whose page last brought a record
 * of that origin first on a stream that carries it (its *parent*: a stream that leaves the origin
 * out never becomes its parent, even when a page it sent before the prune took effect brings a
 * record first, or every stream of the origin could end up pruned at once). A page that brings
 * only records this node already holds (duplicates) from a peer that is not the origin's parent
 * makes the receiver send that peer `prune` for the origin: the peer's stream then leaves that
 * origin's records out, moving the cursor past them, and announces instead the highest stamp it
 * left out (`lz` on the page). The eager links of each origin so form a tree, and each write
 * reaches each node about once. An origin is never pruned from its own stream: while a node is
 * connected to the origin, that stream carries every record the origin wrote (its feed holds
 * every state of the origin still current), whatever the other paths lose.
 *
 * Repair is a graft: the receiver sends its `cursor` again, moved back to where the peer may
 * have begun leaving out records of the origins this node may lack (`skipFrom`: where the
 * prune took effect, or past the last announcement answered; for what an earlier session left
 * out, where that began — below that point everything the stream left out of them is held),
 * with `g`, the origins to stream again; the peer restarts its stream there with them in it
 * (sending, up to what the receiver had acknowledged, only theirs). A cursor is resent until a page answers it, so a graft is as
 * reliable as the stream; one is in flight per link at a time. A receiver grafts an origin on a
 * peer when
 * - an announcement of the peer is not answered within the graft timeout (the eager path
 *   stalled, or prunes cut the origin off), timed from its arrival or from the last record it
 *   listed that arrived since, whichever is later: an eager path that is slow but still brings
 *   them (a mesh short of CPU) is not grafted over, which would only stream them twice — for at
 *   most MAX_WAIT_TIMEOUTS timeouts from its arrival (a path that brings some and loses one) —, or
 * - the session with the origin's parent ended: on one other link that leaves it out.
 * An announcement is answered when every record the page listed as left out (`ls`: stamp and
 * print of each, as Plumtree's IHAVE carries message ids) is held here at its version or a later
 * one (`holds`), whichever carrier brought it and whether before or after the announcement (the
 * last MAX_SEEN_STAMPS records held are remembered), or when this node's knowledge of the origin
 * reaches the announced stamp S (`known`: it holds every state the origin issued up to S,
 * core/knowledge.ts invariant I; the only answer to a page without `ls`, from an older sender,
 * and to what an earlier session left out). A record of the origin stamped S or later that
 * arrived by some path does not answer it: the page left out every record of the origin in its
 * range, and the paths that brought a later one may not have brought those. Knowledge alone
 * would answer late: a node's entry for an origin moves only with the vectors of streams that
 * carry that origin, while gossip rounds and reshaped trees bring the records sooner.
 * What the receiver knows of a stream's pruned origins comes from the pages themselves (`lz`,
 * as reliable as the pages), so a lost or late `prune` costs duplicates, never records.
 *
 * Pure: no I/O and no clock (the session passes the time); messages go out through each link's
 * `send` and `graft`. The `prune` message and its checks are here too.
 */
import { PROTOCOL } from '../../core/errors.ts'
import { compareMark, type HlcMark } from '../../core/hlc.ts'
import { isNodeId, type NodeId } from '../../core/ids.ts'
import { MAX_KNOWLEDGE_ENTRIES } from '../../core/knowledge.ts'
import type { MemoryRecord } from '../../core/model.ts'
import { leftOutPrint, type LeftOutStamp, type LeftOutStamps } from './leftOutList.ts'

/** Leave the records of these origins out of the stream to the sender of this message. */
export interface PruneMessage {
  readonly t: 'prune'
  readonly o: readonly NodeId[]
}

export type RouteMessage = PruneMessage
export const ROUTE_MESSAGE_TYPES: readonly string[] = ['prune']

/** Most origins in one `prune` or one cursor's `g` (as many as a knowledge vector has entries). */
export const MAX_ROUTE_ORIGINS = MAX_KNOWLEDGE_ENTRIES

/** One origin and the highest stamp of it a page left out (`lz`). */
export interface Announcement {
  readonly node: NodeId
  readonly wall: number
  readonly counter: number
}

/** The key a left-out record is matched by: origin, stamp and print. */
const stampKey = (node: NodeId, s: { readonly wall: number, readonly counter: number }, print: number): string => `${node} ${s.wall} ${s.counter} ${print}`

/** A wait whose records keep arriving is grafted at the latest this many graft timeouts after it began. */
export const MAX_WAIT_TIMEOUTS = 4

/** Most stamps of records held here remembered for announcements still to come (per node). */
export const MAX_SEEN_STAMPS = 16_384

export function routeToWire (msg: RouteMessage): Record<string, unknown> {
  return { t: msg.t, o: [...msg.o] }
}

/** A list of origins (`prune.o`, `cursor.g`); throws PROTOCOL naming the field. */
export function parseOrigins (list: unknown, field: string): NodeId[] {
  if (!Array.isArray(list)) throw PROTOCOL(`${field}: must be an array of node ids`, { field })
  if (list.length > MAX_ROUTE_ORIGINS) throw PROTOCOL(`${field}: ${list.length} origins; at most ${MAX_ROUTE_ORIGINS}`, { field })
  list.forEach((n, i) => { if (!isNodeId(n)) throw PROTOCOL(`${field}[${i}]: must be a node id`, { field }) })
  return list as NodeId[]
}

/** Checks a decoded `prune` map; throws PROTOCOL naming the field. */
export function parseRoute (o: Record<string, unknown>): RouteMessage {
  if (o.t !== 'prune') throw PROTOCOL('route message: t must be prune', { field: 't' })
  return { t: 'prune', o: parseOrigins(o.o, 'prune.o') }
}

/** One session's side of the routes: the receiver's view of one peer's stream. */
export interface RouteLink {
  readonly peer: NodeId
  /**
   * Origins the peer's stream may leave out, each with the position of its feed from which it
   * may: this node's cursor when it sent `prune`, or the `from` of the first page that
   * announced the origin (`lz`) when no prune of it was known here (a lost or late message).
   */
  readonly skipFrom: Map<NodeId, number>
  /**
   * Announcements not answered yet: origin → the highest stamp announced (undefined: any stamp
   * may have been left out), when it first was, and for one announced in an earlier session
   * (kept beside the cursor: replication/peerCursor.ts) the position from which it was.
   */
  readonly waiting: Map<NodeId, Waiting>
  readonly send: (msg: RouteMessage) => void
  /** Grafts: the stream restarts from `from` with `origins` in it again (the cursor's `g`). */
  readonly graft: (origins: readonly NodeId[], from: number) => void
  /** A graft sent on this link is not answered yet (no timed-out graft goes meanwhile). */
  readonly grafting: () => boolean
}

export interface Waiting {
  readonly mark: HlcMark | undefined
  /** When it was announced. */
  readonly at: number
  /** When a record it listed last arrived (the graft timeout runs from the later of the two). */
  moved?: number
  /**
   * The records announced left out that are not held here yet (stampKey), when every
   * announcement of this wait listed them (`ls`); undefined: only the knowledge answers it.
   */
  readonly pending?: Set<string>
  /** For what an earlier session left out: the position from which it was. */
  readonly from?: number
  /** The `to` of the last page that announced the origin: once answered, nothing of it left out below there is missing. */
  readonly to?: number
}

/** What the peer's stream left out in earlier sessions, still unanswered as far as is known (peerCursor.ts LeftOut). */
export interface EarlierLeftOut {
  readonly from: number
  /** Origin → the highest stamp announced (undefined: not known, any). */
  readonly marks: ReadonlyMap<NodeId, HlcMark | undefined>
}

export interface RouteStats {
  prunesSent: number
  graftsSent: number
}

/**
 * Whether this node holds every state `origin` issued with a stamp up to `mark` (its knowledge
 * vector's entry reaches it: NodeKnowledge.covers).
 */
export type Known = (origin: NodeId, mark: HlcMark) => boolean

/** Whether this node holds `record` at its version or a later one (its key's state here is stamped at or after it, or the knowledge covers its stamp). */
export type Holds = (record: MemoryRecord) => boolean

export class EagerRoutes {
  readonly stats: RouteStats = { prunesSent: 0, graftsSent: 0 }
  private readonly links = new Set<RouteLink>()
  /** Origin → the peer whose stream last brought a record of it first. */
  private readonly parent = new Map<NodeId, NodeId>()
  private readonly known: Known
  private readonly holds: Holds
  /** Records held here lately (stampKey), by any carrier: an announcement that comes after them finds them (oldest dropped first). */
  private readonly seen = new Set<string>()

  /** `holds` absent: only the knowledge answers announcements. */
  constructor (known: Known, holds: Holds = () => false) {
    this.known = known
    this.holds = holds
  }

  /**
   * Records that arrived here by any carrier (a stream's page, a gossip batch): those held now
   * at their version or later answer the announcements that listed them.
   */
  received (records: readonly MemoryRecord[], now?: number): void {
    if (!this.listening()) return
    for (const r of records) {
      if (!this.holds(r)) continue
      const key = stampKey(r.hlc.node, r.hlc, leftOutPrint(r))
      this.seen.delete(key)
      this.seen.add(key)
      if (this.seen.size > MAX_SEEN_STAMPS) this.seen.delete(this.seen.values().next().value!)
      for (const l of this.links) {
        const w = l.waiting.get(r.hlc.node)
        // a listed record arrived: the path that brings them moves, and the timeout starts again
        if (w?.pending?.delete(key) === true && now !== undefined) w.moved = Math.max(now, w.moved ?? now)
      }
    }
  }

  /**
   * Whether an announcement may come that lists records arriving now: this node has streams
   * from more than one peer (a record can then reach it twice, and only a duplicate makes a
   * prune), or it has pruned a stream, or a stream to it leaves something out or has
   * announced, or a wait is open. Otherwise no record is looked up: a catch-up from a single
   * peer pays nothing here. A record that arrived while one stream was open and is listed
   * after a second one opened is answered by the knowledge or grafted: the cost is a copy,
   * never a record.
   */
  private listening (): boolean {
    if (this.links.size > 1 || this.stats.prunesSent > 0) return true
    for (const l of this.links) if (l.waiting.size > 0 || l.skipFrom.size > 0) return true
    return false
  }

  /** Whether a wait is answered: the knowledge reaches its stamp, or every record it listed is held here. */
  private answered (origin: NodeId, w: Waiting): boolean {
    if (w.pending !== undefined && w.pending.size === 0) return true
    return w.mark !== undefined && this.known(origin, w.mark)
  }

  /** The listed records of an announcement not held here yet (undefined: not listed). */
  private unheld (a: Announcement, listed: ReadonlyMap<NodeId, readonly LeftOutStamp[]> | undefined): Set<string> | undefined {
    const stamps = listed?.get(a.node)
    if (stamps === undefined) return undefined
    const out = new Set<string>()
    for (const s of stamps) {
      const key = stampKey(a.node, s, s.print)
      if (!this.seen.has(key)) out.add(key)
    }
    return out
  }

  /**
   * A session whose peer honours `prune` and the cursor's `g` (its cursor said so: `pr`). What
   * the peer's stream left out in earlier sessions (`earlier`, kept beside the cursor) is waited
   * for as if announced at `now`: a restart or a session that ended before the announcements
   * were answered, or in the middle of a graft, loses no record.
   */
  open (peer: NodeId, send: (msg: RouteMessage) => void, graft: (origins: readonly NodeId[], from: number) => void, grafting: () => boolean = () => false,
    earlier?: EarlierLeftOut, now = 0): RouteLink {
    const link: RouteLink = { peer, skipFrom: new Map(), waiting: new Map(), send, graft, grafting }
    for (const [o, mark] of earlier?.marks ?? []) link.waiting.set(o, { mark, at: now, from: earlier!.from })
    this.links.add(link)
    return link
  }

  /**
   * The session ended: each origin it was the parent of is grafted on one other link whose
   * stream leaves it out, which becomes its parent (the others stay lazy: their announcements
   * graft them if that path stalls too).
   */
  close (link: RouteLink): void {
    if (!this.links.delete(link)) return
    if ([...this.links].some(l => l.peer === link.peer)) return
    const orphans = [...this.parent].filter(([, p]) => p === link.peer).map(([o]) => o)
    const grafts = new Map<RouteLink, NodeId[]>()
    for (const o of orphans) {
      this.parent.delete(o)
      const next = [...this.links].find(l => l.skipFrom.has(o))
      if (next === undefined) continue
      grafts.set(next, [...(grafts.get(next) ?? []), o])
      this.parent.set(o, next.peer)
    }
    for (const [l, origins] of grafts) this.graft(l, origins)
  }

  /**
   * A page of a stream applied here (`link` undefined: a peer that does not honour prunes): its
   * records, per origin how many changed something here, its announcements. The peer becomes
   * the parent of the origins it brought first, unless its stream leaves them out. Prunes the
   * origins it brought only duplicates of (unless this peer is their parent, or the origin); an
   * announced origin not known as left out is noted as left out from the page's `from`.
   */
  page (link: RouteLink | undefined, peer: NodeId, page: { readonly from: number, readonly to: number, readonly records: readonly MemoryRecord[], readonly lz?: readonly Announcement[], readonly ls?: readonly LeftOutStamps[] },
    changed: ReadonlyMap<NodeId, number>, now: number): void {
    this.received(page.records, now)
    const dup = new Set<NodeId>()
    for (const r of page.records) {
      const o = r.hlc.node
      if ((changed.get(o) ?? 0) === 0) dup.add(o)
    }
    // a page sent before this node's prune took effect is no eager path
    for (const o of changed.keys()) if (link?.skipFrom.has(o) !== true) this.parent.set(o, peer)
    if (link === undefined) return
    const listed = page.ls !== undefined && page.ls.length > 0 ? new Map(page.ls.map(l => [l.node, l.stamps])) : undefined
    for (const a of page.lz ?? []) {
      if (!link.skipFrom.has(a.node)) link.skipFrom.set(a.node, page.from)
      const mark = { wall: a.wall, counter: a.counter }
      const pending = this.unheld(a, listed)
      let w = link.waiting.get(a.node)
      // an earlier announcement answered meanwhile: nothing left out up to its page is missing, and this one waits from now
      if (w !== undefined && this.answered(a.node, w)) {
        link.waiting.delete(a.node)
        if (w.to !== undefined) link.skipFrom.set(a.node, Math.max(link.skipFrom.get(a.node)!, w.to))
        w = undefined
      }
      if (w === undefined) {
        const fresh: Waiting = { mark, at: now, to: page.to, ...(pending !== undefined ? { pending } : {}) }
        // every earlier announcement answered, and this one too: nothing left out up to here is missing
        if (this.answered(a.node, fresh)) link.skipFrom.set(a.node, page.to)
        else link.waiting.set(a.node, fresh)
      } else {
        // still waiting: the listed records of both, or (one not listed) the knowledge alone
        const both = w.pending !== undefined && pending !== undefined ? new Set([...w.pending, ...pending]) : undefined
        link.waiting.set(a.node, {
          mark: w.mark !== undefined && compareMark(mark, w.mark) > 0 ? mark : w.mark,
          at: w.at,
          ...(w.moved !== undefined ? { moved: w.moved } : {}),
          to: page.to,
          ...(w.from !== undefined ? { from: w.from } : {}),
          ...(both !== undefined ? { pending: both } : {})
        })
      }
    }
    // never the origin's own stream (see the file comment)
    const prune = [...dup].filter(o => o !== peer && this.parent.get(o) !== peer && !link.skipFrom.has(o)).slice(0, MAX_ROUTE_ORIGINS)
    if (prune.length === 0) return
    for (const o of prune) link.skipFrom.set(o, page.to)
    this.stats.prunesSent++
    link.send({ t: 'prune', o: prune })
  }

  /** Grafts, on this link, the origins whose announcement is not answered within `timeoutMs`. */
  check (link: RouteLink, now: number, timeoutMs: number): void {
    if (link.grafting()) return
    const late: NodeId[] = []
    for (const [o, w] of link.waiting) {
      if (this.answered(o, w)) {
        link.waiting.delete(o)
        // a graft need not go back past what is answered now
        if (w.to !== undefined && link.skipFrom.has(o)) link.skipFrom.set(o, Math.max(link.skipFrom.get(o)!, w.to))
        continue
      }
      // graft() takes it off the waits (after reading where it was left out from)
      if (now - Math.max(w.at, w.moved ?? w.at) >= timeoutMs || now - w.at >= MAX_WAIT_TIMEOUTS * timeoutMs) late.push(o)
    }
    if (late.length === 0) return
    // the peer that delivers them now is their parent until a faster path shows
    for (const o of late) this.parent.set(o, link.peer)
    this.graft(link, late)
  }

  /** The peer whose stream brings `origin`'s records first (tests, status). */
  parentOf (origin: NodeId): NodeId | undefined {
    return this.parent.get(origin)
  }

  private graft (link: RouteLink, origins: readonly NodeId[]): void {
    let from = Number.MAX_SAFE_INTEGER
    for (const o of origins) {
      from = Math.min(from, link.skipFrom.get(o) ?? from, link.waiting.get(o)?.from ?? from)
      link.skipFrom.delete(o)
      link.waiting.delete(o)
    }
    this.stats.graftsSent++
    link.graft(origins.slice(0, MAX_ROUTE_ORIGINS), from)
  }
}
