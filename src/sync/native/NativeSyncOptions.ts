/**
 * What native sync is given (NativeSync.ts): its settings, read again on every use so a config
 * reload applies; its options — the engine, the transport, the secrets and certificates, the
 * peers, the test switches — and what it answers about dialling one peer and removing one.
 */
import type { NodeId } from '../../core/ids.ts'
import type { Engine } from '../../engine/Engine.ts'
import type { ConflictPolicy } from '../../replication/applyPage.ts'
import type { PeerClocks } from '../../replication/PeerClocks.ts'
import type { Transport } from '../../transport/Transport.ts'
import type { Logger } from '../../util/log.ts'
import type { RateSpec } from '../../util/tokenBucket.ts'
import type { HandshakeCertificates } from '../../protocol/native/handshake.ts'
import type { BackoffOptions } from './Redialer.ts'
import type { DialerEvent } from '../../discovery/PeerDialer.ts'
import type { P2pPeers } from '../../peers/P2pPeers.ts'
import type { WindowSaves } from './WindowSaves.ts'

export interface NativeSyncSettings {
  /** p2p.gossipIntervalMs */
  readonly gossipIntervalMs: number
  /** p2p.bloomFpr */
  readonly bloomFpr: number
  /** sync.maxTriplesPerSync: most records per page */
  readonly maxTriplesPerSync: number
  /** sync.syncTimeoutMs: longest wait for a page's acknowledgement or a send */
  readonly syncTimeoutMs: number
  /** sync.tombstoneTtlHours: sizes the gossip window */
  readonly tombstoneTtlHours: number
  /** sync.memberGoneDays: with the TTL, bounds how long an idle session waits to send its knowledge again (absent: the TTL alone) */
  readonly memberGoneDays?: number
  /** p2p.maxPeers: most sessions other nodes may open (SessionGuard.ts). Default 64. */
  readonly maxPeers?: number
  /** p2p.maxMessagesPerSecond: most messages per second from one peer (PeerBudget.ts). Default 5,000. */
  readonly maxMessagesPerSecond?: number
}

export interface NativeSyncOptions {
  readonly engine: Engine
  readonly transport: Transport
  /** p2p.seed; native sync refuses to start without one. */
  readonly seed: string | undefined
  /** sync.passphrase, read at each handshake: when set, every peer must prove it too. */
  readonly passphrase?: () => string | undefined
  /** When TLS is on (tls.*): every peer must prove a certificate of the CA that binds its node id. */
  readonly certificates?: HandshakeCertificates
  /**
   * sync.conflictStrategy and the keep-both list, applied to every page and gossip batch as polled
   * sync applies them (docs/SYNC.md, "Conflicts"); absent: the merge rules alone.
   */
  readonly conflicts?: ConflictPolicy
  /** Where the gossip window index is saved between starts (WindowSaves.ts; absent: rebuilt from the store at every start). */
  readonly windowSaves?: WindowSaves
  /** Where the peers' clock readings go (replication/PeerClocks.ts). */
  readonly clocks?: PeerClocks
  readonly settings: () => NativeSyncSettings
  /** Configured peers (p2p.manualPeers and discovery.manualPeers): listed in `peers` as `config`. */
  readonly manualPeers?: readonly string[]
  /**
   * The P2P peers of the node's peer registry (node/EngramNode.ts hands the same to discovery);
   * default: a registry of its own over the engine's store.
   */
  readonly peers?: P2pPeers
  /** Told about every peer dialled, reached, failed or ended (discovery keeps `peers` current with it). */
  readonly onPeerEvent?: (ev: DialerEvent) => void
  readonly log: Logger
  /** The UDP port reported in the status (p2p.port). */
  readonly port?: number
  /** Limit of each handshake step, ms. Default 5,000. */
  readonly handshakeTimeoutMs?: number
  /** Longest wait for the transport to stop, ms. Default 2,000. */
  readonly transportStopTimeoutMs?: number
  /** Redial backoff (Redialer.ts): 500 ms doubling to 30 s after refusals, to 5 s after dials that had no answer. */
  readonly backoff?: BackoffOptions
  readonly random?: () => number
  readonly now?: () => number
  /** Failed handshakes one source may make (default SessionGuard FAILED_HANDSHAKES; tests that fail many on purpose raise it). */
  readonly failedHandshakes?: RateSpec
  /** p2p.eagerRoutes: prune duplicate paths and graft them back (SessionBuilder.ts; the config's default is on). */
  readonly routes?: boolean
  /** Test-only switches: cursor streaming, live push, bucket descent in gossip, compressed frames, coded gossip rounds (all default true; `coded` may name the highest version of coded rounds offered, as an older node). */
  readonly stream?: boolean
  readonly push?: boolean
  readonly buckets?: boolean
  readonly compress?: boolean
  readonly coded?: boolean | number
}

/** Where dialing one peer stands (POST /api/v1/p2p/peers waits on it). */
export interface PeerDialState {
  /** A session with it is open (its seed proven). */
  readonly open: boolean
  /** Failed dials or sessions in a row. */
  readonly failures: number
  /** Its node id, once a dial reached it. */
  readonly nodeId?: NodeId
  readonly lastError?: string
}

/** A P2P peer removed through the API (DELETE /api/v1/p2p/peers/:id answers it as `removed`). */
export interface RemovedP2pPeer {
  readonly addr: string
  readonly source: 'api'
  /** When it was added, ISO 8601. */
  readonly addedAt: string
}
