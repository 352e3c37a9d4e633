/**
 * The gossip messages (gossipMessages.ts) as the session codec (messages.ts) sees them: one
 * more branch of the message union. Their fields are checked by gossipMessages.ts, the rows of
 * a `records` message with rows.ts checkRowAt like those of a `changes` page, so every record a
 * session receives has passed the same gate before it reaches the engine.
 */
import { GOSSIP_LIMITS, GOSSIP_MESSAGE_TYPES, parseGossipMessage, toWire, type GossipMessage } from './gossipMessages.ts'

export type { GossipMessage } from './gossipMessages.ts'

export const GOSSIP_TYPES: readonly string[] = GOSSIP_MESSAGE_TYPES

export function encodeGossip (msg: GossipMessage): Record<string, unknown> {
  return toWire(msg)
}

/** Checks a decoded gossip map; a `records` message carries at most `maxRecords` (and the gossip cap). */
export function decodeGossip (o: Record<string, unknown>, maxRecords: number): GossipMessage {
  const limit = Math.min(maxRecords, GOSSIP_LIMITS.maxRecordsPerMessage)
  return parseGossipMessage(o, { ...GOSSIP_LIMITS, maxRecordsPerMessage: limit })
}
