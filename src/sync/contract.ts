/**
 * The sync service's contract with the node and the API: the settings it reads live
 * (SyncSettings), what it needs from native sync when that runs (NativeLink), and how it shows
 * itself — the mode and GET /api/v1/sync/status (SyncStatusView, with a PeerView per peer).
 */
import type { ConflictStrategy } from '../replication/conflicts.ts'
import type { RestPeer } from '../peers/RestPeers.ts'
import type { P2pStatusView } from './native/P2pStatus.ts'
import type { Endpoint } from './polled/pairing.ts'

export interface SyncSettings {
  readonly intervalSeconds: number
  readonly maxTriplesPerSync: number
  readonly syncTimeoutMs: number
  readonly conflictStrategy: ConflictStrategy
  readonly singleValuedPredicates: readonly string[]
  readonly autoSync: boolean
  readonly nativeP2pPreferred: boolean
  readonly p2pEnabled: boolean
  /** First retry delay for an unreachable peer. */
  readonly retryBaseMs: number
  /** Older unsigned polled clients on other machines may pull (over TLS, with the passphrase): polled/legacyAccess.ts. */
  readonly legacyRemoteClients: boolean
}

/** What polled sync needs from native sync: which peers it covers, its status, its peers. */
export interface NativeLink {
  /** Whether a native session with this node is open. */
  isConnected (node: string): boolean
  /** GET /api/v1/p2p/status. */
  status (): P2pStatusView
  /** Adds a manual P2P peer ("host:port"). */
  addPeer (addr: unknown): { peer: unknown, created: boolean }
  /** Runs a gossip round with every connected peer now. */
  gossipNow (): void
}

export type SyncMode = 'polled' | 'native' | 'none'

/** A peer as GET /api/v1/sync/status shows it: its entry, how it is synced now, and this node's cursor on it. */
export type PeerView = RestPeer & { readonly mode: string, readonly cursor: number }

/** GET /api/v1/sync/status (without `pairBack`, which the route adds): its one definition. */
export interface SyncStatusView {
  readonly mode: SyncMode
  readonly reason: string
  readonly nodeId: string
  readonly feedId: string
  readonly endpoint?: Endpoint
  readonly settings: {
    readonly intervalSeconds: number
    readonly maxTriplesPerSync: number
    readonly syncTimeoutMs: number
    readonly retryBaseMs: number
    readonly conflictStrategy: ConflictStrategy
    readonly autoSync: boolean
  }
  readonly lastSyncAt: string | null
  readonly peers: PeerView[]
  /** Keep-both conflicts listed. */
  readonly conflicts: number
  /** In native mode: GET /api/v1/p2p/status. */
  readonly native?: P2pStatusView
}
