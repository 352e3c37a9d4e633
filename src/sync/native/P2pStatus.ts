/**
 * The status of native sync, GET /api/v1/p2p/status (docs/PROTOCOL.md §4), and its list of
 * peers: the configured and API peers of the registry, peers proposed by discovery, then peers
 * connected to this node that are neither, each once.
 *
 * Nothing is kept here: every view is assembled when asked from what the manager
 * (NativeSync.ts) holds — its sessions and their gossip sides, the dial states, the per-peer
 * totals (PeerStats.ts), the refusals (SessionGuard.ts) and the window — so it is never stale.
 */
import type { NodeId } from '../../core/ids.ts'
import type { P2pPeers } from '../../peers/P2pPeers.ts'
import type { ProposedSource } from '../../peers/sources.ts'
import type { Store } from '../../store/Store.ts'
import type { CarrierStatus, Transport } from '../../transport/Transport.ts'
import type { GossipPeer } from '../../protocol/native/gossip.ts'
import type { ReconPeer } from '../../protocol/native/recon.ts'
import type { LazyWindow, WindowView } from './LazyWindow.ts'
import type { NativeSession } from './NativeSession.ts'
import { withPeerId, type P2pPeerView, type PeerStats } from './PeerStats.ts'
import type { Redialer } from './Redialer.ts'
import type { GuardCounts, SessionGuard } from './SessionGuard.ts'

export interface P2pStatusSources {
  readonly nodeId: NodeId
  readonly feedId: string
  /** The UDP port reported (p2p.port); absent: the port of the first listen address. */
  readonly port?: number
  readonly transport: Transport
  readonly store: Store
  /** The manager's sessions by connection id, and their gossip sides. */
  readonly sessions: ReadonlyMap<string, NativeSession>
  readonly gossipPeers: ReadonlyMap<NativeSession, GossipPeer>
  /** The coded-round sides of the sessions whose peers speak them. */
  readonly codedPeers?: ReadonlyMap<NativeSession, ReconPeer>
  /** The registry's P2P peers (its configured and API peers are listed first). */
  readonly peers: P2pPeers
  /** Peers proposed by discovery, by address. */
  readonly proposed: ReadonlyMap<string, { readonly source: ProposedSource, readonly expectedNode?: NodeId }>
  readonly redialer: Redialer
  readonly peerStats: PeerStats
  readonly guard: SessionGuard
  readonly window: LazyWindow
}

/** GET /api/v1/p2p/status (docs/PROTOCOL.md §4): the one definition of its shape, for the API and its clients. */
export interface P2pStatusView {
  readonly node_id: string
  readonly enabled: boolean
  readonly port: number
  readonly peer_count: number
  readonly connected_peers: ReadonlyArray<{ readonly addr: string, readonly connected: boolean }>
  readonly gossip_stats: {
    readonly round: number, readonly pending_announcements: number, readonly known_ids: number, readonly bloom_filter_items: number, readonly bloom_filter_fpr: number
    /** Coded rounds decoded and given up with the peers connected now (absent from earlier versions). */
    readonly coded_rounds?: number, readonly coded_failed?: number
  }
  readonly sync_stats: { readonly peer_count: number, readonly local_ids: number, readonly total_successful_syncs: number, readonly total_failed_syncs: number }
  /** Every peer (absent in the answers of earlier versions: then connected_peers is all there is). */
  readonly peers?: readonly P2pPeerView[]
  readonly refused?: GuardCounts
  readonly listen_addrs?: readonly string[]
  /** Each carrier's state: TCP is `starting` while the seed's keys are derived (absent from earlier versions). */
  readonly carriers?: CarrierStatus
  readonly feed_id?: string
  /** The gossip window (docs/PROTOCOL.md §3). */
  readonly window?: WindowView
}

export interface P2pStatusOptions {
  /**
   * The gossip window as taken in so far, without taking in the entries committed since (they
   * are counted as `window.pending`): for a status built often while records stream in (the
   * live dashboard), which must not make the node hash them on their way. Default false: exact.
   */
  readonly lazyWindow?: boolean
}

export type { P2pPeerView } from './PeerStats.ts'

/** The manager's counters, as the status reports them. */
export interface P2pCounters {
  /** Gossip rounds started. */
  readonly round: number
  readonly successes: number
  readonly failures: number
}

export class P2pStatus {
  private readonly src: P2pStatusSources

  constructor (src: P2pStatusSources) {
    this.src = src
  }

