/**
 * One native sync session with one peer, over one transport `Connection` (docs/PROTOCOL.md).
 *
 *   handshake ──► cursor exchange ──► each side streams its feed after the other's cursor
 *                                     (FeedSender / FeedReceiver), then live push
 *             └─► every gossipIntervalMs: a gossip round (anti-entropy backstop, SessionRounds.ts)
 *
 * With the node's eager routes (SessionRoutes.ts), the peer may prune origins from this node's
 * stream (`prune`) and this node prunes and grafts the peer's (docs/PROTOCOL.md §2, "Dissemination").
 *
 * Until the peer's proof is verified, nothing but `hello` and `proof` is read (HandshakeFrames.ts)
 * and nothing but those is sent. Every wait is bounded: each handshake step by
 * `handshakeTimeoutMs`, each send by `sendTimeoutMs` (SessionWire.ts), each page's
 * acknowledgement by `ackTimeoutMs`. A session that fails closes its connection with the reason
 * (`auth failed`, `protocol error: …`, `timeout: …`) and the log says which peer failed and why;
 * the manager (NativeSync.ts) dials again with backoff. A slow peer only ever stalls its own
 * session.
 */
import { INTERNAL, PROTOCOL, isEngramError, type EngramError } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import type { CloseInfo, Connection } from '../../transport/Transport.ts'
import type { FeedReceiver } from './FeedReceiver.ts'
import type { FeedSender } from './FeedSender.ts'
import { runHandshake } from '../../protocol/native/handshake.ts'
import { HandshakeFrames } from './HandshakeFrames.ts'
import { MAX_QUEUED_PAGES, PageIntake } from './PageIntake.ts'
import { decodeFrame, type NativeMessage, type UncheckedChanges } from '../../protocol/native/messages.ts'
import type { PeerView } from '../../replication/conflicts.ts'
import type { SessionInfo, SessionOptionsOf, SessionState } from './SessionOptions.ts'
import { failureReason } from './sessionFailure.ts'
import { codedAgreed, codedOffer, knowledgeRefreshMs, SessionRounds } from './SessionRounds.ts'
import type { SessionRoutes } from './SessionRoutes.ts'
import { SessionWire } from './SessionWire.ts'
import { sessionParts } from './sessionParts.ts'

export type { SessionGossip, SessionInfo, SessionSettings, SessionState } from './SessionOptions.ts'
export type NativeSessionOptions = SessionOptionsOf<NativeSession>
export { isFailureReason } from './sessionFailure.ts'

export class NativeSession {
  readonly conn: Connection
  readonly peer: NodeId
  private readonly opts: NativeSessionOptions
  private readonly now: () => number
  /** What the peer sends before the handshake completed. */
  private readonly handshake = new HandshakeFrames(e => { void this.fail(e, 'handshake') })
  private state: SessionState = 'handshake'
  private sender: FeedSender | undefined
  private receiver: FeedReceiver | undefined
  /** The gossip half: rounds with the peer, and what comes of the peer's round messages. */
  private rounds: SessionRounds | undefined
  /** Dissemination: what the peer pruned from this node's stream, and this node's link in the node's routes. */
  private routes: SessionRoutes | undefined
  /** What this node sends the peer: encoded, compressed, counted, bounded in time. */
  private readonly wire: SessionWire
  private readonly timers: NodeJS.Timeout[] = []
  private bytesReceived = 0
  private openedAt: number | undefined
  private lastSyncAt: number | undefined
  private closeReason: string | undefined
  private failure: EngramError | undefined
  /** Pages received and not yet applied, in order (checked in slices, then applied). */
  private readonly intake = new PageIntake({
    isOpen: () => this.state === 'open',
    apply: msg => { this.handle(msg) },
    verify: (records, seals) => this.opts.engine.verifyAhead(records, seals),
    fail: e => this.fail(e, 'changes'),
    onDrop: dropped => {
      if (dropped === 1) {
        this.opts.log.info(`P2P peer ${this.peer} sent pages faster than this node applies them: pages past ${MAX_QUEUED_PAGES} waiting are dropped and sent again from this node's cursor (nothing is lost; a busy machine)`, { peer: this.peer })
      }
    }
  })

