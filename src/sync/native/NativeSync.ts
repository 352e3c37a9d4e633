/**
 * Native sync, the manager: owns the transport, one `NativeSession` per connected peer (built by
 * SessionBuilder.ts), the dialling of the configured and API peers of the peer registry
 * (peers/P2pPeers.ts; dialled and redialled with capped backoff, forever) and of the peers
 * discovery proposes (which peers: PeerDials.ts), the node's gossip window index, the gossip tick, and the counters of GET /api/v1/p2p/status
 * (docs/PROTOCOL.md §4; the status itself is assembled by P2pStatus.ts). What it is given is in
 * NativeSyncOptions.ts.
 *
 *   engine 'change' ──► the feed tail: changed(entries) (FeedTail.ts); every open session: wake() (the one the change came from sends no records
 *                       back, only an empty page that moves its cursor); LazyWindow.observe
 *   transport onConnection ──► NativeSession (handshake, streams, gossip)
 *   every gossipIntervalMs ──► round++, each open session: tick()
 *
 * The transport is given (EngramNode builds a QuicTransport on p2p.port with the node's identity
 * key; tests use the in-memory one); this class starts and stops it.
 */
import { CONFIG_INVALID } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import type { ChangeEvent, Engine } from '../../engine/Engine.ts'
import type { Connection, Transport } from '../../transport/Transport.ts'
import type { Logger } from '../../util/log.ts'
import { feedIdOf } from '../../replication/feedId.ts'
import type { GossipPeer } from '../../protocol/native/gossip.ts'
import type { ReconPeer } from '../../protocol/native/recon.ts'
import { isFailureReason, type NativeSession, type SessionInfo } from './NativeSession.ts'
import type { NativeSyncOptions, PeerDialState, RemovedP2pPeer } from './NativeSyncOptions.ts'
import { Redialer } from './Redialer.ts'
import { LazyWindow } from './LazyWindow.ts'
import { P2pStatus, type P2pStatusOptions, type P2pStatusView } from './P2pStatus.ts'
import { PeerDials } from './PeerDials.ts'
import { PeerStats, type P2pPeerView } from './PeerStats.ts'
import { SessionBuilder } from './SessionBuilder.ts'
import { GUARD_DEFAULTS, SessionGuard } from './SessionGuard.ts'
import type { DialerEvent, PeerDialer } from '../../discovery/PeerDialer.ts'
import { PeerRegistry } from '../../peers/PeerRegistry.ts'
import type { P2pPeers } from '../../peers/P2pPeers.ts'
import type { ProposedSource } from '../../peers/sources.ts'
import { endedEvent } from './peerEvents.ts'

/** Time without a page from any peer before the pages received are made durable (flushWhenIdle). */
const FLUSH_IDLE_MS = 500

export type { P2pPeerView } from './PeerStats.ts'
export type { NativeSyncOptions, NativeSyncSettings, PeerDialState, RemovedP2pPeer } from './NativeSyncOptions.ts'

export class NativeSync implements PeerDialer {
  readonly nodeId: NodeId
  readonly feedId: string
  private readonly opts: NativeSyncOptions
  private readonly engine: Engine
  private readonly transport: Transport
  private readonly log: Logger
  private readonly now: () => number
  private readonly random: () => number
  private readonly window: LazyWindow
  private readonly peerStats: PeerStats
  private readonly peers: P2pPeers
  private readonly redialer: Redialer
  /** The configured and API peers and those discovery proposed, and their dials (PeerDials.ts). */
  private readonly dials: PeerDials
  private readonly builder: SessionBuilder
  private readonly view: P2pStatus
  /** Sessions by connection id (a replaced session may still be closing). */
  private readonly sessions = new Map<string, NativeSession>()
  private readonly gossipPeers = new Map<NativeSession, GossipPeer>()
  private readonly codedPeers = new Map<NativeSession, ReconPeer>()
  private readonly opened = new Map<NativeSession, Promise<boolean>>()
  /** Admission of sessions other nodes open, and each peer's budget. */
  private readonly guard: SessionGuard
  private round = 0
  private successes = 0
  private failures = 0
  private timer: NodeJS.Timeout | undefined
  private flushTimer: NodeJS.Timeout | undefined
  private state: 'new' | 'started' | 'stopped' = 'new'
  private readonly onChange = (ev: ChangeEvent): void => { this.changed(ev) }

