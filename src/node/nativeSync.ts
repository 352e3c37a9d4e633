/**
 * Builds native P2P sync for a node when `p2p.enabled`: a transport on `p2p.host`:`p2p.port` — QUIC on UDP,
 * and TCP (Noise + Yamux) on the same port number for networks that block UDP, tried after
 * QUIC, in a private network whose key is derived from the seed (transport/libp2p/privateNetwork.ts)
 * — with the node's identity key (so the transport proves the node id), and the NativeSync
 * manager over it with the configured peers. Part of the composition root: the one place that
 * names the QUIC adapter.
 */
import type { PrivateKey } from '@libp2p/interface'
import type { EngramConfig } from '../config/schema.ts'
import type { Engine } from '../engine/Engine.ts'
import type { ConflictPolicy } from '../replication/applyPage.ts'
import type { HandshakeCertificates } from '../protocol/native/handshake.ts'
import { NativeSync, type NativeSyncSettings } from '../sync/native/NativeSync.ts'
import { FAILED_HANDSHAKES } from '../sync/native/SessionGuard.ts'
import type { DialerEvent } from '../discovery/PeerDialer.ts'
import { QuicTransport } from '../transport/libp2p/QuicTransport.ts'
import type { Logger } from '../util/log.ts'

/** The native sync settings of a configuration (read again on every use: hot reload applies). */
export function nativeSettings (c: EngramConfig): NativeSyncSettings {
  return {
    gossipIntervalMs: c.p2p.gossipIntervalMs,
    bloomFpr: c.p2p.bloomFpr,
    maxTriplesPerSync: c.sync.maxTriplesPerSync,
    syncTimeoutMs: c.sync.syncTimeoutMs,
    tombstoneTtlHours: c.sync.tombstoneTtlHours,
    maxPeers: c.p2p.maxPeers,
    maxMessagesPerSecond: c.p2p.maxMessagesPerSecond
  }
}

export interface NativeSyncParts {
  readonly config: () => EngramConfig
  readonly engine: Engine
  readonly privateKey: PrivateKey
  readonly log: Logger
  readonly now?: () => number
  /** Test hook: gossip rounds alone (no cursor streams, no live push). */
  readonly gossipOnly?: boolean
  /** Test hook: failed handshakes one source may make at once (default 10). */
  readonly failedHandshakes?: number
  /** The certificate layer of the handshake when TLS is on (NodeTls.handshake()). */
  readonly certificates?: HandshakeCertificates
  /** Told about every peer dialled, reached, failed or ended (discovery's peer book). */
  readonly onPeerEvent?: (ev: DialerEvent) => void
  /** sync.conflictStrategy and the keep-both list, shared with polled sync. */
  readonly conflicts?: ConflictPolicy
  /** The TCP private network's key (derivePrivateNetworkKey of p2p.seed, derived by the caller: it takes a while). */
  readonly privateNetworkKey?: Uint8Array
}

/** Native sync for the node, or undefined when `p2p.enabled` is false. Not started. */
export function createNativeSync (parts: NativeSyncParts): NativeSync | undefined {
  const config = parts.config()
  if (!config.p2p.enabled) return undefined
  const log = parts.log.child({ part: 'p2p' })
  const transport = new QuicTransport({
    privateKey: parts.privateKey,
    host: config.p2p.host,
    port: config.p2p.port,
    transports: 'both',
    ...(parts.privateNetworkKey !== undefined ? { privateNetworkKey: parts.privateNetworkKey } : {}),
    log: (message, details) => { log.debug(message, details) }
  })
  return new NativeSync({
    engine: parts.engine,
    transport,
    seed: config.p2p.seed,
    passphrase: () => parts.config().sync.passphrase,
    ...(parts.certificates !== undefined ? { certificates: parts.certificates } : {}),
    ...(parts.conflicts !== undefined ? { conflicts: parts.conflicts } : {}),
    settings: () => nativeSettings(parts.config()),
    manualPeers: [...config.p2p.manualPeers, ...config.discovery.manualPeers],
    ...(parts.onPeerEvent !== undefined ? { onPeerEvent: parts.onPeerEvent } : {}),
    log,
    port: config.p2p.port,
    now: parts.now,
    ...(parts.gossipOnly === true ? { stream: false, push: false } : {}),
    ...(parts.failedHandshakes !== undefined ? { failedHandshakes: { ...FAILED_HANDSHAKES, burst: parts.failedHandshakes } } : {})
  })
}
