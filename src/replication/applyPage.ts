/**
 * Applying records from a peer — a page of its feed, or a batch of gossip — the same way
 * whichever carrier delivered them (docs/SYNC.md, "Conflicts"):
 *
 *   checked records ──► ConflictPass.prepare (single-valued predicates: the strategy's own
 *                       deletions, applied first as local writes so every peer gets them)
 *                  ──► Engine.applyChecked with `via` = the peer, the note resolver of the
 *                      strategy, the cursor and the feed it belongs to, and the keep-both
 *                      entries found — all in the page's one transaction.
 *
 * `ConflictPolicy` is the node's `sync.conflictStrategy` (read at each pass, so a reloaded
 * configuration applies) with its keep-both list; polled sync takes one pass per pull, native
 * sync one per page or gossip batch. What a peer had already seen of this node's feed
 * (`PeerView`) decides whether two note values are a conflict: polled sync learns it from the
 * delta answer (`peerCursor`, `peerNamespaces`), native sync from the peer's acknowledgements.
 */
import type { ConflictStrategy } from '../config/schema.ts'
import type { Hlc, HlcMark } from '../core/hlc.ts'
import type { NodeId } from '../core/ids.ts'
import type { ClockVoid, SentKnowledgeEntry } from '../core/knowledge.ts'
import type { MemoryRecord } from '../core/model.ts'
import { sealsOfSubset, type PageSeals } from '../core/seals.ts'
import type { Engine } from '../engine/Engine.ts'
import type { FeedEntry } from '../store/Store.ts'
import { ConflictPass, type ConflictLog, type PeerView } from './conflicts.ts'
import { defersIndexes, defersTextIndex } from './farBehind.ts'
import { cursorFeedWrites, leftOutAfter, leftOutUnheld, type PageLeftOut } from './peerCursor.ts'

export interface ConflictSettings {
  readonly conflictStrategy: ConflictStrategy
  readonly singleValuedPredicates: readonly string[]
}

export interface ConflictPolicyOptions {
  readonly settings: () => ConflictSettings
  /** Where keep-both conflicts are listed. */
  readonly log: ConflictLog
  /** The name a peer's conflicts are listed under (its name in the peer registry, else its node id). */
  readonly peerName: (node: NodeId) => string
  /** A fresh local stamp (remote-priority deletes local triples with it). */
  readonly stampNow: () => Hlc
  readonly now?: () => number
}

/** The node's conflict strategy and keep-both list, handed to both carriers. */
export class ConflictPolicy {
  readonly log: ConflictLog
  private readonly opts: ConflictPolicyOptions

  constructor (opts: ConflictPolicyOptions) {
    this.opts = opts
    this.log = opts.log
  }

  /** A pass for records from the peer listed as `name` (default: its registry name). */
  pass (peer: NodeId | undefined, name?: string): ConflictPass {
    const s = this.opts.settings()
    return new ConflictPass({
      strategy: s.conflictStrategy,
      singleValued: new Set(s.singleValuedPredicates),
      peer: name ?? (peer !== undefined ? this.opts.peerName(peer) : 'unknown'),
      stampNow: this.opts.stampNow,
      now: this.opts.now
    })
  }
}

export interface PeerPage extends PageLeftOut {
  readonly peer: NodeId
  /** Checked records (core/records.ts checkRecord). */
  readonly records: readonly MemoryRecord[]
  /** The signatures the page carried (absent: its records are unsigned). */
  readonly seals?: PageSeals
  /** What the peer had seen of this node's feed when it sent them. */
  readonly view: PeerView
  /** Moves this node's cursor on the peer's feed `feedId` to `seq`, in the page's transaction. */
  readonly cursor?: { readonly seq: number, readonly feedId: string }
  /**
   * The peer's knowledge vector, when the page reached the end of its feed (core/knowledge.ts):
   * learnt with the cursor — unless the peer's records are not all taken as they are here (a
   * pull limited to some namespaces, or a strategy that keeps local values over newer ones).
   */
  readonly knowledge?: readonly SentKnowledgeEntry[]
  /** The clock voids the peer knows, applied before the records. */
  readonly voids?: readonly ClockVoid[]
  /** The page covers only some namespaces: it teaches no knowledge. */
  readonly partial?: boolean
  /** Entries of the peer's feed after this page, as the page says (absent: not said): far behind, its indexing waits (farBehind.ts). */
  readonly left?: number
}

/** Strategies under which this node holds what the peer holds once it applied its feed (docs/SYNC.md). */
const CONVERGING: ReadonlySet<ConflictStrategy> = new Set(['last-writer-wins', 'keep-both'])

/**
 * Whether a peer's knowledge vector may be learnt from its pages: only when this node takes every
 * record of the peer's feed as the merge rules say (every namespace, a converging strategy).
 */
