/**
 * Discovery over the in-memory LAN and the in-memory transport: native sync nodes (test/native/
 * helpers.ts) with a DiscoveryService each, mDNS replaced by MemoryDiscovery, time of discovery
 * on a ManualClock (native sync's own redial backoff is a few ms of real time).
 */
import type { NodeId } from '../../src/core/ids.ts'
import type { ManualClock } from '../../src/discovery/clock.ts'
import { DiscoveryService } from '../../src/discovery/DiscoveryService.ts'
import type { MemoryDiscovery, MemoryDiscoveryOptions, MemoryLan } from '../../src/discovery/MemoryDiscovery.ts'
import type { P2pPeer, P2pPeers } from '../../src/peers/P2pPeers.ts'
import { PeerRegistry } from '../../src/peers/PeerRegistry.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import type { Store } from '../../src/store/Store.ts'
import type { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { createLogger } from '../../src/util/log.ts'
import { simNode, type SimNode } from '../native/helpers.ts'

export interface DiscoNode extends SimNode {
  readonly discovery: MemoryDiscovery | undefined
  readonly service: DiscoveryService
  /** The node's P2P peers (the registry's section native sync dials from). */
  readonly book: P2pPeers
  /** Log lines of discovery alone. */
  readonly discoveryLogs: string[]
  start (): Promise<void>
  stop (): Promise<void>
}

export interface DiscoNodeOptions {
  readonly seed?: string
  readonly store?: Store
  /** mDNS on the LAN (default), off (`false`), or with these options. */
  readonly mdns?: false | MemoryDiscoveryOptions
  readonly staticPeers?: readonly string[]
  readonly staticFallbackMs?: number
  readonly forgetAfterMs?: number
}

export function discoNode (net: MemoryNetwork, lan: MemoryLan, clock: ManualClock, name: string, opts: DiscoNodeOptions = {}): DiscoNode {
  const ref: { service?: DiscoveryService } = {}
  const store = opts.store ?? new MemoryStore()
  // one registry, as the node has: native sync dials from the same P2P peers discovery keeps
  const book = new PeerRegistry(store, () => clock.now()).p2p
  const node = simNode(net, name, {
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    store,
    peers: book,
    onPeerEvent: ev => { ref.service?.onDialerEvent(ev) }
  })
  const discoveryLogs: string[] = []
  const log = createLogger({ level: 'debug', sink: line => { discoveryLogs.push(line); node.logs.push(line) }, now: () => clock.now() })
  const discovery = opts.mdns === false ? undefined : lan.createDiscovery({ ttlMs: 60_000, refreshMs: 15_000, ...opts.mdns })
  const s = new DiscoveryService({
    book,
    dialer: node.sync,
    ...(discovery !== undefined ? { discovery } : {}),
    self: { nodeId: node.id, p2pPort: 19091, apiPort: 19090, protocol: 1 },
    staticPeers: opts.staticPeers ?? [],
    staticFallbackMs: opts.staticFallbackMs ?? 30_000,
    forgetAfterMs: opts.forgetAfterMs ?? 60_000,
    clock,
    log
  })
  ref.service = s
  return {
    ...node,
    discovery,
    service: s,
    book,
    discoveryLogs,
    async start () { await node.sync.start(); await s.start() },
    async stop () { await s.stop(); await node.sync.stop() }
  }
}

/** The book entries of `node` that name `peer`. */
export function entriesOf (node: DiscoNode, peer: NodeId): P2pPeer[] {
  return node.book.list().filter(e => e.nodeId === peer)
}
