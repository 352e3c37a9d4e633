/**
 * What discovery needs from native sync, and what native sync tells discovery about its peers.
 * Native sync (`sync/native/NativeSync.ts`) implements `PeerDialer`: discovery proposes
 * addresses, native sync dials them (redialling with backoff) and runs the seed handshake that
 * decides trust. Its `DialerEvent`s keep the P2P peers of the registry (peers/P2pPeers.ts)
 * current: when each was seen, its last error.
 */
import type { NodeId } from '../core/ids.ts'
import type { ProposedSource } from '../peers/sources.ts'

export interface PeerDialer {
  /**
   * Keeps a session to the peer at `addr`: dials it now and again after every session ends, with
   * backoff, until `disconnect`. With `expectedNode`, a node with another id at that address is
   * refused before the handshake. Calling it again for the same address does nothing.
   */
  connect (addr: string, opts: { readonly source: ProposedSource, readonly expectedNode?: NodeId }): void
  /** Stops dialing `addr`; an open session stays until it ends. */
  disconnect (addr: string): Promise<void>
  /** Whether a session with `node` is open now. */
  isConnected (node: string): boolean
}

/** What native sync reports about its peers. */
export type DialerEvent =
  /** A dial of `addr` reached `nodeId` and a session is up. */
  | { readonly type: 'dialled', readonly addr: string, readonly nodeId: NodeId }
  | { readonly type: 'dial-failed', readonly addr: string, readonly error: string }
  /** A session opened (the seed handshake passed), whoever dialled. */
  | { readonly type: 'session-open', readonly nodeId: NodeId }
  /**
   * A session ended; `addr` when it was dialled to that address, `error` when it failed
   * (`refused` when the seed handshake failed: another seed).
   */
  | { readonly type: 'session-ended', readonly nodeId: NodeId, readonly addr?: string, readonly error?: string, readonly refused?: boolean }
