/**
 * The gossip messages (gossipMessages.ts) and the route message (gossipRoutes.ts: `prune`) as the session codec (messages.ts) sees them: more branches of the message union.
 * Their fields are checked by gossipMessages.ts and gossipRoutes.ts, the rows of a `records`
 * message with rows.ts checkRowAt like those of a `changes` page, so every record a session
 * receives has passed the same gate before it reaches the engine.
 */
import { GOSSIP_LIMITS, GOSSIP_MESSAGE_TYPES, parseGossipMessage, toWire, type GossipMessage as RoundMessage } from './gossipMessages.ts'
import { parseRoute, ROUTE_MESSAGE_TYPES, routeToWire, type RouteMessage } from './gossipRoutes.ts'

export type GossipMessage = RoundMessage | RouteMessage

export const GOSSIP_TYPES: readonly string[] = [...GOSSIP_MESSAGE_TYPES, ...ROUTE_MESSAGE_TYPES]

export function encodeGossip (msg: GossipMessage): Record<string, unknown> {
  return msg.t === 'prune' ? routeToWire(msg) : toWire(msg)
}

/** Checks a decoded gossip map; a `records` message carries at most `maxRecords` (and the gossip cap). */
export function decodeGossip (o: Record<string, unknown>, maxRecords: number): GossipMessage {
  if (ROUTE_MESSAGE_TYPES.includes(o.t as string)) return parseRoute(o)
  const limit = Math.min(maxRecords, GOSSIP_LIMITS.maxRecordsPerMessage)
  return parseGossipMessage(o, { ...GOSSIP_LIMITS, maxRecordsPerMessage: limit })
}
