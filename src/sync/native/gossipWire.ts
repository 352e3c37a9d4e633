/**
 * The gossip messages (gossipMessages.ts) as the session codec (messages.ts) sees them: one
 * more branch of the message union. Their fields are checked by gossipMessages.ts; the records
 * of a `records` message are checked here with checkRecord, like those of a `changes` page, so
 * every record a session receives has passed the same gate before it reaches the engine.
 */
import type { MemoryRecord } from '../../core/model.ts'
import { GOSSIP_LIMITS, GOSSIP_MESSAGE_TYPES, parseGossipMessage, toWire, type GossipMessage as WireGossipMessage, type RecordsMessage } from './gossipMessages.ts'

/** A `records` message whose records passed checkRecord. */
export interface CheckedRecordsMessage extends RecordsMessage {
  readonly records: readonly MemoryRecord[]
}

export type GossipMessage = Exclude<WireGossipMessage, RecordsMessage> | CheckedRecordsMessage | RecordsMessage

export const GOSSIP_TYPES: readonly string[] = GOSSIP_MESSAGE_TYPES

export function encodeGossip (msg: GossipMessage): Record<string, unknown> {
  return toWire(msg)
}

/**
 * Checks a decoded gossip map. `checkRecords` is messages.ts's record gate (passed in to keep
 * the import graph one-way).
 */
export function decodeGossip (o: Record<string, unknown>, maxRecords: number,
  checkRecords: (v: unknown, field: string, max: number) => MemoryRecord[]): GossipMessage {
  const limit = Math.min(maxRecords, GOSSIP_LIMITS.maxRecordsPerMessage)
  const msg = parseGossipMessage(o, { ...GOSSIP_LIMITS, maxRecordsPerMessage: limit })
  if (msg.t !== 'records') return msg
  return { t: 'records', round: msg.round, records: checkRecords(msg.records, 'records.records', limit) }
}
