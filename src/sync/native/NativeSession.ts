/**
 * One native sync session with one peer, over one transport `Connection` (docs/PROTOCOL.md).
 *
 *   handshake ──► cursor exchange ──► each side streams its feed after the other's cursor
 *                                     (FeedSender / FeedReceiver), then live push
 *             └─► every gossipIntervalMs: a gossip round (anti-entropy backstop)
 *
 * With the node's eager routes (SessionRoutes.ts), the peer may prune origins from this node's
 * stream (`prune`) and this node prunes and grafts the peer's (docs/PROTOCOL.md §2, "Dissemination").
 *
 * Until the peer's proof is verified, nothing but `hello` and `proof` is read and nothing but
 * those is sent. Every wait is bounded: each handshake step by `handshakeTimeoutMs`, each send by
 * `sendTimeoutMs`, each page's acknowledgement by `ackTimeoutMs`. A session that fails closes its
 * connection with the reason (`auth failed`, `protocol error: …`, `timeout: …`) and the log says
 * which peer failed and why; the manager (NativeSync.ts) dials again with backoff. A slow peer
 * only ever stalls its own session.
 */
import { INTERNAL, PROTOCOL, TIMEOUT, isEngramError, type EngramError } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import type { ClockVoid } from '../../core/knowledge.ts'
import type { MemoryRecord } from '../../core/model.ts'
import type { PageSeals } from '../../core/seals.ts'
import type { CloseInfo, Connection } from '../../transport/Transport.ts'
import { raceAbort } from '../../transport/util.ts'
import type { FeedReceiver } from './FeedReceiver.ts'
import type { FeedSender } from './FeedSender.ts'
import { codecFor, compressFrame, READ_CODECS } from '../../protocol/native/compression.ts'
import { runHandshake } from '../../protocol/native/handshake.ts'
import { CODED_ROUNDS_VERSION } from '../../protocol/native/reconWire.ts'
import { Inbox } from './Inbox.ts'
import { PageIntake } from './PageIntake.ts'
import { decodeFrame, encodeMessage, type NativeMessage, type UncheckedChanges } from '../../protocol/native/messages.ts'
import { applyPeerPage } from '../../replication/applyPage.ts'
import type { PeerView } from '../../replication/conflicts.ts'
import type { SessionGossip, SessionInfo, SessionOptionsOf, SessionState } from './SessionOptions.ts'
import { failureReason } from './sessionFailure.ts'
import type { SessionRoutes } from './SessionRoutes.ts'
import { sessionParts } from './sessionParts.ts'

export type { SessionGossip, SessionInfo, SessionSettings, SessionState } from './SessionOptions.ts'
export type NativeSessionOptions = SessionOptionsOf<NativeSession>
export { isFailureReason } from './sessionFailure.ts'

const HANDSHAKE_TYPES: readonly string[] = ['hello', 'proof', 'pake', 'confirm']
/** Frames kept, unread, between the peer's proof and its verification here. */
const MAX_BACKLOG_FRAMES = 16
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024

export class NativeSession {
  readonly conn: Connection
  readonly peer: NodeId
  private readonly opts: NativeSessionOptions
  private readonly now: () => number
  private readonly inbox = new Inbox<NativeMessage>('the peer\'s handshake message')
  private state: SessionState = 'handshake'
  private sender: FeedSender | undefined
  private receiver: FeedReceiver | undefined
  private gossip: SessionGossip | undefined
  /** Dissemination: what the peer pruned from this node's stream, and this node's link in the node's routes. */
  private routes: SessionRoutes | undefined
  /** The version of coded gossip rounds both ends speak (0: bloom rounds only). */
  private peerCoded = 0
  /** The codec of compressed frames to the peer (from its hello), or undefined: plain frames. */
  private codec: number | undefined
  private readonly timers: NodeJS.Timeout[] = []
  private bytesSent = 0
  private bytesReceived = 0
  private gossipRounds = 0
  /** Gossip requests of the peer left unanswered because a stream was catching up. */
  private gossipDeferred = 0
  private openedAt: number | undefined
  private lastSyncAt: number | undefined
  private closeReason: string | undefined
  private failure: EngramError | undefined
  /** Pages received and not yet applied, in order (checked in slices, then applied). */
  private readonly intake = new PageIntake({
    isOpen: () => this.state === 'open',
    apply: msg => { this.handle(msg) },
    verify: (records, seals) => this.opts.engine.verifyAhead(records, seals),
    fail: e => this.fail(e, 'changes')
  })
  /** Gossip batches wait here for their signatures to be checked, and are applied in order. */
  private gossipTail: Promise<void> = Promise.resolve()
  /** Set once the peer's proof arrived: what follows it is kept, unread, until the proof is verified. */
  private proofReceived = false
  private backlog: Uint8Array[] = []
  private backlogBytes = 0

