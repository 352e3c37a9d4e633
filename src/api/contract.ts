/**
 * The REST contract: the shapes of what the API answers, written once and imported by the
 * server (api/) and by its clients (client/, cli/, mcp/), so that neither side copies the other
 * by hand. Records are in dto.ts; this file holds the rest. Types and constants only: a client
 * that imports it pulls in no server code.
 */
import type { Json, RecordKind } from '../core/model.ts'
import type { RefusalEntry } from '../engine/provenance/RefusalLog.ts'
import type { ReindexProgress } from '../search/Reindexer.ts'
import type { Snippet } from '../text/snippet.ts'
import type { SyncStatusView } from '../sync/SyncService.ts'
import type { P2pPeerView } from '../sync/native/P2pStatus.ts'
import type { PeerBookView } from '../discovery/DiscoveryService.ts'
import type { PairBack } from '../sync/polled/pairing.ts'
import type { EpisodeDto, NoteDto, ProvenanceDto, TraceDto, TripleDto } from './dto.ts'

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

/** The `clock` part of GET /api/v1/status (replication/clockStatus.ts). */
export type { ClockRepairView, ClockStatusView } from '../replication/clockStatus.ts'

/** GET /api/v1/p2p/status and its peers, as native sync builds them (sync/native/P2pStatus.ts). */
export type { P2pPeerView, P2pStatusView } from '../sync/native/P2pStatus.ts'

/** GET /api/v1/p2p/peers: the peers dialled now, and the peer book (every known P2P peer, discovery/DiscoveryService.ts). */
export interface P2pPeersAnswer {
  readonly peers: readonly P2pPeerView[]
  readonly book?: readonly PeerBookView[]
}
export type { PeerBookView } from '../discovery/DiscoveryService.ts'
export type { PeerSource } from '../peers/sources.ts'

/** GET /api/v1/sync/status, as the sync service builds it (sync/SyncService.ts), with how to pair back. */
export type SyncStatus = SyncStatusView & { readonly pairBack: PairBack }
export type { PeerView, SyncStatusView } from '../sync/SyncService.ts'

/** The header engram's own clients send on every request (any value; api/guard.ts). */
export { CLIENT_HEADER_NAME as CLIENT_HEADER } from '../util/clientHeader.ts'

/** A matched passage of a search result (text/snippet.ts). */
export type { Snippet }

export type ScoredTripleDto = TripleDto & { readonly score: number, readonly snippet?: Snippet }

export type SearchResultDto =
  | { readonly type: 'entity', readonly subject: string, readonly score: number, readonly triples: ScoredTripleDto[] }
  | { readonly type: 'note', readonly score: number, readonly note: NoteDto, readonly snippet?: Snippet }
  | { readonly type: 'episode', readonly score: number, readonly episode: EpisodeDto, readonly snippet?: Snippet }
  | { readonly type: 'trace', readonly score: number, readonly trace: TraceDto, readonly snippet?: Snippet }

export interface SearchGraphDto {
  readonly depth: number
  readonly nodes: ReadonlyArray<{ readonly id: string, readonly hops: number }>
  readonly triples: TripleDto[]
  readonly truncated: boolean
}

/** GET /api/v1/search (api/searchDto.ts builds it). */
export interface SearchResponse {
  readonly query: string
  readonly mode: 'text' | 'hybrid'
  readonly matched: 'all' | 'any'
  readonly results: SearchResultDto[]
  readonly graph?: SearchGraphDto
  readonly index: { readonly partial: boolean, readonly truncated: boolean, readonly candidates: number }
  readonly semantic?: { readonly model: string, readonly error?: string }
}

/** GET /api/v1/search/index: the full-text index, and semantic search when an embedder is configured. */
export interface SearchIndexResponse {
  readonly text: ReindexProgress
  readonly semantic: SemanticStatusDto | null
}

export interface SemanticStatusDto {
  readonly model: string
  readonly url: string
  /** Records with a vector. */
  readonly vectors: number
  /** Feed positions not yet embedded. */
  readonly pending: number
  readonly lastError?: string
}

/** Where a record came from (dto.ts). */
export type { ProvenanceDto }

/** A state as GET /api/v1/records and /api/v1/history show it: the record's fields, then these. */
export type StateView = Record<string, Json> & {
  readonly deleted: boolean
  readonly current: boolean
  readonly replaced_at: string | null
  readonly provenance: ProvenanceDto
}

export interface RevertAnswer {
  readonly dryRun: boolean
  readonly written: Array<Record<string, Json> & { kind: string, key: string, deleted: boolean }>
  readonly unchanged: number
  readonly skipped: Array<{ kind: string, key: string, why: string }>
}

export interface RevocationView {
  readonly target: string
  readonly target_name: string | null
  readonly effective_after: string | null
  readonly pending: string | null
  readonly issued: Array<{ issuer: string, issuer_name: string | null, after: string, reason: string | null, at: string }>
  readonly held_after: number
}

export interface NodeView {
  readonly node: string
  readonly name: string | null
  readonly self: boolean
  readonly signs: boolean
  readonly revoked_after: string | null
}

export interface RefusedAnswer {
  readonly counters: Record<string, number>
  readonly refused: RefusalEntry[]
}

/** A record refused by the gate, as GET /api/v1/refused lists it (engine/provenance/RefusalLog.ts). */
export type { RefusalEntry } from '../engine/provenance/RefusalLog.ts'
