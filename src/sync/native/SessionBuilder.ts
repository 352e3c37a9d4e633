/**
 * What native sync gives each session (NativeSession.ts) besides its connection: the handshake
 * keys (K from the seed; Kp derived again only when sync.passphrase changes, read at each
 * session), the session settings taken from the node's at each read, and the gossip side, a
 * GossipPeer over the node's window index as LazyWindow.ts lets gossip read it, and the node's eager routes
 * (gossipRoutes.ts: which peer's stream brings each origin, shared by every session).
 *
 * The manager (NativeSync.ts) decides which sessions exist and what happens when they open,
 * sync and end; this builds them, so every session of a node is set up the same way.
 */
import { compareHlc, type HlcMark } from '../../core/hlc.ts'
import type { NodeId } from '../../core/ids.ts'
import { recordKey, type MemoryRecord } from '../../core/model.ts'
import type { Engine } from '../../engine/Engine.ts'
import type { ConflictPolicy } from '../../replication/applyPage.ts'
import type { PeerClocks } from '../../replication/PeerClocks.ts'
import type { Connection } from '../../transport/Transport.ts'
import type { Logger } from '../../util/log.ts'
import { GossipPeer } from '../../protocol/native/gossip.ts'
import { EagerRoutes } from '../../protocol/native/gossipRoutes.ts'
import { GOSSIP_LIMITS } from '../../protocol/native/gossipMessages.ts'
import { deriveHandshakeKey, derivePassphraseKey, type HandshakeCertificates } from '../../protocol/native/handshake.ts'
import { ReconPeer } from '../../protocol/native/recon.ts'
import type { LazyWindow } from './LazyWindow.ts'
import { FeedTail } from './FeedTail.ts'
import { gossipSide } from './GossipSide.ts'
import { NativeSession } from './NativeSession.ts'
import type { PeerBudget } from './PeerBudget.ts'

/** The node's settings a session reads (a part of NativeSyncSettings). */
export interface SessionBuilderSettings {
  /** p2p.gossipIntervalMs */
  readonly gossipIntervalMs: number
  /** p2p.bloomFpr */
  readonly bloomFpr: number
  /** sync.maxTriplesPerSync: most records per page */
  readonly maxTriplesPerSync: number
  /** sync.syncTimeoutMs: longest wait for a page's acknowledgement or a send */
  readonly syncTimeoutMs: number
  /** sync.tombstoneTtlHours and sync.memberGoneDays: bound an idle sender's knowledge refreshes (absent: no bound) */
  readonly tombstoneTtlHours?: number
  readonly memberGoneDays?: number
}

export interface SessionBuilderOptions {
  readonly engine: Engine
  readonly feedId: string
  /** p2p.seed (checked non-empty by the manager). */
  readonly seed: string
  /** sync.passphrase, read at each session. */
  readonly passphrase?: () => string | undefined
  readonly certificates?: HandshakeCertificates
  /** sync.conflictStrategy and the keep-both list (absent: the merge rules alone). */
  readonly conflicts?: ConflictPolicy
  /** Where the peers' clock readings go (hello, gossip digests). */
  readonly clocks?: PeerClocks
  readonly settings: () => SessionBuilderSettings
  /** The node's gossip window, shared by every session's gossip side. */
  readonly window: LazyWindow
  /** Limit of each handshake step, ms. Default 5,000. */
  readonly handshakeTimeoutMs?: number
  readonly log: Logger
  readonly now: () => number
  readonly random: () => number
  /** Test-only switches: cursor streaming, live push, bucket descent in gossip, compressed frames. */
  readonly stream?: boolean
  readonly push?: boolean
  readonly buckets?: boolean
  /**
   * Eager routes (gossipRoutes.ts, p2p.eagerRoutes): prune duplicate paths, graft them back
   * (default true; off, a node is as one from before them: its cursor does not offer `pr`, so no
   * peer prunes its stream, and it prunes none).
   */
  readonly routes?: boolean
  readonly compress?: boolean
  /** Coded gossip rounds offered and run with peers that speak them (test-only switch, as an older node; default true; a number: the highest version offered). */
  readonly coded?: boolean | number
}

/** What the manager gives one session: its budget and what it is told of the session. */
export interface SessionHooks {
  readonly budget: PeerBudget
  /** Given the session's gossip peers once the handshake is done and gossip starts (`coded`: with a peer that speaks coded rounds). */
  readonly onGossip: (gossip: GossipPeer, coded?: ReconPeer) => void
  readonly onOpen: (session: NativeSession) => void
  readonly onSynced: (session: NativeSession) => void
}

