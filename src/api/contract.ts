/**
 * The REST contract: the shapes of what the API answers, written once and imported by the
 * server (api/) and by its clients (client/, cli/, mcp/), so that neither side copies the other
 * by hand. Records are in dto.ts; this file holds the rest. Types and constants only: a client
 * that imports it pulls in no server code.
 */
import type { RecordKind } from '../core/model.ts'
import type { SyncStatusView } from '../sync/SyncService.ts'
import type { PairBack } from '../sync/polled/pairing.ts'

/** Most queries in one POST /api/v1/query/batch, the largest sum of their limits, and the largest answer (characters of JSON). */
export const BATCH_QUERY_LIMITS = { queries: 1000, totalLimit: 20_000, answerChars: 32 * 1024 * 1024 } as const

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

/** GET /api/v1/p2p/status and its peers, as native sync builds them (sync/native/P2pStatus.ts). */
export type { P2pPeerView, P2pStatusView } from '../sync/native/P2pStatus.ts'

/** GET /api/v1/sync/status, as the sync service builds it (sync/SyncService.ts), with how to pair back. */
export type SyncStatus = SyncStatusView & { readonly pairBack: PairBack }
export type { PeerView, SyncStatusView } from '../sync/SyncService.ts'

/** The header engram's own clients send on every request (any value; api/guard.ts). */
export { CLIENT_HEADER_NAME as CLIENT_HEADER } from '../util/clientHeader.ts'
