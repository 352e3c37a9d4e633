/**
 * Builds native P2P sync for a node when `p2p.enabled`: a transport on `p2p.host`:`p2p.port` — QUIC on UDP,
 * and TCP (Noise + Yamux) on the same port number for networks that block UDP, tried after
 * QUIC, in a private network whose key is derived from the seed (transport/libp2p/privateNetwork.ts)
 * — with the node's identity key (so the transport proves the node id), and the NativeSync
 * manager over it with the configured peers. With relays (`p2p.relays`) or serving as one
 * (`p2p.relay.enabled`), the transport gets the reach options (`relayReach`): the group's admission
 * key, the relays, the relay limits; members that hold a slot on a relay are dialled through it.
 * Part of the composition root: the one place that names the QUIC adapter.
 */
import type { PrivateKey } from '@libp2p/interface'
import type { EngramConfig } from '../config/schema.ts'
import type { Engine } from '../engine/Engine.ts'
import type { ConflictPolicy } from '../replication/applyPage.ts'
import type { PeerClocks } from '../replication/PeerClocks.ts'
import type { HandshakeCertificates } from '../protocol/native/handshake.ts'
import { NativeSync, type NativeSyncSettings } from '../sync/native/NativeSync.ts'
import { FAILED_HANDSHAKES } from '../sync/native/SessionGuard.ts'
import type { DialerEvent } from '../discovery/PeerDialer.ts'
import type { P2pPeers } from '../peers/P2pPeers.ts'
import type { ReachOptions } from '../transport/libp2p/QuicTransport.ts'
import type { Logger } from '../util/log.ts'
import { parseAdmissionKey, type SeedKeys } from '../core/seedKeys.ts'
import { relayMultiaddrs } from '../transport/libp2p/relay/relayAddrs.ts'
import type { MailboxSync } from '../sync/mailbox/MailboxSync.ts'
import { createMailboxSync } from './mailbox.ts'
import { fileWindowSaves } from '../sync/native/WindowSaves.ts'

/** Whether the configuration uses relays or serves as one (the group keys are then needed). */
export function usesRelays (c: EngramConfig): boolean {
  return c.p2p.enabled && (c.p2p.relays.length > 0 || c.p2p.relay.enabled)
}

/** The transport's reach options of a configuration, or undefined without relays. */
export function relayReach (c: EngramConfig, keys: SeedKeys | undefined): ReachOptions | undefined {
  if (!usesRelays(c)) return undefined
  const r = c.p2p.relay
  return {
    relays: c.p2p.relays.flatMap(relayMultiaddrs),
    ...(keys !== undefined ? { memberKey: keys.relay } : {}),
    ...(r.enabled
      ? {
          serve: {
            keys: [...(keys !== undefined ? [keys.relay] : []), ...r.admissionKeys.map((k, i) => parseAdmissionKey(k, `p2p.relay.admissionKeys[${i}]`))],
            limits: { maxReservations: r.maxReservations, maxCircuitsPerPeer: r.maxCircuitsPerPeer, maxCircuitBytes: r.maxCircuitBytes, maxCircuitSeconds: r.maxCircuitSeconds }
          }
        }
      : {}),
    pollMs: c.p2p.relayPollMs,
    holePunch: c.p2p.holePunch
  }
}

