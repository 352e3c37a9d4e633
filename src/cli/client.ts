/**
 * A small typed client for the REST API of an engram daemon (docs/API.md). Every failure is an
 * EngramError: the server's `{error, code, details}` as sent, or UNAVAILABLE with
 * `details.unreachable` when nothing answers at the base URL.
 */
import type { NoteDto, TripleDto } from '../api/dto.ts'
import { EngramError, PROTOCOL, type ErrorCode } from '../core/errors.ts'
import type { Json } from '../core/model.ts'
import type { StoreStats } from '../store/Store.ts'
import { UNREACHABLE } from './exit.ts'

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
}

/** Fields of a triple pattern as the query string carries them (object in its text form). */
export interface PatternQuery {
  readonly subject?: string
  readonly predicate?: string
  readonly object?: string
  readonly namespace?: string
}

type Query = Record<string, string | number | undefined>

export class ApiClient {
  readonly baseUrl: string
  private readonly timeoutMs: number

  constructor (baseUrl: string, opts: { timeoutMs?: number } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.timeoutMs = opts.timeoutMs ?? 30_000
  }

  health (): Promise<Health> { return this.request('GET', '/api/v1/health', { acceptStatus: [503] }) }
  status (): Promise<Status> { return this.request('GET', '/api/v1/status') }

  addTriple (subject: string, predicate: string, object: Json): Promise<TripleDto> {
    return this.request('POST', '/api/v1/triples', { body: { subject, predicate, object } })
  }

  queryTriples (pattern: PatternQuery & { limit?: number, offset?: number }): Promise<TriplesPage> {
    return this.request('GET', '/api/v1/triples', { query: { ...pattern } })
  }

  getTriple (id: string): Promise<TripleDto> { return this.request('GET', `/api/v1/triples/${encodeURIComponent(id)}`) }

  deleteTriple (id: string): Promise<{ deleted: number, id: string }> {
    return this.request('DELETE', `/api/v1/triples/${encodeURIComponent(id)}`)
  }

  deleteTriples (pattern: PatternQuery): Promise<{ deleted: number }> {
    return this.request('DELETE', '/api/v1/triples', { query: { ...pattern } })
  }

  setNote (key: string, value: Json): Promise<NoteDto> {
    return this.request('PUT', `/api/v1/notes/${encodeURIComponent(key)}`, { body: { value } })
  }

  getNote (key: string): Promise<NoteDto> { return this.request('GET', `/api/v1/notes/${encodeURIComponent(key)}`) }

  listNotes (opts: { prefix?: string, limit?: number, offset?: number }): Promise<NotesPage> {
    return this.request('GET', '/api/v1/notes', { query: { ...opts } })
  }

  deleteNote (key: string): Promise<{ deleted: number, key: string }> {
    return this.request('DELETE', `/api/v1/notes/${encodeURIComponent(key)}`)
  }

  async request<T> (method: string, path: string, opts: { query?: Query, body?: unknown, acceptStatus?: number[] } = {}): Promise<T> {
    const url = new URL(this.baseUrl + path)
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v))
    let res: Response
    try {
      res = await fetch(url, {
        method,
        headers: opts.body !== undefined ? { 'content-type': 'application/json' } : {},
        body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs)
      })
    } catch (e) {
      throw UNREACHABLE(this.baseUrl, describeFetchError(e, this.timeoutMs))
    }
    const text = await res.text()
    let body: unknown
    try {
      body = text === '' ? undefined : JSON.parse(text)
    } catch {
      throw PROTOCOL(`${method} ${url.pathname} answered ${res.status} with a body that is not JSON; is ${this.baseUrl} an engram daemon?`, { status: res.status })
    }
    if (res.ok || opts.acceptStatus?.includes(res.status) === true) return body as T
    const e = body as { error?: unknown, code?: unknown, details?: unknown } | undefined
    if (typeof e?.error === 'string' && typeof e.code === 'string') {
      throw new EngramError(e.code as ErrorCode, e.error, { ...(e.details as Record<string, unknown> | undefined), status: res.status })
    }
    throw PROTOCOL(`${method} ${url.pathname} answered ${res.status}; is ${this.baseUrl} an engram daemon?`, { status: res.status })
  }
}

function describeFetchError (e: unknown, timeoutMs: number): string {
  if (e instanceof DOMException && (e.name === 'TimeoutError' || e.name === 'AbortError')) return `no answer within ${timeoutMs / 1000} s`
  const cause = (e as { cause?: { code?: string, message?: string } }).cause
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e))
}
