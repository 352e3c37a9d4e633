/**
 * Discovery finds other engram nodes on the local network and proposes their addresses. It
 * never decides trust: every address it proposes is dialled like any other, and the seed
 * handshake of native sync (docs/PROTOCOL.md §1) decides whether the node at the other end is
 * one of ours. A rogue advertiser therefore gets a failed handshake and nothing else.
 *
 * Two implementations:
 * - `BonjourDiscovery` (`BonjourDiscovery.ts`): mDNS / DNS-SD on the LAN (bonjour-service);
 * - `MemoryDiscovery` (`MemoryDiscovery.ts`): an in-process LAN for deterministic tests.
 *
 * What a node advertises (DNS-SD TXT records, `txt.ts`): its node id, its P2P port, its API
 * port and the native protocol version. Nothing secret and nothing derived from the seed.
 *
 * Peers are forgotten when they leave: at once when they say goodbye (a record with TTL 0), or
 * when they stop answering for longer than their announcement's lifetime (`SeenPeers.ts`).
 */
import type { NodeId } from '../core/ids.ts'

/** What this node advertises. */
export interface Advertisement {
  readonly nodeId: NodeId
  /** UDP (QUIC) and TCP port of native sync: p2p.port. */
  readonly p2pPort: number
  /** TCP port of the REST API (its SRV record's port). */
  readonly apiPort: number
  /** The highest native sync protocol version this node speaks. */
  readonly protocol: number
}

/** A node seen on the network. */
export interface DiscoveredPeer {
  readonly nodeId: NodeId
  /** Dial addresses of its P2P endpoint, "host:port" / "[v6]:port", best first (at least one). */
  readonly addrs: readonly string[]
  readonly p2pPort: number
  readonly apiPort: number
  readonly protocol: number
}

export type DiscoveryEvent =
  | { readonly type: 'up', readonly peer: DiscoveredPeer }
  /** Its addresses or advertised values changed. */
  | { readonly type: 'update', readonly peer: DiscoveredPeer }
  /** It left: a goodbye, or no answer for longer than its announcement lives. */
  | { readonly type: 'down', readonly nodeId: NodeId, readonly reason: 'goodbye' | 'expired' }

/** Whether discovery runs; when it cannot, why (said in the log with what to do). */
export type DiscoveryStart = { readonly ok: true } | { readonly ok: false, readonly reason: string }

export interface Discovery {
  /** Short name for logs and the peer book ("mdns"). */
  readonly kind: string
  /**
   * Starts advertising `self` and browsing. Never throws for a network that does not allow
   * discovery: it answers `{ok: false, reason}` (no multicast interface, port 5353 not
   * available, the mDNS library missing) and stays stopped.
   */
  start (self: Advertisement): Promise<DiscoveryStart>
  /** Stops advertising (saying goodbye where the protocol has one) and browsing. Idempotent. */
  stop (): Promise<void>
  /** Registers a handler for every event; several may be registered. */
  onEvent (handler: (ev: DiscoveryEvent) => void): void
  /** The peers seen now. */
  peers (): DiscoveredPeer[]
}
