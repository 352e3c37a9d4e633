/**
 * Builds discovery for a node (src/discovery/): the P2P peers of the node's peer registry
 * (peers/P2pPeers.ts, the same native sync dials from), mDNS when `p2p.mdns`
 * or `discovery.bonjourEnabled` is on (the two keys mean the same), the static list
 * `sync.peers` (ENGRAM_SYNC_PEERS) with its fallback wait `sync.staticFallbackSeconds`, all
 * proposing peers to native sync. Part of the composition root: the one place that names the
 * bonjour adapter. Discovery dials through native sync, so without `p2p.enabled` there is none
 * (and the log says so when discovery settings are set).
 */
import type { EngramConfig } from '../config/schema.ts'
import type { NodeId } from '../core/ids.ts'
import { BonjourDiscovery } from '../discovery/BonjourDiscovery.ts'
import type { Clock } from '../discovery/clock.ts'
import type { Discovery } from '../discovery/Discovery.ts'
import { DiscoveryService } from '../discovery/DiscoveryService.ts'
import type { P2pPeers } from '../peers/P2pPeers.ts'
import { MAX_PROTOCOL_VERSION, MIN_PROTOCOL_VERSION } from '../protocol/native/messages.ts'
import type { NativeSync } from '../sync/native/NativeSync.ts'
import type { Logger } from '../util/log.ts'

/** Whether mDNS is on: `p2p.mdns` or `discovery.bonjourEnabled`. */
export function mdnsEnabled (c: EngramConfig): boolean {
  return c.p2p.mdns || c.discovery.bonjourEnabled
}

export interface DiscoveryParts {
  readonly config: EngramConfig
  /** The P2P peers of the node's peer registry (native sync is handed the same). */
  readonly peers: P2pPeers
  readonly native: NativeSync | undefined
  readonly nodeId: NodeId
  /** The port the REST API listens on (advertised in the SRV record). */
  readonly apiPort: number
  readonly log: Logger
  readonly clock?: Clock
  /** Replaces mDNS (tests). */
  readonly discovery?: Discovery
}

/** Discovery for the node, or undefined when native sync is off. Not started. */
export function createDiscovery (parts: DiscoveryParts): DiscoveryService | undefined {
  const c = parts.config
  const log = parts.log.child({ part: 'discovery' })
  if (parts.native === undefined) {
    if (mdnsEnabled(c) || c.sync.peers.length > 0) {
      log.warn('mDNS and the static peer list (sync.peers) dial peers for native P2P sync, which is off: set p2p.enabled and p2p.seed on every node')
    }
    return undefined
  }
  const discovery = parts.discovery ?? (mdnsEnabled(c)
    ? new BonjourDiscovery({ serviceType: c.discovery.bonjourServiceType, log, ...(parts.clock !== undefined ? { clock: parts.clock } : {}) })
    : undefined)
  return new DiscoveryService({
    book: parts.peers,
    dialer: parts.native,
    ...(discovery !== undefined ? { discovery } : {}),
    self: { nodeId: parts.nodeId, p2pPort: c.p2p.port, apiPort: parts.apiPort, protocol: MAX_PROTOCOL_VERSION },
    staticPeers: c.sync.peers,
    staticFallbackMs: c.sync.staticFallbackSeconds * 1000,
    minProtocol: MIN_PROTOCOL_VERSION,
    log,
    ...(parts.clock !== undefined ? { clock: parts.clock } : {})
  })
}
