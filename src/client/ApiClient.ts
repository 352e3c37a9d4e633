/**
 * A small typed client for the REST API of an engram daemon (docs/API.md). Every failure is an
 * EngramError: the server's `{error, code, details}` as sent, or UNAVAILABLE with
 * `details.unreachable` when nothing answers at the base URL.
 */
import type { NoteDto, TripleDto, EpisodeDto, TraceDto } from '../api/dto.ts'
import { CLIENT_HEADER } from '../api/contract.ts'
import { EngramError, PROTOCOL, UNAVAILABLE, type ErrorCode, REMOTE_ERROR } from '../core/errors.ts'
import type { Json, JsonObject } from '../core/model.ts'
import type { StoreStats } from '../store/Store.ts'
import type { ConflictEntry } from '../replication/conflicts.ts'
import type { PullProgress } from '../sync/polled/DeltaClient.ts'
import type { PairBack } from '../sync/polled/pairing.ts'
import type { PeerRunResult } from '../sync/polled/PolledSync.ts'
import { describeTlsError, tlsFetch, type ClientTls } from '../tls/client.ts'
import type {
  ClockStatusView, NodeView, P2pStatusView, PeerView, RefusedAnswer, RevertAnswer, RevocationView, SearchIndexResponse, SearchResponse, StateView,
  SyncStatus
} from '../api/contract.ts'

/** The daemon did not answer: says how to start one (the CLI exits 3 on `details.unreachable`). */
export function UNREACHABLE (url: string, why: string): EngramError {
  return UNAVAILABLE(
    `no engram daemon reachable at ${url} (${why}); start one with \`engram start\` (or \`npm start\` in the engram folder), ` +
    'or point the CLI at it with --url, ENGRAM_URL or --data-dir', { url, unreachable: true })
}

/** The daemon answered over TLS, but the client does not trust its certificate (or it wants one from the client). */
export function UNTRUSTED (url: string, why: string): EngramError {
  return UNAVAILABLE(
    `the engram daemon at ${url} answered over TLS, but ${why}; the CLI trusts tls.ca (ENGRAM_SYNC_TLS_CA), ` +
    'else the CA in the api.json of the daemon of its data directory (--data-dir), else the CA of engram tls init', { url, tls: true })
}

/** A pattern as POST /api/v1/query takes it (`object` a term in its JSON form). */
export interface BodyPattern {
  readonly subject?: string
  readonly predicate?: string
  readonly object?: Json
  readonly namespace?: string
}

/** One answer of POST /api/v1/query (and of each query of a batch). */
export interface QueryPage {
  readonly matches: TripleDto[]
  readonly total: number
  readonly limit: number
  readonly offset: number
}

/** A triple to add, `object` in the JSON form POST /api/v1/triples takes. */
export interface TripleInput {
  readonly subject: string
  readonly predicate: string
  readonly object: Json
}

export interface TriplesPage {
  readonly triples: TripleDto[]
  readonly total: number
  readonly limit: number
  readonly offset: number
}

export interface NotesPage {
  readonly notes: NoteDto[]
  readonly total: number
  readonly limit: number
  readonly offset: number
}

export interface EpisodesPage {
  readonly episodes: EpisodeDto[]
  readonly total: number
  readonly limit: number
  readonly offset: number
}

export interface TracesPage {
  readonly traces: TraceDto[]
  readonly total: number
  readonly limit: number
  readonly offset: number
}

export interface Health {
  readonly status: string
  readonly version: string
  readonly components: Record<string, { status: string, [k: string]: unknown }>
}

export interface Status {
  readonly nodeId: string
  readonly version: string
  readonly startedAt: string
  readonly dataDir: string
  readonly store: { kind: string, path: string, status: string, detail: string, stats: StoreStats }
  readonly p2p: { enabled: boolean }
  readonly provenance?: {
    signing: boolean
    refused: Record<string, number>
    accepted: { signed: number, unsigned: number }
    known_signers: number
    revoked: number
    history: number
    unsigned_held: number
  }
  /** This node's clock, its peers' offsets, held records, the last repair (absent from older daemons). */
  readonly clock?: ClockStatusView
}

