/**
 * The coded-round messages (reconMessages.ts) as the session codec (messages.ts) sees them: one
 * more branch of the message union, sent only to a peer whose hello lists coded rounds (`rc`).
 * A `records` message of a coded round is the gossip one (gossipWire.ts).
 */
import { parseReconMessage, RECON_MESSAGE_TYPES, reconToWire, type ReconMessage } from './reconMessages.ts'

export type { ReconMessage } from './reconMessages.ts'

/** The version of coded rounds this code speaks (hello `rc`). */
export const CODED_ROUNDS_VERSION = 1

export const RECON_TYPES: readonly string[] = RECON_MESSAGE_TYPES

/** True for a coded-round message (by its type). */
export function isReconMessage (msg: { readonly t: string }): msg is ReconMessage {
  return RECON_TYPES.includes(msg.t)
}

export function encodeRecon (msg: ReconMessage): Record<string, unknown> {
  return reconToWire(msg)
}

/** Checks a decoded coded-round map. */
export function decodeRecon (o: Record<string, unknown>): ReconMessage {
  return parseReconMessage(o)
}