/** The native sync settings of a configuration (read again on every use: hot reload applies). */
export function nativeSettings (c: EngramConfig): NativeSyncSettings {
  return {
    gossipIntervalMs: c.p2p.gossipIntervalMs,
    bloomFpr: c.p2p.bloomFpr,
    maxTriplesPerSync: c.sync.maxTriplesPerSync,
    syncTimeoutMs: c.sync.syncTimeoutMs,
    tombstoneTtlHours: c.sync.tombstoneTtlHours,
    memberGoneDays: c.sync.memberGoneDays,
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
  /** The P2P peers of the node's peer registry (discovery is handed the same). */
  readonly peers?: P2pPeers
  /** Told about every peer dialled, reached, failed or ended (discovery keeps the peers current with it). */
  readonly onPeerEvent?: (ev: DialerEvent) => void
  /** sync.conflictStrategy and the keep-both list, shared with polled sync. */
  readonly conflicts?: ConflictPolicy
  /**
   * The keys of p2p.seed (`seedKeys`, derived once by the caller: it takes a while): the TCP
   * private network's, the relays', the mailbox's. Absent: they come later, through `useKeys`.
   */
  readonly keys?: SeedKeys
  /** The peers' clock readings, shared with polled sync. */
  readonly clocks?: PeerClocks
  /** The file the gossip window index is saved in between starts (node/paths.ts `window`). */
  readonly windowFile?: string
}

/**
 * Native sync for the node and its mailbox side (with relays), or undefined when `p2p.enabled` is
 * false. Not started. The QUIC transport (libp2p, some 700 modules) is loaded only here, so a
 * node without P2P starts without it.
 */
let transportModule: Promise<typeof import('../transport/libp2p/QuicTransport.ts')> | undefined

/**
 * Starts loading the P2P transport's modules (about a second of a cold start), once: the node
 * calls it before deriving the seed's keys, whose memory-hard work runs off the main thread, so
 * the two overlap. Whoever awaits it sees a failure to load.
 */
export function loadTransport (): Promise<typeof import('../transport/libp2p/QuicTransport.ts')> {
  transportModule ??= import('../transport/libp2p/QuicTransport.ts')
  return transportModule
}

export interface NativeSyncBuilt {
  readonly native: NativeSync
  /** The mailbox side, when the node has relays and the keys were given. */
  readonly mailbox: MailboxSync | undefined
  /**
   * The seed's keys, when they were not given at once: the transport's TCP listens and dials with
   * the private network's key, its relay parts start; resolves with the mailbox side (not started).
   */
  readonly useKeys: (keys: SeedKeys) => Promise<MailboxSync | undefined>
  /** The seed's keys could not be derived: the transport's status says so. */
  readonly keysFailed: (reason: string) => void
}

export async function createNativeSync (parts: NativeSyncParts): Promise<NativeSyncBuilt | undefined> {
  const config = parts.config()
  if (!config.p2p.enabled) return undefined
  const { QuicTransport } = await loadTransport()
  const log = parts.log.child({ part: 'p2p' })
  const reach = relayReach(config, parts.keys)
  const transport = new QuicTransport({
    privateKey: parts.privateKey,
    host: config.p2p.host,
    port: config.p2p.port,
    transports: 'both',
    ...(parts.keys !== undefined ? { privateNetworkKey: parts.keys.privateNetwork } : { keysPending: true }),
    log: (message, details) => { log.debug(message, details) },
    notice: (level, message, details) => { log[level](message, details) },
    ...(reach !== undefined ? { reach } : {})
  })
  const native = new NativeSync({
    engine: parts.engine,
    transport,
    seed: config.p2p.seed,
    passphrase: () => parts.config().sync.passphrase,
    ...(parts.certificates !== undefined ? { certificates: parts.certificates } : {}),
    ...(parts.conflicts !== undefined ? { conflicts: parts.conflicts } : {}),
    ...(parts.clocks !== undefined ? { clocks: parts.clocks } : {}),
    ...(parts.windowFile !== undefined ? { windowSaves: fileWindowSaves(parts.windowFile) } : {}),
    settings: () => nativeSettings(parts.config()),
    manualPeers: [...config.p2p.manualPeers, ...config.discovery.manualPeers],
    ...(parts.peers !== undefined ? { peers: parts.peers } : {}),
    ...(parts.onPeerEvent !== undefined ? { onPeerEvent: parts.onPeerEvent } : {}),
    log,
    port: config.p2p.port,
    now: parts.now,
    routes: config.p2p.eagerRoutes,
    ...(parts.gossipOnly === true ? { stream: false, push: false } : {}),
    ...(parts.failedHandshakes !== undefined ? { failedHandshakes: { ...FAILED_HANDSHAKES, burst: parts.failedHandshakes } } : {})
  })
  transport.onRelayMember((member, addr) => { native.connect(addr, { source: 'relay', expectedNode: member }) })
  const mailboxOf = (keys: SeedKeys | undefined): MailboxSync | undefined =>
    createMailboxSync({ config, transport, engine: parts.engine, keys, log, ...(parts.conflicts !== undefined ? { conflicts: parts.conflicts } : {}) })
  return {
    native,
    mailbox: mailboxOf(parts.keys),
    useKeys: async keys => {
      await transport.useKeys({ privateNetworkKey: keys.privateNetwork, ...(reach !== undefined ? { memberKey: keys.relay } : {}) })
      return mailboxOf(keys)
    },
    keysFailed: reason => { transport.keysFailed(reason) }
  }
}
