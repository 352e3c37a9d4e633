/**
 * Which attempts become sessions, per peer (the rule is documented in `../Transport.ts`, its parts
 * in `attempts.ts`), for `QuicTransport`:
 * - at most one established session per peer;
 * - at most one outbound attempt per peer at a time (concurrent dials to the same peer share it);
 * - a HELLO that arrives while this node's own attempt to that peer is in flight is settled by
 *   comparing the two attempts' keys `(initiator id, nonce)`: the smaller survives. When the
 *   peer's attempt wins, this node abandons its own and lists that nonce in its ACCEPT, so the
 *   peer refuses the abandoned HELLO whenever it arrives;
 * - a HELLO from a peer that already has an established session replaces that session.
 * The table holds the established sessions, the attempts in flight, every session not yet closed
 * (to close them all on stop), the nonces a peer abandoned, and who waits for a peer's session.
 */
import { randomBytes } from 'node:crypto'
import type { Connection as Libp2pConnection, Stream } from '@libp2p/interface'
import { INVALID_INPUT, LIMIT_EXCEEDED, TIMEOUT, isEngramError } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import { ENGRAM_PROTOCOL } from '../Transport.ts'
import { isBetterPath } from '../path.ts'
import { deadline, errorMessage, raceAbort, unreachable } from '../util.ts'
import { compareAttempts, VoidedNonces, type Attempt } from './attempts.ts'
import type { ConnectionUse } from './ConnectionUse.ts'
import { NONCE_BYTES } from './framing.ts'
import { Libp2pSession } from './session.ts'

export interface SessionTableOptions {
  readonly nodeId: NodeId
  readonly maxFrameBytes: number
  readonly handshakeTimeoutMs: number
  readonly closeTimeoutMs: number
  readonly maxConnections: number
  readonly conns: ConnectionUse
  readonly log: (message: string, details?: Record<string, unknown>) => void
  /** Whether the transport runs (attempts and HELLOs are refused otherwise). */
  readonly isStarted: () => boolean
  /** A session became the peer's established one. */
  readonly onEstablished: (session: Libp2pSession) => void
}

export class SessionTable {
  private readonly o: SessionTableOptions
  /** Established sessions, one per peer. */
  private readonly sessions = new Map<NodeId, Libp2pSession>()
  /** This node's attempt in flight, at most one per peer. */
  private readonly pending = new Map<NodeId, Attempt>()
  /** Every session object not yet closed, any phase. */
  private readonly live = new Set<Libp2pSession>()
  private readonly voided = new VoidedNonces()
  private readonly waiters = new Map<NodeId, Set<(s: Libp2pSession) => void>>()

  constructor (o: SessionTableOptions) {
    this.o = o
  }

  /** The established session with `peer`, when it is open. */
  open (peer: NodeId): Libp2pSession | undefined {
    const s = this.sessions.get(peer)
    return s?.isOpen === true ? s : undefined
  }

  /** Established sessions, one per peer. */
  all (): Libp2pSession[] {
    return [...this.sessions.values()]
  }

  /** Whether this node's own attempt to `peer` is in flight. */
  attempting (peer: NodeId): boolean {
    return this.pending.has(peer)
  }

  /** Abandons every attempt in flight (the transport stops). */
  abortAttempts (): void {
    for (const att of this.pending.values()) att.abort.abort(new Error('transport stopped'))
  }

  /** Closes every session and forgets who waits (the transport stops). */
  async closeAll (): Promise<void> {
    await Promise.allSettled([...this.live].map(s => s.close('transport stopped')))
    for (const set of this.waiters.values()) set.clear()
    this.waiters.clear()
  }

