/**
 * POST /api/v1/sync/delta, without HTTP: authenticates the raw request (auth.ts), answers one
 * page (DeltaServer.ts) and signs the answer. The API route (api/routes/sync.ts) hands it the
 * headers, the exact body bytes and who is calling, and turns the reply into HTTP: the reply
 * carries an error code (absent for a page), which the API maps to a status, and `sign(status)`
 * gives the headers that sign the answer (the signature covers the status).
 *
 * Failures are answered (and signed when the caller proved the secret) with {error, code,
 * details}; an unauthenticated caller learns nothing and changes nothing. An unsigned request
 * from this machine (loopback) is answered unsigned: it is read-only and reveals nothing the
 * loopback API does not, and it lets local tools in the existing clients' shape work
 * unchanged. From any other address a request must be signed, unless the node lets older
 * clients in (`sync.legacyRemoteClients`: over TLS, with the passphrase, the legacy shape
 * only; legacyAccess.ts). The legacy shape is answered by LegacyDelta.ts.
 */
import { INTERNAL, INVALID_INPUT, UNAUTHORIZED, UNAVAILABLE, isEngramError, type EngramError, type ErrorCode } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import type { Engine } from '../../engine/Engine.ts'
import { DELTA_PATH, isLegacyRequest, parseDeltaRequest } from '../../protocol/polled/messages.ts'
import { certificateNodeId } from '../../tls/CertificateAuthority.ts'
import type { Logger } from '../../util/log.ts'
import { LogBudget } from '../../util/logBudget.ts'
import { ReplayGuard, signResponse, verifyRequest, AUTH_HEADERS, type RestKey } from './auth.ts'
import type { DeltaServer } from './DeltaServer.ts'
import { legacyRemoteRefusal } from './legacyAccess.ts'
import type { LegacyDelta } from './LegacyDelta.ts'
import type { PeerClocks } from '../../replication/PeerClocks.ts'

/** An answer to a delta request: a page (no code) or an error, and how to sign it. */
export interface DeltaReply {
  /** The error's code; absent when the body is a page. */
  readonly code?: ErrorCode
  /** The JSON body: a page, or {error, code, details}. */
  readonly body: string
  /** The headers to send with the answer given `status` (its signature, a clock hint, or none). */
  readonly sign: (status: number) => Record<string, string>
}

/** Who is calling: its address, whether it came over TLS, and the certificate it presented there. */
export interface DeltaCaller {
  readonly address?: string
  readonly certificate?: Uint8Array
  readonly tls?: boolean
}

export interface DeltaEndpointOptions {
  readonly engine: Engine
  readonly server: DeltaServer
  /** The existing clients' shape ({since, …}). */
  readonly legacy: LegacyDelta
  /** Whether unsigned legacy requests from other machines are let in (sync.legacyRemoteClients), and the passphrase they must carry. */
  readonly legacyRemote: () => { readonly allowed: boolean, readonly passphrase?: string }
  /** The REST auth key(s) of the current secrets; undefined: no secret, every signed request refused. */
  readonly key: () => RestKey | undefined
  readonly log: Logger
  readonly now: () => number
  /** Where a signed caller's clock reading goes (the request's `now`, replication/PeerClocks.ts). */
  readonly clocks?: PeerClocks
}

/** Refused sync requests logged per minute at most (the rest are counted in the next line). */
const REFUSAL_LOGS_PER_MINUTE = 120

const unsignedReply = (): Record<string, string> => ({})

export class DeltaEndpoint {
  private readonly opts: DeltaEndpointOptions
  private readonly guard: ReplayGuard
  private readonly refusalLog: LogBudget

  constructor (opts: DeltaEndpointOptions) {
    this.opts = opts
    // Requests stamped before this boot are refused: nonces are remembered in memory only, so a
    // request recorded before a restart could otherwise be replayed after it (auth.ts).
    this.guard = new ReplayGuard({ epoch: opts.now() })
    this.refusalLog = new LogBudget(REFUSAL_LOGS_PER_MINUTE, opts.now)
  }

