/**
 * What the transport needs of a relay server without loading libp2p's relay packages
 * (`parts.ts`, loaded only by a node with reach options): the limits a relay puts on what it
 * forwards, their defaults, and whether the relay server holds a node's reservation.
 */
import type { PeerId } from '@libp2p/interface'

/** The limits a relay puts on what it forwards (docs/LIMITS.md). */
export interface RelayLimits {
  /** Most nodes holding a reservation at once. */
  readonly maxReservations: number
  /** Most circuits one node opens, or is reached by, over one connection at once. */
  readonly maxCircuitsPerPeer: number
  /** Bytes one circuit may carry (both directions) before the relay resets it. */
  readonly maxCircuitBytes: number
  /** Seconds one circuit may stay open before the relay resets it. */
  readonly maxCircuitSeconds: number
  /** Lifetime of a reservation before the node must renew it (libp2p renews it by itself). */
  readonly reservationTtlSeconds: number
}

export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  maxReservations: 128,
  maxCircuitsPerPeer: 16,
  maxCircuitBytes: 1024 * 1024 * 1024,
  maxCircuitSeconds: 3600,
  reservationTtlSeconds: 3600
}

/** Whether the relay server holds a reservation for `peer` (false when not serving). */
export function reservationHolder (services: Record<string, unknown>): (peer: PeerId) => boolean {
  return (peer) => {
    const relay = services.relay as { reservations?: { has: (p: PeerId) => boolean } } | undefined
    return relay?.reservations?.has(peer) === true
  }
}
