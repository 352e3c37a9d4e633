/**
 * HTTP(S) requests that present this node's certificate and trust only its CA: `tlsFetch` is
 * `fetch` for URLs of peers and of the local daemon when TLS is on (the built-in fetch cannot
 * take a CA or a client certificate), answering a standard `Response`; `httpExchange` is the
 * same request answering a plain `HttpAnswer`, over node:http(s) for http URLs too, so that a
 * program that only talks to a daemon (the CLI) never starts the built-in fetch (undici: some
 * 0.1 s of CPU to load); `agentFor` gives the keep-alive agent of one set of TLS options;
 * `describeTlsError` turns the TLS error codes of a refused certificate into a sentence.
 *
 * A certificate is never accepted unverified: with a CA given, only that CA is trusted (and the
 * host name must match the certificate); without one, the system's CAs are.
 */
import type { IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { createRequire } from 'node:module'
import { Readable } from 'node:stream'

// node:http through require: its ES module face reads every export, and three of them
// (WebSocket, CloseEvent, MessageEvent) load the built-in fetch to answer.
const http = createRequire(import.meta.url)('node:http') as typeof import('node:http')

/** What a TLS client presents and trusts, all PEM. */
export interface ClientTls {
  /** The CA that signs the servers' certificates (tls.ca); absent: the system's CAs. */
  readonly ca?: string
  /** This node's certificate and key, presented when the server asks (tls.cert, tls.key). */
  readonly cert?: string
  readonly key?: string
}

const agents = new WeakMap<ClientTls, HttpsAgent>()

/** The keep-alive HTTPS agent of `tls` (one per options object). */
export function agentFor (tls: ClientTls): HttpsAgent {
  let agent = agents.get(tls)
  if (agent === undefined) {
    // No session resumption: every connection checks the peer's certificate afresh, and a
    // resumed session would not even show it (the node-binding check needs it).
    agent = new HttpsAgent({ keepAlive: true, maxSockets: 4, maxCachedSessions: 0, ...(tls.ca !== undefined ? { ca: tls.ca } : {}), ...(tls.cert !== undefined ? { cert: tls.cert, key: tls.key } : {}) })
    agents.set(tls, agent)
  }
  return agent
}

export interface TlsFetchInit {
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly body?: string
  readonly signal?: AbortSignal
}

/**
 * `fetch(url, init)`, over node:https with `tls` for an https URL. Fails like fetch: a
 * TypeError('fetch failed') whose `cause` is the socket or TLS error, or the signal's reason.
 */
export async function tlsFetch (url: string | URL, init: TlsFetchInit = {}, tls?: ClientTls): Promise<Response> {
  const u = new URL(url)
  if (u.protocol !== 'https:' || tls === undefined) return await fetch(u, init)
  const res = await send(u, init, agentFor(tls))
  abortsWith(res, init.signal)
  const headers = new Headers()
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!)
  const status = res.statusCode ?? 502
  const empty = status === 204 || status === 304 || init.method === 'HEAD'
  if (empty) res.resume()
  return new Response(empty ? null : Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, statusText: res.statusMessage, headers })
}

/** An HTTP answer as `httpExchange` gives it: the status, the headers, the body as it streams. */
export interface HttpAnswer {
  readonly status: number
  /** A 2xx status. */
  readonly ok: boolean
  /** A header's value (the first, for a repeated one), by name in any case. */
  header (name: string): string | undefined
  /** The whole body as UTF-8 text. */
  text (): Promise<string>
  /** The body's bytes as they arrive (read it once, or `text()`, not both). */
  readonly body: AsyncIterable<Uint8Array>
}

/** Keep-alive agents of the requests without TLS options (http, and https trusting the system's CAs). */
let plainAgents: { http: InstanceType<typeof http.Agent>, https: HttpsAgent } | undefined

/**
 * The request `tlsFetch` makes, over node:http or node:https (with `tls` for an https URL, else
 * the system's CAs), on a kept-alive connection, answering an `HttpAnswer`. It fails as fetch
 * does: a TypeError('fetch failed') whose `cause` is the socket or TLS error, or the signal's
 * reason once it aborts — also while the body is read, as fetch's body does.
 */