  constructor (opts: NativeSessionOptions) {
    this.opts = opts
    this.conn = opts.conn
    this.peer = opts.conn.remoteNode
    this.now = opts.now ?? Date.now
    this.wire = new SessionWire({ conn: opts.conn, compress: opts.compress ?? true, sendTimeoutMs: () => opts.settings().sendTimeoutMs })
    this.conn.onFrame(frame => { this.onFrame(frame) })
    void this.conn.closed.then(info => { this.onClosed(info) })
  }

  get isOpen (): boolean {
    return this.state === 'open'
  }

  /** Why the session ended with an error (undefined while open or after a clean close). */
  get error (): EngramError | undefined {
    return this.failure
  }

  /**
   * Runs the handshake, then starts streaming and gossip. Resolves once the session is open;
   * rejects (after closing the connection) when the handshake fails.
   */
  async open (): Promise<void> {
    const { engine, feedId, key, handshakeTimeoutMs, passphraseKey, certificates, secrets, conn } = this.opts
    let peerFeed: string
    let coded: number
    try {
      const result = await runHandshake({ send: msg => this.wire.send(msg), next: ms => this.handshake.inbox.next(ms) }, {
        key, passphraseKey, certificates, ...(secrets !== undefined ? { secrets } : {}), self: engine.node, peer: this.peer, feed: feedId,
        sessionId: conn.id, initiator: conn.direction === 'outbound', timeoutMs: handshakeTimeoutMs,
        signs: engine.provenance.signer !== undefined, now: this.now,
        codecs: this.wire.readCodecs,
        coded: codedOffer(this.opts)
      })
      peerFeed = result.peerFeed
      coded = codedAgreed(this.opts, result.peerCoded)
      this.wire.agree(result.peerCodecs)
      // A member that signs says so: its unsigned records are refused from now on (RecordGate.ts).
      if (result.peerSigns) engine.provenance.signers.learn(this.peer)
      if (result.peerClock !== undefined) this.opts.onClock?.(this.peer, result.peerClock.theirs, result.peerClock.ours)
      if (this.handshake.inbox.drain().length > 0) throw PROTOCOL('a handshake message sent twice')
    } catch (e) {
      await this.fail(e, 'handshake')
      throw e
    }
    if (this.state !== 'handshake') throw this.failure ?? new Error('session closed during the handshake')
    this.state = 'open'
    this.openedAt = this.now()
    const stream = this.opts.stream ?? true
    const parts = sessionParts(this.opts, peerFeed, {
      send: msg => { void this.wire.send(msg).catch(e => this.fail(e, 'send')) },
      sendFrame: frame => this.wire.sendFrame(frame),
      view: () => this.peerView(),
      fail: e => { void this.fail(e, 'send') }
    })
    this.routes = parts.routes
    this.receiver = parts.receiver
    this.sender = parts.sender
    this.rounds = new SessionRounds(this.opts, coded, {
      send: msg => this.wire.send(msg),
      fail: (e, during) => this.fail(e, during),
      isOpen: () => this.state === 'open',
      catchingUp: () => this.catchingUp,
      view: () => this.peerView(),
      synced: () => { this.synced('round') },
      streamed: () => this.streamed()
    })
    this.startTimers()
    // the cursor first: the peer's stream starts from it, and what is told of the open (the
    // peer registry notes it, a write that waits for the disk) is not on its way
    if (stream) this.receiver.sendCursor()
    this.opts.onOpen?.(this)
    // what the peer sent after its proof, now that the proof is verified
    for (const frame of this.handshake.release()) {
      if (this.state !== 'open') break
      this.onFrame(frame, false)
    }
  }

  /** A commit (`via`: the peer its changes came from; absent: local): new feed entries to push. */
  wake (via?: NodeId): void {
    if (this.state !== 'open') return
    this.rounds?.wake()
    if (this.opts.push ?? true) this.sender?.changed(via)
  }