export function learnsKnowledge (pass: ConflictPass | undefined, partial: boolean | undefined): boolean {
  return partial !== true && (pass === undefined || CONVERGING.has(pass.opts.strategy))
}

export interface PageConflicts {
  readonly pass: ConflictPass
  /** Where the pass's keep-both entries are recorded, in the page's transaction. */
  readonly log?: ConflictLog
}

export interface PageResult {
  /** Records whose state changed here (the strategy's own deletions included). */
  readonly applied: number
  readonly unchanged: number
  /** Per origin (a record's stamp node), how many of the peer's records changed something here. */
  readonly origins: ReadonlyMap<NodeId, number>
}

/** Per origin, how many of `changed` it has (counted by runs: a page's records come in runs of one origin). */
function countOrigins (changed: readonly FeedEntry[]): Map<NodeId, number> {
  const out = new Map<NodeId, number>()
  let run: NodeId | undefined
  let n = 0
  for (let i = 0; i < changed.length; i++) {
    const origin = changed[i]!.record.hlc.node
    if (origin === run) { n++; continue }
    if (run !== undefined) out.set(run, (out.get(run) ?? 0) + n)
    run = origin
    n = 1
  }
  if (run !== undefined) out.set(run, (out.get(run) ?? 0) + n)
  return out
}

/** Whether this page leaves the store's secondary indexes out (farBehind.ts defersIndexes). */
function defersIndexesNow (engine: Engine, left: number | undefined, conflicts: PageConflicts | undefined): boolean {
  if (!defersTextIndex(left)) return false
  const lookups = conflicts !== undefined && conflicts.pass.opts.singleValued.size > 0
  return defersIndexes(left, { triples: engine.store.stats().triples, deferred: engine.store.deferredIndexes() > 0, lookups })
}

/**
 * Applies one page from `page.peer`: records stamped too far ahead are held aside, the rest
 * merged (Engine.applyChecked). Throws what Engine.applyChecked throws (RATE_LIMITED): then
 * nothing of the page is written and the cursor stays.
 *
 * The peer's records are `refetchable` (their commit does not wait for the disk): a power cut
 * that loses them loses the cursor that covers them too (and the records held aside, the
 * knowledge and voids learnt with them), so the page is fetched again (a gossip batch, which
 * moves no cursor, is found again by the next round). The strategy's own deletions are local
 * writes, durable at once.
 */
export function applyPeerPage (engine: Engine, page: PeerPage, conflicts?: PageConflicts): PageResult {
  const { peer } = page
  const cursor = page.cursor !== undefined ? { peer, seq: page.cursor.seq } : undefined
  // what the peer's stream left out below the cursor (peerCursor.ts): its entries for those origins are not learnt
  const gaps = page.cursor !== undefined ? leftOutAfter(engine.store, peer, page.cursor.feedId, page) : { left: undefined, writes: [] }
  const feed = page.cursor !== undefined ? [...cursorFeedWrites(peer, page.cursor.feedId), ...gaps.writes] : []
  const teaches = learnsKnowledge(conflicts?.pass, page.partial)
  const held = (origin: NodeId, mark: HlcMark): boolean => engine.knowledge.covers(origin, mark, engine.store.clockMark())
  const knowledge = gaps.left === undefined ? page.knowledge : page.knowledge?.filter(e => !leftOutUnheld(gaps.left, e.node, held))
  const time = {
    ...(teaches && knowledge !== undefined ? { knowledge } : {}),
    ...(page.voids !== undefined ? { voids: page.voids } : {}),
    ...(defersTextIndex(page.left) ? { deferText: true } : {}),
    ...(defersIndexesNow(engine, page.left, conflicts) ? { deferIndexes: true } : {})
  }
  if (conflicts === undefined) {
    const r = engine.applyChecked(page.records, { via: peer, cursor, meta: feed.length > 0 ? () => feed : undefined, seals: page.seals, refetchable: true, ...time })
    return { applied: r.changed.length, unchanged: r.unchanged, origins: countOrigins(r.changed) }
  }
  const { pass, log } = conflicts
  const { page: records, local } = pass.prepare(engine.store, page.view, page.records)
  let applied = 0
  if (local.length > 0) applied += engine.applyChecked(local, { derived: true }).changed.length
  const r = engine.applyChecked(records, {
    via: peer,
    cursor,
    seals: sealsOfSubset(page.seals, page.records, records),
    resolve: pass.resolve,
    meta: () => [...(log !== undefined ? log.writes(pass.take()) : []), ...feed],
    refetchable: true,
    ...time
  })
  return { applied: applied + r.changed.length, unchanged: r.unchanged, origins: countOrigins(r.changed) }
}
