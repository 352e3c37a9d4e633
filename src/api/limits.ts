/**
 * Limits on the REST API's connections and requests (docs/LIMITS.md, docs/SECURITY.md):
 *
 * - time: a request (headers and body) must arrive whole within `requestTimeoutMs`, its headers
 *   within `headersTimeoutMs`, and an idle kept-alive connection is closed after
 *   `keepAliveTimeoutMs`; a client that trickles a request byte by byte, or says nothing, is
 *   answered 408 and disconnected instead of holding a connection;
 * - connections, in two budgets so that other machines can never lock out programs on this
 *   one: at most `maxConnections` open at once from this machine (loopback), and at most
 *   `maxRemoteConnections` from other machines together; and at most `maxConnectionsPerClient`
 *   from any one client (one IPv4 address, or one IPv6 /64); further ones are closed at once;
 * - rates: see rateLimit.ts.
 *
 * These are set on the Node.js server itself (http or https alike), after fastify built it.
 */
import type { Server, Socket } from 'node:net'
import { Server as TlsServer } from 'node:tls'
import { clientKey } from '../util/clientKey.ts'
import type { RateSpec } from '../util/tokenBucket.ts'
import { isLoopbackAddress } from './remoteAccess.ts'

export interface ApiLimits {
  /** Longest time to receive a whole request, headers and body (api.requestTimeoutMs). */
  readonly requestTimeoutMs: number
  /** Longest time to receive a request's headers (at most requestTimeoutMs). */
  readonly headersTimeoutMs: number
  /** An idle kept-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number
  /** Most open connections from this machine (api.maxConnections). */
  readonly maxConnections: number
  /** Most open connections from other machines together (api.maxRemoteConnections). */
  readonly maxRemoteConnections: number
  /** Most open connections from one client (api.maxConnectionsPerClient). */
  readonly maxConnectionsPerClient: number
  /** Requests from one client to the routes peers use, and every request from another machine (api.rateLimitPerSecond, burst 4×). */
  readonly clientRequests: RateSpec
  /** The same requests from all clients together. */
  readonly allRequests: RateSpec
  /** Refused authentications (401) from one client. */
  readonly authFailures: RateSpec
  /** Clients whose rate buckets are kept (the least recently seen are forgotten). */
  readonly maxClients: number
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
export const DEFAULT_RATE_PER_SECOND = 50

/** The API limits for the configured values (api.requestTimeoutMs, api.maxConnections, …). */
export function apiLimits (c: {
  readonly requestTimeoutMs?: number
  readonly maxConnections?: number
  readonly maxRemoteConnections?: number
  readonly maxConnectionsPerClient?: number
  readonly rateLimitPerSecond?: number
} = {}): ApiLimits {
  const requestTimeoutMs = c.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const rate = c.rateLimitPerSecond ?? DEFAULT_RATE_PER_SECOND
  return {
    requestTimeoutMs,
    headersTimeoutMs: Math.min(10_000, requestTimeoutMs),
    keepAliveTimeoutMs: 5_000,
    maxConnections: c.maxConnections ?? 1024,
    maxRemoteConnections: c.maxRemoteConnections ?? 512,
    maxConnectionsPerClient: c.maxConnectionsPerClient ?? 256,
    clientRequests: { ratePerSecond: rate, burst: rate * 4 },
    allRequests: { ratePerSecond: rate * 10, burst: rate * 40 },
    authFailures: { ratePerSecond: 1, burst: 30 },
    maxClients: 10_000
  }
}

/** What the connection guard counts (tests and status). */
export interface ConnectionCounts {
  /** Connections open now. */
  readonly open: number
  /** Of them, connections from other machines. */
  readonly remote: number
  /** Connections refused by a cap (per client, maxConnections or maxRemoteConnections). */
  readonly refused: number
  /** Connections closed because no request's headers arrived in time. */
  readonly silent: number
  /** Clients with an open connection. */
  readonly clients: number
}

interface TimedServer extends Server {
  headersTimeout: number
  requestTimeout: number
  keepAliveTimeout: number
  connectionsCheckingInterval?: number
}

/**
 * Sets the time limits and connection caps on the API's server (before it listens). Returns the
 * live counts. A connection over a cap is destroyed as soon as it is accepted, before anything is
 * read from it; one that has not sent a whole request's headers within `headersTimeoutMs` of
 * connecting is closed (Node's own header limit only starts with a request's first byte). Node's
 * own `maxConnections` is not used: it counts every connection in one budget.
 */
export function guardConnections (server: Server, limits: ApiLimits): () => ConnectionCounts {
  const s = server as TimedServer
  s.requestTimeout = limits.requestTimeoutMs
  s.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs)
  s.keepAliveTimeout = limits.keepAliveTimeoutMs
  // Node checks the request and header limits on this interval (default 30 s): check often
  // enough that a slow client is cut off close to the limit.
  s.connectionsCheckingInterval = Math.max(100, Math.min(1_000, Math.floor(s.headersTimeout / 4)))
  const perClient = new Map<string, number>()
  let open = 0
  let local = 0
  let refused = 0
  let silent = 0
  const served = new WeakSet<object>()
  const tls = server instanceof TlsServer
  const watch = (socket: Socket): void => {
    const timer = setTimeout(() => {
      if (served.has(socket) || socket.destroyed) return
      silent++
      socket.destroy()
    }, s.headersTimeout)
    timer.unref()
    socket.once('close', () => { clearTimeout(timer) })
  }
  server.on('connection', (socket: Socket) => {
    const key = clientKey(socket.remoteAddress)
    const n = perClient.get(key) ?? 0
    const loop = isLoopbackAddress(socket.remoteAddress)
    if (n >= limits.maxConnectionsPerClient || (loop ? local >= limits.maxConnections : open - local >= limits.maxRemoteConnections)) {
      refused++
      socket.destroy()
      return
    }
    perClient.set(key, n + 1)
    open++
    if (loop) local++
    socket.once('close', () => {
      open--
      if (loop) local--
      const left = (perClient.get(key) ?? 1) - 1
      if (left <= 0) perClient.delete(key)
      else perClient.set(key, left)
    })
    if (!tls) watch(socket)
  })
  // Over TLS the request arrives on the TLS socket: it is watched from the end of its handshake
  // (the handshake itself has its own limit, https handshakeTimeout).
  if (tls) server.on('secureConnection', watch)
  server.on('request', (req: { socket: object }) => { served.add(req.socket) })
  server.on('drop', () => { refused++ })
  return () => ({ open, remote: open - local, refused, silent, clients: perClient.size })
}