/** Fields of a triple pattern as the query string carries them (object in its text form). */
export interface PatternQuery {
  readonly subject?: string
  readonly predicate?: string
  readonly object?: string
  readonly namespace?: string
  readonly origin?: string
  /** ISO-8601: the state at that time. */
  readonly asOf?: string
}


export type { PeerView, SyncStatus } from '../api/contract.ts'

/** What POST /api/v1/sync/peers answers. */
export interface Paired {
  readonly peer: PeerView
  readonly pairBack: PairBack
  /** In native mode: the P2P peer added, or why not. */
  readonly p2p?: { addr?: string, error?: string }
}

export interface SyncNowResult {
  readonly ok: boolean
  readonly results: PeerRunResult[]
}

export interface AgentEndResult {
  readonly triggered: boolean
  readonly reason: string
}

type Query = Record<string, string | number | undefined>

export class ApiClient {
  readonly baseUrl: string
  /** The CA and certificate used for an https daemon (tls.* of the configuration). */
  readonly tls: ClientTls | undefined
  private readonly timeoutMs: number
  /** Sent on every request: the guard's mark of a program (api/guard.ts), and the API token when known. */
  readonly headers: Readonly<Record<string, string>>

  constructor (baseUrl: string, opts: { timeoutMs?: number, tls?: ClientTls, token?: string } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.timeoutMs = opts.timeoutMs ?? 30_000
    this.tls = opts.tls
    this.headers = { [CLIENT_HEADER]: 'engram', ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}) }
  }

  health (): Promise<Health> { return this.request('GET', '/api/v1/health', { acceptStatus: [503] }) }
  status (): Promise<Status> { return this.request('GET', '/api/v1/status') }

  /** Adds (or asserts again) one triple; `created` is false when it was present (it is re-stamped). */
  addTriple (subject: string, predicate: string, object: Json): Promise<TripleDto & { created: boolean }> {
    return this.request('POST', '/api/v1/triples', { body: { subject, predicate, object } })
  }

  queryTriples (pattern: PatternQuery & { limit?: number, offset?: number }): Promise<TriplesPage> {
    return this.request('GET', '/api/v1/triples', { query: { ...pattern } })
  }

  getTriple (id: string): Promise<TripleDto> { return this.request('GET', `/api/v1/triples/${encodeURIComponent(id)}`) }

  deleteTriple (id: string): Promise<{ deleted: number, id: string, hlc: string }> {
    return this.request('DELETE', `/api/v1/triples/${encodeURIComponent(id)}`)
  }

  deleteTriples (pattern: PatternQuery): Promise<{ deleted: number }> {
    return this.request('DELETE', '/api/v1/triples', { query: { ...pattern } })
  }

  setNote (key: string, value: Json): Promise<NoteDto> {
    return this.request('PUT', `/api/v1/notes/${encodeURIComponent(key)}`, { body: { value } })
  }

  getNote (key: string, asOf?: string): Promise<NoteDto> { return this.request('GET', `/api/v1/notes/${encodeURIComponent(key)}`, { query: { asOf } }) }

  listNotes (opts: { prefix?: string, asOf?: string, limit?: number, offset?: number }): Promise<NotesPage> {
    return this.request('GET', '/api/v1/notes', { query: { ...opts } })
  }

  deleteNote (key: string): Promise<{ deleted: number, key: string, hlc: string }> {
    return this.request('DELETE', `/api/v1/notes/${encodeURIComponent(key)}`)
  }

  /** Adds triples in one transaction: each input's triple as stored, in input order, and how many were new. */
  addTriples (triples: readonly TripleInput[]): Promise<{ triples: TripleDto[], created: number }> {
    return this.request('POST', '/api/v1/triples', { body: { triples } })
  }

  /** POST /api/v1/query/batch: several pattern queries answered from one state of the store. */
  async queryBatch (queries: readonly (BodyPattern & { limit: number, offset: number })[]): Promise<QueryPage[]> {
    return (await this.request<{ results: QueryPage[] }>('POST', '/api/v1/query/batch', { body: { queries } })).results
  }

  /** Records an episode (a new id when `id` is absent; an existing id has its data replaced). */
  putEpisode (id: string | undefined, data: JsonObject): Promise<EpisodeDto> {
    return this.request('POST', '/api/v1/episodes', { body: id === undefined ? { data } : { id, data } })
  }

  getEpisode (id: string): Promise<EpisodeDto> { return this.request('GET', `/api/v1/episodes/${encodeURIComponent(id)}`) }

  /** Newest first. */
  listEpisodes (opts: { prefix?: string, limit?: number, offset?: number }): Promise<EpisodesPage> {
    return this.request('GET', '/api/v1/episodes', { query: { ...opts } })
  }

  appendTrace (runId: string, type: string, data: Json): Promise<TraceDto> {
    return this.request('POST', '/api/v1/traces', { body: { runId, type, data } })
  }

  getTrace (id: string): Promise<TraceDto> { return this.request('GET', `/api/v1/traces/${encodeURIComponent(id)}`) }

  /** Oldest first. */
  listTraces (opts: { runId?: string, limit?: number, offset?: number }): Promise<TracesPage> {
    return this.request('GET', '/api/v1/traces', { query: { ...opts } })
  }

  // ---- search ----

  search (params: { q: string, kind?: string, namespace?: string, limit?: number, expand?: number, mode?: string }): Promise<SearchResponse> {
    return this.request('GET', '/api/v1/search', { query: { ...params } })
  }

  searchIndex (): Promise<SearchIndexResponse> { return this.request('GET', '/api/v1/search/index') }

  reindex (): Promise<Pick<SearchIndexResponse, 'text'>> { return this.request('POST', '/api/v1/search/reindex') }

  // ---- provenance, history ----

  showRecord (id: string, kind?: string): Promise<{ kind: string, key: string, state: StateView, states: number }> {
    return this.request('GET', `/api/v1/records/${encodeURIComponent(id)}`, { query: { kind } })
  }

  history (id: string, kind?: string): Promise<{ kind: string, key: string, states: StateView[] }> {
    return this.request('GET', `/api/v1/history/${encodeURIComponent(id)}`, { query: { kind } })
  }

  revert (body: { id?: string, kind?: string, origin?: string, since?: string, until?: string, dryRun?: boolean }): Promise<RevertAnswer> {
    return this.request('POST', '/api/v1/revert', { body })
  }

  nodes (): Promise<{ self: string, nodes: NodeView[] }> { return this.request('GET', '/api/v1/nodes') }

  revocations (): Promise<{ quorum: number | null, revocations: RevocationView[] }> { return this.request('GET', '/api/v1/revocations') }

  revoke (node: string, opts: { after?: string, reason?: string }): Promise<{ revocation: NoteDto }> {
    return this.request('POST', '/api/v1/revocations', { body: { node, ...opts } })
  }

  withdrawRevocation (node: string): Promise<{ withdrawn: string }> {
    return this.request('DELETE', `/api/v1/revocations/${encodeURIComponent(node)}`)
  }

  refused (): Promise<RefusedAnswer> { return this.request('GET', '/api/v1/refused') }

  // ---- sync ----

  syncStatus (): Promise<SyncStatus> { return this.request('GET', '/api/v1/sync/status') }

  /**
   * Syncs now with one peer or all. With `onProgress`, the daemon streams a progress line per
   * page (NDJSON) and the callback sees each one. Bounded by `timeoutMs` in all (default 1 h).
   */
  async syncNow (peer?: string, onProgress?: (peer: string, p: PullProgress) => void, timeoutMs = 3_600_000): Promise<SyncNowResult> {
    const body = peer !== undefined ? { peer } : {}
    if (onProgress === undefined) return await this.request('POST', '/api/v1/sync/now', { body, timeoutMs })
    return (await this.followPull<Record<string, never>>('/api/v1/sync/now', body, onProgress, timeoutMs)).result
  }

  /**
   * POST with "accept: application/x-ndjson": a route that runs a pull and streams it (sync now,
   * pair, resume; docs/API.md). Answers its head line (the route's own answer, if it has one)
   * and the pull's result; `onProgress` sees every progress line.
   */
  private async followPull<H> (path: string, body: unknown, onProgress: (peer: string, p: PullProgress) => void, timeoutMs: number): Promise<{ head: H | undefined, result: SyncNowResult }> {
    const res = await this.send('POST', new URL(this.baseUrl + path), body, timeoutMs, { accept: 'application/x-ndjson' })
    if (!(res.headers.get('content-type') ?? '').startsWith('application/x-ndjson')) return this.answer(res, 'POST', path, await res.text())
    let head: H | undefined
    let result: SyncNowResult | undefined
    for await (const line of lines(res)) {
      const v = JSON.parse(line) as { type: string, peer?: string, error?: string, code?: string } & PullProgress & SyncNowResult
      if (v.type === 'progress') onProgress(v.peer ?? '', { pages: v.pages, received: v.received, applied: v.applied, ...(typeof v.remaining === 'number' ? { remaining: v.remaining } : {}) })
      else if (v.type === 'result') result = { ok: v.ok, results: v.results }
      else if (v.type === 'error') throw REMOTE_ERROR((v.code ?? 'INTERNAL') as ErrorCode, v.error ?? 'sync failed')
      else if (head === undefined) { const { type: _type, ...rest } = v; head = rest as unknown as H }
    }
    if (result === undefined) throw PROTOCOL(`the daemon ended the stream of POST ${path} without a result`)
    return { head, result }
  }

  /**
   * GET /api/v1/export: the lines of the whole-store dump as they stream (src/core/dump.ts),
   * each without its newline. Bounded by `timeoutMs` in all (default 24 h).
   */
  async * exportDump (filter: { namespaces?: string, kinds?: string } = {}, timeoutMs = 86_400_000): AsyncGenerator<string> {
    const url = new URL(this.baseUrl + '/api/v1/export')
    for (const [k, v] of Object.entries(filter)) if (v !== undefined) url.searchParams.set(k, v)
    const res = await this.send('GET', url, undefined, timeoutMs)
    if (!res.ok) this.answer(res, 'GET', url.pathname, await res.text())
    yield * lines(res)
  }

  /** POST /api/v1/import: records of a dump, merged in one transaction. */
  importRecords (records: readonly unknown[]): Promise<{ received: number, applied: number, unchanged: number }> {
    return this.request('POST', '/api/v1/import', { body: { records } })
  }

  /** GET /api/v1/p2p/status (404 NOT_FOUND when P2P is not enabled). */
  p2pStatus (): Promise<P2pStatusView> { return this.request('GET', '/api/v1/p2p/status') }

  pairPeer (name: string, url: string, namespaces?: readonly string[]): Promise<Paired> {
    return this.request('POST', '/api/v1/sync/peers', { body: { name, url, ...(namespaces !== undefined ? { namespaces } : {}) } })
  }

  /** Pairs a peer and follows the first pull the pairing starts, to its end, with its progress. */
  async pairAndPull (name: string, url: string, namespaces: readonly string[] | undefined, onProgress: (peer: string, p: PullProgress) => void, timeoutMs = 3_600_000): Promise<Paired & { pull: PeerRunResult | undefined }> {
    const body = { name, url, ...(namespaces !== undefined ? { namespaces } : {}) }
    const { head, result } = await this.followPull<Paired>('/api/v1/sync/peers', body, onProgress, timeoutMs)
    if (head === undefined) throw PROTOCOL('the daemon answered the pairing without the peer')
    return { ...head, pull: result.results[0] }
  }

  unpairPeer (name: string): Promise<{ peer: PeerView }> {
    return this.request('DELETE', `/api/v1/sync/peers/${encodeURIComponent(name)}`)
  }

  pausePeer (name: string, paused: boolean): Promise<{ peer: PeerView }> {
    return this.request('POST', `/api/v1/sync/peers/${encodeURIComponent(name)}/${paused ? 'pause' : 'resume'}`)
  }

  /** Resumes a peer and follows the pull the resume starts, to its end, with its progress. */
  async resumeAndPull (name: string, onProgress: (peer: string, p: PullProgress) => void, timeoutMs = 3_600_000): Promise<{ peer: PeerView, pull: PeerRunResult | undefined }> {
    const { head, result } = await this.followPull<{ peer: PeerView }>(`/api/v1/sync/peers/${encodeURIComponent(name)}/resume`, undefined, onProgress, timeoutMs)
    if (head === undefined) throw PROTOCOL('the daemon answered the resume without the peer')
    return { ...head, pull: result.results[0] }
  }

  conflicts (): Promise<{ conflicts: ConflictEntry[], total: number }> { return this.request('GET', '/api/v1/conflicts') }

  resolveConflict (id: string, keep: 'kept' | 'other'): Promise<{ resolved: ConflictEntry, keep: string }> {
    return this.request('POST', `/api/v1/conflicts/${encodeURIComponent(id)}/resolve`, { body: { keep } })
  }

  /** Tells the daemon an agent session ended (with sync.autoSync on, it syncs). */
  agentEnd (info: { agent?: string, sessionId?: string } = {}): Promise<AgentEndResult> {
    return this.request('POST', '/api/v1/hooks/agent-end', { body: info })
  }

  async request<T> (method: string, path: string, opts: { query?: Query, body?: unknown, acceptStatus?: number[], timeoutMs?: number } = {}): Promise<T> {
    const url = new URL(this.baseUrl + path)
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v))
    const res = await this.send(method, url, opts.body, opts.timeoutMs ?? this.timeoutMs)
    return this.answer(res, method, url.pathname, await res.text(), opts.acceptStatus)
  }

  private async send (method: string, url: URL, body: unknown, timeoutMs: number, headers: Record<string, string> = {}): Promise<Response> {
    const signal = AbortSignal.timeout(timeoutMs)
    for (let attempt = 1; ; attempt++) {
      try {
        return await tlsFetch(url, {
          method,
          headers: { ...this.headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
          body: body !== undefined ? JSON.stringify(body) : undefined,
          signal
        }, this.tls)
      } catch (e) {
        // A kept-alive connection the daemon closed as idle (api keep-alive timeout) just as this
        // request went out on it: a read is sent once more, on a new connection, as HTTP clients do
        // for idempotent requests. A write is never repeated: the caller decides.
        if (attempt === 1 && (method === 'GET' || method === 'HEAD') && !signal.aborted && isConnectionReset(e)) continue
        const code = (e as { cause?: { code?: string } }).cause?.code
        const tls = describeTlsError(code)
        if (tls !== undefined) throw UNTRUSTED(this.baseUrl, tls.replace(/this node's CA/g, 'the CA the CLI trusts').replace(/^the peer/, 'the daemon'))
        // a daemon that requires client certificates closes the connection of a client without one
        if (code === 'ECONNRESET' && url.protocol === 'https:' && this.tls?.cert === undefined) {
          throw UNTRUSTED(this.baseUrl, 'it closed the connection, as it does when it requires a client certificate (tls.requireClientCert) and the CLI presented none: set tls.cert and tls.key, or give the --data-dir of that daemon')
        }
        throw UNREACHABLE(this.baseUrl, describeFetchError(e, timeoutMs))
      }
    }
  }

  private answer<T> (res: Response, method: string, path: string, text: string, acceptStatus?: number[]): T {
    let body: unknown
    try {
      body = text === '' ? undefined : JSON.parse(text)
    } catch {
      throw PROTOCOL(`${method} ${path} answered ${res.status} with a body that is not JSON; is ${this.baseUrl} an engram daemon?`, { status: res.status })
    }
    if (res.ok || acceptStatus?.includes(res.status) === true) return body as T
    const e = body as { error?: unknown, code?: unknown, details?: unknown } | undefined
    if (typeof e?.error === 'string' && typeof e.code === 'string') {
      throw REMOTE_ERROR(e.code as ErrorCode, e.error, { ...(e.details as Record<string, unknown> | undefined), status: res.status })
    }
    throw PROTOCOL(`${method} ${path} answered ${res.status}; is ${this.baseUrl} an engram daemon?`, { status: res.status })
  }
}

/** The non-empty lines of a streamed body, as they arrive. */
async function * lines (res: Response): AsyncGenerator<string> {
  let buffered = ''
  const decoder = new TextDecoder()
  for await (const chunk of res.body ?? []) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true })
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    for (const line of parts) if (line.trim() !== '') yield line
  }
  buffered += decoder.decode()
  if (buffered.trim() !== '') yield buffered
}

/** Whether a fetch failed because the connection was closed under it (not refused, not timed out). */
function isConnectionReset (e: unknown): boolean {
  const cause = (e as { cause?: { code?: string } }).cause
  return cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET' || cause?.code === 'EPIPE'
}

function describeFetchError (e: unknown, timeoutMs: number): string {
  if (e instanceof DOMException && (e.name === 'TimeoutError' || e.name === 'AbortError')) return `no answer within ${timeoutMs / 1000} s`
  const cause = (e as { cause?: { code?: string, message?: string } }).cause
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e))
}
