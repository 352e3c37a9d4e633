/**
 * HTTP(S) requests that present this node's certificate and trust only its CA: `tlsFetch` is
 * `fetch` for URLs of peers and of the local daemon when TLS is on (the built-in fetch cannot
 * take a CA or a client certificate), answering a standard `Response`; `agentFor` gives the
 * keep-alive agent of one set of TLS options; `describeTlsError` turns the TLS error codes of
 * a refused certificate into a sentence.
 *
 * A certificate is never accepted unverified: with a CA given, only that CA is trusted (and the
 * host name must match the certificate); without one, the system's CAs are.
 */
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { Readable } from 'node:stream'

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
  const { signal } = init
  signal?.throwIfAborted()
  return await new Promise<Response>((resolve, reject) => {
    const req = httpsRequest(u, { method: init.method ?? 'GET', headers: init.headers, agent: agentFor(tls) }, res => {
      const headers = new Headers()
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!)
      const status = res.statusCode ?? 502
      const empty = status === 204 || status === 304 || init.method === 'HEAD'
      if (empty) res.resume()
      resolve(new Response(empty ? null : Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, statusText: res.statusMessage, headers }))
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
