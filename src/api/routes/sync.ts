/**
 * Polled sync over REST (docs/SYNC.md, docs/API.md):
 *
 *   POST   /api/v1/sync/delta            signed delta request → one page (sync/polled/DeltaEndpoint.ts)
 *   GET    /api/v1/sync/status           → mode, reason, peers with status, counters, cursors
 *   POST   /api/v1/sync/now   {peer?}    → {ok, results}; with "accept: application/x-ndjson", a
 *                                          progress line per page, then the result line
 *   POST   /api/v1/sync/peers {name, url, namespaces?} → 201 {peer, pairBack, p2p?} (p2p in native
 *                                          mode: the P2P peer added, {addr} or {error})
 *   DELETE /api/v1/sync/peers/:name      → {peer} (status removed)
 *   POST   /api/v1/sync/peers/:name/pause | /resume → {peer}
 *
 * Pairing and resuming start a pull of the peer at once. With "accept: application/x-ndjson"
 * they answer as NDJSON and follow that pull: `{"type":"paired"|"resumed", …the JSON answer}`,
 * a progress line per page, then `{"type":"result", ok, results: [the pull's result]}`.
 *
 * The delta route reads the raw body (its signature covers the exact bytes), in a scope of its
 * own with a buffer content-type parser and a small body limit.
 */
import type { Socket } from 'node:net'
import { PassThrough } from 'node:stream'
import { TLSSocket } from 'node:tls'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { INVALID_INPUT, isEngramError, UNAVAILABLE } from '../../core/errors.ts'
import type { DeltaCaller } from '../../sync/polled/DeltaEndpoint.ts'
import type { PullProgress } from '../../sync/polled/DeltaClient.ts'
import type { PeerRunResult } from '../../sync/polled/PolledSync.ts'
import type { SyncService } from '../../sync/SyncService.ts'
import { statusForCode } from '../errors.ts'
import { isLoopbackAddress } from '../remoteAccess.ts'
import type { ApiDeps } from '../types.ts'

/** Largest delta request body (a request lists at most 1000 namespaces of 256 characters). */
export const DELTA_BODY_LIMIT = 1024 * 1024
export const NDJSON = 'application/x-ndjson'

/** The caller's address, whether it came over TLS, and the certificate it presented there. */
function clientOf (socket: Socket): DeltaCaller {
  const tls = socket instanceof TLSSocket
  const cert = tls ? socket.getPeerCertificate(false) : undefined
  return {
    ...(socket.remoteAddress !== undefined ? { address: socket.remoteAddress } : {}),
    tls,
    ...(cert !== undefined && Buffer.isBuffer(cert.raw) ? { certificate: new Uint8Array(cert.raw) } : {})
  }
}

/** The node's sync service, or 503 when it has none. */
export function requireSync (deps: ApiDeps): SyncService {
  if (deps.sync === undefined) throw UNAVAILABLE('sync is not running on this node')
  return deps.sync
}

/** An optional JSON object body, checked field by field (no schema: the body may be absent). */
export function objectBody (body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === undefined || body === null) return {}
  if (typeof body !== 'object' || Array.isArray(body)) throw INVALID_INPUT('body', 'must be a JSON object')
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw INVALID_INPUT(k, `is not a known field (allowed: ${allowed.join(', ')})`)
  return body as Record<string, unknown>
}

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 64 } }
} as const