  /** The session with the peer at the end of `conn`: the existing one, a shared attempt, or a new attempt. */
  async sessionOver (conn: Libp2pConnection, addr: string, signal: AbortSignal, expected: NodeId | undefined): Promise<Libp2pSession> {
    const peer = conn.remotePeer.toString() as NodeId
    if (peer === this.o.nodeId) {
      this.o.conns.release(conn)
      throw INVALID_INPUT('address', `${addr} is this node's own address`)
    }
    if (expected !== undefined && peer !== expected) {
      this.o.conns.release(conn)
      throw unreachable(addr, `the node there is ${peer}, not the expected ${expected}`)
    }
    // an attempt that fails makes way for a fresh one, a bounded number of times
    let lastErr: unknown
    for (let round = 0; round < 3; round++) {
      const est = this.sessions.get(peer)
      if (est?.isOpen === true) {
        // a connection on a preferred path stays for the path rule (QuicTransport.onConnectionOpen) to move the session onto
        if (!isBetterPath(conn.remoteAddr.toString(), est.remoteAddr)) this.o.conns.release(conn)
        return est
      }
      const att = this.pending.get(peer)
      if (att !== undefined) {
        try {
          return await raceAbort(att.result, signal)
        } catch (err) {
          if (signal.aborted) throw err
          lastErr = err
          continue
        }
      }
      if (conn.status !== 'open') throw unreachable(addr, 'connection closed before the session started')
      if (this.sessions.size >= this.o.maxConnections) {
        this.o.conns.release(conn)
        throw LIMIT_EXCEEDED('open sessions', this.o.maxConnections, this.sessions.size)
      }
      return await this.initiate(conn, peer, addr, signal)
    }
    throw lastErr
  }

  async initiate (conn: Libp2pConnection, peer: NodeId, addr: string, signal: AbortSignal): Promise<Libp2pSession> {
    const done = Promise.withResolvers<Libp2pSession>()
    done.promise.catch(() => {})
    const att: Attempt = { nonce: randomBytes(NONCE_BYTES), voided: false, abort: new AbortController(), session: undefined, result: done.promise }
    this.pending.set(peer, att)
    this.o.conns.use(conn)
    try {
      const s = await this.runAttempt(att, conn, peer, addr, AbortSignal.any([signal, att.abort.signal]))
      done.resolve(s)
      return s
    } catch (err) {
      if (att.voided && !signal.aborted) {
        // the peer's own attempt won and is established: that is the session
        try {
          const s = await this.waitForSession(peer, signal)
          done.resolve(s)
          return s
        } catch (e) {
          done.reject(e)
          throw e
        }
      }
      done.reject(err)
      throw err
    } finally {
      if (this.pending.get(peer) === att) this.pending.delete(peer)
      this.o.conns.unuse(conn)
    }
  }

  private async runAttempt (att: Attempt, conn: Libp2pConnection, peer: NodeId, addr: string, signal: AbortSignal): Promise<Libp2pSession> {
    const step = deadline(this.o.handshakeTimeoutMs, signal)
    let session: Libp2pSession
    try {
      const stream = await conn.newStream(ENGRAM_PROTOCOL, { signal: step.signal, runOnLimitedConnection: true })
      if (att.voided || signal.aborted) {
        stream.abort(new Error('duplicate'))
        throw new Error('attempt abandoned')
      }
      session = this.track(new Libp2pSession({
        stream, conn, direction: 'outbound', maxFrameBytes: this.o.maxFrameBytes, closeTimeoutMs: this.o.closeTimeoutMs, onClosed: this.onSessionClosed
      }))
    } catch (err) {
      if (step.timedOut()) throw TIMEOUT(`opening the engram stream to ${peer}`, this.o.handshakeTimeoutMs)
      if (isEngramError(err) || signal.aborted) throw err
      throw unreachable(addr, `peer ${peer} does not accept engram sessions: ${errorMessage(err)}`, err)
    }
    att.session = session
    session.sendHello(att.nonce)
    let reply
    try {
      reply = await session.awaitReply(step.signal)
    } catch (err) {
      void session.close(step.timedOut() ? 'handshake timeout' : 'duplicate')
      if (step.timedOut()) throw TIMEOUT(`session handshake with ${peer}`, this.o.handshakeTimeoutMs)
      throw err
    }
    if (reply.kind === 'accept') {
      if (att.voided || !this.o.isStarted()) {
        void session.close(att.voided ? 'duplicate' : 'transport stopped')
        throw new Error('attempt abandoned')
      }
      this.voided.remember(peer, reply.voided)
      this.establish(session)
      return session
    }
    if (reply.kind === 'reject' && reply.reason === 'duplicate') {
      // the peer keeps the session it initiated; it reaches this node as an inbound session
      return await this.waitForSession(peer, signal)
    }
    const why = reply.kind === 'reject' ? `refused the session: ${reply.reason}` : `closed during the handshake: ${reply.info.reason ?? 'no reason'}`
    throw unreachable(addr, `peer ${peer} ${why}`)
  }

