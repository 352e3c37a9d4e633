/**
 * What a native sync session (NativeSession.ts) is given and what it tells: its options and
 * settings, the gossip side it runs rounds with, the node's eager routes it takes part in, and
 * the view of it the status shows.
 */
import type { NodeId } from '../../core/ids.ts'
import type { MemoryRecord } from '../../core/model.ts'
import type { PageSeals } from '../../core/seals.ts'
import type { Engine } from '../../engine/Engine.ts'
import type { Connection } from '../../transport/Transport.ts'
import type { Logger } from '../../util/log.ts'
import type { CatchUpView, LagView } from '../../telemetry/FeedProgress.ts'
import type { GossipMessage } from '../../protocol/native/gossipMessages.ts'
import type { EagerRoutes } from '../../protocol/native/gossipRoutes.ts'
import type { ReconMessage } from '../../protocol/native/reconWire.ts'
import type { HandshakeCertificates } from '../../protocol/native/handshake.ts'
import type { NativeMessage } from '../../protocol/native/messages.ts'
import type { ConflictPolicy } from '../../replication/applyPage.ts'
import type { FeedTail } from './FeedTail.ts'
import type { PeerBudget } from './PeerBudget.ts'

/** The gossip side of a session (protocol/native/gossip.ts's GossipPeer, seen through gossipWire.ts). */
export interface SessionGossip {
  /** The message that opens a round; undefined: no round now (the window index is not ready). */
  startRound (): NativeMessage | undefined
  /**
   * Handles a gossip message: what to answer, and records to merge here (those of a `records`
   * message, already checked by decodeFrame).
   */
  onMessage (msg: GossipMessage | ReconMessage): { send: readonly NativeMessage[], apply: readonly MemoryRecord[], seals?: PageSeals }
}

export interface SessionSettings {
  /** Most records per page (sync.maxTriplesPerSync). */
  readonly pageRecords: number
  /** Time between gossip rounds (p2p.gossipIntervalMs). */
  readonly gossipIntervalMs: number
  /** Longest wait for a page's acknowledgement before the stream goes back to the last one. */
  readonly ackTimeoutMs: number
  /** Longest a single send may take (a peer that reads nothing). */
  readonly sendTimeoutMs: number
  /** Longest an idle session's sender waits between two knowledge refreshes (SessionRounds.ts knowledgeRefreshMs); absent: no bound but the idle gap's. */
  readonly idleRefreshMaxMs?: number
}

/** The options of a session `S` (NativeSession.ts names it: NativeSessionOptions). */
export interface SessionOptionsOf<S> {
  readonly conn: Connection
  readonly engine: Engine
  readonly feedId: string
  /** The handshake key K (handshake.ts deriveHandshakeKey). */
  readonly key: Uint8Array
  /** The passphrase key Kp (handshake.ts derivePassphraseKey) when sync.passphrase is set. */
  readonly passphraseKey?: Uint8Array
  /** p2p.seed and sync.passphrase themselves, for the version 2 handshake (pake.ts); without them, version 1 only. */
  readonly secrets?: { readonly seed: string, readonly passphrase?: string }
  /** The certificate layer of the handshake when TLS is on (tls.*). */
  readonly certificates?: HandshakeCertificates
  readonly handshakeTimeoutMs: number
  readonly settings: () => SessionSettings
  /**
   * Builds the gossip side once the handshake is done, told the version of coded rounds both
   * ends speak (0: bloom rounds only); undefined: no gossip rounds.
   */
  readonly gossip?: (peer: NodeId, coded: number) => SessionGossip | undefined
  /** The node's eager routes (gossipRoutes.ts); absent: the stream sends everything and nothing is pruned. */
  readonly routes?: EagerRoutes
  /** The end of the node's feed, shared by every session's stream (FeedTail.ts); absent: each stream reads the store. */
  readonly tail?: FeedTail
  /** Cursor exchange and feed streaming (test-only switch; default true). */
  readonly stream?: boolean
  /** Live push of new entries (test-only switch; default true). Without it they go at gossip ticks. */
  readonly push?: boolean
  /** Compressed frames (protocol/native/compression.ts), offered in the hello and sent to a peer that reads them (test-only switch, as an older peer; default true). */
  readonly compress?: boolean
  /** Coded gossip rounds (protocol/native/recon.ts), offered in the hello and run with a peer that speaks them (test-only switch, as an older peer; default true; a number: the highest version offered, as a node of that version). */
  readonly coded?: boolean | number
  /** What the peer may send per second once the handshake is done (PeerBudget.ts); absent: no limits. */
  readonly budget?: PeerBudget
  /** sync.conflictStrategy and the keep-both list, applied to pages and gossip batches (absent: the merge rules alone). */
  readonly conflicts?: ConflictPolicy
  readonly log: Logger
  readonly now?: () => number
  /** Called once the handshake succeeded. */
  readonly onOpen?: (session: S) => void
  /** Called with the records of every page or gossip batch that changed something here. */
  readonly onSynced?: (session: S, kind: 'page' | 'round') => void
  /**
   * Told what the peer's wall clock read (its `hello`, each gossip `digest`) and what this
   * node's read when it arrived (replication/PeerClocks.ts).
   */
  readonly onClock?: (peer: NodeId, theirs: number, ours: number) => void
}

export type SessionState = 'handshake' | 'open' | 'closed'

export interface SessionInfo {
  readonly nodeId: NodeId
  readonly addr: string
  readonly connectionId: string
  readonly direction: 'inbound' | 'outbound'
  readonly state: SessionState
  readonly openedAt: number | undefined
  readonly lastSyncAt: number | undefined
  readonly bytesSent: number
  readonly bytesReceived: number
  readonly pagesSent: number
  readonly recordsSent: number
  readonly pagesReceived: number
  readonly recordsReceived: number
  readonly recordsApplied: number
  readonly gossipRounds: number
  /** Gossip requests of the peer left unanswered while a stream was catching up. */
  readonly gossipDeferred: number
  /** Origins the peer pruned from this node's stream (docs/PROTOCOL.md §2, "Dissemination"). */
  readonly pruned: number
  /** A stream of the session is still catching up (no gossip rounds meanwhile). */
  readonly catchingUp: boolean
  readonly cursor: number
  /** The catch-up from the peer in flight (or finished within the minute). */
  readonly catchUp?: CatchUpView
  /** How far behind the peer's feed this node is. */
  readonly lagIn?: LagView
}
