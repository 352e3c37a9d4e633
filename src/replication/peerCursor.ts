/**
 * A peer's cursor and the feed it was taken on (docs/SYNC.md, "The changes feed and cursors").
 *
 * The cursor — the last seq of a peer's feed applied here — is kept by the store
 * (`Store.getCursor`) and moved by `ApplyOptions.cursor` in the transaction of the page that
 * moved it. A seq only means something on the feed it was taken on (a peer whose store was
 * recreated has a new feed id, and its seqs start again from 1), so the feed id is kept beside
 * it under one metadata key, written in that same transaction by whichever carrier (polled or
 * native) moved the cursor. Both carriers read the pair through this file.
 *
 * Stores written before the two carriers shared the key may hold native sync's own key
 * (`p2p.feed.<node>`) as well: it is read when the shared key is absent, and dropped the next
 * time a cursor is saved. When both are there and disagree, which carrier moved the cursor last
 * is unknown, so the cursor is not trusted: the peer is read from the start again (merging is
 * idempotent; nothing is lost, only time).
 *
 * A native stream may leave out the records of origins this node pruned from it (docs/PROTOCOL.md
 * §2, "Dissemination"), and the cursor still moves past them: it then no longer says that this
 * node holds everything of the peer's feed up to there. Which origins were left out, and from
 * where on the feed, is kept beside the cursor (`LeftOut`, under `leftOutKey`, written in the
 * transaction of the page that announced them) and outlives the session: the peer's knowledge
 * entries for those origins are not learnt from its pages (core/knowledge.ts invariant I) until
 * this node's own knowledge of the origin reaches what was left out (`leftOutUnheld`), and
 * what this node tells the peer it has seen of its feed stops where the first was left out. With
 * each origin goes the highest stamp the stream announced leaving out, so that a later session
 * (after a restart too) still waits for those records and grafts them when no path brought them
 * (protocol/native/gossipRoutes.ts); a graft that brought an origin's records again (from a
 * point below which what was left out of it is held) takes it off.
 */
import { compareMark, type HlcMark } from '../core/hlc.ts'
import type { NodeId } from '../core/ids.ts'
import { MAX_KNOWLEDGE_ENTRIES } from '../core/knowledge.ts'
import type { Store } from '../store/Store.ts'

/** The metadata key holding the feed id this node's cursor on `peer` was taken on. */
export const cursorFeedKey = (peer: string): string => `sync.cursor-feed.${peer}`

/** The key native sync kept the same fact under before it shared cursorFeedKey. */
const legacyNativeKey = (peer: string): string => `p2p.feed.${peer}`

export interface PeerCursor {
  /** The last seq of the peer's feed applied here (0 when no feed is known for it). */
  readonly seq: number
  /** The feed `seq` belongs to; undefined when none is known (then `seq` is 0). */
  readonly feedId: string | undefined
}

/** This node's cursor on `peer`'s feed, with the feed it was taken on. */
export function readPeerCursor (store: Store, peer: NodeId): PeerCursor {
  const shared = store.getMeta(cursorFeedKey(peer))
  const legacy = store.getMeta(legacyNativeKey(peer))
  const feedId = shared === undefined ? legacy : legacy === undefined || legacy === shared ? shared : undefined
  return feedId === undefined ? { seq: 0, feedId: undefined } : { seq: store.getCursor(peer), feedId }
}

/** This node's cursor on `peer`'s feed `feedId`: the stored one when it was taken on that feed, else 0. */
export function cursorOn (store: Store, peer: NodeId, feedId: string): number {
  const c = readPeerCursor(store, peer)
  return c.feedId === feedId ? c.seq : 0
}

/**
 * What this node has applied of `peer`'s feed, as told to the peer in a snapshot (`peerCursor`):
 * the cursor on `peerFeed` when the peer's feed id is known, else the cursor on whatever feed is
 * recorded (polled sync: the caller does not send its own feed id).
 */
export function seenOfPeer (store: Store, peer: NodeId, peerFeed?: string): number {
  const c = readPeerCursor(store, peer)
  const feedId = peerFeed ?? c.feedId
  const seen = c.feedId === feedId ? c.seq : 0
  // records the peer's stream left out are not seen here: its expired-cursor rule must not take them as deleted
  const left = feedId !== undefined ? leftOutOn(store, peer, feedId) : undefined
  return left !== undefined ? Math.min(seen, left.from) : seen
}