  /** How far the session's streams have moved, both ways: records and origins announced left out (SessionRounds: busy streams). */
  private streamed (): number {
    const s = this.sender?.stats
    const r = this.receiver?.stats
    return (s?.records ?? 0) + (s?.announced ?? 0) + (r?.records ?? 0) + (r?.announced ?? 0)
  }

  /** True until the handshake has ended (either way). */
  get opening (): boolean {
    return this.state === 'handshake'
  }

  /**
   * True while either stream of the session is still catching up (docs/PROTOCOL.md §3, "One
   * stream during catch-up"): this node's feed has not yet reached the peer's end of it, or the
   * peer's feed has not yet reached this node's. Gossip waits meanwhile: the streams are about to
   * deliver everything a round would find, and a round would only send it twice.
   */
  get catchingUp (): boolean {
    if (!(this.opts.stream ?? true)) return false
    return (this.sender?.catchingUp ?? false) || (this.receiver?.catchingUp ?? false)
  }

  /**
   * The periodic tick (every gossipIntervalMs, driven by the manager): a gossip round, unless a
   * stream is catching up or the idle backoff waits (`force`: a round asked for); without live
   * push, also the entries written since the last tick.
   */
  tick (force = false): void {
    if (this.state !== 'open') return
    this.rounds?.tick(force)
    if (!(this.opts.push ?? true)) this.sender?.wake()
    // An idle feed still sends its knowledge now and then (Rule B needs it to move), spaced as its rounds are.
    this.sender?.refreshKnowledge(knowledgeRefreshMs(this.opts.settings(), this.rounds?.idleGap ?? 1))
  }

  async close (reason = 'closed'): Promise<void> {
    this.closeReason ??= reason
    this.stopParts()
    await this.conn.close(reason)
  }

  info (): SessionInfo {
    const s = this.sender?.stats
    const r = this.receiver?.stats
    const catchUp = this.receiver?.progress.catchUp()
    const lagIn = this.receiver?.progress.lag()
    return {
      nodeId: this.peer,
      addr: this.conn.remoteAddr,
      connectionId: this.conn.id,
      direction: this.conn.direction,
      state: this.state,
      openedAt: this.openedAt,
      lastSyncAt: this.lastSyncAt,
      bytesSent: this.wire.bytesSent,
      bytesReceived: this.bytesReceived,
      pagesSent: s?.pages ?? 0,
      recordsSent: s?.records ?? 0,
      pagesReceived: r?.pages ?? 0,
      recordsReceived: r?.records ?? 0,
      recordsApplied: r?.applied ?? 0,
      gossipRounds: this.rounds?.count ?? 0,
      gossipDeferred: this.rounds?.deferred ?? 0,
      pruned: this.routes?.pruned.size ?? 0,
      catchingUp: this.state === 'open' && this.catchingUp,
      cursor: this.receiver?.position ?? 0,
      ...(catchUp !== undefined ? { catchUp } : {}),
      ...(lagIn !== undefined ? { lagIn } : {})
    }
  }

  // ---- internals -------------------------------------------------------------------------

  private onFrame (frame: Uint8Array, count = true): void {
    if (count) this.bytesReceived += frame.byteLength
    if (this.state === 'closed') return
    if (this.state === 'handshake') { this.handshake.onFrame(frame); return }
    const flood = count ? this.opts.budget?.frame(frame.byteLength) : undefined
    if (flood !== undefined) { void this.fail(flood, 'receive'); return }
    let msg: NativeMessage | UncheckedChanges
    try {
      msg = decodeFrame(frame, { deferRecords: true })
    } catch (e) {
      void this.fail(e, 'decode')
      return
    }
    // a request (cursor, digest, buckets, bloom) sent too fast is ignored
    if (this.opts.budget?.admit(msg.t) === false) return
    if ('unchecked' in msg) {
      this.intake.push(msg)
      return
    }
    try {
      this.handle(msg)
    } catch (e) {
      void this.fail(e, msg.t)
    }
  }

