/**
 * The REST delta-sync messages (POST /api/v1/sync/delta), specified in docs/SYNC.md.
 *
 * Two request shapes are answered:
 *  - exact (engram): `{cursor, feedId?, namespaces?, limit?}` → the records whose state changed
 *    after `cursor` in the server's changes feed, in pages, with `cursor`/`hasMore` to continue.
 *    No clocks are compared, so clock skew and in-flight writes cannot lose anything.
 *  - legacy (existing clients): `{since, namespaces, nodeId}` → `{since, nodeId, triples,
 *    deletions, syncedAt}` with the triples changed at or after `since` by their stamps. A
 *    request with `since` is always legacy; its optional `cursor` continues a paged answer.
 */
import { INVALID_INPUT, PROTOCOL } from '../../core/errors.ts'
import { MAX_WALL } from '../../core/hlc.ts'
import type { Json } from '../../core/model.ts'
import { FEED_ID, isNodeId } from '../../core/ids.ts'
import { parseKnowledge, parseVoids, type ClockVoid, type SentKnowledgeEntry } from '../../core/knowledge.ts'

/** The route of the delta endpoint. */
export const DELTA_PATH = '/api/v1/sync/delta'

export interface DeltaRequest {
  /** The last seq of the server's feed the caller has applied (0: from the start); in legacy mode, where to continue. */
  readonly cursor?: number
  /** The server feed the cursor belongs to; a different one (a recreated store) restarts from 0. */
  readonly feedId?: string
  /** Legacy mode: ISO time; triples whose last change is at or after it. */
  readonly since?: string
  /** Only these namespaces (absent or empty: all). */
  readonly namespaces?: readonly string[]
  /** Legacy: the caller's node id (exact mode takes it from the signed headers). */
  readonly nodeId?: string
  /** Page size wanted; capped by the server's sync.maxTriplesPerSync. */
  readonly limit?: number
  /** Set while continuing a snapshot pass, so the server does not restart it from 0. */
  readonly snapshot?: boolean
  /** The caller's wall clock (ms since the epoch): the server learns how far apart the clocks are. */
  readonly now?: number
  /** Send everything, as a snapshot from 0: the caller's store does not hold its own history yet. */
  readonly full?: boolean
}

export interface DeltaResponse {
  readonly nodeId: string
  readonly feedId: string
  readonly syncedAt: string
  /** Continue from here (the last seq scanned). */
  readonly cursor: number
  readonly hasMore: boolean
  /** Records in feed order, in plain form (core/records.ts recordToPlain). */
  readonly records: readonly Json[]
  /**
   * True when the caller's cursor was older than the server's feed floor (tombstones it would
   * have needed were already collected): the pages from cursor 0 are a full snapshot, and the
   * caller applies the expired-cursor rule (docs/SYNC.md) when the last page arrives.
   */
  readonly snapshot: boolean
  /** The server's cursor on the caller's feed: how much of the caller's feed it has seen. */
  readonly peerCursor: number
  /** The namespaces the server pulls from the caller (null: all). */
  readonly peerNamespaces: readonly string[] | null
  /** The server's wall clock when it answered (ms since the epoch). Absent from older servers. */
  readonly now?: number
  /**
   * The server's knowledge vector (core/knowledge.ts), read with the page's scan; only on a page
   * with `hasMore` false. On the wire: `[[node, wall, counter, generation?], …]`.
   */
  readonly knowledge?: readonly SentKnowledgeEntry[]
  /** The clock voids the server knows, `[[node, generation, wall, counter], …]`; applied before the records. */
  readonly voids?: readonly ClockVoid[]
  /**
   * The signed batches of the page's records, each `[signer, wall, counter, n, sig, proof]` (sig
   * and proof base64; proof the concatenated 32-byte hashes); a signed record has `seal`:
   * `[batch, leaf]` (docs/SYNC.md, "Signatures"). Absent from older servers: unsigned records.
   */
  readonly batches?: readonly Json[]
  /** The server signs its own records (its unsigned records are refused). */
  readonly signs?: boolean
  /**
   * Feed positions after `cursor` on the server when it answered: at most this many records are
   * still to come (fewer when some are filtered out), for progress. Absent from older servers.
   */
  readonly remaining?: number
}

export interface LegacyTriple {
  readonly id: string
  readonly subject: string
  readonly predicate: string
  readonly object: Json
  readonly created_at: string
}

export interface LegacyDeltaResponse {
  readonly since: string
  readonly nodeId: string
  readonly triples: readonly LegacyTriple[]
  readonly deletions: readonly string[]
  readonly syncedAt: string
  readonly cursor: number
  readonly hasMore: boolean
}