  constructor (opts: NativeSessionOptions) {
    this.opts = opts
    this.conn = opts.conn
    this.peer = opts.conn.remoteNode
    this.now = opts.now ?? Date.now
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
    try {
      const result = await runHandshake({ send: msg => this.sendNow(msg), next: ms => this.inbox.next(ms) }, {
        key, passphraseKey, certificates, ...(secrets !== undefined ? { secrets } : {}), self: engine.node, peer: this.peer, feed: feedId,
        sessionId: conn.id, initiator: conn.direction === 'outbound', timeoutMs: handshakeTimeoutMs,
        signs: engine.provenance.signer !== undefined, now: this.now,
        codecs: (this.opts.compress ?? true) ? READ_CODECS : [],
        coded: (this.opts.coded ?? true) ? CODED_ROUNDS_VERSION : 0
      })
      peerFeed = result.peerFeed
      // a node speaks every version of coded rounds up to the one its hello lists: the lower one both speak
      this.peerCoded = (this.opts.coded ?? true) ? Math.min(CODED_ROUNDS_VERSION, result.peerCoded) : 0
      this.codec = (this.opts.compress ?? true) ? codecFor(result.peerCodecs) : undefined
      // A member that signs says so: its unsigned records are refused from now on (RecordGate.ts).
      if (result.peerSigns) engine.provenance.signers.learn(this.peer)
      if (result.peerClock !== undefined) this.opts.onClock?.(this.peer, result.peerClock.theirs, result.peerClock.ours)
      if (this.inbox.drain().length > 0) throw PROTOCOL('a handshake message sent twice')
    } catch (e) {
      await this.fail(e, 'handshake')
      throw e
    }
    if (this.state !== 'handshake') throw this.failure ?? new Error('session closed during the handshake')
    this.state = 'open'
    this.openedAt = this.now()
    const stream = this.opts.stream ?? true
    const parts = sessionParts(this.opts, peerFeed, {
      send: msg => { void this.sendNow(msg).catch(e => this.fail(e, 'send')) },
      sendFrame: frame => this.sendFrame(frame),
      view: () => this.peerView(),
      fail: e => { void this.fail(e, 'send') }
    })
    this.routes = parts.routes
    this.receiver = parts.receiver
    this.sender = parts.sender
    this.gossip = this.opts.gossip?.(this.peer, this.peerCoded)
    this.startTimers()
    this.opts.onOpen?.(this)
    if (stream) this.receiver.sendCursor()
    // what the peer sent after its proof, now that the proof is verified
    const backlog = this.backlog
    this.backlog = []
    for (const frame of backlog) {
      if (this.state !== 'open') break
      this.onFrame(frame, false)
    }
  }

