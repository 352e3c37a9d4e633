/**
 * The typed client of every route of an engram daemon's REST API (docs/API.md), one method a
 * route, over DaemonHttp (one exchange: headers, deadlines, failures as EngramErrors; `request`
 * for a route without a method here). Its answers' shapes are in answers.ts. Every failure is an
 * EngramError: the server's `{error, code, details}` as sent, or UNAVAILABLE with
 * `details.unreachable` when nothing answers at the base URL.
 */
import type { NoteDto, TripleDto, EpisodeDto, TraceDto } from '../api/dto.ts'
import type { Json, JsonObject } from '../core/model.ts'
import type { ConflictEntry } from '../replication/conflicts.ts'
import type { PullProgress } from '../sync/polled/DeltaClient.ts'
import type { PeerRunResult } from '../sync/polled/PolledSync.ts'
import { PROTOCOL } from '../core/errors.ts'
import type {
  NodeView, P2pStatusView, PeerView, RefusedAnswer, RevertAnswer, RevocationView, SearchIndexResponse, SearchResponse, StateView,
  SyncStatus
} from '../api/contract.ts'
import { DaemonHttp, type SyncNowResult } from './DaemonHttp.ts'
import type {
  AgentEndResult, BodyPattern, EpisodesPage, Health, NotesPage, Paired, PatternQuery, QueryPage, Status, TracesPage, TriplesPage, TripleInput
} from './answers.ts'

export type * from './answers.ts'
export type { SyncNowResult } from './DaemonHttp.ts'
export type { PeerView, SyncStatus } from '../api/contract.ts'

export class ApiClient extends DaemonHttp {
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
   * GET /api/v1/export: the lines of the whole-store dump as they stream (src/core/dump.ts),
   * each without its newline. Bounded by `timeoutMs` in all (default 24 h).
   */
  async * exportDump (filter: { namespaces?: string, kinds?: string } = {}, timeoutMs = 86_400_000): AsyncGenerator<string> {
    const url = new URL(this.baseUrl + '/api/v1/export')
    for (const [k, v] of Object.entries(filter)) if (v !== undefined) url.searchParams.set(k, v)
    yield * this.streamLines(url, timeoutMs)
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
}
