/**
 * Per-peer statistics of native sync that outlive sessions: bytes, last sync, consecutive
 * failures and the last error, by node id; and the per-peer view of the status
 * (docs/PROTOCOL.md §4).
 */
import { carrierOf, sessionPath, type Carrier } from '../../transport/path.ts'
import type { NodeId } from '../../core/ids.ts'
import type { PeerSource } from '../../peers/sources.ts'
import type { NativeSession } from './NativeSession.ts'
import type { CatchUpView, LagView } from '../../telemetry/FeedProgress.ts'

interface PeerTotals {
  addr: string
  lastSyncAt: number | undefined
  bytesSent: number
  bytesReceived: number
  /** Consecutive failures. */
  failures: number
  lastError: string | undefined
}

/** One P2P peer in GET /api/v1/p2p/status and /api/v1/p2p/peers (docs/PROTOCOL.md §4). */
export interface P2pPeerView {
  readonly node_id: string | null
  readonly addr: string
  readonly mode: 'native' | 'offline'
  readonly connected: boolean
  /** Where the peer came from (peers/sources.ts), or `inbound`: it dialled this node (absent in the answers of earlier versions). */
  readonly source?: PeerSource | 'inbound'
  /** The path of the open session: direct, or through the relay `relay` (null when offline; absent in the answers of earlier versions). */
  readonly path?: 'direct' | 'relayed' | null
  readonly relay?: string | null
  /**
   * The transport of the open session: `quic`, or `tcp` (the fallback where UDP is blocked; a
   * session there moves back to QUIC once QUIC answers again); null when offline or on another
   * kind (absent in the answers of earlier versions).
   */
  readonly transport?: Carrier
  readonly last_sync: string | null
  readonly bytes_sent: number
  readonly bytes_received: number
  readonly failures: number
  readonly last_error?: string | null
  /** The catch-up from the peer in flight, or finished within the minute (absent: none). */
  readonly catch_up?: CatchUpView
  /** How far behind the peer's feed this node is (absent: not known yet). */
  readonly lag?: { readonly in: LagView }
}

/** A multiaddr with the peer's id at its end (as in the status of existing clients). */
export function withPeerId (addr: string, node: string): string {
  if (!addr.startsWith('/') || addr.includes('/p2p/')) return addr
  return `${addr}/p2p/${node}`
}

/** Peers whose totals are kept (docs/LIMITS.md); beyond, the first seen are forgotten. */
const MAX_PEERS_KEPT = 1024

export class PeerStats {
  private readonly totals = new Map<NodeId, PeerTotals>()
  private readonly now: () => number

  constructor (now: () => number) {
    this.now = now
  }

  /** A page with records or a gossip round succeeded with `node`. */
  synced (node: NodeId, addr: string): void {
    const t = this.of(node, addr)
    t.failures = 0
    t.lastSyncAt = this.now()
  }

  /**
   * A session ended: its bytes and last sync are added up, and its error counted. Totals are kept
   * for peers this node dialled or that proved the seed once; a stream of strangers failing the
   * handshake creates none.
   */
  ended (session: NativeSession): void {
    const info = session.info()
    if (!this.totals.has(session.peer) && info.openedAt === undefined && session.conn.direction === 'inbound') return
    const t = this.of(session.peer, session.conn.remoteAddr)
    t.bytesSent += info.bytesSent
    t.bytesReceived += info.bytesReceived
    if (info.lastSyncAt !== undefined) t.lastSyncAt = Math.max(t.lastSyncAt ?? 0, info.lastSyncAt)
    const err = session.error
    if (err !== undefined) {
      t.failures++
      t.lastError = err.message
    }
  }

  /** The status view of a peer: totals plus its live sessions. */
  view (addr: string, source: P2pPeerView['source'], node: NodeId | undefined, live: readonly NativeSession[], dialFailures: number, dialError: string | undefined): P2pPeerView {
    const t = node !== undefined ? this.totals.get(node) : undefined
    const open = live.find(s => s.isOpen)
    const infos = live.map(s => s.info())
    const openInfo = open !== undefined ? infos[live.indexOf(open)] : undefined
    const lastSync = Math.max(t?.lastSyncAt ?? 0, ...infos.map(i => i.lastSyncAt ?? 0))
    return {
      node_id: node ?? null,
      addr: open !== undefined ? withPeerId(open.conn.remoteAddr, open.peer) : addr,
      mode: open !== undefined ? 'native' : 'offline',
      connected: open !== undefined,
      source,
      path: open !== undefined ? sessionPath(open.conn.remoteAddr).path : null,
      relay: open !== undefined ? sessionPath(open.conn.remoteAddr).relay ?? null : null,
      transport: open !== undefined ? carrierOf(open.conn.remoteAddr) : null,
      last_sync: lastSync > 0 ? new Date(lastSync).toISOString() : null,
      bytes_sent: (t?.bytesSent ?? 0) + infos.reduce((n, i) => n + i.bytesSent, 0),
      bytes_received: (t?.bytesReceived ?? 0) + infos.reduce((n, i) => n + i.bytesReceived, 0),
      failures: t?.failures ?? dialFailures,
      last_error: (open !== undefined ? undefined : t?.lastError ?? dialError) ?? null,
      ...(openInfo?.catchUp !== undefined ? { catch_up: openInfo.catchUp } : {}),
      ...(openInfo?.lagIn !== undefined ? { lag: { in: openInfo.lagIn } } : {})
    }
  }

  private of (node: NodeId, addr: string): PeerTotals {
    let t = this.totals.get(node)
    if (t === undefined) {
      t = { addr, lastSyncAt: undefined, bytesSent: 0, bytesReceived: 0, failures: 0, lastError: undefined }
      // a peer that keeps making new identities cannot grow this without bound: the oldest go
      if (this.totals.size >= MAX_PEERS_KEPT) {
        const oldest = this.totals.keys().next().value
        if (oldest !== undefined) this.totals.delete(oldest)
      }
      this.totals.set(node, t)
    }
    t.addr = addr
    return t
  }
}