/** What a peer's stream left out below this node's cursor on its feed. */
export interface LeftOut {
  /** The position of the peer's feed after which the first was left out. */
  readonly from: number
  readonly origins: ReadonlySet<NodeId>
  /**
   * Per origin left out, the highest stamp the stream announced leaving out (its pages' `lz`);
   * an origin without one (kept by an older version) may have left out any stamp.
   */
  readonly marks: ReadonlyMap<NodeId, HlcMark>
  /** Per origin left out, the position after which it first was (absent: `from`). */
  readonly starts: ReadonlyMap<NodeId, number>
  /** Which origins were left out is not kept (more than MAX_LEFT_OUT_ORIGINS, or an unreadable record): any may have been. */
  readonly all?: boolean
}

/** Most origins kept as left out per peer; past it, every origin counts as left out (a peer announcing made-up origins grows nothing). */
export const MAX_LEFT_OUT_ORIGINS = MAX_KNOWLEDGE_ENTRIES

/** Whether the peer's stream may have left out `origin`'s records. */
export const leftOutOf = (left: LeftOut | undefined, origin: NodeId): boolean => left !== undefined && (left.all === true || left.origins.has(origin))

/**
 * Whether this node may lack records of `origin` the peer's stream left out, so that the peer's
 * knowledge entry for it is not learnt: it was left out and no stamp is kept for it, or this
 * node's knowledge of the origin (`covers`, before the page) does not reach the highest stamp
 * left out (once it does, this node holds every record the stream left out of it, and the
 * peer's entry teaches no more than the peer's feed up to the cursor holds).
 */
export function leftOutUnheld (left: LeftOut | undefined, origin: NodeId, covers: (origin: NodeId, mark: HlcMark) => boolean): boolean {
  if (!leftOutOf(left, origin)) return false
  const mark = left!.all === true ? undefined : left!.marks.get(origin)
  return mark === undefined || !covers(origin, mark)
}

/** The metadata key holding what `peer`'s stream left out (with the feed it was on). */
export const leftOutKey = (peer: string): string => `sync.left-out.${peer}`

const isMarkRow = (m: unknown): m is [string, number, number] => Array.isArray(m) && m.length === 3 && typeof m[0] === 'string' && typeof m[1] === 'number' && typeof m[2] === 'number'

/** What `peer`'s stream of feed `feedId` left out below this node's cursor on it (undefined: nothing). */
export function leftOutOn (store: Store, peer: NodeId, feedId: string): LeftOut | undefined {
  const raw = store.getMeta(leftOutKey(peer))
  if (raw === undefined) return undefined
  try {
    const v = JSON.parse(raw) as { feed?: unknown, from?: unknown, origins?: unknown, lz?: unknown, at?: unknown, all?: unknown }
    if (v.feed !== feedId) return undefined
    if (typeof v.from !== 'number' || !Array.isArray(v.origins)) throw new Error('unreadable')
    const origins = new Set(v.origins as NodeId[])
    // the marks (absent before they were kept: every origin then has none)
    const marks = new Map<NodeId, HlcMark>()
    for (const m of Array.isArray(v.lz) ? v.lz as unknown[] : []) {
      if (isMarkRow(m) && origins.has(m[0] as NodeId)) marks.set(m[0] as NodeId, { wall: m[1], counter: m[2] })
    }
    const starts = new Map<NodeId, number>()
    for (const a of Array.isArray(v.at) ? v.at as unknown[] : []) {
      if (Array.isArray(a) && a.length === 2 && typeof a[0] === 'string' && origins.has(a[0] as NodeId) && typeof a[1] === 'number' && a[1] >= v.from) starts.set(a[0] as NodeId, a[1])
    }
    return { from: v.from, origins, marks, starts, ...(v.all === true ? { all: true } : {}) }
  } catch {
    // unreadable: taken as everything left out from the start (nothing is learnt from the peer's vector)
    return { from: 0, origins: new Set(), marks: new Map(), starts: new Map(), all: true }
  }
}