const NAMESPACE = /^[^:]{0,256}$/

/** Validates a delta request body; INVALID_INPUT names the field. */
export function parseDeltaRequest (body: unknown): DeltaRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw INVALID_INPUT('body', 'must be a JSON object')
  const o = body as Record<string, unknown>
  const out: { -readonly [K in keyof DeltaRequest]: DeltaRequest[K] } = {}
  if (o.cursor !== undefined) {
    if (typeof o.cursor !== 'number' || !Number.isSafeInteger(o.cursor) || o.cursor < 0) throw INVALID_INPUT('cursor', 'must be a non-negative integer')
    out.cursor = o.cursor
  }
  if (o.feedId !== undefined) {
    if (typeof o.feedId !== 'string' || !FEED_ID.test(o.feedId)) throw INVALID_INPUT('feedId', 'must be 32 hex digits')
    out.feedId = o.feedId
  }
  if (o.since !== undefined) {
    if (typeof o.since !== 'string' || !Number.isFinite(Date.parse(o.since))) throw INVALID_INPUT('since', 'must be an ISO-8601 time')
    out.since = o.since
  }
  if (o.namespaces !== undefined) {
    if (!Array.isArray(o.namespaces) || o.namespaces.length > 1000 || !o.namespaces.every(n => typeof n === 'string' && NAMESPACE.test(n))) {
      throw INVALID_INPUT('namespaces', 'must be an array of at most 1000 namespace names (no ":", at most 256 characters)')
    }
    out.namespaces = o.namespaces as string[]
  }
  if (o.nodeId !== undefined) {
    if (typeof o.nodeId !== 'string' || o.nodeId.length > 256) throw INVALID_INPUT('nodeId', 'must be a string of at most 256 characters')
    out.nodeId = o.nodeId
  }
  if (o.limit !== undefined) {
    if (typeof o.limit !== 'number' || !Number.isSafeInteger(o.limit) || o.limit < 1) throw INVALID_INPUT('limit', 'must be a positive integer')
    out.limit = o.limit
  }
  if (o.snapshot !== undefined) {
    if (typeof o.snapshot !== 'boolean') throw INVALID_INPUT('snapshot', 'must be a boolean')
    out.snapshot = o.snapshot
  }
  if (o.full !== undefined) {
    if (typeof o.full !== 'boolean') throw INVALID_INPUT('full', 'must be a boolean')
    out.full = o.full
  }
  if (o.now !== undefined) {
    if (typeof o.now !== 'number' || !Number.isSafeInteger(o.now) || o.now < 0 || o.now > MAX_WALL) throw INVALID_INPUT('now', 'must be milliseconds since the epoch')
    out.now = o.now
  }
  return out
}

/** A request in the existing clients' shape (it has `since`). */
export const isLegacyRequest = (req: DeltaRequest): boolean => req.since !== undefined

/** The shape of a delta answer (records are checked one by one afterwards). Throws PROTOCOL. */
export function checkDeltaResponse (v: unknown): DeltaResponse {
  const o = v as Partial<DeltaResponse> | null
  if (typeof o !== 'object' || o === null || Array.isArray(o) || !isNodeId(o.nodeId) || typeof o.feedId !== 'string' || !FEED_ID.test(o.feedId) ||
      typeof o.cursor !== 'number' || !Number.isSafeInteger(o.cursor) || o.cursor < 0 ||
      typeof o.hasMore !== 'boolean' || !Array.isArray(o.records) || typeof o.snapshot !== 'boolean' ||
      typeof o.peerCursor !== 'number' || !Number.isSafeInteger(o.peerCursor) || o.peerCursor < 0 ||
      !(o.peerNamespaces === null || (Array.isArray(o.peerNamespaces) && o.peerNamespaces.every(n => typeof n === 'string')))) {
    throw PROTOCOL('delta response does not have the expected shape {nodeId, feedId, cursor, hasMore, records, snapshot, peerCursor, peerNamespaces}')
  }
  const raw = o as Record<string, unknown>
  if (raw.now !== undefined && (typeof raw.now !== 'number' || !Number.isSafeInteger(raw.now) || raw.now < 0 || raw.now > MAX_WALL)) {
    throw PROTOCOL('delta response now: must be milliseconds since the epoch')
  }
  const { knowledge, voids, ...rest } = raw
  return {
    ...rest as unknown as DeltaResponse,
    ...(knowledge !== undefined ? { knowledge: parseKnowledge(knowledge, 'delta response knowledge') } : {}),
    ...(voids !== undefined ? { voids: parseVoids(voids, 'delta response voids') } : {})
  }
}