  /**
   * Answers one request. `fromLoopback`: the caller is on this machine. `caller.certificate`, over
   * TLS, was already checked against the CA when tls.requireClientCert: the node it binds must
   * be the node that signed.
   */
  handle (headers: Record<string, string | string[] | undefined>, rawBody: Uint8Array, fromLoopback: boolean, caller: DeltaCaller = {}): DeltaReply {
    const unsigned = headers[AUTH_HEADERS.sig] === undefined && headers[AUTH_HEADERS.node] === undefined
    if (unsigned && fromLoopback) return this.answer(rawBody, 'local' as NodeId, undefined)
    if (unsigned && this.opts.legacyRemote().allowed) {
      const refusal = legacyRemoteRefusal(headers, caller.tls === true, this.opts.legacyRemote().passphrase)
      if (refusal !== undefined) {
        this.noteRefusal(refusal, '', caller.address)
        return errorReply(UNAUTHORIZED(refusal))
      }
      return this.answer(rawBody, 'legacy' as NodeId, undefined, { legacyOnly: true })
    }
    const key = this.opts.key()
    if (key === undefined) {
      return errorReply(UNAUTHORIZED('this node has no sync secret configured: set sync.passphrase (or p2p.seed) to the same value on every node'))
    }
    const outcome = verifyRequest(key, this.guard, headers, 'POST', DELTA_PATH, rawBody, this.opts.now())
    if (!outcome.ok) {
      this.noteRefusal(outcome.failure.message, outcome.failure.node, caller.address)
      const hint = outcome.failure.clockHint ?? {}
      return { ...errorReply(UNAUTHORIZED(outcome.failure.message)), sign: () => hint }
    }
    const bound = certificateNodeId(caller.certificate)
    if (bound !== undefined && bound !== outcome.request.node) {
      const message = `its certificate binds node ${bound}, but it signed as ${outcome.request.node}: each node must use its own certificate`
      this.noteRefusal(message, outcome.request.node, caller.address)
      return errorReply(UNAUTHORIZED(message))
    }
    return this.answer(rawBody, outcome.request.node as NodeId, { key, nonce: outcome.request.nonce })
  }

  private answer (rawBody: Uint8Array, caller: NodeId, signing: { key: RestKey, nonce: string } | undefined, opts: { legacyOnly?: boolean } = {}): DeltaReply {
    let reply: { code?: ErrorCode, body: string }
    try {
      const health = this.opts.engine.store.health()
      if (!health.ok) throw UNAVAILABLE(`sync is off on this node: store unhealthy: ${health.detail}`)
      let parsed: unknown
      try { parsed = JSON.parse(Buffer.from(rawBody).toString('utf8')) } catch { throw INVALID_INPUT('body', 'is not valid JSON') }
      const req = parseDeltaRequest(parsed)
      if (req.now !== undefined && signing !== undefined) this.opts.clocks?.observe(caller, req.now, this.opts.now())
      if (opts.legacyOnly === true && !isLegacyRequest(req)) {
        throw INVALID_INPUT('since', 'is required: an unsigned request from another machine may only use the legacy shape {since, namespaces, nodeId} (engram nodes sign their requests)')
      }
      reply = { body: isLegacyRequest(req) ? this.opts.legacy.serve(req) : this.opts.server.serve(req, caller) }
    } catch (e) {
      if (!isEngramError(e)) this.opts.log.error('answering a delta request failed; this is a bug', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) })
      reply = errorReply(isEngramError(e) ? e : INTERNAL('internal error; see the node log'))
    }
    if (signing === undefined) return { ...reply, sign: unsignedReply }
    const node = this.opts.engine.node
    return { ...reply, sign: status => ({ [AUTH_HEADERS.node]: node, [AUTH_HEADERS.sig]: signResponse(signing.key, node, status, signing.nonce, reply.body) }) }
  }

  /** One line per refused request (a bounded number per minute; the rest are counted). */
  private noteRefusal (message: string, node: string, address: string | undefined): void {
    const unlogged = this.refusalLog.take()
    if (unlogged === false) return
    const who = node === '' ? `a caller at ${address ?? '?'}` : `node ${node}${address !== undefined ? ` at ${address}` : ''}`
    this.opts.log.warn(`refused a sync request from ${who}: ${message}`, { node: node === '' ? '?' : node, addr: address, ...(unlogged > 0 ? { unlogged } : {}) })
  }
}

function errorReply (e: EngramError): { code: ErrorCode, body: string, sign: (status: number) => Record<string, string> } {
  return { code: e.code, body: JSON.stringify({ error: e.message, code: e.code, details: e.details ?? {} }), sign: unsignedReply }
}
