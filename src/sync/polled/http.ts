/**
 * One HTTP POST for delta sync, over node:http(s) with keep-alive connections: the answer's
 * body is read whole up to a byte limit, the exchange is bounded in time and abortable, and
 * `sent` resolves once the request has been handed to the operating system — so a caller can
 * ask for the next page and apply the current one while the peer prepares it.
 *
 * With `tls`, an https peer is asked over a connection that presents this node's certificate
 * and trusts only its CA; a refused certificate fails with UNAUTHORIZED saying why, and the
 * answer carries the certificate the peer showed (for the node-binding check).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { EngramError, PROTOCOL, TIMEOUT, UNAVAILABLE, UNAUTHORIZED } from '../../core/errors.ts'
import { agentFor, describeTlsError, type ClientTls } from '../../tls/client.ts'

const agents = {
  'http:': new HttpAgent({ keepAlive: true, maxSockets: 4 }),
  'https:': new HttpsAgent({ keepAlive: true, maxSockets: 4 })
}

export interface HttpAnswer {
  readonly status: number
  readonly headers: Headers
  readonly body: Buffer
  /** The certificate the peer presented (DER), over https. */
  readonly peerCertificate?: Uint8Array
}

export interface HttpExchange {
  /** Resolves when the request has been written out (never rejects). */
  readonly sent: Promise<void>
  readonly answer: Promise<HttpAnswer>
}

export interface PostOptions {
  readonly headers: Record<string, string>
  readonly body: string
  readonly timeoutMs: number
  readonly maxBytes: number
  readonly signal?: AbortSignal
  /** This node's certificate and CA for an https peer (absent: the system's CAs, no certificate). */
  readonly tls?: ClientTls
}

export function post (url: URL, opts: PostOptions): HttpExchange {
  let markSent: () => void = () => {}
  const sent = new Promise<void>(resolve => { markSent = resolve })
  // A kept-alive connection the peer closed just as it was reused fails at once: try once more
  // on a fresh one (Node's documented pattern for keep-alive races).
  const answer = attempt(url, opts, () => markSent(), true).catch(e => {
    if ((e as { retry?: boolean }).retry === true) return attempt(url, opts, () => markSent(), false)
    throw e
  })
  return { sent, answer }
}

function attempt (url: URL, opts: PostOptions, markSent: () => void, mayRetry: boolean): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const base = url.origin
    const fail = (e: Error): void => { markSent(); reject(e) }
    if (opts.signal?.aborted === true) { fail(UNAVAILABLE(`sync with ${base} was stopped`)); return }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const agent = url.protocol === 'https:' ? (opts.tls !== undefined ? agentFor(opts.tls) : agents['https:']) : agents['http:']
    const req = send(url, { method: 'POST', agent, headers: { ...opts.headers, 'content-length': String(Buffer.byteLength(opts.body)) } })
    const timer = setTimeout(() => req.destroy(TIMEOUT(`sync call to ${base}`, opts.timeoutMs)), opts.timeoutMs)
    const onAbort = (): void => { req.destroy(UNAVAILABLE(`sync with ${base} was stopped`)) }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    const done = (): void => { clearTimeout(timer); opts.signal?.removeEventListener('abort', onAbort) }
    req.on('finish', markSent)
    req.on('error', e => {
      done()
      if (e instanceof EngramError) { fail(e); return }
      const code = (e as NodeJS.ErrnoException).code
      if (mayRetry && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) { reject(Object.assign(e, { retry: true })); return }
      const tlsText = url.protocol === 'https:' ? describeTlsError(code) : undefined
      if (tlsText !== undefined) {
        const noCa = opts.tls?.ca === undefined && code !== 'ERR_TLS_CERT_ALTNAME_INVALID' ? '; this node has no tls.ca, so only the system\'s CAs are trusted' : ''
        fail(UNAUTHORIZED(`refused peer ${base}: ${tlsText} (${code})${noCa}`, { url: base, code }, e))
        return
      }
      const hint = url.protocol === 'https:' && code === 'ECONNRESET' && opts.tls !== undefined ? '; if it persists, the peer may refuse this node\'s certificate: see its log' : ''
      fail(UNAVAILABLE(`peer ${base} is unreachable (${code ?? e.message})${hint}`, { url: base }, e))
    })
    req.on('response', (res: IncomingMessage) => {
      const cert = url.protocol === 'https:' ? (res.socket as TLSSocket).getPeerCertificate?.(false) : undefined
      const peerCertificate = cert !== undefined && cert !== null && Buffer.isBuffer(cert.raw) ? new Uint8Array(cert.raw) : undefined
      const declared = Number(res.headers['content-length'] ?? NaN)
      if (declared > opts.maxBytes) { req.destroy(PROTOCOL(`response of ${declared} bytes from ${base} is over the ${opts.maxBytes} byte limit`)); return }
      const chunks: Buffer[] = []
      let total = 0
      res.on('data', (chunk: Buffer) => {
        total += chunk.byteLength
        if (total > opts.maxBytes) { req.destroy(PROTOCOL(`response from ${base} is over the ${opts.maxBytes} byte limit`)); return }
        chunks.push(chunk)
      })
      res.on('end', () => {
        done()
        const headers = new Headers()
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v)
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks, total), ...(peerCertificate !== undefined ? { peerCertificate } : {}) })
      })
      res.on('error', e => { done(); fail(e) })
    })
    req.end(opts.body)
  })
}
