/**
 * The client half of REST delta sync: pulls everything a peer has that this node has not yet
 * applied, page by page.
 *
 * Each page is checked whole (shape, limits, content ids, clock drift), rewritten by the
 * conflict strategy, and merged in one transaction together with the peer's cursor (and the
 * peer feed it belongs to) and the conflicts it produced; only a committed page moves the cursor, so a crash at any point
 * resumes from the last committed page without loss or duplicates. The next page is asked for
 * while the current one is applied (its request depends only on the answer's cursor).
 *
 * A snapshot (docs/SYNC.md, "Deletes that stay deleted") is different: its pages are applied
 * as they come, but the cursor is saved only at its end, together with the deletions the
 * expired-cursor rule infers, since the rule needs the keys of every page. A pull that stops
 * inside a snapshot starts the snapshot again next time.
 */
import { EngramError, PROTOCOL, RATE_LIMITED, UNAUTHORIZED } from '../../core/errors.ts'
import { asNodeId, isNodeId, type NodeId } from '../../core/ids.ts'
import type { MemoryRecord } from '../../core/model.ts'
import type { Engine } from '../../engine/Engine.ts'
import { checkRecord } from '../../core/records.ts'
import type { ConflictLog, ConflictPass } from '../../replication/conflicts.ts'
import { signRequest, verifyResponse, readClockHint, AUTH_HEADERS, type RestKey } from './auth.ts'
import type { ClientTls } from '../../tls/client.ts'
import { applyExpiredCursorRule } from '../../replication/expiredCursor.ts'
import { FEED_ID } from '../../replication/feedId.ts'
import { post, type HttpExchange } from './http.ts'
import type { DeltaRequest, DeltaResponse } from '../../protocol/polled/messages.ts'

export const DELTA_PATH = '/api/v1/sync/delta'
/** A response body larger than this is refused (servers cut pages at 16 MiB of records). */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024

/** TLS towards peers: what this node presents and trusts, and the check of a peer's certificate. */
export interface PeerTls {
  readonly client: ClientTls
  /**
   * Checks the certificate a peer answered with, for the node that signed the answer: undefined
   * when it may be trusted, else why not.
   */
  readonly checkPeer: (certificate: Uint8Array | undefined, nodeId: string) => string | undefined
}

export interface PullOptions {
  readonly engine: Engine
  /** REST auth key(s) (auth.ts deriveRestKeys). */
  readonly key: RestKey
  /** With TLS on: peers must be https://, present a certificate of the CA bound to their node. */
  readonly tls?: PeerTls
  /** Bound on each HTTP call (sync.syncTimeoutMs). */
  readonly timeoutMs: number
  /** Records per page asked for (sync.maxTriplesPerSync). */
  readonly pageSize: number
  readonly namespaces?: readonly string[]
  /** Conflict handling for this pull (sync.conflictStrategy); absent: the merge rules alone. */
  readonly conflicts?: ConflictPass
  /** Where keep-both conflicts are recorded, in each page's transaction. */
  readonly conflictLog?: ConflictLog
  readonly onProgress?: (p: PullProgress) => void
  /** Stops the pull between pages. */
  readonly signal?: AbortSignal
  /** Bound on pages in one pull (a safety net against a peer that never says hasMore=false). */
  readonly maxPages?: number
  /** Wall clock for request stamps. */
  readonly now?: () => number
  /**
   * Offsets (server time − local time) learnt from peers whose clocks differ from ours by more
   * than the replay window, by peer URL; kept by the caller across pulls (auth.ts, "Clock skew").
   */
  readonly clockOffsets?: Map<string, number>
  /**
   * Told the peer's node id when its first answer arrives, before anything is applied (so the
   * caller can remember which cursor is this peer's); may throw to refuse the peer.
   */
  readonly onPeer?: (nodeId: NodeId, feedId: string) => void
}

export interface PullProgress {
  readonly pages: number
  readonly received: number
  readonly applied: number
}

