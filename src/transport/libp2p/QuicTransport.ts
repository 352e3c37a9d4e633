/**
 * The network transport of native sync: libp2p over QUIC (TLS 1.3, `@chainsafe/libp2p-quic`),
 * optionally TCP with Noise encryption and Yamux multiplexing where UDP is blocked, in a
 * private network (`privateNetwork.ts`) when a key is given.
 *
 * The node id is the libp2p peer id of the node's Ed25519 key; both QUIC's TLS handshake and
 * Noise prove it to the peer, so `Connection.remoteNode` is authenticated.
 *
 * Each session is one long-lived bidirectional stream (`/engram/sync/1.0.0`, wire format in
 * `framing.ts`) on one libp2p connection. The stream opener sends HELLO with a fresh 16-byte
 * nonce; the other side answers ACCEPT or REJECT. The transport decides, per peer, which
 * attempts become sessions (the rule is documented in `../Transport.ts`, its parts in
 * `attempts.ts`):
 * - at most one established session per peer;
 * - at most one outbound attempt per peer at a time (concurrent dials to the same peer share it);
 * - a HELLO that arrives while this node's own attempt to that peer is in flight is settled by
 *   comparing the two attempts' keys `(initiator id, nonce)`: the smaller survives. When the
 *   peer's attempt wins, this node abandons its own and lists that nonce in its ACCEPT, so the
 *   peer refuses the abandoned HELLO whenever it arrives;
 * - a HELLO from a peer that already has an established session replaces that session.
 * A libp2p connection that carries no session (for example a peer that connected and went
 * silent) is closed after `handshakeTimeoutMs` (`ConnectionUse.ts`).
 *
 * The parts: `options.ts` (options and their checks), `node.ts` (the libp2p node), `targets.ts`
 * (what a dial address means), `session.ts` (one session over one stream), `framing.ts`.
 *
 * With reach options (`relay/`), sessions also run over circuit relay v2 connections: the node
 * keeps reservations on its relays (`relay/RelayClient.ts`), reports the members it can reach
 * through them (`onRelayMember`), and, serving as a relay, admits only nodes that prove a key
 * (`relay/RelayGate.ts`). When a direct connection to a peer appears (DCUtR's hole punch or its
 * reverse dial) while the session with that peer runs through a relay, the node with the smaller
 * id opens a new session over the direct connection, which replaces the relayed one (the
 * replacement rule above); `sessionPath` (`path.ts`) says which path a session takes.
 */
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection as Libp2pConnection, Libp2p, PrivateKey, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { requestRelay, serveAdmitted, type RelayAnswer, type RelayServiceOptions } from './relay/relayRequests.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import { INVALID_INPUT, LIMIT_EXCEEDED, TIMEOUT, isEngramError, CONFLICT, UNAVAILABLE } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import { ENGRAM_PROTOCOL, type Connection, type DialOptions, type ReachStatus, type Transport } from '../Transport.ts'
import { deadline, dialFailure, errorMessage, notStarted, raceAbort, unreachable } from '../util.ts'
import { compareAttempts, VoidedNonces, type Attempt } from './attempts.ts'
import { ConnectionUse } from './ConnectionUse.ts'
import { NONCE_BYTES } from './framing.ts'
import { createNode, listenAddresses } from './node.ts'
import { resolveOptions, type QuicTransportOptions, type ResolvedOptions, type TransportKinds } from './options.ts'
import { quicReadTuning } from './quicReads.ts'
import { Libp2pSession } from './session.ts'
import { dialTargets, refuseOwn } from './targets.ts'
import { isRelayedAddr } from '../path.ts'
import { RelayClient, type RelayView } from './relay/RelayClient.ts'
import { RelayGate } from './relay/RelayGate.ts'
import { reservationHolder } from './relay/parts.ts'

export type { QuicTransportOptions, ReachOptions, TransportKinds } from './options.ts'
export type { RelayView } from './relay/RelayClient.ts'
export { compareAttempts } from './attempts.ts'

type State = 'new' | 'starting' | 'started' | 'stopped'