  /** A local commit: new feed entries to push. */
  wake (): void {
    if (this.state === 'open' && (this.opts.push ?? true)) this.sender?.wake()
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
   * stream is catching up; without live push, also the entries written since the last tick.
   */
  tick (): void {
    if (this.state !== 'open') return
    const round = this.gossip !== undefined && !this.catchingUp ? this.gossip.startRound() : undefined
    if (round !== undefined) void this.sendNow(this.outgoing(round)).catch(e => this.fail(e, 'send'))
    if (!(this.opts.push ?? true)) this.sender?.wake()
    // An idle feed still sends its knowledge now and then (Rule B needs it to move).
    this.sender?.refreshKnowledge(Math.max(1000, this.opts.settings().gossipIntervalMs))
  }

  /** A gossip message as sent: a digest with this node's clock, records with the voids it knows. */
  private outgoing (m: NativeMessage): NativeMessage {
    if (m.t === 'digest' || m.t === 'rdigest') return { ...m, now: this.now() }
    if (m.t === 'records') {
      const vd = this.opts.engine.knowledge.voids()
      return vd.length > 0 ? { ...m, vd } : m
    }
    return m
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
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      pagesSent: s?.pages ?? 0,
      recordsSent: s?.records ?? 0,
      pagesReceived: r?.pages ?? 0,
      recordsReceived: r?.records ?? 0,
      recordsApplied: r?.applied ?? 0,
      gossipRounds: this.gossipRounds,
      gossipDeferred: this.gossipDeferred,
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
    const flood = this.state === 'open' && count ? this.opts.budget?.frame(frame.byteLength) : undefined
    if (flood !== undefined) { void this.fail(flood, 'receive'); return }
    if (this.state === 'handshake' && this.proofReceived) {
      // the peer may go on as soon as it verified our proof: keep its frames until ours is done
      this.backlog.push(frame)
      this.backlogBytes += frame.byteLength
      if (this.backlog.length > MAX_BACKLOG_FRAMES || this.backlogBytes > MAX_BACKLOG_BYTES) {
        void this.fail(PROTOCOL(`more than ${MAX_BACKLOG_FRAMES} frames or ${MAX_BACKLOG_BYTES} bytes sent before the handshake completed`), 'handshake')
      }
      return
    }
    let msg: NativeMessage | UncheckedChanges
    try {
      // before the proof, only hello and proof are read at all
      msg = this.state === 'open' ? decodeFrame(frame, { deferRecords: true }) : decodeFrame(frame, { only: HANDSHAKE_TYPES })
    } catch (e) {
      // during the handshake, what the peer sent before this frame is judged first (a peer whose
      // hello already fails authentication is refused for that, not for what it pushed after)
      if (this.state === 'handshake') this.inbox.fail(e)
      else void this.fail(e, 'decode')
      return
    }
    // a request (cursor, digest, buckets, bloom) sent too fast is ignored
    if (this.state === 'open' && this.opts.budget?.admit(msg.t) === false) return
    if ('unchecked' in msg) {
      this.intake.push(msg)
      return
    }
    if (this.state === 'handshake') {
      // the peer's last handshake message: its proof (version 1) or its confirmation (version 2)
      if (msg.t === 'proof' || msg.t === 'confirm') this.proofReceived = true
      if (!this.inbox.push(msg as NativeMessage)) void this.fail(PROTOCOL('too many messages before the handshake completed'), 'handshake')
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
      case 'cursor':
        this.routes?.peerCursor(msg.pr === true, msg.g)
        this.sender?.start(msg.cursor, msg.feed, msg.full === true, msg.g)
        return
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
      default: {
        if (this.gossip === undefined) return
        if ((msg.t === 'digest' || msg.t === 'rdigest') && msg.now !== undefined) this.opts.onClock?.(this.peer, msg.now, this.now())
        // a round the peer starts while a stream catches up ends at once (a lost message does the same)
        if (msg.t !== 'records' && this.catchingUp) { this.gossipDeferred++; return }
        const { send, apply, seals } = this.gossip.onMessage(msg)
        // decodeFrame checked every row of a `records` message; signatures are checked ahead, in slices
        if (apply.length > 0) {
          const voids = msg.t === 'records' ? msg.vd : undefined
          this.gossipTail = this.gossipTail
            .then(async () => { await this.opts.engine.verifyAhead(apply, seals); if (this.state === 'open') this.applyGossip(apply, seals, voids) })
            .catch(e => this.fail(e, 'gossip'))
        }
        for (const m of send) void this.sendNow(this.outgoing(m)).catch(e => this.fail(e, 'send'))
        // an equal digest (nothing to answer) or records received: this peer and we agree, or soon will
        if (((msg.t === 'digest' || msg.t === 'rdigest') && send.length === 0) || msg.t === 'records') this.synced('round')
      }
    }
  }

  /** What the peer has applied of this node's feed: its last acknowledgement (native sync pulls every namespace). */
  private peerView (): PeerView {
    return { node: this.peer, cursor: this.sender?.acknowledged ?? 0, namespaces: null }
  }

  /** Applies a gossip batch; one over the peer's tombstone budget is left for a later round. */
  private applyGossip (records: readonly MemoryRecord[], seals: PageSeals | undefined, voids: readonly ClockVoid[] | undefined): void {
    const conflicts = this.opts.conflicts
    try {
      applyPeerPage(this.opts.engine, { peer: this.peer, records, seals, view: this.peerView(), ...(voids !== undefined ? { voids } : {}) },
        conflicts !== undefined ? { pass: conflicts.pass(this.peer), log: conflicts.log } : undefined)
      this.routes?.seen(records)
    } catch (e) {
      if (!isEngramError(e) || e.code !== 'RATE_LIMITED') throw e
      this.opts.log.debug(`left a gossip batch from ${this.peer} for a later round: ${e.message}`, { peer: this.peer })
    }
  }

  private synced (kind: 'page' | 'round'): void {
    this.lastSyncAt = this.now()
    if (kind === 'round') this.gossipRounds++
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

  private sendNow (msg: NativeMessage): Promise<void> {
    return this.sendFrame(encodeMessage(msg))
  }

  /** Sends a frame, bounded by sendTimeoutMs. */
  private async sendFrame (plain: Uint8Array): Promise<void> {
    const frame = compressFrame(plain, this.codec)
    this.bytesSent += frame.byteLength
    const limit = this.opts.settings().sendTimeoutMs
    const signal = AbortSignal.timeout(limit)
    try {
      await raceAbort(this.conn.send(frame), signal)
    } catch (e) {
      if (signal.aborted) throw TIMEOUT(`sending to ${this.peer} (the peer reads nothing)`, limit)
      throw e
    }
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
    this.inbox.fail(info.error ?? new Error(`connection closed${info.reason !== undefined ? `: ${info.reason}` : ''}`))
    if (wasHandshake && info.reason === 'auth failed') {
      this.opts.log.warn(`P2P peer ${this.peer} refused this node: auth failed (p2p.seed, sync.passphrase or the TLS certificates; the peer's log says which)`, { peer: this.peer })
    }
  }
}
