/**
 * What discovery needs from native sync, and what native sync tells discovery about its peers.
 * Native sync (`sync/native/NativeSync.ts`) implements `PeerDialer`: discovery proposes
 * addresses, native sync dials them (redialling with backoff) and runs the seed handshake that
 * decides trust. Its `DialerEvent`s keep the peer book (`PeerBook.ts`) current.
 */
import type { NodeId } from '../core/ids.ts'

/**
 * Where a proposed peer comes from (the configured and API peers are native sync's own); `relay`:
 * a node of this seed that holds a slot on one of this node's relays, dialled through it.
 */
export type ProposedSource = 'mdns' | 'static' | 'relay'

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
  /** A configured (`manual`) or API (`api`) peer is dialled by native sync itself. */
  | { readonly type: 'added', readonly addr: string, readonly source: 'manual' | 'api' }
  /** An API peer was removed. */
  | { readonly type: 'removed', readonly addr: string }
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