  constructor (opts: NativeSyncOptions) {
    if (opts.seed === undefined || opts.seed === '') {
      throw CONFIG_INVALID('p2p.seed', undefined,
        'must be set because p2p.enabled is true: choose a shared secret of letters, digits, _ and - and set the same one on every node')
    }
    this.opts = opts
    this.engine = opts.engine
    this.transport = opts.transport
    this.nodeId = opts.transport.nodeId
    this.feedId = feedIdOf(opts.engine.store)
    this.log = opts.log
    this.now = opts.now ?? Date.now
    this.random = opts.random ?? Math.random
    this.window = new LazyWindow({
      store: opts.engine.store,
      ttlMs: opts.settings().tombstoneTtlHours * 3_600_000,
      now: this.now,
      // a session opening or catching this node up, or the first dial of a peer (at a start: the peer that catches it up)
      busy: () => this.busy(),
      ...(opts.windowSaves !== undefined ? { saves: opts.windowSaves, feedId: this.feedId } : {}),
      onStarted: (s, ms) => {
        const how = s.from === 'file'
          ? `read back from its saved copy (${s.loaded} elements, current to seq ${s.seq}) and ${s.feedRead} feed entries after it`
          : `built from the store (${s.feedRead} feed entries${s.refused !== undefined ? `; the saved copy was not used: ${s.refused}` : ''})`
        this.log.info(`gossip window index ${how} in ${Math.round(ms)} ms`, { from: s.from, feedRead: s.feedRead })
      },
      onSaveError: (what, e) => { this.log.warn(`cannot ${what} the saved gossip window index: ${e instanceof Error ? e.message : String(e)}`) }
    })
    this.peerStats = new PeerStats(this.now)
    this.guard = new SessionGuard({
      log: this.log,
      now: this.now,
      limits: () => {
        const s = opts.settings()
        return {
          ...GUARD_DEFAULTS,
          maxPeers: s.maxPeers ?? GUARD_DEFAULTS.maxPeers,
          messagesPerSecond: s.maxMessagesPerSecond ?? GUARD_DEFAULTS.messagesPerSecond,
          failedHandshakes: opts.failedHandshakes ?? GUARD_DEFAULTS.failedHandshakes
        }
      }
    })
    this.peers = opts.peers ?? new PeerRegistry(opts.engine.store, this.now).p2p
    this.peers.configure(opts.manualPeers ?? [])
    this.redialer = new Redialer({
      ...opts.backoff,
      random: this.random,
      now: this.now,
      dial: (addr, signal) => this.transport.dial(addr, { signal, expectedNode: this.dials.expectedNode(addr) }),
      onConnected: (addr, conn) => this.sessionOutcome(conn, addr),
      onFailure: (addr, err, n) => {
        this.failures++
        this.peerEvent({ type: 'dial-failed', addr, error: err instanceof Error ? err.message : String(err) })
        if (n === 1 || n % 10 === 0) {
          this.log.warn(`cannot reach P2P peer ${addr}: ${err instanceof Error ? err.message : String(err)}; retrying with backoff`, { addr, failures: n })
        }
      }
    })
    this.dials = new PeerDials(this.peers, this.redialer, () => this.state === 'started')
    // keys, certificates, session settings, the test switches: as given (the seed, checked above)
    this.builder = new SessionBuilder({ ...opts, seed: opts.seed, feedId: this.feedId, window: this.window, log: this.log, now: this.now, random: this.random })
    this.view = new P2pStatus({
      nodeId: this.nodeId,
      feedId: this.feedId,
      port: opts.port,
      transport: this.transport,
      store: opts.engine.store,
      sessions: this.sessions,
      gossipPeers: this.gossipPeers,
      codedPeers: this.codedPeers,
      peers: this.peers,
      proposed: this.dials.proposed,
      redialer: this.redialer,
      peerStats: this.peerStats,
      guard: this.guard,
      window: this.window
    })
  }

  async start (): Promise<void> {
    if (this.state !== 'new') return
    this.state = 'started'
    this.transport.onConnection(conn => { this.accept(conn) })
    await this.transport.start()
    this.engine.on('change', this.onChange)
    this.scheduleTick()
    const always = this.dials.startAll()
    // the window index builds in the background, once the dials just started and the catch-ups
    // they bring are done (its `busy`); gossip rounds wait for it
    this.window.start()
    this.log.info('native P2P sync started', { node: this.nodeId, listen: this.transport.listenAddrs().join(' '), peers: always.length })
  }