  /** An inbound engram stream: a session that waits for the peer's HELLO. */
  accept (stream: Stream, conn: Libp2pConnection): void {
    if (!this.o.isStarted()) {
      stream.abort(new Error('transport stopped'))
      return
    }
    const session = this.track(new Libp2pSession({
      stream, conn, direction: 'inbound', maxFrameBytes: this.o.maxFrameBytes, closeTimeoutMs: this.o.closeTimeoutMs,
      onHello: this.onHello, onClosed: this.onSessionClosed
    }))
    const timer = this.o.conns.after(this.o.handshakeTimeoutMs, () => {
      if (!session.isOpen && !session.isClosed) {
        this.o.log('session handshake timed out', { peer: session.remoteNode, after: this.o.handshakeTimeoutMs })
        void session.close('handshake timeout')
      }
    })
    void session.closed.then(() => { this.o.conns.cancel(timer) })
  }

  private readonly onHello = (session: Libp2pSession, nonce: Uint8Array): void => {
    const peer = session.remoteNode
    const refuse = (reason: string): void => {
      this.o.log('session refused', { peer, reason })
      void session.reject(reason)
    }
    if (!this.o.isStarted()) { refuse('transport stopped'); return }
    if (this.voided.has(peer, nonce)) { refuse('duplicate'); return }
    const voided: Uint8Array[] = []
    const est = this.sessions.get(peer)
    const hasOpen = est?.isOpen === true
    const att = this.pending.get(peer)
    if (!hasOpen && att !== undefined && !att.voided) {
      if (compareAttempts(this.o.nodeId, att.nonce, peer, nonce) < 0) { refuse('duplicate'); return }
      // the peer's attempt wins: abandon ours and say so in the ACCEPT
      att.voided = true
      voided.push(att.nonce)
      att.abort.abort(new Error('duplicate'))
      if (att.session !== undefined) void att.session.close('duplicate')
    }
    if (!hasOpen && this.sessions.size >= this.o.maxConnections) { refuse('too many connections'); return }
    // with an open session, the peer started over and no longer holds it: establish() replaces it
    session.accept(voided)
    this.establish(session)
  }

  private establish (session: Libp2pSession): void {
    const peer = session.remoteNode
    const prev = this.sessions.get(peer)
    if (prev !== undefined && prev !== session) {
      this.sessions.delete(peer)
      void prev.close('replaced by a newer session')
    }
    this.sessions.set(peer, session)
    this.o.onEstablished(session)
    const ws = this.waiters.get(peer)
    if (ws !== undefined) {
      this.waiters.delete(peer)
      for (const w of ws) w(session)
    }
  }

  private waitForSession (peer: NodeId, signal: AbortSignal): Promise<Libp2pSession> {
    const est = this.sessions.get(peer)
    if (est?.isOpen === true) return Promise.resolve(est)
    return new Promise((resolve, reject) => {
      let set = this.waiters.get(peer)
      if (set === undefined) { set = new Set(); this.waiters.set(peer, set) }
      const waiter = (s: Libp2pSession): void => { signal.removeEventListener('abort', onAbort); resolve(s) }
      const onAbort = (): void => { this.waiters.get(peer)?.delete(waiter); reject(signal.reason) }
      if (signal.aborted) { onAbort(); return }
      signal.addEventListener('abort', onAbort, { once: true })
      set.add(waiter)
    })
  }

  private track (session: Libp2pSession): Libp2pSession {
    this.live.add(session)
    this.o.conns.use(session.conn)
    return session
  }

  private readonly onSessionClosed = (session: Libp2pSession): void => {
    if (this.sessions.get(session.remoteNode) === session) this.sessions.delete(session.remoteNode)
    if (this.live.delete(session)) this.o.conns.unuse(session.conn)
  }
}