export class SessionBuilder {
  private readonly opts: SessionBuilderOptions
  private readonly key: Uint8Array
  private passphraseKey: { passphrase: string, key: Uint8Array } | undefined
  /** The node's eager routes, shared by its sessions (undefined: switched off). */
  readonly routes: EagerRoutes | undefined
  /** The end of the node's feed, its state and knowledge vector, read once for every session's stream (NativeSync tells it of each commit). */
  readonly tail: FeedTail

  constructor (opts: SessionBuilderOptions) {
    this.opts = opts
    this.key = deriveHandshakeKey(opts.seed)
    const { engine } = opts
    this.routes = opts.routes !== false ? nodeRoutes(engine) : undefined
    this.tail = new FeedTail({ store: engine.store, knowledge: () => engine.knowledgeToSend() })
  }

  /** The session of `conn`, not yet opened. */
  build (conn: Connection, hooks: SessionHooks): NativeSession {
    const opts = this.opts
    const settings = opts.settings
    const passphrase = this.currentPassphrase()
    return new NativeSession({
      conn,
      engine: opts.engine,
      feedId: opts.feedId,
      key: this.key,
      passphraseKey: this.currentPassphraseKey(),
      secrets: { seed: opts.seed, ...(passphrase !== undefined ? { passphrase } : {}) },
      certificates: opts.certificates,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 5_000,
      settings: () => {
        const s = settings()
        return { pageRecords: s.maxTriplesPerSync, gossipIntervalMs: s.gossipIntervalMs, ackTimeoutMs: s.syncTimeoutMs, sendTimeoutMs: s.syncTimeoutMs, idleRefreshMaxMs: idleRefreshMaxMs(s) }
      },
      gossip: (_peer, coded) => {
        const window = opts.window
        // every node accepts at least GOSSIP_LIMITS.maxRecordsPerMessage records per message
        const maxRecordsPerMessage = Math.min(settings().maxTriplesPerSync, GOSSIP_LIMITS.maxRecordsPerMessage)
        const g = new GossipPeer({
          // read only once built, the queue taken in at each read (LazyWindow.reader)
          index: window.reader,
          fpr: settings().bloomFpr,
          random: opts.random,
          maxRecordsPerMessage,
          buckets: opts.buckets
        })
        const c = coded > 0 ? new ReconPeer({ index: window.reader, maxRecordsPerMessage, version: coded >= 2 ? 2 : 1 }) : undefined
        hooks.onGossip(g, c)
        return gossipSide({ window, bloom: g, ...(c !== undefined ? { coded: c } : {}) })
      },
      stream: opts.stream,
      push: opts.push,
      ...(this.routes !== undefined ? { routes: this.routes } : {}),
      tail: this.tail,
      ...(opts.compress !== undefined ? { compress: opts.compress } : {}),
      ...(opts.coded !== undefined ? { coded: opts.coded } : {}),
      budget: hooks.budget,
      conflicts: opts.conflicts,
      log: opts.log,
      now: opts.now,
      onOpen: hooks.onOpen,
      onSynced: hooks.onSynced,
      ...(opts.clocks !== undefined ? { onClock: (peer, theirs, ours) => { opts.clocks!.observe(peer, theirs, ours) } } : {})
    })
  }

  /** The current sync.passphrase, or undefined. */
  private currentPassphrase (): string | undefined {
    const passphrase = this.opts.passphrase?.()
    return passphrase === undefined || passphrase === '' ? undefined : passphrase
  }

  /** Kp of the current sync.passphrase (derived again when it changes), or undefined. */
  private currentPassphraseKey (): Uint8Array | undefined {
    const passphrase = this.currentPassphrase()
    if (passphrase === undefined) return undefined
    if (this.passphraseKey?.passphrase !== passphrase) this.passphraseKey = { passphrase, key: derivePassphraseKey(passphrase) }
    return this.passphraseKey.key
  }
}

/**
 * The node's eager routes over its engine: an announcement is answered by the knowledge of its
 * origin, or by each record it listed being held here at its version or a later one (its key's
 * state is stamped at or after it, or the knowledge covers its stamp).
 */
export function nodeRoutes (engine: Engine): EagerRoutes {
  const covers = (origin: NodeId, mark: HlcMark): boolean => engine.knowledge.covers(origin, mark, engine.store.clockMark())
  const holds = (r: MemoryRecord): boolean => {
    const here = engine.store.get(r.kind, recordKey(r))
    return (here !== undefined && compareHlc(here.hlc, r.hlc) >= 0) || covers(r.hlc.node, r.hlc)
  }
  return new EagerRoutes(covers, holds)
}

/** A quarter of the tombstone TTL and of sync.memberGoneDays: the longest an idle sender waits to send its knowledge again. */
function idleRefreshMaxMs (s: SessionBuilderSettings): number {
  return Math.min((s.tombstoneTtlHours ?? Infinity) * 3_600_000, (s.memberGoneDays ?? Infinity) * 86_400_000) / 4
}