export async function httpExchange (url: string | URL, init: TlsFetchInit = {}, tls?: ClientTls): Promise<HttpAnswer> {
  const u = new URL(url)
  plainAgents ??= { http: new http.Agent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) }
  const agent = u.protocol !== 'https:' ? plainAgents.http : tls !== undefined ? agentFor(tls) : plainAgents.https
  const res = await send(u, init, agent)
  const status = res.statusCode ?? 502
  const { signal } = init
  abortsWith(res, signal)
  const body = async function * (): AsyncGenerator<Uint8Array> {
    signal?.throwIfAborted()
    for await (const chunk of res) yield chunk as Uint8Array
  }
  return {
    status,
    ok: status >= 200 && status < 300,
    header: name => { const v = res.headers[name.toLowerCase()]; return Array.isArray(v) ? v[0] : v },
    text: async () => {
      const chunks: Uint8Array[] = []
      for await (const chunk of body()) chunks.push(chunk)
      return Buffer.concat(chunks).toString('utf8')
    },
    body: body()
  }
}

/** A response whose body fails with the signal's reason once it aborts (as fetch's body does). */
function abortsWith (res: IncomingMessage, signal: AbortSignal | undefined): void {
  if (signal === undefined) return
  const onAbort = (): void => { res.destroy(signal.reason as Error) }
  if (signal.aborted) { onAbort(); return }
  signal.addEventListener('abort', onAbort, { once: true })
  res.once('close', () => { signal.removeEventListener('abort', onAbort) })
}

/** Sends one request on `agent`; resolves with the response as its headers arrive. */
async function send (u: URL, init: TlsFetchInit, agent: InstanceType<typeof http.Agent>): Promise<IncomingMessage> {
  const { signal } = init
  signal?.throwIfAborted()
  const request = u.protocol === 'https:' ? httpsRequest : http.request
  const headers = { ...init.headers, ...(init.body !== undefined ? { 'content-length': String(Buffer.byteLength(init.body)) } : {}) }
  return await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(u, { method: init.method ?? 'GET', headers, agent }, res => {
      // from here on the caller aborts the response (its body), which ends the request too
      signal?.removeEventListener('abort', onAbort)
      resolve(res)
    })
    const onAbort = (): void => { req.destroy(signal?.reason as Error) }
    signal?.addEventListener('abort', onAbort, { once: true })
    req.on('close', () => signal?.removeEventListener('abort', onAbort))
    req.on('error', e => {
      reject(signal?.aborted === true ? signal.reason : new TypeError('fetch failed', { cause: e }))
    })
    req.end(init.body)
  })
}

/**
 * What a TLS error code means for the certificate the peer showed (or the one this node showed
 * it), as a sentence; undefined for errors that are not about certificates.
 */
export function describeTlsError (code: string | undefined): string | undefined {
  switch (code) {
    case 'CERT_HAS_EXPIRED': return 'its certificate has expired: it needs a new one (engram tls issue)'
    case 'CERT_NOT_YET_VALID': return 'its certificate is not valid yet: check both machines\' clocks'
    case 'DEPTH_ZERO_SELF_SIGNED_CERT': return 'its certificate is self-signed, not signed by this node\'s CA (tls.ca)'
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'CERT_SIGNATURE_FAILURE':
      return 'its certificate is not signed by this node\'s CA (tls.ca): give both nodes certificates from the same CA'
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'its certificate is not for the host name or address in the peer URL: issue it with --host <that name or address>'
    case 'INVALID_PURPOSE': return 'its certificate is not a TLS peer certificate: use one made by engram tls issue'
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
      return 'the peer requires a client certificate and this node has none: set tls.cert and tls.key (ENGRAM_SYNC_TLS_CERT, ENGRAM_SYNC_TLS_KEY)'
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'EPROTO':
      return 'the peer does not speak TLS at that address (an http:// peer, or TLS off there)'
    default:
      return undefined
  }
}

/** TLS towards peers: what this node presents and trusts, and the check of a peer's certificate. */
export interface PeerTls {
  readonly client: ClientTls
  /**
   * Checks the certificate a peer answered with, for the node that signed the answer: undefined
   * when it may be trusted, else why not.
   */
  readonly checkPeer: (certificate: Uint8Array | undefined, nodeId: string) => string | undefined
}
