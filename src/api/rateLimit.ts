/**
 * Rate limits of the REST API (docs/LIMITS.md). Programs on this machine use the API freely,
 * except for the route peers use; what is limited:
 *
 *   - every request from another machine, and every request to POST /api/v1/sync/delta (from
 *     anywhere): per client (ApiLimits.clientRequests) and for all clients together
 *     (ApiLimits.allRequests);
 *   - refused authentications: a client that was answered 401 more often than
 *     ApiLimits.authFailures allows gets 429 for every limited request until its budget refills,
 *     before its signature is even checked (guessing the secret online is throttled).
 *
 * Over a limit the answer is 429 RATE_LIMITED with `retry-after` (seconds) and
 * `details.retryAfterMs`; nothing is read or changed. A client is an IPv4 address or an IPv6 /64
 * (util/clientKey.ts). Limits are checked in the onRequest hook, before the body is read.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { RATE_LIMITED } from '../core/errors.ts'
import { clientKey } from '../util/clientKey.ts'
import { KeyedBuckets, TokenBucket } from '../util/tokenBucket.ts'
import type { Logger } from '../util/log.ts'
import type { ApiLimits } from './limits.ts'
import { isLoopbackAddress } from './remoteAccess.ts'

/** The route other nodes call; it is limited for every caller, this machine included. */
export const PEER_ROUTE = '/api/v1/sync/delta'

export interface RateLimitCounts {
  /** Requests refused with 429, by reason. */
  readonly refused: { readonly client: number, readonly all: number, readonly authFailures: number }
  /** Clients whose buckets are kept. */
  readonly clients: number
}

export interface RateLimiter {
  /** fastify onRequest hook: refuses a request over a limit (429). */
  onRequest (request: FastifyRequest, reply: FastifyReply): Promise<void>
  /** fastify onResponse hook: counts refused authentications. */
  onResponse (request: FastifyRequest, reply: FastifyReply): Promise<void>
  counts (): RateLimitCounts
}

export interface RateLimiterOptions {
  readonly now?: () => number
  /** Told about each refusal (the node logs a summary now and then). */
  readonly onRefused?: (client: string, why: 'client' | 'all' | 'authFailures') => void
}

/** Whether a request counts against the rate limits. */
export function isLimited (request: FastifyRequest): boolean {
  return request.routeOptions.url === PEER_ROUTE || !isLoopbackAddress(request.socket.remoteAddress)
}

export function createRateLimiter (limits: ApiLimits, opts: RateLimiterOptions = {}): RateLimiter {
  const now = opts.now ?? Date.now
  const perClient = new KeyedBuckets(limits.clientRequests, limits.maxClients, now)
  const failures = new KeyedBuckets(limits.authFailures, limits.maxClients, now)
  const all = new TokenBucket(limits.allRequests, now)
  const refused = { client: 0, all: 0, authFailures: 0 }

  const refuse = (reply: FastifyReply, client: string, why: 'client' | 'all' | 'authFailures', retryAfterMs: number): never => {
    refused[why]++
    opts.onRefused?.(client, why)
    const wait = Math.max(1, retryAfterMs)
    void reply.header('retry-after', String(Math.ceil(wait / 1000)))
    const what = why === 'authFailures'
      ? 'too many refused authentications from this client'
      : why === 'client' ? 'too many requests from this client' : 'too many requests from other machines and peers'
    throw RATE_LIMITED(`${what}; retry in ${Math.ceil(wait / 1000)} s`, wait, { limit: why })
  }

  return {
    async onRequest (request, reply) {
      if (!isLimited(request)) return
      const client = clientKey(request.socket.remoteAddress)
      const failed = failures.peek(client)
      if (failed !== undefined && failed.level < 1) refuse(reply, client, 'authFailures', failed.retryAfterMs(1))
      const bucket = perClient.get(client)
      if (!bucket.take(1)) refuse(reply, client, 'client', bucket.retryAfterMs(1))
      if (!all.take(1)) refuse(reply, client, 'all', all.retryAfterMs(1))
    },
    async onResponse (request, reply) {
      if (reply.statusCode === 401) failures.get(clientKey(request.socket.remoteAddress)).take(1)
    },
    counts: () => ({ refused: { ...refused }, clients: perClient.size })
  }
}

/** An `onRefused` that logs one line per `everyMs` at most, with the refusals counted since the last. */
export function logRefusals (log: Logger, now: () => number = Date.now, everyMs = 10_000): NonNullable<RateLimiterOptions['onRefused']> {
  let count = 0
  let loggedAt = -Infinity
  return (client, why) => {
    count++
    const t = now()
    if (t - loggedAt < everyMs) return
    log.warn(`refused REST requests over a rate limit (429): latest from ${client}, limit ${why}`, { refused: count })
    count = 0
    loggedAt = t
  }
}
