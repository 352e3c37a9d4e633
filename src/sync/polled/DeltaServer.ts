/**
 * The server half of REST delta sync: answers one page of a peer's pull from this node's
 * changes feed, as the JSON text of the answer. Transport-free (the API route does HTTP,
 * DeltaEndpoint.ts does authentication).
 *
 * A page holds at most `limit` records (sync.maxTriplesPerSync) and about MAX_PAGE_BYTES of
 * them (at least one), so neither a large page size nor large notes can make an answer the
 * caller refuses. `cursor` is the seq to continue from: the last seq scanned, or, when the page
 * was cut short by its size, the seq of its last record.
 *
 * Every answer carries this node's wall clock (`now`) and the clock voids it knows (`voids`); the
 * page that reaches the end of the feed, for a read of every namespace, carries its knowledge
 * vector (`knowledge`, core/knowledge.ts), read with that page's scan.
 */
import type { NodeId } from '../../core/ids.ts'
import { knowledgeRows, voidRows } from '../../core/knowledge.ts'
import { recordToPlain } from '../../core/records.ts'
import { sealPage } from '../../core/seals.ts'
import type { Engine } from '../../engine/Engine.ts'
import type { FeedEntry } from '../../store/Store.ts'
import type { DeltaRequest } from '../../protocol/polled/messages.ts'
import { batchesJson, withSealJson } from '../../protocol/polled/jsonSeals.ts'
import { BatchCache } from '../../replication/BatchCache.ts'
import { feedBounds, planFeedRead } from '../../replication/feedRead.ts'
import { seenOfPeer } from '../../replication/peerCursor.ts'

/** Records of one page are cut at about this many characters of JSON (the page keeps at least one). */
export const MAX_PAGE_BYTES = 16 * 1024 * 1024

export interface DeltaServerOptions {
  readonly engine: Engine
  /** This store's feed id (docs/SYNC.md: a recreated store has a new one). */
  readonly feedId: string
  /** Largest page (sync.maxTriplesPerSync), read on each request so config changes apply. */
  readonly maxPage: () => number
  /** The namespaces this node pulls from a peer (undefined: all). */
  readonly pullNamespaces?: (peer: NodeId) => readonly string[] | undefined
  /** Wall clock for `syncedAt`. */
  readonly now?: () => number
  readonly maxPageBytes?: number
}

/** Appends JSON texts while they fit the byte budget; the first always fits. */
class PageBuilder {
  readonly parts: string[] = []
  private bytes = 0
  private readonly budget: number

  constructor (budget: number) {
    this.budget = budget
  }

  add (json: string): boolean {
    if (this.parts.length > 0 && this.bytes + json.length > this.budget) return false
    this.parts.push(json)
    this.bytes += json.length + 1
    return true
  }
}

export class DeltaServer {
  private readonly opts: DeltaServerOptions
  /** The batches of the last pages served, to any peer (a catch-up pulls page after page of one bulk write). */
  private readonly batches: BatchCache

  constructor (opts: DeltaServerOptions) {
    this.opts = opts
    this.batches = new BatchCache(opts.engine.store)
  }

  private limit (wanted: number | undefined): number {
    const max = this.opts.maxPage()
    return Math.max(1, Math.min(wanted ?? max, max))
  }

  private syncedAt (): string {
    return new Date((this.opts.now ?? Date.now)()).toISOString()
  }

  /**
   * One page for an authenticated peer (exact mode), from where the snapshot rule
   * (replication/feedRead.ts) says: a cursor of another feed, below the caller's floor or beyond the end
   * gets a full snapshot, paged from 0 (`snapshot: true`; the caller continues it with
   * `snapshot: true` and applies the expired-cursor rule at its end). A snapshot leaves nothing
   * out, not even the records that came from the caller: the rule must see every record this
   * node holds.
   */
  serve (req: DeltaRequest, caller: NodeId): string {
    const { engine, feedId } = this.opts
    const store = engine.store
    // nothing past the durable seq is served (Store.durableSeq): pages applied from peers are made durable first
    store.flush()
    const { feedFloor, lastSeq } = feedBounds(store, caller)
    const { from, snapshot } = planFeedRead({ cursor: req.cursor ?? 0, feedId: req.feedId, ownFeedId: feedId, feedFloor, lastSeq, continuing: req.snapshot === true, full: req.full === true })
    const page = store.changesSince(from, { limit: this.limit(req.limit), namespaces: req.namespaces, excludeVia: snapshot ? undefined : caller })
    // The knowledge vector is read in the same step as the scan it goes with (core/knowledge.ts),
    // and only for a read of every namespace that reached the end of the feed.
    const whole = req.namespaces === undefined || req.namespaces.length === 0
    const known = !page.hasMore && whole ? engine.knowledgeToSend() : undefined
    const { parts, cursor, hasMore } = this.fill(page.entries, page.lastSeq, page.hasMore, e => JSON.stringify(recordToPlain(e.record)))
    // The signatures of the records the page kept (jsonSeals.ts).
    const seals = sealPage(page.entries.slice(0, parts.length), this.batches.load, this.batches.reload)
    const voids = known?.voids ?? engine.knowledge.voids()
    const head = {
      nodeId: engine.node,
      feedId,
      syncedAt: this.syncedAt(),
      now: (this.opts.now ?? Date.now)(),
      cursor,
      hasMore,
      snapshot,
      peerCursor: seenOfPeer(store, caller),
      peerNamespaces: this.opts.pullNamespaces?.(caller) ?? null,
      ...(engine.provenance.signer !== undefined ? { signs: true } : {}),
      ...(seals.batches.length > 0 ? { batches: batchesJson(seals) } : {}),
      // feed positions left after this page: at most that many records to come (for progress)
      remaining: Math.max(0, store.stats().lastSeq - cursor),
      ...(known !== undefined && !hasMore ? { knowledge: knowledgeRows(known.entries) } : {}),
      ...(voids.length > 0 ? { voids: voidRows(voids) } : {})
    }
    return `${JSON.stringify(head).slice(0, -1)},"records":[${parts.map((p, i) => withSealJson(p, seals.refs[i])).join(',')}]}`
  }

  /** Serializes entries while they fit the byte budget; a cut page continues after its last record. */
  private fill (entries: readonly FeedEntry[], lastSeq: number, hasMore: boolean, encode: (e: FeedEntry) => string): { parts: string[], cursor: number, hasMore: boolean } {
    const page = new PageBuilder(this.opts.maxPageBytes ?? MAX_PAGE_BYTES)
    for (let i = 0; i < entries.length; i++) {
      if (!page.add(encode(entries[i]!))) return { parts: page.parts, cursor: entries[i - 1]!.seq, hasMore: true }
    }
    return { parts: page.parts, cursor: lastSeq, hasMore }
  }
}