export interface PeerRef {
  readonly url: string
  /** The node expected to answer; a different node is refused. Unknown on first contact. */
  readonly nodeId?: NodeId
}

/**
 * The local metadata key holding the peer feed our cursor on `node` belongs to; it is written in
 * the transaction that moves the cursor, so the two always agree.
 */
export const cursorFeedKey = (node: string): string => `sync.cursor-feed.${node}`

export interface PullResult {
  readonly nodeId: NodeId
  readonly feedId: string
  readonly pages: number
  readonly received: number
  readonly applied: number
  readonly unchanged: number
  /** Deletions inferred by the expired-cursor rule. */
  readonly inferredDeletes: number
  /** Bytes of the answers' bodies. */
  readonly bytes: number
  readonly cursor: number
  readonly snapshot: boolean
  readonly durationMs: number
}

interface Answer {
  readonly res: DeltaResponse
  readonly size: number
}

/** Keys the expired-cursor rule needs from a snapshot, and what the server told about us. */
interface SnapshotState {
  readonly feedId: string
  readonly seenKeys: Set<string>
  readonly peerCursor: number
  readonly peerNamespaces: readonly string[] | null
}

export async function pullFrom (peer: PeerRef, opts: PullOptions): Promise<PullResult> {
  const started = performance.now()
  const { engine } = opts
  let nodeId = peer.nodeId
  let feedId = nodeId !== undefined ? engine.store.getMeta(cursorFeedKey(nodeId)) : undefined
  // A cursor is only meaningful with the feed it was taken on.
  let cursor = nodeId !== undefined && feedId !== undefined ? engine.store.getCursor(nodeId) : 0
  let snap: SnapshotState | undefined
  let pages = 0; let received = 0; let applied = 0; let unchanged = 0; let bytes = 0; let inferredDeletes = 0
  const maxPages = opts.maxPages ?? 100_000
  const ask = (c: number, fid: string | undefined, inSnapshot: boolean): Pending =>
    postDelta(peer.url, { cursor: c, feedId: fid, namespaces: opts.namespaces, limit: opts.pageSize, ...(inSnapshot ? { snapshot: true } : {}) }, opts)
  let next: Pending | undefined = ask(cursor, feedId, false)
  try {
    while (next !== undefined) {
      const { res, size } = await next.answer
      next = undefined
      if (opts.signal?.aborted === true) throw new EngramError('UNAVAILABLE', `sync with ${peer.url} was stopped`)
      if (nodeId !== undefined && res.nodeId !== nodeId) {
        throw UNAUTHORIZED(`peer at ${peer.url} is node ${res.nodeId}, expected ${nodeId}: unpair it and pair it again if it was reinstalled`)
      }
      const peerNode = nodeId ?? asNodeId(res.nodeId)
      if (nodeId === undefined) opts.onPeer?.(peerNode, res.feedId)
      nodeId = peerNode
      if (res.snapshot && snap?.feedId !== res.feedId) {
        snap = { feedId: res.feedId, seenKeys: new Set(), peerCursor: res.peerCursor, peerNamespaces: res.peerNamespaces }
      }
      feedId = res.feedId
      pages++
      bytes += size
      received += res.records.length
      if (pages > maxPages) throw PROTOCOL(`peer ${peer.url} kept answering hasMore after ${maxPages} pages`)
      // Ask for the next page before applying this one: the peer prepares it meanwhile.
      if (res.hasMore) {
        next = ask(res.cursor, res.feedId, res.snapshot)
        next.answer.catch(() => {})
        // Let the request go out before this thread is busy applying.
        await next.sent
      }
      const checked = res.records.map((r, i) => checkRecord(r, `records[${i}]`))
      if (snap !== undefined) for (const r of checked) rememberKey(snap.seenKeys, r)
      const last = !res.hasMore
      const moveCursor = res.snapshot ? undefined : { peer: peerNode, seq: res.cursor }
      const result = applyPage(engine, peerNode, checked, moveCursor, res, opts)
      applied += result.applied
      unchanged += result.unchanged
      if (last && snap !== undefined) {
        inferredDeletes = applyExpiredCursorRule(engine, {
          peer: peerNode,
          seenKeys: snap.seenKeys,
          peerCursor: snap.peerCursor,
          ours: opts.namespaces,
          theirs: snap.peerNamespaces ?? undefined,
          cursor: { peer: peerNode, seq: res.cursor },
          meta: () => [[cursorFeedKey(peerNode), res.feedId]]
        })
        applied += inferredDeletes
      }
      cursor = res.cursor
      opts.onProgress?.({ pages, received, applied })
    }
  } finally {
    // A page that failed leaves the prefetched one unread: let it finish quietly.
    void next?.answer.catch(() => {})
  }
  return { nodeId: nodeId!, feedId: feedId!, pages, received, applied, unchanged, inferredDeletes, bytes, cursor, snapshot: snap !== undefined, durationMs: performance.now() - started }
}