  private handle (msg: NativeMessage): void {
    switch (msg.t) {
      case 'hello': case 'proof': case 'pake': case 'confirm':
        throw PROTOCOL(`${msg.t} sent after the handshake`)
      case 'cursor': {
        this.routes?.peerCursor(msg.pr === true, msg.g)
        const started = this.sender?.start(msg.cursor, msg.feed, msg.full === true, msg.g)
        if (started?.snapshot === true) {
          this.opts.log.info(`sending P2P peer ${this.peer} a snapshot of this node's feed (its cursor ${msg.cursor}, the feed floor that applies to it ${started.floor}${msg.full === true ? ', asked for in full' : ''})`,
            { peer: this.peer, cursor: msg.cursor, floor: started.floor })
        }
        return
      }
      case 'prune':
        this.routes?.onPrune(msg.o)
        return
      case 'ack':
        this.sender?.onAck(msg.cursor)
        return
      case 'changes': {
        const receiver = this.receiver!
        const before = receiver.stats.pages
        receiver.onChanges(msg)
        // a page with records (not one that only moves the cursor) is a sync
        if (receiver.stats.pages > before && msg.records.length > 0) this.synced('page')
        return
      }
      default:
        this.rounds?.onMessage(msg)
    }
  }

  /** What the peer has applied of this node's feed: its last acknowledgement (native sync pulls every namespace). */
  private peerView (): PeerView {
    return { node: this.peer, cursor: this.sender?.acknowledged ?? 0, namespaces: null }
  }

  private synced (kind: 'page' | 'round'): void {
    this.lastSyncAt = this.now()
    this.opts.onSynced?.(this, kind)
  }

  private startTimers (): void {
    const ackTimeoutMs = this.opts.settings().ackTimeoutMs
    const watchdog = setInterval(() => {
      const timeoutMs = this.opts.settings().ackTimeoutMs
      this.sender?.checkAcks(timeoutMs)
      if (this.opts.stream ?? true) this.receiver?.checkCursor(timeoutMs)
      // an announced record not here after an acknowledgement wait: graft (gossip rounds bring it meanwhile)
      this.routes?.check(this.now(), timeoutMs)
    }, Math.max(10, Math.floor(ackTimeoutMs / 4)))
    watchdog.unref()
    this.timers.push(watchdog)
  }

  /** Closes the session because of `err` (once), logging which peer failed and why. */
  private async fail (err: unknown, during: string): Promise<void> {
    if (this.state === 'closed' || this.closeReason !== undefined) return
    const message = err instanceof Error ? err.message : String(err)
    const error = isEngramError(err) ? err : INTERNAL(message)
    const reason = failureReason(error.code, during, message)
    const code = error.code
    this.failure = error
    this.closeReason = reason
    const details = { peer: this.peer, addr: this.conn.remoteAddr, during }
    if (code === 'UNAUTHORIZED') this.opts.log.warn(`refused P2P peer ${this.peer}: ${message}`, details)
    else this.opts.log.warn(`P2P session with ${this.peer} failed: ${reason}`, details)
    this.stopParts()
    await this.conn.close(reason)
  }

  private stopParts (): void {
    for (const t of this.timers) clearInterval(t)
    this.timers.length = 0
    this.sender?.stop()
    this.routes?.close()
  }

  private onClosed (info: CloseInfo): void {
    // closed by the peer during the handshake (this node's own refusals are logged by fail())
    const wasHandshake = this.state === 'handshake' && this.failure === undefined
    this.state = 'closed'
    this.stopParts()
    this.closeReason ??= info.reason
    if (info.error !== undefined && this.failure === undefined) this.failure = info.error
    this.handshake.inbox.fail(info.error ?? new Error(`connection closed${info.reason !== undefined ? `: ${info.reason}` : ''}`))
    if (wasHandshake && info.reason === 'auth failed') {
      this.opts.log.warn(`P2P peer ${this.peer} refused this node: auth failed (p2p.seed, sync.passphrase or the TLS certificates; the peer's log says which)`, { peer: this.peer })
    }
  }
}
