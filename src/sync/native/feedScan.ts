/**
 * What a stream to one peer reads of this node's feed for its next page (FeedSender.ts): the
 * entries after the stream's position, at most a page's worth, what was left of the last read
 * first, topped up from the store. It leaves out what the peer must not be sent again — records
 * whose state came from the peer (`excludeVia`), records of the origins it pruned (with the
 * highest stamp of each and every record left out, for the page's `lz` and `ls`), and during a
 * replay after a graft, what the peer holds already — except in a snapshot, which leaves nothing
 * out. The knowledge vector is read in the same step as a store read that reached the feed's end.
 */
import type { HlcMark } from '../../core/hlc.ts'
import type { NodeId } from '../../core/ids.ts'
import type { KnowledgeToSend } from '../../engine/NodeKnowledge.ts'
import type { FeedEntry, Store } from '../../store/Store.ts'
import type { LeftOutStamp } from '../../protocol/native/leftOutList.ts'
import type { PrunedOrigins } from './PrunedOrigins.ts'

/** Feed entries after a position, as read from the store (or left over from the last read). */
export interface Scan {
  readonly after: number
  readonly entries: readonly FeedEntry[]
  readonly lastSeq: number
  readonly hasMore: boolean
  readonly snapshot: boolean
  /** The knowledge read in the same step as the store read that reached the end (hasMore false). */
  readonly knowledge?: KnowledgeToSend
  /** Pruned origins left out of `entries`, each with the highest stamp left out. */
  readonly left?: ReadonlyMap<NodeId, HlcMark>
  /** The same origins, with every record left out (stamp and print). */
  readonly stamps?: ReadonlyMap<NodeId, readonly LeftOutStamp[]>
}

/** After a graft: up to `until` (what the peer had acknowledged), only the grafted origins go. */
export interface Replay {
  readonly origins: ReadonlySet<NodeId>
  readonly until: number
}

export interface ScanOptions {
  readonly store: Store
  /** The stream's peer: the records whose state came from it are left out (but in a snapshot). */
  readonly peer: NodeId
  /** Most entries. */
  readonly limit: number
  /** A snapshot is being sent: nothing is left out. */
  readonly snapshot: boolean
  /** The origins the peer pruned; absent: none. */
  readonly pruned?: PrunedOrigins | undefined
  readonly replay?: Replay | undefined
  /** This node's knowledge vector and voids; absent: none is read. */
  readonly knowledge?: (() => KnowledgeToSend) | undefined
}

/** The entries after `position`, at most `limit`: `rest` (what was left of the last read) first, topped up from the store. */
export function scanFeed (position: number, rest: Scan | undefined, o: ScanOptions): Scan {
  const { limit, snapshot } = o
  const opts = snapshot ? { limit } : { limit, excludeVia: o.peer }
  // The knowledge is read right after a store read that reached the end, in the same step.
  const knowledgeIf = (hasMore: boolean): { knowledge?: KnowledgeToSend } => {
    const k = !hasMore ? o.knowledge?.() : undefined
    return k !== undefined ? { knowledge: k } : {}
  }
  // a snapshot leaves nothing out; a stream leaves out the origins the peer pruned
  const pruned = snapshot ? undefined : o.pruned
  const replay = snapshot ? undefined : o.replay
  const changes = (after: number, n: number): { entries: readonly FeedEntry[], lastSeq: number, hasMore: boolean, left?: ReadonlyMap<NodeId, HlcMark>, stamps?: ReadonlyMap<NodeId, readonly LeftOutStamp[]> } => {
    const read = o.store.changesSince(after, { ...opts, limit: n })
    // a replay leaves out, unannounced, what the peer holds already
    const page = replay === undefined ? read : { ...read, entries: read.entries.filter(e => e.seq > replay.until || replay.origins.has(e.record.hlc.node)) }
    if (pruned === undefined || pruned.size === 0) return page
    const { kept, left, stamps } = pruned.split(page.entries)
    return { ...page, entries: kept, ...(left.size > 0 ? { left, stamps } : {}) }
  }
  if (rest !== undefined && rest.after === position && rest.snapshot === snapshot) {
    if (rest.entries.length >= limit || !rest.hasMore) return rest
    const more = changes(rest.lastSeq, limit - rest.entries.length)
    return { after: rest.after, entries: [...rest.entries, ...more.entries], lastSeq: more.lastSeq, hasMore: more.hasMore, snapshot, ...knowledgeIf(more.hasMore), ...(more.left !== undefined ? { left: more.left, stamps: more.stamps } : {}) }
  }
  const page = changes(position, limit)
  return { after: position, entries: page.entries, lastSeq: page.lastSeq, hasMore: page.hasMore, snapshot, ...knowledgeIf(page.hasMore), ...(page.left !== undefined ? { left: page.left, stamps: page.stamps } : {}) }
}