  async stop (): Promise<void> {
    if (this.state !== 'started') { this.state = 'stopped'; return }
    this.state = 'stopped'
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer)
    this.engine.off('change', this.onChange)
    this.window.stop()
    await this.redialer.stopAll()
    await Promise.allSettled([...this.sessions.values()].map(s => s.close('node stopping')))
    await this.window.save() // the next start reads it back instead of hashing the whole store
    // Closing QUIC connections whose peers are stopping too can wait for their idle timeout;
    // the sessions are closed already, so the node does not wait for more than a bound.
    const limit = this.opts.transportStopTimeoutMs ?? 2_000
    const stopped = this.transport.stop().then(() => true, (e: unknown) => {
      this.log.warn('the P2P transport did not stop cleanly', { error: e instanceof Error ? e.message : String(e) })
      return true
    })
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(false), limit) })
    if (!await Promise.race([stopped, late])) this.log.debug(`the P2P transport is still closing connections after ${limit} ms; not waiting for it`)
    clearTimeout(timer)
  }

  /**
   * Whether a session opens or catches this node up, or the first dial of a peer is under way (at
   * a start: the dials of the peers that will catch this node up). The background work of a start
   * waits for it to end: the window index's build, the seed's derivation (node/seedKeysSchedule.ts).
   */
  busy (): boolean {
    for (const s of this.sessions.values()) if (s.opening || s.catchingUp) return true
    return this.redialer.firstDialing()
  }

  /** Whether a native session with `node` is open (polled sync then leaves that peer alone). */
  isConnected (node: string): boolean {
    for (const s of this.sessions.values()) if (s.peer === node && s.isOpen) return true
    return false
  }

  /** Node ids of the peers with an open session. */
  connectedPeers (): NodeId[] {
    return [...new Set([...this.sessions.values()].filter(s => s.isOpen).map(s => s.peer))]
  }

  /**
   * Runs a gossip round with every connected peer now (the regular tick goes on); `force` false:
   * a tick as the timer makes it, which an idle session's backoff may skip (SessionRounds.ts).
   */
  gossipNow (force = true): void {
    this.tick(force)
  }

  // ---- configured and API peers -------------------------------------------------------------

  /** Configured and API peers, peers proposed by discovery, then other connected peers. */
  listPeers (): P2pPeerView[] {
    return this.view.peers()
  }

  /** Adds an API peer (kept in the registry) and starts dialing it. */
  addPeer (addr: unknown): { peer: P2pPeerView, created: boolean } {
    const { peer, created } = this.dials.add(addr)
    return { peer: this.view.peer(peer.addr, peer.source, this.redialer.state(peer.addr)?.nodeId, undefined), created }
  }

  /** Where dialing a manual or proposed peer stands: whether its session is open, its failures in a row and the last error. */
  dialState (addr: string): PeerDialState | undefined {
    return this.dials.dialState(addr, node => this.isConnected(node))
  }

  /** Removes an API peer by address or node id, and closes its session (CONFLICT for a configured one). */
  async removePeer (idOrAddr: string): Promise<RemovedP2pPeer> {
    const { removed, node } = await this.dials.remove(idOrAddr)
    if (node !== undefined) {
      await Promise.allSettled([...this.sessions.values()].filter(s => s.peer === node).map(s => s.close('peer removed')))
    }
    return { addr: removed.addr, source: 'api', addedAt: new Date(removed.addedAt).toISOString() }
  }

  // ---- peers proposed by discovery (src/discovery/) ----------------------------------------

  /** Keeps a session to a peer that discovery proposed (PeerDialer): dialled and redialled with backoff. */
  connect (addr: string, opts: { readonly source: ProposedSource, readonly expectedNode?: NodeId }): void {
    this.dials.connect(addr, opts)
  }

  /** Stops dialing a proposed peer; an open session stays until it ends. */
  async disconnect (addr: string): Promise<void> {
    await this.dials.disconnect(addr)
  }

  private peerEvent (ev: DialerEvent): void {
    try {
      this.opts.onPeerEvent?.(ev)
    } catch (e) {
      this.log.warn('recording a P2P peer event failed', { event: ev.type, error: e instanceof Error ? e.message : String(e) })
    }
  }

  // ---- status ----------------------------------------------------------------------------

  /** GET /api/v1/p2p/status, in the shape of docs/PROTOCOL.md §4. */
  status (opts: P2pStatusOptions = {}): P2pStatusView {
    return this.view.status({ round: this.round, successes: this.successes, failures: this.failures }, opts)
  }

  /**
   * The eager routes of `origin` here: the peer whose stream brings its records first (its
   * parent, undefined: none yet or routes off), and the prunes and grafts sent (tests, tools).
   */
  routeOf (origin: NodeId): { readonly parent: NodeId | undefined, readonly prunesSent: number, readonly graftsSent: number } {
    const routes = this.builder.routes
    return { parent: routes?.parentOf(origin), prunesSent: routes?.stats.prunesSent ?? 0, graftsSent: routes?.stats.graftsSent ?? 0 }
  }

  /** Per-session details (tests, tools). */
  sessionInfo (): SessionInfo[] {
    return [...this.sessions.values()].map(s => s.info())
  }

  // ---- internals -------------------------------------------------------------------------

  private accept (conn: Connection): void {
    if (this.state !== 'started') { void conn.close('node stopping'); return }
    const handshakeDone = this.guard.admit(conn, this.sessions.size, node => this.dials.isManualPeer(node))
    if (handshakeDone === undefined) return
    const session: NativeSession = this.builder.build(conn, {
      budget: this.guard.budget(),
      onGossip: (g, c) => { this.gossipPeers.set(session, g); if (c !== undefined) this.codedPeers.set(session, c) },
      onOpen: s => {
        this.peerEvent({ type: 'session-open', nodeId: s.peer })
        // the network works: peers that went unanswered are dialled again soon (Redialer.nudge)
        this.redialer.nudge()
        this.log.info(`P2P session open with ${s.peer}`, { peer: s.peer, addr: conn.remoteAddr, direction: conn.direction })
      },
      onSynced: s => {
        this.successes++
        this.peerStats.synced(s.peer, conn.remoteAddr)
      }
    })
    this.sessions.set(conn.id, session)
    const opened = session.open().then(() => true, () => false)
    void opened.then(handshakeDone)
    this.opened.set(session, opened)
    void conn.closed.then(info => { this.ended(session, info.reason) })
  }

  /**
   * A dialled session: resolves when it ends, true when it opened and ended without an error. The
   * dial is reported (`dialled`: the peer registry notes it, a write that waits for the disk) once
   * the session's handshake ended, so that the write is not on the way of the handshake nor of
   * the session's first cursor.
   */
  private async sessionOutcome (conn: Connection, addr: string): Promise<boolean> {
    const session = this.sessions.get(conn.id)
    const dialled = (): void => { this.peerEvent({ type: 'dialled', addr, nodeId: conn.remoteNode }) }
    if (session === undefined) {
      dialled()
      const info = await conn.closed
      this.peerEvent({ type: 'session-ended', nodeId: conn.remoteNode, addr, error: `the session ended: ${info.reason ?? 'closed'}` })
      return false
    }
    const ok = await (this.opened.get(session) ?? Promise.resolve(false))
    dialled()
    const info = await conn.closed
    // a session the peer closed because it failed or refused it is a failure here too: the redial
    // backoff grows on every refusal, on both ends (not reset by a session that opened, then was cut)
    const healthy = ok && session.error === undefined && !isFailureReason(info.reason)
    this.peerEvent(endedEvent(session, info.reason, addr, healthy))
    return healthy
  }

  private ended (session: NativeSession, reason?: string): void {
    if (session.conn.direction === 'inbound') this.peerEvent(endedEvent(session, reason, undefined, session.error === undefined && session.info().openedAt !== undefined && !isFailureReason(reason)))
    if (this.sessions.get(session.conn.id) === session) this.sessions.delete(session.conn.id)
    this.opened.delete(session)
    this.gossipPeers.delete(session)
    this.codedPeers.delete(session)
    if (session.error !== undefined) this.failures++
    this.guard.ended(session.error)
    this.peerStats.ended(session)
    this.log.debug(`P2P session with ${session.peer} ended`, { peer: session.peer, error: session.error?.message })
  }

  private changed (ev: ChangeEvent): void {
    // the streams woken next read the feed's new state (once for all of them); a local commit's
    // entries are taken from the event, not read back
    this.builder.tail.changed(ev.entries, ev.via)
    for (const s of this.sessions.values()) s.wake(ev.via)
    this.window.observe(ev.entries)
    if (ev.via !== undefined) this.flushWhenIdle()
  }

  /**
   * Pages from peers commit without waiting for the disk, and a stream sends another peer only
   * empty pages up to the durable seq without flushing (FeedSender.ts): once pages stop coming
   * for FLUSH_IDLE_MS, the store is flushed and the streams go on.
   */
  private flushWhenIdle (): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer)
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined
      if (this.state !== 'started') return
      try {
        this.engine.store.flush()
      } catch (e) {
        this.log.warn('cannot make the pages received from peers durable; trying again with the next page', { error: e instanceof Error ? e.message : String(e) })
        return
      }
      for (const s of this.sessions.values()) s.wake()
    }, FLUSH_IDLE_MS)
    this.flushTimer.unref()
  }

  private scheduleTick (): void {
    if (this.state !== 'started') return
    this.timer = setTimeout(() => { this.tick(); this.scheduleTick() }, this.opts.settings().gossipIntervalMs)
    this.timer.unref()
  }

  /** `force`: every session runs its round now, whatever its idle backoff (SessionRounds.ts). */
  private tick (force = false): void {
    this.round++
    for (const s of this.sessions.values()) s.tick(force)
  }
}
