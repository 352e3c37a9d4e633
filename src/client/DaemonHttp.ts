/**
 * One HTTP exchange with an engram daemon's REST API (docs/API.md), the base of the typed
 * client: the client's headers (its mark for the guard, the API token), JSON in and out, a
 * deadline on every call, a read sent once more on a new connection when a kept-alive one was
 * closed under it (a write never), and every failure as an EngramError — the daemon's own
 * `{error, code, details}`, UNREACHABLE or UNTRUSTED (failures.ts) when no daemon answered,
 * PROTOCOL when what answered is not an engram daemon. Routes that run a pull stream it as NDJSON
 * lines (`followPull`). Requests go over node:http(s) (tls/client.ts `httpExchange`), not the
 * built-in fetch, whose start costs a CLI call more than the rest of its work.
 */
import { CLIENT_HEADER } from '../api/contract.ts'
import { PROTOCOL, REMOTE_ERROR, type ErrorCode } from '../core/errors.ts'
import type { PullProgress } from '../sync/polled/DeltaClient.ts'
import type { PeerRunResult } from '../sync/polled/PolledSync.ts'
import { describeTlsError, httpExchange, type ClientTls, type HttpAnswer } from '../tls/client.ts'
import { describeFetchError, isConnectionReset, UNREACHABLE, UNTRUSTED } from './failures.ts'

export type Query = Record<string, string | number | undefined>

/** What a pull that a route ran answered (POST /api/v1/sync/now, and the pull of a pairing or resume). */
export interface SyncNowResult {
  readonly ok: boolean
  readonly results: PeerRunResult[]
}

export class DaemonHttp {
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

  async request<T> (method: string, path: string, opts: { query?: Query, body?: unknown, acceptStatus?: number[], timeoutMs?: number } = {}): Promise<T> {
    const url = new URL(this.baseUrl + path)
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v))
    const res = await this.send(method, url, opts.body, opts.timeoutMs ?? this.timeoutMs)
    return this.answer(res, method, url.pathname, await res.text(), opts.acceptStatus)
  }

  /**
   * POST with "accept: application/x-ndjson": a route that runs a pull and streams it (sync now,
   * pair, resume; docs/API.md). Answers its head line (the route's own answer, if it has one)
   * and the pull's result; `onProgress` sees every progress line.
   */
  protected async followPull<H> (path: string, body: unknown, onProgress: (peer: string, p: PullProgress) => void, timeoutMs: number): Promise<{ head: H | undefined, result: SyncNowResult }> {
    const res = await this.send('POST', new URL(this.baseUrl + path), body, timeoutMs, { accept: 'application/x-ndjson' })
    if (!(res.header('content-type') ?? '').startsWith('application/x-ndjson')) return this.answer(res, 'POST', path, await res.text())
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

  /** GET `url` and its body's non-empty lines as they stream, each without its newline. */
  protected async * streamLines (url: URL, timeoutMs: number): AsyncGenerator<string> {
    const res = await this.send('GET', url, undefined, timeoutMs)
    if (!res.ok) this.answer(res, 'GET', url.pathname, await res.text())
    yield * lines(res)
  }

  private async send (method: string, url: URL, body: unknown, timeoutMs: number, headers: Record<string, string> = {}): Promise<HttpAnswer> {
    const signal = AbortSignal.timeout(timeoutMs)
    for (let attempt = 1; ; attempt++) {
      try {
        return await httpExchange(url, {
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

  private answer<T> (res: HttpAnswer, method: string, path: string, text: string, acceptStatus?: number[]): T {
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
async function * lines (res: HttpAnswer): AsyncGenerator<string> {
  let buffered = ''
  const decoder = new TextDecoder()
  for await (const chunk of res.body) {
    buffered += decoder.decode(chunk, { stream: true })
    const parts = buffered.split('\n')
    buffered = parts.pop() ?? ''
    for (const line of parts) if (line.trim() !== '') yield line
  }
  buffered += decoder.decode()
  if (buffered.trim() !== '') yield buffered
}