function rememberKey (keys: Set<string>, r: MemoryRecord): void {
  if (r.kind === 'triple') keys.add(`t:${r.id}`)
  else if (r.kind === 'note') keys.add(`n:${r.key}`)
}

/** One page: the strategy's own deletions as local writes, then the page with its cursor and conflicts. */
function applyPage (engine: Engine, peer: NodeId, records: readonly MemoryRecord[], cursor: { peer: NodeId, seq: number } | undefined,
  res: DeltaResponse, opts: PullOptions): { applied: number, unchanged: number } {
  const pass = opts.conflicts
  const feed: Array<[string, string]> = cursor !== undefined ? [[cursorFeedKey(peer), res.feedId]] : []
  if (pass === undefined) {
    const r = engine.applyChecked(records, { via: peer, cursor, meta: () => feed })
    return { applied: r.changed.length, unchanged: r.unchanged }
  }
  const { page, local } = pass.prepare(engine.store, { node: peer, cursor: res.peerCursor, namespaces: res.peerNamespaces }, records)
  let applied = 0
  if (local.length > 0) applied += engine.applyChecked(local, {}).changed.length
  const log = opts.conflictLog
  const r = engine.applyChecked(page, {
    via: peer,
    cursor,
    resolve: pass.resolve,
    meta: () => [...(log !== undefined ? log.writes(pass.take()) : []), ...feed]
  })
  return { applied: applied + r.changed.length, unchanged: r.unchanged }
}

/** A delta request in flight: `sent` once it is out, `answer` once the peer answered. */
interface Pending {
  readonly sent: Promise<void>
  readonly answer: Promise<Answer>
}

