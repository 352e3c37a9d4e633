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
import { PROTOCOL, RATE_LIMITED, UNAUTHORIZED, UNAVAILABLE, REMOTE_ERROR } from '../../core/errors.ts'
import { asNodeId, type NodeId } from '../../core/ids.ts'
import type { Engine } from '../../engine/Engine.ts'
import { checkRecord } from '../../core/records.ts'
import { sealsFromJson } from '../../protocol/polled/jsonSeals.ts'
import { DELTA_PATH, checkDeltaResponse, type DeltaRequest, type DeltaResponse } from '../../protocol/polled/messages.ts'
import { applyPeerPage, learnsKnowledge } from '../../replication/applyPage.ts'
import type { ConflictLog, ConflictPass } from '../../replication/conflicts.ts'
import { SnapshotPass } from '../../replication/expiredCursor.ts'
import type { PeerClocks } from '../../replication/PeerClocks.ts'
import { cursorFeedWrites, readPeerCursor } from '../../replication/peerCursor.ts'
import type { PeerTls } from '../../tls/client.ts'

export type { PeerTls } from '../../tls/client.ts'
import { signRequest, verifyResponse, readClockHint, AUTH_HEADERS, type RestKey } from './auth.ts'
import { post, type HttpExchange } from './http.ts'

export type { HttpAnswer, HttpExchange, PostOptions } from './http.ts'

/** A response body larger than this is refused (servers cut pages at 16 MiB of records). */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024

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
  /** One POST to a peer (default: HTTP, http.ts); simulations hand the request to the peer's endpoint in process. */
  readonly exchange?: typeof post
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
  /** Where the peer's clock readings go (each answer's `now`, replication/PeerClocks.ts). */
  readonly clocks?: PeerClocks
}

export interface PullProgress {
  readonly pages: number
  readonly received: number
  readonly applied: number
  /** At most this many records still to come, as the peer said with its last page (absent: it did not say). */
  readonly remaining?: number
}

export interface PeerRef {
  readonly url: string
  /** The node expected to answer; a different node is refused. Unknown on first contact. */
  readonly nodeId?: NodeId
}

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

export async function pullFrom (peer: PeerRef, opts: PullOptions): Promise<PullResult> {
  const started = performance.now()
  const { engine } = opts
  let nodeId = peer.nodeId
  // A cursor is only meaningful with the feed it was taken on: the server checks that feed.
  let { seq: cursor, feedId } = nodeId !== undefined ? readPeerCursor(engine.store, nodeId) : { seq: 0, feedId: undefined as string | undefined }
  let snap: { readonly feedId: string, readonly pass: SnapshotPass } | undefined
  let pages = 0; let received = 0; let applied = 0; let unchanged = 0; let bytes = 0; let inferredDeletes = 0
  const maxPages = opts.maxPages ?? 100_000
  const now = opts.now ?? Date.now
  // A pull of some namespaces only holds part of what the peer holds: it teaches no knowledge.
  const partial = opts.namespaces !== undefined && opts.namespaces.length > 0
  // A store that lacks its own history asks for everything (engine/NodeKnowledge.ts).
  const full = !partial && opts.engine.knowledge.ownHistoryIncomplete()
  const ask = (c: number, fid: string | undefined, inSnapshot: boolean): Pending =>
    postDelta(peer.url, { cursor: c, feedId: fid, namespaces: opts.namespaces, limit: opts.pageSize, now: now(), ...(inSnapshot ? { snapshot: true } : full ? { full } : {}) }, opts)
  let next: Pending | undefined = ask(cursor, feedId, false)
  try {
    while (next !== undefined) {
      const { res, size } = await next.answer
      next = undefined
      if (opts.signal?.aborted === true) throw UNAVAILABLE(`sync with ${peer.url} was stopped`)
      if (nodeId !== undefined && res.nodeId !== nodeId) {
        throw UNAUTHORIZED(`peer at ${peer.url} is node ${res.nodeId}, expected ${nodeId}: unpair it and pair it again if it was reinstalled`)
      }
      const peerNode = nodeId ?? asNodeId(res.nodeId)
      if (nodeId === undefined) opts.onPeer?.(peerNode, res.feedId)
      nodeId = peerNode
      if (res.now !== undefined) opts.clocks?.observe(peerNode, res.now, now())
      if (res.snapshot && snap?.feedId !== res.feedId) snap = { feedId: res.feedId, pass: new SnapshotPass(res.peerCursor, res.peerNamespaces) }
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
      const seals = sealsFromJson(res.batches, res.records)
      if (res.signs === true) engine.provenance.signers.learn(peerNode)
      await engine.verifyAhead(checked, seals)
      snap?.pass.see(checked)
      const remaining = typeof res.remaining === 'number' && Number.isSafeInteger(res.remaining) && res.remaining >= 0 ? (res.hasMore ? res.remaining : 0) : undefined
      const result = applyPeerPage(engine, {
        peer: peerNode,
        records: checked,
        seals,
        view: { node: peerNode, cursor: res.peerCursor, namespaces: res.peerNamespaces },
        // a snapshot's cursor is saved at its end, with the deletions the rule infers
        ...(res.snapshot ? {} : { cursor: { seq: res.cursor, feedId: res.feedId } }),
        ...(res.knowledge !== undefined ? { knowledge: res.knowledge } : {}),
        ...(res.voids !== undefined ? { voids: res.voids } : {}),
        ...(remaining !== undefined ? { left: remaining } : {}),
        partial
      }, opts.conflicts !== undefined ? { pass: opts.conflicts, log: opts.conflictLog } : undefined)
      applied += result.applied
      unchanged += result.unchanged
      if (!res.hasMore && snap !== undefined) {
        inferredDeletes = snap.pass.finish(engine, {
          peer: peerNode,
          ours: opts.namespaces,
          cursor: { peer: peerNode, seq: res.cursor },
          meta: () => cursorFeedWrites(peerNode, res.feedId),
          ...(res.knowledge !== undefined && learnsKnowledge(opts.conflicts, partial) ? { knowledge: res.knowledge } : {})
        })
        applied += inferredDeletes
      }
      cursor = res.cursor
      opts.onProgress?.({ pages, received, applied, ...(remaining !== undefined ? { remaining } : {}) })
    }
  } finally {
    // A page that failed leaves the prefetched one unread: let it finish quietly.
    void next?.answer.catch(() => {})
  }
  return { nodeId: nodeId!, feedId: feedId!, pages, received, applied, unchanged, inferredDeletes, bytes, cursor, snapshot: snap !== undefined, durationMs: performance.now() - started }
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
    const x = (opts.exchange ?? post)(url, { headers: { 'content-type': 'application/json', ...headers }, body, timeoutMs: opts.timeoutMs, maxBytes: MAX_RESPONSE_BYTES, signal: opts.signal, tls: opts.tls?.client })
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
        throw REMOTE_ERROR(code === 'HLC_DRIFT' || code === 'INVALID_INPUT' ? code : 'UNAVAILABLE', `peer ${baseUrl} answered ${response.status}: ${errorText(raw)}`, { status: response.status })
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
