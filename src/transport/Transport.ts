/**
 * The transport layer of native sync: authenticated, ordered, message-oriented sessions between
 * nodes. Everything above it (seed handshake, sync session, gossip) speaks in frames and never
 * sees sockets, streams or multiaddrs.
 *
 * Two implementations pass the same conformance suite (`test/transport/conformance.ts`):
 * - `QuicTransport` (`./libp2p/QuicTransport.ts`): libp2p over QUIC (TLS 1.3), optionally TCP
 *   (Noise + Yamux) as a fallback where UDP is blocked.
 * - `MemoryTransport` (`./memory/MemoryTransport.ts`): a deterministic in-process network for
 *   simulation tests, with partitions, loss, delay and reordering.
 *
 * ## Sessions
 * A `Connection` is one engram session with one remote node. It carries frames (opaque byte
 * arrays, at most `maxFrameBytes` each, default 4 MiB) in order, in both directions.
 *
 * **One session per peer pair.** A transport never reports two open sessions with the same
 * remote node. When both nodes dial each other at the same moment, both dials resolve to the
 * same surviving session (dial returns it even when the session that survived is the one the
 * other side initiated, so its `direction` may be `'inbound'`). The rule that picks the survivor:
 * every session attempt has a key `(initiator node id, random nonce chosen by the initiator)`;
 * among attempts that overlap in time, the one with the smallest key (node ids compared as
 * strings, then nonces bytewise) survives and the others are refused with reason `'duplicate'`
 * before they are ever reported. A new attempt from a peer that already has an established
 * session with this node means the peer no longer holds that session (it restarted, or its
 * close is still in flight), so the new session replaces the old one, which closes with reason
 * `'replaced by a newer session'`. Callers should still key their state by `Connection.id`, not
 * only by node id: a replaced session's `closed` may settle after its successor is reported.
 *
 * **Timeouts.** Every step of establishing a session is bounded (`dialTimeoutMs` overall,
 * `handshakeTimeoutMs` per step); a slow or silent peer never delays sessions with other peers.
 */
import type { EngramError } from '../core/errors.ts'
import type { NodeId } from '../core/ids.ts'

/** The protocol id of the engram session stream (libp2p stream protocol). */
export const ENGRAM_PROTOCOL = '/engram/sync/1.0.0'

/** Default largest frame, in bytes, that a transport sends or accepts. */
export { DEFAULT_MAX_FRAME_BYTES } from '../core/limits.ts'

/** How a session ended. */
export interface CloseInfo {
  /**
   * Why it closed: the reason given to `close()` on either end (a remote node's reason is passed
   * through unchanged), or a description of the failure (`'connection lost: …'`,
   * `'protocol error: …'`, `'transport stopped'`, `'duplicate'`, …).
   */
  reason?: string
  /** Set when the session ended because of an error (code `PROTOCOL`, `TIMEOUT`, `UNAVAILABLE`, …). */
  error?: EngramError
}

export interface DialOptions {
  /** Abort the dial (the promise rejects with the signal's reason). */
  signal?: AbortSignal
  /** Overall limit for the dial, session handshake included; defaults to the transport's `dialTimeoutMs`. */
  timeoutMs?: number
  /**
   * The node expected at `addr` (for example the node id an mDNS announcement claims). When the
   * node that answers proves another id, the dial fails with `UNAVAILABLE` before any session is
   * reported, and an existing session with that other node is left alone.
   */
  expectedNode?: NodeId
}

/** How this node is reached from outside (transports with relays; docs/DISCOVERY.md "Relays"). */
export interface ReachStatus {
  /** `public` once AutoNAT confirmed a direct address of this node from outside, else `private`. */
  readonly reachability: 'public' | 'private'
  /** Addresses through relays this node holds a slot on. */
  readonly relayed_addrs: readonly string[]
  /** The relays this node uses, and their state. */
  readonly relays: ReadonlyArray<{
    readonly id: string
    readonly addrs: readonly string[]
    readonly state: 'connecting' | 'admitted' | 'reserved' | 'refused' | 'unreachable'
    readonly reservation: 'held' | 'not needed' | 'none'
    readonly since: string
    readonly last_error: string | null
  }>
  /** Serving as a relay: how many nodes are admitted now. */
  readonly serving: { readonly admitted: number } | null
}

