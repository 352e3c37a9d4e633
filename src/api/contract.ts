/**
 * The REST contract: the shapes of what the API answers, written once and imported by the
 * server (api/) and by its clients (client/, cli/, mcp/), so that neither side copies the other
 * by hand. Records are in dto.ts; this file holds the rest. Types and constants only: a client
 * that imports it pulls in no server code.
 */
import type { RecordKind } from '../core/model.ts'

/** Most queries in one POST /api/v1/query/batch, and the largest sum of their limits. */
export const BATCH_QUERY_LIMITS = { queries: 1000, totalLimit: 100_000 } as const

/** One change in an event of GET /api/v1/events (api/changeSummary.ts builds them). */
export interface ChangeItem {
  readonly seq: number
  readonly kind: RecordKind
  readonly key: string
  readonly namespace: string
  readonly deleted: boolean
  /** Triples only: the subject, so that a reader can tell which node of a graph changed. */
  readonly subject?: string
}

export interface ChangeSummary {
  readonly seq: { readonly from: number, readonly to: number }
  readonly via: string | null
  readonly count: number
  readonly kinds: RecordKind[]
  readonly namespaces: string[]
  readonly changes: ChangeItem[]
  readonly truncated: boolean
}

/** A P2P peer in GET /api/v1/p2p/status and GET /api/v1/p2p/peers (docs/PROTOCOL.md §4). */
export interface P2pPeerView {
  readonly node_id: string | null
  readonly addr: string
  readonly mode: string
  readonly connected: boolean
  readonly source?: string
  readonly last_sync: string | null
  readonly bytes_sent: number
  readonly bytes_received: number
  readonly failures: number
  readonly last_error?: string | null
}

export interface P2pStatusView {
  readonly node_id: string
  readonly enabled: boolean
  readonly port: number
  readonly peer_count: number
  readonly connected_peers: ReadonlyArray<{ readonly addr: string, readonly connected: boolean }>
  readonly gossip_stats: { readonly round: number, readonly pending_announcements: number, readonly known_ids: number, readonly bloom_filter_items: number, readonly bloom_filter_fpr: number }
  readonly sync_stats: { readonly peer_count: number, readonly local_ids: number, readonly total_successful_syncs: number, readonly total_failed_syncs: number }
  readonly peers?: readonly P2pPeerView[]
}
