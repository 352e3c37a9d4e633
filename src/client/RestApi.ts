/**
 * The REST client as the MCP server and the memory-file commands use it: ApiClient (the one
 * typed client of every route) with their conventions on top — a missing note is undefined, a
 * list is {items, total}, a route an older daemon lacks is undefined. Every failure is an
 * EngramError (the daemon's own `{error, code, details}`, or UNAVAILABLE with
 * `details.unreachable` when nothing answers).
 */
import type { EpisodeDto, NoteDto, TraceDto, TripleDto } from '../api/dto.ts'
import { BATCH_QUERY_LIMITS, type SearchResponse } from '../api/contract.ts'
import { isEngramError } from '../core/errors.ts'
import { LIMITS } from '../core/limits.ts'
import type { Json, JsonObject } from '../core/model.ts'
import { ApiClient, type BodyPattern, type QueryPage, type Status, type TripleInput } from './ApiClient.ts'

export type { BodyPattern, QueryPage, TripleInput } from './ApiClient.ts'

export interface Paged<T> { readonly items: T[], readonly total: number }

/** The most queries and the largest sum of limits one batched query may carry, and the largest page. */
export const BATCH = { ...BATCH_QUERY_LIMITS, pageMax: LIMITS.queryLimitMax } as const

export class RestApi {
  readonly client: ApiClient

  constructor (client: ApiClient) {
    this.client = client
  }

  get url (): string { return this.client.baseUrl }

  status (): Promise<Status> { return this.client.status() }

  queryBatch (queries: readonly (BodyPattern & { limit: number, offset: number })[]): Promise<QueryPage[]> {
    return this.client.queryBatch(queries)
  }

  /**
   * Adds triples in one transaction; answers each input's triple as stored, in input order, and
   * how many were not present before.
   */
  async addTriples (triples: readonly TripleInput[]): Promise<{ triples: TripleDto[], created: number }> {
    if (triples.length === 0) return { triples: [], created: 0 }
    return await this.client.addTriples(triples)
  }

  /** Deletes the live triples matching a pattern (query-string form: `object` as text). */
  async deleteTriples (pattern: { subject?: string, predicate?: string, object?: string, namespace?: string }): Promise<number> {
    const r = await this.client.deleteTriples(pattern)
    return r.deleted
  }

  setNote (key: string, value: Json): Promise<NoteDto> { return this.client.setNote(key, value) }

  /** The note, or undefined when there is none. */
  async getNote (key: string): Promise<NoteDto | undefined> {
    return await orUndefined(this.client.getNote(key))
  }

  async listNotes (opts: { prefix?: string, limit: number, offset: number }): Promise<Paged<NoteDto>> {
    const r = await this.client.listNotes(opts)
    return { items: r.notes, total: r.total }
  }

  putEpisode (id: string | undefined, data: JsonObject): Promise<EpisodeDto> {
    return this.client.putEpisode(id, data)
  }

  async listEpisodes (opts: { prefix?: string, limit: number, offset: number }): Promise<Paged<EpisodeDto>> {
    const r = await this.client.listEpisodes(opts)
    return { items: r.episodes, total: r.total }
  }

  appendTrace (runId: string, type: string, data: Json): Promise<TraceDto> {
    return this.client.appendTrace(runId, type, data)
  }

  async listTraces (opts: { runId?: string, limit: number, offset: number }): Promise<Paged<TraceDto>> {
    const r = await this.client.listTraces(opts)
    return { items: r.traces, total: r.total }
  }

  /** GET /api/v1/search; undefined when the daemon has no search (an older node). */
  async search (params: { q: string, kind?: string, namespace?: string, limit?: number, expand?: number, mode?: string }): Promise<SearchResponse | undefined> {
    return await unlessRouteMissing(this.client.search(params))
  }

  /** GET path, or undefined when the daemon has no such route (an older or smaller node). */
  async getOptional<T> (path: string): Promise<T | undefined> {
    return await unlessRouteMissing(this.client.request<T>('GET', path))
  }
}

/** The answer, or undefined when the daemon has no such route (NOT_FOUND naming the path). */
async function unlessRouteMissing<T> (p: Promise<T>): Promise<T | undefined> {
  try {
    return await p
  } catch (e) {
    if (isEngramError(e) && e.code === 'NOT_FOUND' && e.details?.path !== undefined) return undefined
    throw e
  }
}

async function orUndefined<T> (p: Promise<T>): Promise<T | undefined> {
  try {
    return await p
  } catch (e) {
    if (isEngramError(e) && e.code === 'NOT_FOUND') return undefined
    throw e
  }
}
