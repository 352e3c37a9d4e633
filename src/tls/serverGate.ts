/**
 * The client-certificate gate of the HTTPS API (tls.requireClientCert): every TLS connection
 * must present a certificate that passes CertificateAuthority.check (signed by tls.ca, valid
 * now, a peer certificate binding a node id) before it reaches HTTP at all. A refused
 * connection is closed at once, without a byte of HTTP read, and logged with the reason:
 *
 *   refused a TLS connection from 10.0.0.7: its certificate ("CN=desktop") expired on …
 *
 * The TLS layer only asks for the certificate (requestCert) and lets this gate decide, so the
 * log can say why: OpenSSL, left to refuse on its own, closes the connection without a word.
 */
import type { TLSSocket, Server as TlsServer } from 'node:tls'
import type { Logger } from '../util/log.ts'
import { LogBudget } from '../util/logBudget.ts'
import type { CertificateAuthority } from './CertificateAuthority.ts'

export interface GateOptions {
  readonly authority: CertificateAuthority
  readonly log: Logger
  readonly now?: () => number
  /** Refusals logged per minute at most (the rest are counted in the next line). Default 120. */
  readonly logPerMinute?: number
}

type Listener = (socket: TLSSocket) => void

/** Puts the gate in front of the server's connection handling (call before it listens). */
export function requireClientCertificates (server: TlsServer, opts: GateOptions): void {
  const now = opts.now ?? Date.now
  const budget = new LogBudget(opts.logPerMinute ?? 120, now)
  const handlers = server.listeners('secureConnection') as Listener[]
  server.removeAllListeners('secureConnection')
  server.on('secureConnection', (socket: TLSSocket) => {
    const peer = socket.getPeerCertificate(false)
    const der = peer !== null && typeof peer === 'object' && Buffer.isBuffer(peer.raw) ? peer.raw : undefined
    const check = opts.authority.check(der, { now: now() })
    const refusal = !check.ok
      ? check.message
      : socket.authorized ? undefined : `its certificate was refused by TLS verification (${String(socket.authorizationError)})`
    if (refusal === undefined) {
      for (const handle of handlers) handle.call(server, socket)
      return
    }
    const addr = socket.remoteAddress ?? '?'
    socket.destroy()
    const suppressed = budget.take()
    if (suppressed === false) return
    opts.log.warn(`refused a TLS connection from ${addr}: ${refusal}`, {
      addr, problem: check.ok ? 'tls' : check.problem, ...(suppressed > 0 ? { unlogged: suppressed } : {})
    })
  })
}