export function syncRoutes (app: FastifyInstance, deps: ApiDeps): void {
  void app.register(async scope => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: DELTA_BODY_LIMIT }, (_req, body, done) => { done(null, body) })
    scope.post('/api/v1/sync/delta', { bodyLimit: DELTA_BODY_LIMIT }, async (request, reply) => {
      const sync = requireSync(deps)
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      const r = sync.delta.handle(request.headers, raw, isLoopbackAddress(request.socket.remoteAddress), clientOf(request.socket))
      const status = r.code === undefined ? 200 : statusForCode(r.code)
      return reply.code(status).headers(r.sign(status)).type('application/json; charset=utf-8').send(r.body)
    })
  })

  app.get('/api/v1/sync/status', async () => {
    const sync = requireSync(deps)
    return { ...sync.status(), pairBack: sync.pairBack() }
  })

  app.post('/api/v1/sync/now', async (request, reply) => {
    const sync = requireSync(deps)
    const body = objectBody(request.body, ['peer'])
    if (body.peer !== undefined && (typeof body.peer !== 'string' || body.peer === '')) throw INVALID_INPUT('peer', 'must be a peer name')
    const peer = body.peer as string | undefined
    sync.assertCanSync(peer)
    if (!wantsStream(request)) {
      const results = await sync.syncNow(peer)
      return { ok: results.every(r => r.ok), results }
    }
    return startPull(onProgress => sync.syncNow(peer, onProgress)).send(reply)
  })

  app.post('/api/v1/sync/peers', async (request, reply) => {
    const sync = requireSync(deps)
    const body = objectBody(request.body, ['name', 'url', 'namespaces'])
    const peer = sync.pair({ name: body.name, url: body.url, namespaces: body.namespaces })
    // the pull the pairing started is followed from now, before anything else is awaited
    const pull = wantsStream(request) ? startPull(onProgress => sync.follow(peer.name, onProgress).then(r => [r])) : undefined
    // in native mode the peer is added as a P2P peer too (p2p: {addr} or {error})
    const p2p = await sync.pairNative(peer)
    const answer = { peer: sync.peerView(peer), pairBack: sync.pairBack(), ...(p2p !== undefined ? { p2p } : {}) }
    if (pull !== undefined) return pull.send(reply.code(201), { type: 'paired', ...answer })
    return reply.code(201).send(answer)
  })

  app.delete<{ Params: { name: string } }>('/api/v1/sync/peers/:name', { schema: { params: nameParams } }, async (request) => {
    const sync = requireSync(deps)
    return { peer: sync.peerView(sync.unpair(request.params.name)) }
  })

  for (const action of ['pause', 'resume'] as const) {
    app.post<{ Params: { name: string } }>(`/api/v1/sync/peers/:name/${action}`, { schema: { params: nameParams } }, async (request, reply) => {
      const sync = requireSync(deps)
      const peer = sync.setPaused(request.params.name, action === 'pause')
      const answer = { peer: sync.peerView(peer) }
      if (action === 'pause' || !wantsStream(request)) return answer
      return startPull(onProgress => sync.follow(peer.name, onProgress).then(r => [r])).send(reply, { type: 'resumed', ...answer })
    })
  }
}

type ProgressListener = (peer: string, p: PullProgress) => void

const wantsStream = (request: FastifyRequest): boolean => (request.headers.accept ?? '').includes(NDJSON)

/**
 * A pull with progress, as NDJSON: the `head` line when given, one `{"type":"progress", peer,
 * pages, received, applied, remaining?}` line per page, then `{"type":"result", ok, results}` (or
 * `{"type":"error", error, code}`). The pull starts at once (so that a pairing's first pull is
 * followed from its start); `send` answers with the lines so far, then the rest as they come.
 */
function startPull (pull: (onProgress: ProgressListener) => Promise<PeerRunResult[]>): { send: (reply: FastifyReply, head?: Record<string, unknown>) => FastifyReply } {
  const out = new PassThrough()
  const lines: string[] = []
  let open = false
  const line = (v: unknown): void => {
    const text = JSON.stringify(v) + '\n'
    if (!open) lines.push(text)
    else if (!out.writableEnded) out.write(text)
  }
  let finished = false
  pull((name, p) => line({ type: 'progress', peer: name, ...p }))
    .then(results => line({ type: 'result', ok: results.every(r => r.ok), results }),
      (e: unknown) => line(isEngramError(e) ? { type: 'error', error: e.message, code: e.code } : { type: 'error', error: 'internal error', code: 'INTERNAL' }))
    .finally(() => { finished = true; if (open) out.end() })
  return {
    send (reply, head) {
      if (head !== undefined) out.write(JSON.stringify(head) + '\n')
      for (const l of lines.splice(0)) out.write(l)
      open = true
      if (finished) out.end()
      return reply.type(`${NDJSON}; charset=utf-8`).send(out)
    }
  }
}
