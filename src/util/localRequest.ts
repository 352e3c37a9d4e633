/**
 * The rule of which requests a local API answers — only those of programs on this machine, never
 * those a web page makes a browser send — pure, on header values (no socket, no HTTP library).
 * The REST API applies it to every route through its hook (api/guard.ts, where the rule is
 * described), and `engram mcp --http` to every request (mcp/http.ts); the CLI uses
 * `hostAllowed` to tell a daemon on this machine (which gets the API token) from another.
 */
import { timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import { CLIENT_HEADER_NAME } from './clientHeader.ts'
import { FORBIDDEN, UNAUTHORIZED, type EngramError } from '../core/errors.ts'

/** True for a loopback socket address (IPv4 127/8, ::1, and IPv4-mapped 127/8). */
export function isLoopbackAddress (address: string | undefined): boolean {
  if (address === undefined) return false
  const a = address.startsWith('::ffff:') ? address.slice(7) : address
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a)
}

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
  /** Requests the token does not guard besides pages (the API: what other machines may reach anyway). */
  readonly tokenExempt?: (req: GuardedRequest) => boolean
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
  if (req.method === 'POST' && !isJson(h('content-type')) && h(CLIENT_HEADER_NAME) === undefined && h('authorization') === undefined) {
    return FORBIDDEN(`a POST must send a JSON body (Content-Type: application/json) or the ${CLIENT_HEADER_NAME} header; ` +
      'a request a web page could send without asking is refused', { rule: 'post' })
  }
  const exempt = req.page === true || req.route === '/' || rules.tokenExempt?.(req) === true
  if (rules.token !== undefined && req.fromLoopback && !exempt && !tokenMatches(h('authorization'), rules.token)) {
    return UNAUTHORIZED('this node requires its API token (api.requireToken): send Authorization: Bearer <token>, the token in ' +
      'api.token in the node\'s data directory (engram\'s CLI and MCP server read it themselves)')
  }
  return undefined
}

function crossSite (what: string): EngramError {
  return FORBIDDEN(`cross-site request refused (${what}): the API answers only programs on this machine and pages it serves itself`,
    { rule: 'cross-site' })
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