export class QuicTransport implements Transport {
  readonly nodeId: NodeId
  readonly maxFrameBytes: number
  readonly dialTimeoutMs: number
  readonly handshakeTimeoutMs: number
  readonly closeTimeoutMs: number
  readonly maxConnections: number
  readonly kinds: TransportKinds

  private readonly o: ResolvedOptions
  private readonly log: (message: string, details?: Record<string, unknown>) => void
  private state: State = 'new'
  private node: Libp2p | undefined
  private readonly stopController = new AbortController()
  private readonly handlers: Array<(conn: Connection) => void> = []
  /** Established sessions, one per peer. */
  private readonly sessions = new Map<NodeId, Libp2pSession>()
  /** This node's attempt in flight, at most one per peer. */
  private readonly pending = new Map<NodeId, Attempt>()
  /** Every session object not yet closed, any phase. */
  private readonly live = new Set<Libp2pSession>()
  private readonly voided = new VoidedNonces()
  private readonly waiters = new Map<NodeId, Set<(s: Libp2pSession) => void>>()
  private readonly conns: ConnectionUse
  private readonly gate: RelayGate | undefined
  private readonly relayClient: RelayClient | undefined
  private readonly memberHandlers: Array<(member: NodeId, circuitAddr: string, relay: NodeId) => void> = []

  constructor (opts: QuicTransportOptions) {
    this.o = resolveOptions(opts)
    this.nodeId = peerIdFromPrivateKey(this.o.privateKey).toString() as NodeId
    this.kinds = this.o.kinds
    this.maxFrameBytes = this.o.maxFrameBytes
    this.dialTimeoutMs = this.o.dialTimeoutMs
    this.handshakeTimeoutMs = this.o.handshakeTimeoutMs
    this.closeTimeoutMs = this.o.closeTimeoutMs
    this.maxConnections = this.o.maxConnections
    this.log = this.o.log
    this.conns = new ConnectionUse(this.closeTimeoutMs, this.handshakeTimeoutMs)
    const reach = this.o.reach
    if (reach?.serve !== undefined) {
      this.gate = new RelayGate({
        keys: reach.serve.keys,
        handshakeTimeoutMs: this.handshakeTimeoutMs,
        log: this.o.notice,
        hasReservation: (peer) => this.node !== undefined && reservationHolder(this.node.services as Record<string, unknown>)(peer)
      })
    }
    if (reach?.memberKey !== undefined) {
      this.relayClient = new RelayClient({
        key: reach.memberKey,
        handshakeTimeoutMs: this.handshakeTimeoutMs,
        pollMs: reach.pollMs,
        log: this.o.notice,
        onMember: (member, addr, relay) => {
          // the node with the smaller id dials, so two members never open two circuits at once
          if (member <= this.nodeId || this.sessions.get(member as NodeId)?.isOpen === true) return
          for (const h of this.memberHandlers) h(member as NodeId, addr, relay as NodeId)
        }
      })
      for (const r of reach.relays) this.relayClient.add(r)
    }
  }