/** What a page of a peer's stream says about what the stream left out. */
export interface PageLeftOut {
  /** The page starts the peer's feed again with nothing left out (a snapshot's first page): what was left out before no longer counts. */
  readonly restart?: boolean
  /**
   * The origins the page left out (its `lz`: each with the highest stamp left out), after
   * position `from` of the feed.
   */
  readonly leftOut?: { readonly from: number, readonly origins: readonly NodeId[], readonly marks?: ReadonlyMap<NodeId, HlcMark> }
  /**
   * Origins the stream brought again (a graft) from position `from` up to this page; what it
   * left out of them below `from` is held here (the routes graft from no later than that:
   * protocol/native/gossipRoutes.ts), so every record of theirs the stream left out below here
   * has now come (applied before `leftOut`).
   */
  readonly regained?: { readonly from: number, readonly origins: readonly NodeId[] }
}

/**
 * What `peer`'s stream of `feedId` has left out once a page is applied, and the metadata writes
 * that record it with the page's cursor (none when nothing changed).
 */
export function leftOutAfter (store: Store, peer: NodeId, feedId: string, page: PageLeftOut): { left: LeftOut | undefined, writes: Array<[string, string | undefined]> } {
  const prior = leftOutOn(store, peer, feedId)
  if (page.restart === true) return { left: undefined, writes: prior !== undefined ? leftOutWrites(peer, feedId, undefined) : [] }
  let left = prior
  let changed = false
  // a graft from at most where the first was left out brought the regained origins' records again
  const g = page.regained
  const back = left !== undefined && left.all !== true && g !== undefined ? g.origins.filter(o => left!.origins.has(o)) : []
  if (left !== undefined && back.length > 0) {
    const prior = left
    const origins = new Set([...prior.origins].filter(o => !back.includes(o)))
    const marks = new Map([...prior.marks].filter(([o]) => origins.has(o)))
    const starts = new Map([...prior.starts].filter(([o]) => origins.has(o)))
    // where the first still left out was: known when every origin kept has its own
    const from = [...origins].every(o => starts.has(o)) ? Math.min(...[...origins].map(o => starts.get(o)!)) : prior.from
    left = origins.size === 0 ? undefined : { from, origins, marks, starts }
    changed = true
  }
  const l = page.leftOut
  if (l !== undefined && l.origins.length > 0 && left?.all !== true) {
    const from = Math.min(left?.from ?? l.from, l.from)
    const origins = new Set([...(left?.origins ?? []), ...l.origins])
    const marks = new Map(left?.marks ?? [])
    const starts = new Map(left?.starts ?? [])
    for (const o of l.origins) {
      if (!(left?.origins.has(o) ?? false)) starts.set(o, l.from)
      const m = l.marks?.get(o)
      const had = marks.get(o)
      // an origin newly left out without a mark is kept without one (any stamp)
      if (m !== undefined && (had !== undefined || !(left?.origins.has(o) ?? false)) && (had === undefined || compareMark(m, had) > 0)) marks.set(o, m)
    }
    const grew = from !== left?.from || origins.size !== (left?.origins.size ?? 0) || [...marks].some(([o, m]) => { const h = left?.marks.get(o); return h === undefined || compareMark(m, h) !== 0 })
    if (grew) {
      left = origins.size > MAX_LEFT_OUT_ORIGINS ? { from, origins: new Set(), marks: new Map(), starts: new Map(), all: true } : { from, origins, marks, starts }
      changed = true
    }
  }
  return { left, writes: changed ? leftOutWrites(peer, feedId, left) : [] }
}

/** Metadata writes that record `left` as what `peer`'s stream of `feedId` left out (undefined: nothing). */
export function leftOutWrites (peer: NodeId, feedId: string, left: LeftOut | undefined): Array<[string, string | undefined]> {
  if (left === undefined) return [[leftOutKey(peer), undefined]]
  const lz = [...left.marks].map(([o, m]) => [o, m.wall, m.counter])
  const at = [...left.starts]
  return [[leftOutKey(peer), JSON.stringify({ feed: feedId, from: left.from, origins: [...left.origins], ...(lz.length > 0 ? { lz } : {}), ...(at.length > 0 ? { at } : {}), ...(left.all === true ? { all: true } : {}) })]]
}

/** Metadata writes that record `feedId` as the feed of `peer`'s cursor (ApplyOptions.meta, with the cursor). */
export function cursorFeedWrites (peer: NodeId, feedId: string): Array<[string, string | undefined]> {
  return [[cursorFeedKey(peer), feedId], [legacyNativeKey(peer), undefined]]
}
