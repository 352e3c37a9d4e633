/**
 * The existing clients' delta shape: `{since, namespaces, nodeId}` → `{since, nodeId, triples,
 * deletions, syncedAt}`, answered so that such a client loses nothing although it reads one
 * answer per pull and takes its own clock, after applying the answer, as its next `since`.
 *
 *   - By local arrival, not by stamp: the answer holds every triple change (an add, or a
 *     deletion) that arrived at this node at or after `since − margin`, by this node's clock
 *     (ArrivalIndex.ts). A record written long ago elsewhere and relayed here after the client's
 *     last pull is in its next answer. The margin covers the client's clock running ahead of this
 *     node's and the time it takes to apply an answer before it reads its clock; what it resends
 *     is harmless (the client skips what it holds).
 *   - Whole: one answer holds every change since then, in feed order, never a first page only,
 *     since the client would never ask for the rest. An answer that would be larger than
 *     `maxRecords` or `maxBytes` is refused whole (413 LIMIT_EXCEEDED, saying what to do), never
 *     cut: the client keeps its `since` and nothing is lost.
 *
 * `triples` are the live triples (`{id, subject, predicate, object, created_at}`, `created_at`
 * the stamp's time), `deletions` the ids of deleted ones; `syncedAt` is this node's time. The
 * extra fields `cursor` (the feed position reached) and `hasMore` (always false) are ignored by
 * those clients.
 */
import { TOO_MANY, type EngramError } from '../../core/errors.ts'
import type { Json } from '../../core/model.ts'
import { termToJson } from '../../core/validate.ts'
import type { Engine } from '../../engine/Engine.ts'
import type { DeltaRequest, LegacyTriple } from '../../protocol/polled/messages.ts'
import type { ArrivalIndex } from './ArrivalIndex.ts'

/** How far before a legacy client's `since` its answer starts: its clock may run ahead, and it reads its clock after applying. */
export const LEGACY_MARGIN_MS = 15 * 60 * 1000
/** The most triple changes one legacy answer holds (it is never cut: beyond, it is refused). */
export const LEGACY_MAX_RECORDS = 200_000
/** The most bytes of JSON one legacy answer holds. */
export const LEGACY_MAX_BYTES = 64 * 1024 * 1024
/** Feed entries read per step while building an answer. */
const SCAN_PAGE = 5000

export interface LegacyDeltaOptions {
  readonly engine: Engine
  readonly arrivals: ArrivalIndex
  readonly marginMs?: number
  readonly maxRecords?: number
  readonly maxBytes?: number
  /** This node's wall clock, for `syncedAt`. */
  readonly now?: () => number
}

export class LegacyDelta {
  private readonly opts: LegacyDeltaOptions

  constructor (opts: LegacyDeltaOptions) {
    this.opts = opts
  }

  /** The JSON text of the answer to a legacy request (one with `since`). */
  serve (req: DeltaRequest): string {
    const { engine, arrivals } = this.opts
    const maxRecords = this.opts.maxRecords ?? LEGACY_MAX_RECORDS
    const maxBytes = this.opts.maxBytes ?? LEGACY_MAX_BYTES
    const since = req.since ?? new Date(0).toISOString()
    // nothing past the durable seq is served (Store.durableSeq): pages applied from peers are made durable first
    engine.store.flush()
    const from = arrivals.seqBefore(Date.parse(since) - (this.opts.marginMs ?? LEGACY_MARGIN_MS))
    const triples: string[] = []
    const deletions: string[] = []
    let bytes = 0
    let cursor = from
    for (;;) {
      const page = engine.store.changesSince(cursor, { limit: SCAN_PAGE, namespaces: req.namespaces, kinds: ['triple'] })
      for (const { record: r } of page.entries) {
        if (r.kind !== 'triple') continue
        const json = r.deleted
          ? JSON.stringify(r.id)
          : JSON.stringify({ id: r.id, subject: r.subject, predicate: r.predicate, object: termToJson(r.object) as Json, created_at: new Date(r.hlc.wall).toISOString() } satisfies LegacyTriple)
        ;(r.deleted ? deletions : triples).push(json)
        bytes += json.length + 1
        if (triples.length + deletions.length > maxRecords || bytes > maxBytes) throw tooLarge(since, maxRecords, maxBytes)
      }
      cursor = page.lastSeq
      if (!page.hasMore) break
    }
    const syncedAt = new Date((this.opts.now ?? Date.now)()).toISOString()
    const head = { since, nodeId: engine.node, syncedAt, cursor, hasMore: false }
    return `${JSON.stringify(head).slice(0, -1)},"triples":[${triples.join(',')}],"deletions":[${deletions.join(',')}]}`
  }
}

function tooLarge (since: string, maxRecords: number, maxBytes: number): EngramError {
  return TOO_MANY(
    `the changes since ${since} are more than one answer of the legacy delta shape holds (${maxRecords} triples, ${maxBytes} bytes), and it is never cut, ` +
    'since such a client reads one answer per pull: nothing was sent. Sync this client from a copy closer in time, or with an engram node (exact mode, paged)',
    maxRecords, { limitBytes: maxBytes, since })
}
