/**
 * Which requests the local API answers: only those of programs on this machine, never those a
 * web page makes a browser send (docs/SECURITY.md, "A web page in the user's browser"). One rule,
 * used by every route of the REST API (the event stream included, through the fastify hook
 * below) and by `engram mcp --http` (mcp/http.ts):
 *
 * 1. **Host** — a request that arrives over loopback must name this machine in `Host`: a
 *    loopback name (`localhost`, `*.localhost`) or address (127.0.0.0/8, `[::1]`), or a name
 *    listed in `api.allowedHosts`. A page on a DNS name the attacker re-points at 127.0.0.1 (DNS
 *    rebinding) sends its own name and is refused. Requests from other machines (possible only
 *    when `api.host` is widened) are not held to it: they reach only the peer routes
 *    (remoteAccess.ts), and peers use whatever name they paired with.
 * 2. **Cross-site** — a browser names the page that makes a request: `Origin` must be this very
 *    origin (`<scheme>://<Host>`), and `Sec-Fetch-Site` must be `same-origin` or `none` (typed
 *    in, bookmarked). Anything else is refused, with one exception: a top-level navigation
 *    (`Sec-Fetch-Mode: navigate`, `Sec-Fetch-Dest: document`, no `Origin`) to a page route
 *    (`GET /`, or a route registered with `config: { page: true }`), so a link can open the
 *    dashboard; a page holds no data, and everything it loads is same-origin only.
 * 3. **POST** — a POST must declare a JSON body (`Content-Type: application/json` or
 *    `…+json`) or carry a header no web form can send (`X-Engram-Client`, `Authorization`), so a
 *    "simple" cross-site request (a form, a beacon, a no-cors fetch), which a browser sends
 *    without asking, never reaches a route even from a browser that omits `Origin`. PUT, PATCH
 *    and DELETE need no such rule: a browser never sends them to another origin without a CORS
 *    preflight, which this API never grants.
 * 4. **Token** (`api.requireToken`, for machines with other local users) — a request from this
 *    machine must carry `Authorization: Bearer <token>` (the token in `<dataDir>/api.token`,
 *    mode 0600), except on the routes other machines may reach anyway (health, P2P status, and a
 *    delta sync request that carries its own signature) and on page routes.
 *
 * A refusal is 403 FORBIDDEN (401 UNAUTHORIZED for a missing or wrong token) naming the rule, and
 * nothing is read or changed. `checkRequest` is pure: it sees header values, never a socket.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { checkRequest, type GuardedRequest, type GuardRules } from '../util/localRequest.ts'
import { isLoopbackAddress, REMOTE_ROUTES } from './remoteAccess.ts'

export { checkRequest, hostAllowed, type GuardedRequest, type GuardRules } from '../util/localRequest.ts'
export { CLIENT_HEADER } from './contract.ts'

/**
 * The API's exemption from the token: what other machines may reach anyway — health, P2P status,
 * and a delta sync request that carries its own signature (an unsigned one from this machine
 * reads everything, so it needs the token).
 */
export function apiTokenExempt (req: GuardedRequest): boolean {
  if (!REMOTE_ROUTES.some(([m, u]) => m === req.method && u === req.route)) return false
  return req.method === 'GET' || req.headers['x-engram-sig'] !== undefined || req.headers['x-engram-session'] !== undefined
}

/** The fastify onRequest hook applying the rule to every request. */
export function guardHook (rules: GuardRules, scheme: 'http' | 'https'): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    // No page of another site may frame what this API serves (browsers without Sec-Fetch-*).
    void reply.header('x-frame-options', 'DENY')
    const config = request.routeOptions.config as { page?: boolean } | undefined
    const refusal = checkRequest({
      method: request.method,
      route: request.routeOptions.url ?? request.url.split('?')[0]!,
      page: config?.page === true,
      scheme,
      fromLoopback: isLoopbackAddress(request.socket.remoteAddress),
      headers: request.headers
    }, { ...rules, tokenExempt: apiTokenExempt })
    if (refusal !== undefined) throw refusal
  }
}
