/**
 * How the CLI shows native P2P sync (GET /api/v1/p2p/status, docs/PROTOCOL.md §4): the P2P
 * peers, the gossip statistics and the sync statistics.
 */
import type { P2pPeerView, P2pStatusView } from '../api/contract.ts'
import { columns } from './io.ts'

export type { P2pPeerView, P2pStatusView } from '../api/contract.ts'

const short = (id: string | null): string => (id === null ? '?' : id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id)
const bytes = (n: number): string => (n < 10_000 ? `${n} B` : n < 10_000_000 ? `${(n / 1024).toFixed(0)} KiB` : `${(n / 1048576).toFixed(0)} MiB`)

/** A peer's path: `direct` (QUIC), `direct/tcp` (the TCP fallback), `relayed via <relay>`, or `-` without a session. */
export function pathText (p: { readonly path?: string | null, readonly relay?: string | null, readonly transport?: string | null }): string {
  if (p.path === 'relayed') return `relayed via ${short(p.relay ?? null)}`
  if (p.path === 'direct' && p.transport === 'tcp') return 'direct/tcp'
  return p.path ?? '-'
}

/** The gossip and sync statistics, as name/value rows. */
export function gossipStatsText (s: P2pStatusView): string {
  const g = s.gossip_stats
  const y = s.sync_stats
  return columns([
    ['gossip', `round ${g.round}, ${g.pending_announcements} pending announcements, ${g.known_ids} known ids, ` +
      `last bloom filter ${g.bloom_filter_items} items at ${(g.bloom_filter_fpr * 100).toFixed(2)} % false positives`],
    ['sync', `${y.peer_count} peers connected, ${y.local_ids} local ids, ${y.total_successful_syncs} successful syncs, ${y.total_failed_syncs} failed`]
  ])
}

/** Everything of native sync: endpoint, P2P peers, gossip and sync statistics. */
export function nativeStatusText (s: P2pStatusView): string {
  let out = `native P2P: node ${s.node_id}, UDP port ${s.port}, ${s.peer_count} connected\n`
  out += gossipStatsText(s)
  const peers: readonly P2pPeerView[] = s.peers ?? s.connected_peers.map(p => ({ node_id: null, addr: p.addr, mode: p.connected ? 'native' : 'offline', connected: p.connected, path: null, relay: null, transport: null, last_sync: null, bytes_sent: 0, bytes_received: 0, failures: 0 }))
  if (peers.length === 0) return out + 'no P2P peers; add one with: engram sync pair NAME URL (or p2p.manualPeers)\n'
  out += '\n' + columns([
    ['P2P PEER', 'MODE', 'PATH', 'LAST SYNC', 'SENT', 'RECEIVED', 'FAILURES', 'ADDRESS'],
    ...peers.map(p => [short(p.node_id), p.mode, pathText(p), p.last_sync ?? 'never', bytes(p.bytes_sent), bytes(p.bytes_received), String(p.failures), p.addr])
  ])
  for (const p of peers) if (!p.connected && typeof p.last_error === 'string') out += `${p.addr}: ${p.last_error}\n`
  return out
}
