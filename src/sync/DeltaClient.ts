/**
 * The client half of REST delta sync: pulls everything a peer has that this node has not yet
 * applied, page by page. Each page is checked, merged in one transaction together with the
 * peer's cursor, and only then is the next page asked for — so a crash at any point resumes
 * from the last committed page without loss or duplicates.
 */
import { EngramError, PROTOCOL, TIMEOUT, UNAUTHORIZED, isEngramError } from '../core/errors.ts'
import { asNodeId, isNodeId, type NodeId } from '../core/ids.ts'
import type { Engine } from '../engine/Engine.ts'
import { checkRecord } from '../core/records.ts'
import type { ConflictLog, ConflictPass } from './conflicts.ts'
import { signRequest, verifyResponse, AUTH_HEADERS } from './auth.ts'
import { applyExpiredCursorRule } from './expiry.ts'
import type { DeltaRequest, DeltaResponse } from './messages.ts'

export const DELTA_PATH = '/api/v1/sync/delta'
/** A response body larger than this is refused (a page of 50,000 records fits easily). */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024

export interface PullOptions {
  readonly engine: Engine
  /** REST auth key (auth.ts deriveRestKey). */
  readonly key: Uint8Array
  /** Bound on each HTTP call (sync.syncTimeoutMs). */
  readonly timeoutMs: number
  /** Records per page asked for (sync.maxTriplesPerSync). */
  readonly pageSize: number
  readonly namespaces?: readonly string[]
  /** Conflict handling for this pull (sync.conflictStrategy); absent: last-writer-wins. */
  readonly conflicts?: ConflictPass
  /** Where keep-both conflicts are listed. */
  readonly conflictLog?: ConflictLog
  readonly onProgress?: (p: PullProgress) => void
  /** Stops the pull between pages. */
  readonly signal?: AbortSignal
  /** Bound on pages in one pull (a safety net against a peer that never says hasMore=false). */
  readonly maxPages?: number
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
  /** The peer feed our cursor belongs to. */
  readonly feedId?: string
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
  readonly bytes: number
  readonly cursor: number
  readonly durationMs: number
}

export async function pullFrom (peer: PeerRef, opts: PullOptions): Promise<PullResult> {
  const started = performance.now()
  const { engine } = opts
  let nodeId = peer.nodeId
  let feedId = peer.feedId
  let cursor = nodeId !== undefined ? engine.store.getCursor(nodeId) : 0
  let snapshot = false
  const seenKeys = new Set<string>()
  let peerCursor = 0
  let peerNamespaces: readonly string[] | null = null
  let pages = 0; let received = 0; let applied = 0; let unchanged = 0; let bytes = 0
  const maxPages = opts.maxPages ?? 100_000
  for (;;) {
    opts.signal?.throwIfAborted()
    if (pages >= maxPages) throw PROTOCOL(`peer ${peer.url} kept answering hasMore after ${maxPages} pages`)
    const req: DeltaRequest = { cursor, feedId, namespaces: opts.namespaces, limit: opts.pageSize, ...(snapshot ? { snapshot: true } : {}) }
    const { res, size } = await postDelta(peer.url, req, opts)
    bytes += size
    if (nodeId !== undefined && res.nodeId !== nodeId) {
      throw UNAUTHORIZED(`peer at ${peer.url} is node ${res.nodeId}, expected ${nodeId}: re-pair it if it was reinstalled`)
    }
    if (!isNodeId(res.nodeId)) throw PROTOCOL('delta response has no valid nodeId')
    nodeId ??= asNodeId(res.nodeId)
    if (res.snapshot && !snapshot) { snapshot = true; peerCursor = res.peerCursor; peerNamespaces = res.peerNamespaces }
    feedId = res.feedId
    pages++
    received += res.records.length
    const checked = res.records.map((r, i) => checkRecord(r, `records[${i}]`))
    const page = opts.conflicts !== undefined ? opts.conflicts.prepare(engine.store, checked) : checked
    const result = engine.applyChecked(page, { via: nodeId, cursor: { peer: nodeId, seq: res.cursor }, resolve: opts.conflicts?.resolve })
    if (opts.conflicts !== undefined && opts.conflicts.entries.length > 0) opts.conflictLog?.add(opts.conflicts.entries.splice(0))
    applied += result.changed.length
    unchanged += result.unchanged
    if (snapshot) {
      for (const r of res.records) {
        const o = r as { kind?: string, id?: string, key?: string }
        if (o.kind === 'triple' && typeof o.id === 'string') seenKeys.add(`t:${o.id}`)
        else if (o.kind === 'note' && typeof o.key === 'string') seenKeys.add(`n:${o.key}`)
      }
    }
    cursor = res.cursor
    opts.onProgress?.({ pages, received, applied })
    if (!res.hasMore) break
  }
  let inferredDeletes = 0
  if (snapshot && nodeId !== undefined) {
    inferredDeletes = applyExpiredCursorRule(engine, { peer: nodeId, seenKeys, peerCursor, ours: opts.namespaces, theirs: peerNamespaces ?? undefined })
  }
  return { nodeId: nodeId!, feedId: feedId!, pages, received, applied, unchanged, inferredDeletes, bytes, cursor, durationMs: performance.now() - started }
}

