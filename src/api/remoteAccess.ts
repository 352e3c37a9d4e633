/**
 * Remote access rule. The API listens on loopback unless `api.host` is set wider; then a
 * request from another machine may only reach the routes peers need:
 *
 *   POST /api/v1/sync/delta    (signed: only nodes holding the shared secret get an answer)
 *   GET  /api/v1/health
 *   GET  /api/v1/p2p/status
 *
 * and, with `api.remoteMetrics`, GET /metrics. Every other route answers 403 FORBIDDEN to it:
 * the rest of the API has no authentication and is for programs on this machine. Routes are
 * matched as fastify resolved them, so no spelling of a path reaches another route. What health
 * and P2P status tell another machine is only what a peer needs (`fromThisMachine` lets them
 * tell): no file paths, addresses or peer lists.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { FORBIDDEN } from '../core/errors.ts'
import { isLoopbackAddress } from '../util/localRequest.ts'

export const REMOTE_ROUTES: ReadonlyArray<readonly [method: string, url: string]> = [
  ['POST', '/api/v1/sync/delta'],
  ['GET', '/api/v1/health'],
  ['GET', '/api/v1/p2p/status']
]

export { isLoopbackAddress }

/** Whether a request comes from a program on this machine (its socket's peer is loopback). */
export function fromThisMachine (request: FastifyRequest): boolean {
  return isLoopbackAddress(request.socket.remoteAddress)
}

/** The metrics route, served to other machines too when `api.remoteMetrics` is on. */
export const METRICS_ROUTE = ['GET', '/metrics'] as const

/** The remote access hook with `routes` open to other machines (REMOTE_ROUTES, and the metrics route when allowed). */
export function remoteAccess (routes: ReadonlyArray<readonly [method: string, url: string]>) {
  const names = routes.map(([m, u]) => `${m} ${u}${u === '/api/v1/sync/delta' ? ' (signed)' : ''}`)
  const allowed = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}` : names.join('')
  return async function remoteAccessCheck (request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    if (isLoopbackAddress(request.socket.remoteAddress)) return
    const url = request.routeOptions.url
    const method = request.method
    if (url !== undefined && routes.some(([m, u]) => m === method && u === url)) return
    throw FORBIDDEN(`${method} ${url ?? request.url.split('?')[0]} is only served to programs on this machine; ` +
      `other machines may call ${allowed}`,
    { method, remoteAddress: request.socket.remoteAddress ?? null })
  }
}

/** onRequest hook: refuses requests from other machines to routes they may not use. */
export const remoteAccessHook = remoteAccess(REMOTE_ROUTES)
