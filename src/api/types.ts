/**
 * What the REST API needs from the node that hosts it. The composition root (node/EngramNode.ts)
 * builds this; tests build it around a store in a temporary directory.
 */
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import type { Engine } from '../engine/Engine.ts'
import type { SearchService } from '../search/SearchService.ts'
import type { PeerDialState } from '../sync/native/NativeSync.ts'
import type { MailboxCounts } from '../sync/mailbox/MailboxSync.ts'
import type { SyncService } from '../sync/SyncService.ts'
import type { Telemetry } from '../telemetry/Telemetry.ts'
import type { DashboardAssets } from './dashboardAssets.ts'
import type { GuardRules } from './guard.ts'
import type { ApiLimits } from './limits.ts'
import type { ClockStatusView, P2pPeerView, P2pStatusView, PeerBookView } from './contract.ts'
import type { StatusFeedOptions } from './StatusFeed.ts'

export interface NodeStatus {
  readonly nodeId: string
  readonly version: string
  readonly startedAt: string
  readonly dataDir: string
  /** The store; `sizeBytes`: its file and write-ahead log, when it has files. */
  readonly store: { readonly kind: string, readonly path: string, readonly sizeBytes?: number }
}

export interface ApiDeps {
  readonly engine: Engine
  /** Package version, reported by /api/v1/health. */
  readonly version: string
  /** Largest accepted request body, bytes. */
  readonly bodyLimitBytes: number
  /** Serve HTTPS with these options (tls.*); absent: plain HTTP. */
  readonly https?: HttpsServerOptions
  /** Time limits, connection caps and rate limits (limits.ts); default apiLimits(). */
  readonly limits?: ApiLimits
  /** The clock of the rate limits, ms (tests hold it still); default Date.now. */
  readonly now?: () => number
  /** Told about each request refused by a rate limit (the client, and which limit). */
  readonly onRateLimited?: (client: string, limit: 'client' | 'all' | 'authFailures') => void
  /** Host names besides loopback that requests may name, and the API token when required (guard.ts). */
  readonly access?: GuardRules
  /** Node facts for GET /api/v1/status. */
  readonly status: () => NodeStatus
  /** The `clock` part of GET /api/v1/status (replication/clockStatus.ts); absent or undefined: left out. */
  readonly clock?: () => ClockStatusView | undefined
  /** What the mailbox rounds did since start (GET /metrics, the live status); absent or undefined: no mailbox. */
  readonly mailbox?: () => Readonly<MailboxCounts> | undefined
  /**
   * Native P2P status for GET /api/v1/p2p/status, or undefined while P2P is not enabled
   * (then the route answers 404 {"error": "P2P not enabled"}).
   */
  readonly p2pStatus?: () => P2pStatusView | undefined
  /**
   * Native P2P sync (status and manual peers) for /api/v1/p2p/*; absent while P2P is not
   * enabled (then those routes answer 404 {"error": "P2P not enabled"}).
   */
  readonly p2p?: P2pApi
  /**
   * The peer book (src/discovery/DiscoveryService.ts view()) for GET /api/v1/p2p/peers; absent
   * or answering undefined while discovery does not run.
   */
  readonly p2pPeerBook?: () => readonly PeerBookView[] | undefined
  /**
   * Called with every error that answers 500 (a bug or an unexpected failure), so the node can
   * log it; the client only sees `{"error": "internal error…", "code": "INTERNAL"}`.
   */
  readonly onInternalError?: (err: unknown, request: { method: string, url: string }) => void
  /**
   * Polled sync: the delta endpoint, sync status and control, conflicts, the agent-end hook.
   * Absent: those routes answer 503 (the agent-end hook answers {triggered: false}).
   */
  readonly sync?: SyncService
  /**
   * The node's telemetry (activity, recent warnings and errors, event loop) for GET /metrics and
   * the live status stream; absent: the server makes its own (and closes it with itself).
   */
  readonly telemetry?: Telemetry
  /** Timing of the live status stream (GET /api/v1/status/stream); tests shrink it. */
  readonly statusStream?: StatusStreamOptions
  /** Serve GET /metrics to other machines too (api.remoteMetrics). */
  readonly remoteMetrics?: boolean
  /** The dashboard's files; absent: loaded from the package's dist/web/ directory (npm run build). */
  readonly dashboard?: DashboardAssets
  /** Search (GET /api/v1/search, the index, reindex). Absent: full text over the engine's store. */
  readonly search?: SearchService
  /** sync.revocationQuorum, shown with the revocations. */
  readonly revocationQuorum?: () => number
}

/** What the /api/v1/p2p routes need from native sync (sync/native/NativeSync.ts). */
export interface P2pApi {
  /** GET /api/v1/p2p/status, in the shape of docs/PROTOCOL.md §4. */
  status (): P2pStatusView
  listPeers (): readonly P2pPeerView[]
  /** Adds a manual peer (host:port, [v6]:port, host name:port or multiaddr); INVALID_INPUT naming `addr`. */
  addPeer (addr: unknown): { peer: P2pPeerView, created: boolean }
  /** Removes a manual peer by address or node id; NOT_FOUND, or CONFLICT for a configured one. */
  removePeer (idOrAddr: string): Promise<unknown>
  /** Where dialing the peer at `addr` (as added) stands; undefined while it is not dialled. */
  dialState (addr: string): PeerDialState | undefined
}

/** Timing and caps of the live status stream (routes/statusStream.ts). */
export interface StatusStreamOptions extends StatusFeedOptions {
  /** Interval of heartbeat comments, ms (default 15,000). */
  readonly heartbeatMs?: number
  /** Most concurrent streams (default 64). */
  readonly maxSubscribers?: number
}