  /** GET /api/v1/p2p/status, in the shape of docs/PROTOCOL.md §4. */
  status (counters: P2pCounters, opts: P2pStatusOptions = {}): P2pStatusView {
    const lazy = opts.lazyWindow === true
    const src = this.src
    const open = [...src.sessions.values()].filter(s => s.isOpen)
    const openPeers = new Set(open.map(s => s.peer))
    // As Cortex lists them: the peers with an open session, each once (its first session), so
    // that peer_count is this list's length; offline peers are in `peers`.
    const firstSession = [...new Map(open.map(s => [s.peer, s] as const).reverse()).values()].reverse()
    const connected = firstSession.map(s => ({ addr: withPeerId(s.conn.remoteAddr, s.peer), connected: true }))
    const g = this.gossipStats(lazy)
    const st = src.store.stats()
    const local = st.triples + st.notes + st.episodes + st.traces
    return {
      node_id: src.nodeId,
      enabled: true,
      port: src.port ?? portOf(src.transport.listenAddrs()[0]) ?? 0,
      peer_count: openPeers.size,
      connected_peers: connected,
      gossip_stats: {
        round: counters.round,
        pending_announcements: g.pending,
        known_ids: g.knownIds,
        bloom_filter_items: g.bloomItems,
        bloom_filter_fpr: g.bloomFpr,
        coded_rounds: g.codedRounds,
        coded_failed: g.codedFailed
      },
      sync_stats: {
        peer_count: openPeers.size,
        local_ids: local,
        total_successful_syncs: counters.successes,
        total_failed_syncs: counters.failures
      },
      peers: this.peers(),
      refused: src.guard.counts(),
      listen_addrs: src.transport.listenAddrs(),
      ...(src.transport.carriers !== undefined ? { carriers: src.transport.carriers() } : {}),
      ...(src.transport.reachStatus !== undefined ? { reach: src.transport.reachStatus() } : {}),
      feed_id: src.feedId,
      window: src.window.view(lazy)
    }
  }

  /** Configured and API peers, proposed peers, then other peers with an open session. */
  peers (): P2pPeerView[] {
    const src = this.src
    const out: P2pPeerView[] = []
    const seen = new Set<NodeId>()
    for (const p of src.peers.dialledAlways()) {
      const st = src.redialer.state(p.addr)
      const node = st?.nodeId
      if (node !== undefined) seen.add(node)
      out.push(this.peer(p.addr, p.source, node, st?.lastError))
    }
    for (const [addr, p] of src.proposed) {
      const st = src.redialer.state(addr)
      const node = st?.nodeId ?? p.expectedNode
      if (node !== undefined) seen.add(node)
      out.push(this.peer(addr, p.source, node, st?.lastError))
    }
    for (const s of src.sessions.values()) {
      if (!s.isOpen || seen.has(s.peer)) continue
      seen.add(s.peer)
      out.push(this.peer(s.conn.remoteAddr, 'inbound', s.peer, undefined))
    }
    return out
  }

  /** The view of one peer: its totals, its live sessions and its dial state. */
  peer (addr: string, source: P2pPeerView['source'], node: NodeId | undefined, lastError: string | undefined): P2pPeerView {
    const live = node !== undefined ? [...this.src.sessions.values()].filter(s => s.peer === node) : []
    return this.src.peerStats.view(addr, source, node, live, this.src.redialer.state(addr)?.failures ?? 0, lastError)
  }

  private gossipStats (lazy: boolean): { pending: number, knownIds: number, bloomItems: number, bloomFpr: number, codedRounds: number, codedFailed: number } {
    let codedRounds = 0
    let codedFailed = 0
    for (const [s, c] of this.src.codedPeers ?? []) {
      if (!s.isOpen) continue
      const st = c.stats()
      codedRounds += st.decoded
      codedFailed += st.failed
    }
    let pending = 0
    let bloomItems = 0
    let bloomFpr = 0
    for (const [s, g] of this.src.gossipPeers) {
      if (!s.isOpen) continue
      const st = g.stats()
      pending += st.pendingAnnouncements
      if (st.bloomItems >= bloomItems) { bloomItems = st.bloomItems; bloomFpr = st.bloomFpr }
    }
    return { pending, knownIds: lazy ? this.src.window.sizeTakenIn : this.src.window.size, bloomItems, bloomFpr: Math.round(bloomFpr * 1e6) / 1e6, codedRounds, codedFailed }
  }
}

function portOf (addr: string | undefined): number | undefined {
  const m = addr === undefined ? null : /\/(?:udp|tcp)\/(\d+)/.exec(addr)
  return m === null ? undefined : Number(m[1])
}