function postDelta (baseUrl: string, req: DeltaRequest, opts: PullOptions): Pending {
  const body = JSON.stringify(req)
  const url = new URL(DELTA_PATH, baseUrl)
  const now = opts.now ?? Date.now
  if (opts.tls !== undefined && url.protocol !== 'https:') {
    const refused = Promise.reject(UNAUTHORIZED(`peer ${baseUrl} is not an https:// URL, and TLS is on here (tls.cert): pair it again as ${baseUrl.replace(/^http:/, 'https:')}`))
    return { sent: Promise.resolve(), answer: refused }
  }
  const exchange = (): { nonce: string, x: HttpExchange } => {
    const headers = signRequest(opts.key, opts.engine.node, 'POST', DELTA_PATH, body, now() + (opts.clockOffsets?.get(baseUrl) ?? 0))
    const x = post(url, { headers: { 'content-type': 'application/json', ...headers }, body, timeoutMs: opts.timeoutMs, maxBytes: MAX_RESPONSE_BYTES, signal: opts.signal, tls: opts.tls?.client })
    return { nonce: headers[AUTH_HEADERS.nonce], x }
  }
  const first = exchange()
  const answer = (async (): Promise<Answer> => {
    let { nonce, x } = first
    let adoptedClock = false
    let waited = 0
    for (let tries = 0; ; tries++) {
      const response = await x.answer
      const raw = response.body
      if (response.status === 401) {
        const serverTime = readClockHint(opts.key, response.headers, nonce)
        if (serverTime !== undefined && !adoptedClock && opts.clockOffsets !== undefined) {
          // Our clock and the peer's differ by more than its replay window: sign with its time.
          adoptedClock = true
          opts.clockOffsets.set(baseUrl, serverTime - now())
          ;({ nonce, x } = exchange())
          continue
        }
        throw UNAUTHORIZED(`peer ${baseUrl} refused our credentials${adoptedClock ? ' after this node adopted its clock (check both machines\' clocks)' : ''}: ${errorText(raw)}`)
      }
      if (response.status === 429) {
        // The peer's rate limit (it answers before reading the request, so unsigned): wait as
        // told and ask again, within the call's time limit; past it, the pull stops here.
        const wait = retryAfterMs(response.headers, raw)
        if (waited + wait > opts.timeoutMs || tries >= MAX_RATE_LIMIT_WAITS || opts.signal?.aborted === true) {
          throw RATE_LIMITED(`peer ${baseUrl} is limiting this node's requests: ${errorText(raw)}`, wait)
        }
        waited += wait
        await pause(wait, opts.signal)
        ;({ nonce, x } = exchange())
        continue
      }
      const node = verifyResponse(opts.key, response.headers, response.status, nonce, raw)
      const certProblem = opts.tls?.checkPeer(response.peerCertificate, node)
      if (certProblem !== undefined) throw UNAUTHORIZED(`refused peer ${baseUrl}: ${certProblem}`)
      if (response.status !== 200) {
        const code = errorCode(raw)
        throw new EngramError(code === 'HLC_DRIFT' || code === 'INVALID_INPUT' ? code : 'UNAVAILABLE', `peer ${baseUrl} answered ${response.status}: ${errorText(raw)}`, { status: response.status })
      }
      let parsed: unknown
      try { parsed = JSON.parse(raw.toString('utf8')) } catch { throw PROTOCOL(`peer ${baseUrl} sent a body that is not JSON`) }
      const res = checkDeltaResponse(parsed)
      if (res.nodeId !== node) throw PROTOCOL(`peer ${baseUrl} signed as ${node} but answered as ${res.nodeId}`)
      return { res, size: raw.byteLength }
    }
  })()
  return { sent: first.x.sent, answer }
}

/** Most waits for a peer's rate limit within one call. */
const MAX_RATE_LIMIT_WAITS = 20

/** How long a 429 asks to wait: `details.retryAfterMs`, else `retry-after` (s); 1 s when neither reads, at most 10 s. */
function retryAfterMs (headers: Headers, raw: Uint8Array): number {
  const details = (parseError(raw) as { details?: { retryAfterMs?: unknown } } | undefined)?.details
  const fromBody = typeof details?.retryAfterMs === 'number' && Number.isFinite(details.retryAfterMs) ? details.retryAfterMs : NaN
  const fromHeader = Number(headers.get('retry-after')) * 1000
  const ms = fromBody > 0 ? fromBody : fromHeader > 0 ? fromHeader : 1000
  return Math.min(Math.ceil(ms), 10_000)
}

/** Waits `ms`, or less when `signal` aborts. */
function pause (ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise(resolve => {
    const timer = setTimeout(done, ms)
    function done (): void { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve() }
    signal?.addEventListener('abort', done, { once: true })
  })
}

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
  return o as DeltaResponse
}

function parseError (raw: Uint8Array): { error?: unknown, code?: unknown } | undefined {
  try {
    const o = JSON.parse(Buffer.from(raw).toString('utf8')) as unknown
    return typeof o === 'object' && o !== null ? o as { error?: unknown, code?: unknown } : undefined
  } catch {
    return undefined
  }
}

function errorText (raw: Uint8Array): string {
  const o = parseError(raw)
  return typeof o?.error === 'string' ? o.error : Buffer.from(raw.subarray(0, 200)).toString('utf8')
}

function errorCode (raw: Uint8Array): string | undefined {
  const code = parseError(raw)?.code
  return typeof code === 'string' ? code : undefined
}
