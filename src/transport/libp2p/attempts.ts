/**
 * Session attempts of `QuicTransport` and the rule that settles simultaneous ones (the rule is
 * documented in `../Transport.ts`): every attempt has a key `(initiator id, nonce)`, the
 * smaller key survives, and a node that abandons its own attempt lists its nonce in its ACCEPT so
 * the peer refuses the abandoned HELLO whenever it arrives (`VoidedNonces`).
 */
import type { NodeId } from '../../core/ids.ts'
import type { Libp2pSession } from './session.ts'

/** This node's attempt in flight to one peer. */
export interface Attempt {
  readonly nonce: Uint8Array
  voided: boolean
  readonly abort: AbortController
  session: Libp2pSession | undefined
  readonly result: Promise<Libp2pSession>
}

/** Orders session attempts: negative when attempt a survives over b. */
export function compareAttempts (aInitiator: string, aNonce: Uint8Array, bInitiator: string, bNonce: Uint8Array): number {
  if (aInitiator !== bInitiator) return aInitiator < bInitiator ? -1 : 1
  return Buffer.compare(aNonce, bNonce)
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

/** Nonces a peer abandoned, remembered per peer (newest last), for a bounded number of peers. */
export class VoidedNonces {
  private readonly byPeer = new Map<NodeId, string[]>()
  private readonly perPeer: number
  private readonly maxPeers: number

  constructor (perPeer = 16, maxPeers = 1024) {
    this.perPeer = perPeer
    this.maxPeers = maxPeers
  }

  has (peer: NodeId, nonce: Uint8Array): boolean {
    return this.byPeer.get(peer)?.includes(hex(nonce)) === true
  }

  remember (peer: NodeId, nonces: readonly Uint8Array[]): void {
    if (nonces.length === 0) return
    const list = this.byPeer.get(peer) ?? []
    list.push(...nonces.map(hex))
    if (list.length > this.perPeer) list.splice(0, list.length - this.perPeer)
    this.byPeer.delete(peer)
    this.byPeer.set(peer, list)
    if (this.byPeer.size > this.maxPeers) {
      const oldest = this.byPeer.keys().next().value
      if (oldest !== undefined) this.byPeer.delete(oldest)
    }
  }
}