  /** Builds a transport, generating a fresh identity key when none is given (tests, tools). */
  static async create (opts: Omit<QuicTransportOptions, 'privateKey'> & { privateKey?: PrivateKey }): Promise<QuicTransport> {
    return new QuicTransport({ ...opts, privateKey: opts.privateKey ?? await generateKeyPair('Ed25519') })
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async start (): Promise<void> {
    if (this.state !== 'new') throw CONFLICT(`transport cannot be started when ${this.state}`)
    this.state = 'starting'
    const listen = listenAddresses(this.o)
    let node: Libp2p | undefined
    try {
      node = await createNode(this.o, listen, {
        onStream: (stream, conn) => { this.onInboundStream(stream, conn) },
        onConnectionOpen: conn => { this.onConnectionOpen(conn) },
        ...(this.gate !== undefined ? { gate: this.gate } : {})
      })
      await node.start()
      this.relayClient?.start(node, (node.services as Record<string, unknown>).circuits as never)
      if ((this.state as State) !== 'starting') throw new Error('stopped while starting')
      const tuning = quicReadTuning()
      if (this.o.kinds !== 'tcp' && !tuning.active) this.log(`QUIC stream reads stay at the library's 4 KiB: ${tuning.reason}; sync works, large transfers are slower`)
    } catch (err) {
      this.state = 'stopped'
      try { await node?.stop() } catch { /* already failing */ }
      throw UNAVAILABLE(`cannot listen on ${listen.join(', ')}: ${errorMessage(err)}` +
        (/EADDRINUSE|in use/i.test(errorMessage(err)) ? ' (the port is taken: stop the other process or choose another p2p.port)' : ''),
      { listen }, err)
    }
    this.node = node
    this.state = 'started'
  }

  async stop (): Promise<void> {
    if (this.state === 'stopped') return
    const wasRunning = this.state === 'started'
    this.state = 'stopped'
    this.stopController.abort(notStarted('continue: the transport was stopped'))
    for (const att of this.pending.values()) att.abort.abort(new Error('transport stopped'))
    this.conns.clear()
    await this.relayClient?.stop()
    await Promise.allSettled([...this.live].map(s => s.close('transport stopped')))
    for (const set of this.waiters.values()) set.clear()
    this.waiters.clear()
    if (wasRunning && this.node !== undefined) await this.node.stop()
  }

  listenAddrs (): string[] {
    if (this.state !== 'started' || this.node === undefined) return []
    return this.node.getMultiaddrs().map(String)
  }

  onConnection (handler: (conn: Connection) => void): void {
    this.handlers.push(handler)
  }

  /** Established sessions, one per peer. */
  connections (): Connection[] {
    return [...this.sessions.values()]
  }

  // ---- relays ----------------------------------------------------------------------------

  /** Called for each member of this node's group that holds a reservation on one of its relays. */
  onRelayMember (handler: (member: NodeId, circuitAddr: string, relay: NodeId) => void): void {
    this.memberHandlers.push(handler)
  }

  /** Uses one more relay (a multiaddr ending in `/p2p/<relay id>`), e.g. one a member told of. */
  addRelay (addr: string): void {
    if (this.relayClient === undefined) throw INVALID_INPUT('relay', 'this node has no admission key: relays need p2p.seed')
    this.relayClient.add(addr)
  }

  /** The relays this node uses, and their state. */
  relays (): RelayView[] {
    return this.relayClient?.relays() ?? []
  }

  /** `public` once AutoNAT has confirmed a direct address of this node from outside; else `private`. */
  reachability (): 'public' | 'private' {
    return this.relayClient?.publiclyReachable() === true ? 'public' : 'private'
  }

  /** Relays, reachability and relay service, for the P2P status. */
  readonly reachStatus = (): ReachStatus => ({
    reachability: this.reachability(),
    relayed_addrs: this.listenAddrs().filter(isRelayedAddr),
    relays: this.relays().map(r => ({
      id: r.id, addrs: r.addrs, state: r.state, reservation: r.reservation, since: new Date(r.since).toISOString(), last_error: r.lastError ?? null
    })),
    serving: this.gate !== undefined ? { admitted: this.gate.size } : null
  })

  /** Serves a request-and-answer protocol to the nodes admitted to this relay (`relay/relayRequests.ts`). */
  async serveRelayService (o: RelayServiceOptions, answer: RelayAnswer): Promise<void> {
    if (this.gate === undefined || this.node === undefined) throw CONFLICT('a relay service needs a started transport that serves as a relay')
    await serveAdmitted(this.node, this.gate, o, answer)
  }

  /** Relays that admitted this node now (ids), the ones its relay services can be asked of. */
  admittedRelays (): string[] {
    return this.relays().filter(r => r.state === 'admitted' || r.state === 'reserved').map(r => r.id)
  }

  /** One exchange with a relay service on `relay` (`relay/relayRequests.ts`). */
  async requestRelay (relay: string, o: RelayServiceOptions & { maxFrames: number, isLast: (frame: Uint8Array) => boolean }, request: Uint8Array): Promise<Uint8Array[]> {
    if (this.node === undefined || this.state !== 'started') throw notStarted('ask a relay')
    return await requestRelay(this.node, relay, o, request, this.stopController.signal)
  }

  /** How many nodes are admitted to this node's relay now (0 when not serving). */
  admittedCount (): number {
    return this.gate?.size ?? 0
  }

  private onConnectionOpen (conn: Libp2pConnection): void {
    this.conns.watchIdle(conn, c => this.relayClient?.isRelay(c.remotePeer) === true || this.gate?.isAdmitted(c.remotePeer) === true)
    if (isRelayedAddr(conn.remoteAddr.toString())) return
    const peer = conn.remotePeer.toString() as NodeId
    const est = this.sessions.get(peer)
    // a direct connection to a peer whose session runs through a relay: move the session there
    if (est?.isOpen !== true || !isRelayedAddr(est.remoteAddr) || this.nodeId >= peer || this.pending.has(peer)) return
    this.log('moving the session to a direct connection', { peer, addr: conn.remoteAddr.toString() })
    const dl = deadline(this.dialTimeoutMs, this.stopController.signal)
    this.initiate(conn, peer, conn.remoteAddr.toString(), dl.signal).catch((err: unknown) => {
      this.log('could not move the session to the direct connection; it stays relayed', { peer, error: errorMessage(err) })
    })
  }

  // ---- dialing ---------------------------------------------------------------------------

  async dial (addr: string, opts: DialOptions = {}): Promise<Connection> {
    if (this.state !== 'started' || this.node === undefined) throw notStarted(`dial ${addr}`)
    const node = this.node
    const timeoutMs = opts.timeoutMs ?? this.dialTimeoutMs
    const dl = deadline(timeoutMs, opts.signal, this.stopController.signal)
    try {
      const targets: Multiaddr[] = await raceAbort(dialTargets(addr, this.kinds), dl.signal)
      refuseOwn(addr, targets, this.listenAddrs(), this.nodeId)
      let lastErr: unknown = unreachable(addr, 'no address to dial')
      for (let i = 0; i < targets.length; i++) {
        const target = targets[i] as Multiaddr
        // every address but the last gets one handshake's worth of time, so a blocked UDP
        // path falls back to TCP well within the dial's limit
        const perAddress = i === targets.length - 1
          ? dl.signal
          : AbortSignal.any([dl.signal, AbortSignal.timeout(this.handshakeTimeoutMs)])
        let conn: Libp2pConnection
        try {
          conn = await node.dial(target, { signal: perAddress })
        } catch (err) {
          lastErr = err
          if (dl.signal.aborted) break
          continue
        }
        return await this.sessionOver(conn, addr, dl.signal, opts.expectedNode)
      }
      throw lastErr
    } catch (err) {
      if (opts.signal?.aborted === true) throw opts.signal.reason
      if (this.stopController.signal.aborted) throw notStarted(`dial ${addr}`)
      throw dialFailure(addr, err, dl.timedOut(), timeoutMs)
    }
  }

  /** The session with the peer at the end of `conn`: the existing one, a shared attempt, or a new attempt. */
  private async sessionOver (conn: Libp2pConnection, addr: string, signal: AbortSignal, expected: NodeId | undefined): Promise<Libp2pSession> {
    const peer = conn.remotePeer.toString() as NodeId
    if (peer === this.nodeId) {
      this.conns.release(conn)
      throw INVALID_INPUT('address', `${addr} is this node's own address`)
    }
    if (expected !== undefined && peer !== expected) {
      this.conns.release(conn)
      throw unreachable(addr, `the node there is ${peer}, not the expected ${expected}`)
    }
    // an attempt that fails makes way for a fresh one, a bounded number of times
    let lastErr: unknown
    for (let round = 0; round < 3; round++) {
      const est = this.sessions.get(peer)
      if (est?.isOpen === true) {
        this.conns.release(conn)
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
      if (this.sessions.size >= this.maxConnections) {
        this.conns.release(conn)
        throw LIMIT_EXCEEDED('open sessions', this.maxConnections, this.sessions.size)
      }
      return await this.initiate(conn, peer, addr, signal)
    }
    throw lastErr
  }

  private async initiate (conn: Libp2pConnection, peer: NodeId, addr: string, signal: AbortSignal): Promise<Libp2pSession> {
    const done = Promise.withResolvers<Libp2pSession>()
    done.promise.catch(() => {})
    const att: Attempt = { nonce: randomBytes(NONCE_BYTES), voided: false, abort: new AbortController(), session: undefined, result: done.promise }
    this.pending.set(peer, att)
    this.conns.use(conn)
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
      this.conns.unuse(conn)
    }
  }

  private async runAttempt (att: Attempt, conn: Libp2pConnection, peer: NodeId, addr: string, signal: AbortSignal): Promise<Libp2pSession> {
    const step = deadline(this.handshakeTimeoutMs, signal)
    let session: Libp2pSession
    try {
      const stream = await conn.newStream(ENGRAM_PROTOCOL, { signal: step.signal, runOnLimitedConnection: true })
      if (att.voided || signal.aborted) {
        stream.abort(new Error('duplicate'))
        throw new Error('attempt abandoned')
      }
      session = this.track(new Libp2pSession({
        stream, conn, direction: 'outbound', maxFrameBytes: this.maxFrameBytes, closeTimeoutMs: this.closeTimeoutMs, onClosed: this.onSessionClosed
      }))
    } catch (err) {
      if (step.timedOut()) throw TIMEOUT(`opening the engram stream to ${peer}`, this.handshakeTimeoutMs)
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
      if (step.timedOut()) throw TIMEOUT(`session handshake with ${peer}`, this.handshakeTimeoutMs)
      throw err
    }
    if (reply.kind === 'accept') {
      if (att.voided || this.state !== 'started') {
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

  // ---- accepting -------------------------------------------------------------------------

  private onInboundStream (stream: Stream, conn: Libp2pConnection): void {
    if (this.state !== 'started') {
      stream.abort(new Error('transport stopped'))
      return
    }
    const session = this.track(new Libp2pSession({
      stream, conn, direction: 'inbound', maxFrameBytes: this.maxFrameBytes, closeTimeoutMs: this.closeTimeoutMs,
      onHello: this.onHello, onClosed: this.onSessionClosed
    }))
    const timer = this.conns.after(this.handshakeTimeoutMs, () => {
      if (!session.isOpen && !session.isClosed) {
        this.log('session handshake timed out', { peer: session.remoteNode, after: this.handshakeTimeoutMs })
        void session.close('handshake timeout')
      }
    })
    void session.closed.then(() => { this.conns.cancel(timer) })
  }

  private readonly onHello = (session: Libp2pSession, nonce: Uint8Array): void => {
    const peer = session.remoteNode
    const refuse = (reason: string): void => {
      this.log('session refused', { peer, reason })
      void session.reject(reason)
    }
    if (this.state !== 'started') { refuse('transport stopped'); return }
    if (this.voided.has(peer, nonce)) { refuse('duplicate'); return }
    const voided: Uint8Array[] = []
    const est = this.sessions.get(peer)
    const hasOpen = est?.isOpen === true
    const att = this.pending.get(peer)
    if (!hasOpen && att !== undefined && !att.voided) {
      if (compareAttempts(this.nodeId, att.nonce, peer, nonce) < 0) { refuse('duplicate'); return }
      // the peer's attempt wins: abandon ours and say so in the ACCEPT
      att.voided = true
      voided.push(att.nonce)
      att.abort.abort(new Error('duplicate'))
      if (att.session !== undefined) void att.session.close('duplicate')
    }
    if (!hasOpen && this.sessions.size >= this.maxConnections) { refuse('too many connections'); return }
    // with an open session, the peer started over and no longer holds it: establish() replaces it
    session.accept(voided)
    this.establish(session)
  }

  // ---- bookkeeping -----------------------------------------------------------------------

  private establish (session: Libp2pSession): void {
    const peer = session.remoteNode
    const prev = this.sessions.get(peer)
    if (prev !== undefined && prev !== session) {
      this.sessions.delete(peer)
      void prev.close('replaced by a newer session')
    }
    this.sessions.set(peer, session)
    for (const h of this.handlers) {
      try {
        h(session)
      } catch (err) {
        this.log('connection handler threw', { peer, error: errorMessage(err) })
      }
    }
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
    this.conns.use(session.conn)
    return session
  }

  private readonly onSessionClosed = (session: Libp2pSession): void => {
    if (this.sessions.get(session.remoteNode) === session) this.sessions.delete(session.remoteNode)
    if (this.live.delete(session)) this.conns.unuse(session.conn)
  }
}
