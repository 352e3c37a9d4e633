/**
 * The coded-round messages (reconMessages.ts) as the session codec (messages.ts) sees them: one
 * more branch of the message union, sent only to a peer whose hello lists coded rounds (`rc`).
 * A `records` message of a coded round is the gossip one (gossipWire.ts) in version 1, and `rr`
 * (the same fields, renamed) in version 2.
 */
import { GOSSIP_LIMITS } from './gossipMessages.ts'
import { COMPACT_RECON_TYPES, parseCodedRoundMessage, RECON_MESSAGE_TYPES, recordsToWire, reconToWire, sentAsCoded, type CodedRoundMessage, type ReconMessage } from './reconMessages.ts'

export type { ReconMessage } from './reconMessages.ts'

/**
 * The version of coded rounds this code speaks (hello `rc`): 2, the compact forms (reconMessages.ts);
 * it speaks 1 too, with a peer that lists 1.
 */
export const CODED_ROUNDS_VERSION = 2

/** The types of coded-round messages on the wire, both versions'. */
export const RECON_TYPES: readonly string[] = [...RECON_MESSAGE_TYPES, ...COMPACT_RECON_TYPES]

/** True for a coded-round message (by its type). */
export function isReconMessage (msg: { readonly t: string }): msg is ReconMessage {
  return (RECON_MESSAGE_TYPES as readonly string[]).includes(msg.t)
}

/** True for a message the session encodes with encodeRecon: coded-round messages, and version 2's `records`. */
export const encodesAsRecon = sentAsCoded

export function encodeRecon (msg: CodedRoundMessage): Record<string, unknown> {
  return msg.t === 'records' ? recordsToWire(msg) : reconToWire(msg)
}

/** Checks a decoded coded-round map (an `rr` holds at most `maxRecords` records, and the gossip cap). */
export function decodeRecon (o: Record<string, unknown>, maxRecords: number = GOSSIP_LIMITS.maxRecordsPerMessage): CodedRoundMessage {
  return parseCodedRoundMessage(o, { maxRecordsPerMessage: Math.min(maxRecords, GOSSIP_LIMITS.maxRecordsPerMessage) })
}