/** A carrier's state: `starting` until it listens (TCP: while the seed's keys are derived), `off` when not used. */
export type CarrierState = 'off' | 'starting' | 'listening' | 'failed'

/** Each carrier of a transport (GET /api/v1/p2p/status `carriers`). */
export interface CarrierStatus {
  readonly quic: CarrierState
  /** Listens once the private network's key, derived from the seed, is known (`starting` until then). */
  readonly tcp: CarrierState
  /** Why TCP failed (the seed's keys could not be derived, or its port was taken). */
  readonly tcp_error?: string
}

export interface Transport {
  /** This node's id, proven to peers by the transport's handshake (the libp2p peer id). */
  readonly nodeId: NodeId

  /** Starts listening. A transport is started at most once. */
  start (): Promise<void>

  /** Closes every session (reason `'transport stopped'`), stops listening and refuses new dials. Idempotent. */
  stop (): Promise<void>

  /**
   * Addresses other nodes can dial, each ending in this node's id, e.g.
   * `/ip4/127.0.0.1/udp/19091/quic-v1/p2p/12D3Koo…` (memory transport: `mem:<node id>`).
   * Empty before `start()`.
   */
  listenAddrs (): string[]

  /**
   * Opens (or returns the existing) session with the node at `addr`: a multiaddr, `host:port`
   * (IPv4, or a host name, which is resolved), or `[v6]:port`. `host:port` means QUIC on that
   * UDP port; a transport that also has TCP tries TCP on the same port number after QUIC fails.
   *
   * Rejects with an `EngramError`: `TIMEOUT` after `timeoutMs`, `UNAVAILABLE` when the peer
   * cannot be reached or refuses the session, `INVALID_INPUT` for an address it cannot parse or
   * for this node's own address.
   *
   * The session is reported to `onConnection` handlers before this promise resolves.
   */
  dial (addr: string, opts?: DialOptions): Promise<Connection>

  /**
   * Registers a handler for every session this transport establishes, inbound AND outbound,
   * called once per session, synchronously when it becomes usable. Attach `onFrame` inside the
   * handler; frames that arrive before that are buffered. Several handlers may be registered.
   */
  onConnection (handler: (conn: Connection) => void): void

  /** Relays and reachability, for transports that use relays (absent otherwise). */
  reachStatus?: () => ReachStatus

  /** The state of each carrier, for transports with more than one (absent otherwise). */
  carriers?: () => CarrierStatus
}

export interface Connection {
  /** The session's id; both ends of a session see the same id. */
  readonly id: string
  /** The remote node's id, authenticated by the transport's handshake (libp2p peer id). */
  readonly remoteNode: NodeId
  /** The remote address this session runs over (multiaddr, or `mem:<id>`). */
  readonly remoteAddr: string
  /** `'outbound'` if this node initiated the session. */
  readonly direction: 'inbound' | 'outbound'

  /**
   * Sends one frame. Resolves once the transport has accepted it with backpressure honoured
   * (a caller that awaits each send never buffers more than the transport's window). Frames
   * sent on one session arrive in the order of the `send` calls. The frame must not be changed
   * until the promise settles.
   *
   * Rejects with `LIMIT_EXCEEDED` for a frame over `maxFrameBytes` (the session stays open),
   * and with `UNAVAILABLE` once the session is closed or closing.
   */
  send (frame: Uint8Array): Promise<void>

  /**
   * Sets the frame handler: frames in order, each exactly once. Exactly one handler per
   * session; a second call throws. A handler that throws closes the session with an
   * `INTERNAL` error.
   *
   * A frame larger than the receiving transport's `maxFrameBytes` closes the session with a
   * `PROTOCOL` error on both ends (the receiver refuses it from its announced length, before
   * allocating for it).
   */
  onFrame (handler: (frame: Uint8Array) => void): void

  /** Settles (never rejects) once the session is closed, on this end, for whatever reason. */
  readonly closed: Promise<CloseInfo>

  /**
   * Closes the session; the remote end's `closed` settles with the same `reason`. Frames already
   * sent are delivered first where the transport can do so. Resolves once closed. Idempotent.
   */
  close (reason?: string): Promise<void>
}
