/**
 * The server half of REST delta sync: answers one page of a peer's pull from this node's
 * changes feed. Transport-free (the API route does HTTP and authentication).
 */
import type { NodeId } from '../core/ids.ts'
import type { Json } from '../core/model.ts'
import { recordToPlain } from '../core/records.ts'
import { termToJson } from '../core/validate.ts'
import type { Engine } from '../engine/Engine.ts'
import type { DeltaRequest, DeltaResponse, LegacyDeltaResponse, LegacyTriple } from './messages.ts'

export interface DeltaServerOptions {
  readonly engine: Engine
  /** This store's feed id (docs/SYNC.md: a recreated store has a new one). */
  readonly feedId: string
  /** Largest page (sync.maxTriplesPerSync), read on each request so config changes apply. */
  readonly maxPage: () => number
  /** The namespaces this node pulls from a peer (undefined: all). */
  readonly pullNamespaces?: (peer: NodeId) => readonly string[] | undefined
}

export class DeltaServer {
  private readonly opts: DeltaServerOptions

  constructor (opts: DeltaServerOptions) {
    this.opts = opts
  }

  /** One page for an authenticated peer (exact mode). */
  serve (req: DeltaRequest, caller: NodeId): DeltaResponse {
    const { engine, feedId } = this.opts
    const store = engine.store
    const limit = Math.min(req.limit ?? this.opts.maxPage(), this.opts.maxPage())
    const sameFeed = req.feedId === undefined || req.feedId === feedId
    let start = sameFeed ? (req.cursor ?? 0) : 0
    const floor = store.stats().feedFloor
    // A cursor below the feed floor may have missed collected tombstones: serve a full snapshot.
    const snapshot = !sameFeed || start < floor || req.snapshot === true
    if (snapshot && req.snapshot !== true) start = 0
    const page = store.changesSince(start, { limit, namespaces: req.namespaces, excludeVia: caller })
    return {
      nodeId: engine.node,
      feedId,
      syncedAt: new Date().toISOString(),
      cursor: page.lastSeq,
      hasMore: page.hasMore,
      records: page.entries.map(e => recordToPlain(e.record)),
      snapshot,
      peerCursor: store.getCursor(caller),
      peerNamespaces: this.opts.pullNamespaces?.(caller) ?? null
    }
  }

  /**
   * The existing clients' request: triples whose last change is at or after `since`, by stamp.
   * Paged like exact mode (`cursor`/`hasMore` are extra fields those clients ignore).
   */
  serveLegacy (req: DeltaRequest): LegacyDeltaResponse {
    const { engine } = this.opts
    const sinceMs = Date.parse(req.since ?? '1970-01-01T00:00:00Z')
    const limit = Math.min(req.limit ?? this.opts.maxPage(), this.opts.maxPage())
    const triples: LegacyTriple[] = []
    const deletions: string[] = []
    let cursor = req.cursor ?? 0
    let hasMore = true
    // Bounded scan: at most a few pages of the feed per request; the cursor says where to go on.
    for (let scans = 0; scans < 20 && hasMore && triples.length + deletions.length < limit; scans++) {
      const page = engine.store.changesSince(cursor, { limit, namespaces: req.namespaces, kinds: ['triple'] })
      for (const { record: r } of page.entries) {
        if (r.kind !== 'triple' || r.hlc.wall < sinceMs) continue
        if (r.deleted) deletions.push(r.id)
        else triples.push({ id: r.id, subject: r.subject, predicate: r.predicate, object: termToJson(r.object) as Json, created_at: new Date(r.hlc.wall).toISOString() })
      }
      cursor = page.lastSeq
      hasMore = page.hasMore
    }
    return { since: req.since ?? new Date(0).toISOString(), nodeId: engine.node, triples, deletions, syncedAt: new Date().toISOString(), cursor, hasMore }
  }
}