async function postDelta (baseUrl: string, req: DeltaRequest, opts: PullOptions): Promise<{ res: DeltaResponse, size: number }> {
  const body = JSON.stringify(req)
  const headers = signRequest(opts.key, opts.engine.node, 'POST', DELTA_PATH, body)
  const url = new URL(DELTA_PATH, baseUrl)
  let response: Response
  const signal = opts.signal !== undefined ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]) : AbortSignal.timeout(opts.timeoutMs)
  try {
    response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal })
  } catch (e) {
    throw networkError(e, baseUrl, opts.timeoutMs)
  }
  let raw: Uint8Array
  try {
    raw = await readLimited(response, MAX_RESPONSE_BYTES)
  } catch (e) {
    throw networkError(e, baseUrl, opts.timeoutMs)
  }
  if (response.status === 401) {
    throw UNAUTHORIZED(`peer ${baseUrl} refused our credentials: ${errorText(raw)} — set the same p2p.seed or sync.passphrase on both nodes`)
  }
  verifyResponse(opts.key, response.headers, response.status, headers[AUTH_HEADERS.nonce], raw)
  if (response.status !== 200) throw new EngramError('UNAVAILABLE', `peer ${baseUrl} answered ${response.status}: ${errorText(raw)}`)
  let parsed: unknown
  try { parsed = JSON.parse(Buffer.from(raw).toString('utf8')) } catch { throw PROTOCOL(`peer ${baseUrl} sent a body that is not JSON`) }
  return { res: checkDeltaResponse(parsed), size: raw.byteLength }
}

function checkDeltaResponse (v: unknown): DeltaResponse {
  const o = v as Partial<DeltaResponse> | null
  if (typeof o !== 'object' || o === null || typeof o.nodeId !== 'string' || typeof o.feedId !== 'string' ||
      typeof o.cursor !== 'number' || !Number.isSafeInteger(o.cursor) || o.cursor < 0 ||
      typeof o.hasMore !== 'boolean' || !Array.isArray(o.records) || typeof o.snapshot !== 'boolean' ||
      typeof o.peerCursor !== 'number' || !(o.peerNamespaces === null || Array.isArray(o.peerNamespaces))) {
    throw PROTOCOL('delta response does not have the expected shape {nodeId, feedId, cursor, hasMore, records, snapshot, peerCursor}')
  }
  return o as DeltaResponse
}

async function readLimited (res: Response, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (declared > max) throw PROTOCOL(`response of ${declared} bytes is over the ${max} byte limit`)
  if (res.body === null) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of res.body) {
    total += chunk.byteLength
    if (total > max) throw PROTOCOL(`response is over the ${max} byte limit`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

function errorText (raw: Uint8Array): string {
  try {
    const o = JSON.parse(Buffer.from(raw).toString('utf8')) as { error?: unknown }
    return typeof o.error === 'string' ? o.error : Buffer.from(raw).toString('utf8').slice(0, 200)
  } catch {
    return Buffer.from(raw).toString('utf8').slice(0, 200)
  }
}

function networkError (e: unknown, url: string, timeoutMs: number): EngramError {
  if (isEngramError(e)) return e
  const err = e as { name?: string, message?: string, cause?: { code?: string, message?: string } }
  if (err.name === 'TimeoutError') return TIMEOUT(`sync call to ${url}`, timeoutMs)
  const detail = err.cause?.code ?? err.cause?.message ?? err.message ?? String(e)
  return new EngramError('UNAVAILABLE', `peer ${url} is unreachable (${detail})`, { url }, { cause: e })
}
