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
import { timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { FORBIDDEN, UNAUTHORIZED, type EngramError } from '../core/errors.ts'
import { CLIENT_HEADER } from './contract.ts'
import { isLoopbackAddress, REMOTE_ROUTES } from './remoteAccess.ts'

export { CLIENT_HEADER }

/** The headers of a request the rule looks at (lower-case names, as Node gives them). */
export interface GuardedRequest {
  readonly method: string
  /** The route as the router matched it ('/api/v1/notes/:key'), or the path when none matched. */
  readonly route: string
  /** Whether the route was registered as a page (`config: { page: true }`). */
  readonly page?: boolean
  readonly scheme: 'http' | 'https'
  /** The socket's peer is this machine. */
  readonly fromLoopback: boolean
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

export interface GuardRules {
  /** Host names besides the loopback ones that requests may name (api.allowedHosts), any case. */
  readonly allowedHosts: readonly string[]
  /** The API token, when api.requireToken is on. */
  readonly token?: string
}

/** Why a request is refused, or undefined when it may go on. */
export function checkRequest (req: GuardedRequest, rules: GuardRules): EngramError | undefined {
  const h = (name: string): string | undefined => {
    const v = req.headers[name]
    return Array.isArray(v) ? v[0] : v
  }
  const host = h('host')
  if (req.fromLoopback && !hostAllowed(host, rules.allowedHosts)) {
    return FORBIDDEN(`the Host header ${JSON.stringify(host ?? '')} does not name this machine: the API answers requests for localhost, ` +
      '127.0.0.1 and [::1] (a web page reaching it through a DNS name is refused); to use another name, add it to api.allowedHosts',
    { rule: 'host', host: host ?? null })
  }
  const origin = h('origin')
  const site = h('sec-fetch-site')
  const navigation = (req.method === 'GET' || req.method === 'HEAD') && (req.page === true || req.route === '/') &&
    origin === undefined && h('sec-fetch-mode') === 'navigate' && (h('sec-fetch-dest') ?? 'document') === 'document'
  if (!navigation) {
    if (origin !== undefined && (host === undefined || origin.toLowerCase() !== `${req.scheme}://${host.toLowerCase()}`)) {
      return crossSite(`Origin ${JSON.stringify(origin)}`)
    }
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return crossSite(`Sec-Fetch-Site ${JSON.stringify(site)}`)
  }
  if (req.method === 'POST' && !isJson(h('content-type')) && h(CLIENT_HEADER) === undefined && h('authorization') === undefined) {
    return FORBIDDEN(`a POST must send a JSON body (Content-Type: application/json) or the ${CLIENT_HEADER} header; ` +
      'a request a web page could send without asking is refused', { rule: 'post' })
  }
  if (rules.token !== undefined && req.fromLoopback && !exempt(req, h) && !tokenMatches(h('authorization'), rules.token)) {
    return UNAUTHORIZED('this node requires its API token (api.requireToken): send Authorization: Bearer <token>, the token in ' +
      'api.token in the node\'s data directory (engram\'s CLI and MCP server read it themselves)')
  }
  return undefined
}

function crossSite (what: string): EngramError {
  return FORBIDDEN(`cross-site request refused (${what}): the API answers only programs on this machine and pages it serves itself`,
    { rule: 'cross-site' })
}

/** Routes the token does not guard: what other machines may reach anyway, and pages. */
function exempt (req: GuardedRequest, h: (name: string) => string | undefined): boolean {
  if (req.page === true || req.route === '/') return true
  if (!REMOTE_ROUTES.some(([m, u]) => m === req.method && u === req.route)) return false
  // The delta route answers an unsigned request from this machine: that one needs the token.
  return req.method === 'GET' || h('x-engram-sig') !== undefined || h('x-engram-session') !== undefined
}

const LOOPBACK_NAME = /^(?:localhost|(?:[a-z0-9-]+\.)+localhost)$/

/** Whether a Host header value (`name`, `name:port`, `[v6]:port`) names this machine. */
export function hostAllowed (host: string | undefined, allowed: readonly string[]): boolean {
  const name = hostName(host)
  if (name === undefined) return false
  if (LOOPBACK_NAME.test(name) || isLoopbackAddress(name)) return true
  return allowed.some(a => a.toLowerCase() === name)
}

/** The name part of a Host header, lower case, brackets removed; undefined when malformed. */
function hostName (host: string | undefined): string | undefined {
  if (host === undefined) return undefined
  const h = host.trim().toLowerCase()
  const m = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h)
  if (m !== null) return isIP(m[1]!) === 6 ? m[1] : undefined
  const n = /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(h)
  return n === null ? undefined : n[1]
}

function isJson (contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  const type = contentType.split(';')[0]!.trim().toLowerCase()
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type)
}

function tokenMatches (authorization: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
  if (m === null) return false
  const a = Buffer.from(m[1]!)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
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
    }, rules)
    if (refusal !== undefined) throw refusal
  }
}
