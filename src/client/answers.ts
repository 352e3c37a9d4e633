/**
 * What the REST client's calls answer and take (docs/API.md), as the daemon sends them: pages of
 * triples, notes, episodes and traces, health and status, query patterns in their query-string
 * and body forms, the answer of a pairing. The shapes the API itself shares with its clients
 * live in api/contract.ts and api/dto.ts; these are the client's own.
 */
import type { NoteDto, TripleDto, EpisodeDto, TraceDto } from '../api/dto.ts'
import type { ClockStatusView, PeerView } from '../api/contract.ts'
import type { Json } from '../core/model.ts'
import type { StoreStats } from '../store/Store.ts'
import type { PairBack } from '../sync/polled/pairing.ts'

/** A pattern as POST /api/v1/query takes it (`object` a term in its JSON form). */
export interface BodyPattern {
  readonly subject?: string
  readonly predicate?: string
  readonly object?: Json
  readonly namespace?: string
}

/** One answer of POST /api/v1/query (and of each query of a batch). */
export interface QueryPage {
  readonly matches: TripleDto[]
  readonly total: number
  readonly limit: number
  readonly offset: number
}

/** A triple to add, `object` in the JSON form POST /api/v1/triples takes. */
export interface TripleInput {
  readonly subject: string
  readonly predicate: string
  readonly object: Json
}

export interface TriplesPage {
  readonly triples: TripleDto[]
  readonly total: number
  readonly limit: number
  readonly offset: number
}

export interface NotesPage {
  readonly notes: NoteDto[]
  readonly total: number
  readonly limit: number
  readonly offset: number
}

export interface EpisodesPage {
  readonly episodes: EpisodeDto[]
  readonly total: number
  readonly limit: number
  readonly offset: number
}

export interface TracesPage {
  readonly traces: TraceDto[]
  readonly total: number
  readonly limit: number
  readonly offset: number
}

export interface Health {
  readonly status: string
  readonly version: string
  readonly components: Record<string, { status: string, [k: string]: unknown }>
}

export interface Status {
  readonly nodeId: string
  readonly version: string
  readonly startedAt: string
  readonly dataDir: string
  readonly store: { kind: string, path: string, status: string, detail: string, stats: StoreStats }
  readonly p2p: { enabled: boolean }
  readonly provenance?: {
    signing: boolean
    refused: Record<string, number>
    accepted: { signed: number, unsigned: number }
    known_signers: number
    revoked: number
    history: number
    unsigned_held: number
  }
  /** This node's clock, its peers' offsets, held records, the last repair (absent from older daemons). */
  readonly clock?: ClockStatusView
}

/** Fields of a triple pattern as the query string carries them (object in its text form). */
export interface PatternQuery {
  readonly subject?: string
  readonly predicate?: string
  readonly object?: string
  readonly namespace?: string
  readonly origin?: string
  /** ISO-8601: the state at that time. */
  readonly asOf?: string
}


/** What POST /api/v1/sync/peers answers. */
export interface Paired {
  readonly peer: PeerView
  readonly pairBack: PairBack
  /** In native mode: the P2P peer added, or why not. */
  readonly p2p?: { addr?: string, error?: string }
}

export interface AgentEndResult {
  readonly triggered: boolean
  readonly reason: string
}
