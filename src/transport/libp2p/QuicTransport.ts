/**
 * The network transport of native sync: libp2p over QUIC (TLS 1.3, `@chainsafe/libp2p-quic`),
 * optionally TCP with Noise encryption and Yamux multiplexing where UDP is blocked.
 *
 * The node id is the libp2p peer id of the node's Ed25519 key; both QUIC's TLS handshake and
 * Noise prove it to the peer, so `Connection.remoteNode` is authenticated.
 *
 * Each session is one long-lived bidirectional stream (`/engram/sync/1.0.0`, wire format in
 * `framing.ts`) on one libp2p connection. The stream opener sends HELLO with a fresh 16-byte
 * nonce; the other side answers ACCEPT or REJECT. The transport decides, per peer, which
 * attempts become sessions (the rule is documented in `../Transport.ts`):
 * - at most one established session per peer;
 * - at most one outbound attempt per peer at a time (concurrent dials to the same peer share it);
 * - a HELLO that arrives while this node's own attempt to that peer is in flight is settled by
 *   comparing the two attempts' keys `(initiator id, nonce)`: the smaller survives. When the
 *   peer's attempt wins, this node abandons its own and lists that nonce in its ACCEPT, so the
 *   peer refuses the abandoned HELLO whenever it arrives;
 * - a HELLO from a peer that already has an established session replaces that session.
 * A libp2p connection that carries no session (for example a peer that connected and went
 * silent) is closed after `handshakeTimeoutMs`.
 */
import { randomBytes } from 'node:crypto'
import { lookup } from 'node:dns/promises'
import { noise } from '@chainsafe/libp2p-noise'
import { quic } from '@chainsafe/libp2p-quic'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection as Libp2pConnection, Libp2p, PrivateKey, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { EngramError, INVALID_INPUT, LIMIT_EXCEEDED, TIMEOUT, isEngramError } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import { DEFAULT_MAX_FRAME_BYTES, ENGRAM_PROTOCOL, type Connection, type DialOptions, type Transport } from '../Transport.ts'
import { deadline, dialFailure, errorMessage, notStarted, parseHostPort, raceAbort, unreachable } from '../util.ts'
import { NONCE_BYTES } from './framing.ts'
import { Libp2pSession } from './session.ts'

export type TransportKinds = 'quic' | 'tcp' | 'both'

export interface QuicTransportOptions {
  /** The node's identity key (Ed25519). The node id is derived from it. */
  privateKey: PrivateKey
  /** Addresses to listen on (IP literals; `0.0.0.0` / `::` for all interfaces). Default `['0.0.0.0']`. */
  host?: string | string[]
  /** UDP port for QUIC (0 = any free port). Default 0. */
  port?: number
  /**
   * `'quic'` (default), `'tcp'`, or `'both'` (QUIC tried first on every dial). TCP listens on
   * `tcpPort`, by default the same number as `port`; with port 0 the two are chosen independently.
   */
  transports?: TransportKinds
  /** TCP port when TCP is enabled. Default: `port`. */
  tcpPort?: number
  /** Largest frame sent or accepted, bytes. Default 4 MiB (1 KiB – 256 MiB). */
  maxFrameBytes?: number
  /** Overall limit of a dial, session handshake included, ms. Default 10,000. */
  dialTimeoutMs?: number
  /** Limit of each handshake step (QUIC/Noise handshake, stream negotiation, HELLO/ACCEPT), ms. Default 5,000. */
  handshakeTimeoutMs?: number
  /** Time a closing session waits for the peer to end its side, ms. Default 2,000. */
  closeTimeoutMs?: number
  /** Most concurrent sessions; further ones are refused. Default 256. */
  maxConnections?: number
  /** Most inbound connections accepted per second from one host. Default 100. */
  inboundConnectionsPerSecond?: number
  /** Receives one line per notable event (refused attempts, failing handlers). */
  log?: (message: string, details?: Record<string, unknown>) => void
}

interface Attempt {
  nonce: Uint8Array
  voided: boolean
  abort: AbortController
  session: Libp2pSession | undefined
  result: Promise<Libp2pSession>
}

type State = 'new' | 'starting' | 'started' | 'stopped'

/** Nonces a peer abandoned, remembered per peer (newest last). */
const VOIDED_PER_PEER = 16
const MAX_VOIDED_PEERS = 1024

function intOption (name: string, v: number | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def
  if (!Number.isInteger(v) || v < min || v > max) throw INVALID_INPUT(name, `${v} is not an integer in ${min}-${max}`)
  return v
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

/** Orders session attempts: negative when attempt a survives over b. */
export function compareAttempts (aInitiator: string, aNonce: Uint8Array, bInitiator: string, bNonce: Uint8Array): number {
  if (aInitiator !== bInitiator) return aInitiator < bInitiator ? -1 : 1
  return Buffer.compare(aNonce, bNonce)
}

export class QuicTransport implements Transport {
  readonly nodeId: NodeId
  readonly maxFrameBytes: number
  readonly dialTimeoutMs: number
  readonly handshakeTimeoutMs: number
  readonly closeTimeoutMs: number
  readonly maxConnections: number
  readonly kinds: TransportKinds

  private readonly privateKey: PrivateKey
  private readonly hosts: string[]
  private readonly port: number
  private readonly tcpPort: number
  private readonly inboundPerSecond: number
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
  private readonly voidedByPeer = new Map<NodeId, string[]>()
  private readonly waiters = new Map<NodeId, Set<(s: Libp2pSession) => void>>()
  /** Sessions and attempts per libp2p connection id; a connection used by none is closed. */
  private readonly connUse = new Map<string, number>()
  private readonly idleTimers = new Set<NodeJS.Timeout>()

  constructor (opts: QuicTransportOptions) {
    if (opts.privateKey?.type !== 'Ed25519') throw INVALID_INPUT('privateKey', 'must be an Ed25519 private key from @libp2p/crypto')
    this.privateKey = opts.privateKey
    this.nodeId = peerIdFromPrivateKey(opts.privateKey).toString() as NodeId
    this.hosts = opts.host === undefined ? ['0.0.0.0'] : Array.isArray(opts.host) ? [...opts.host] : [opts.host]
    if (this.hosts.length === 0) throw INVALID_INPUT('host', 'at least one listen address is needed')
    for (const h of this.hosts) ipFamily(h, 'host')
    this.port = intOption('port', opts.port, 0, 0, 65535)
    this.tcpPort = intOption('tcpPort', opts.tcpPort, this.port, 0, 65535)
    this.kinds = opts.transports ?? 'quic'
    if (!['quic', 'tcp', 'both'].includes(this.kinds)) throw INVALID_INPUT('transports', `${String(this.kinds)} is not one of quic, tcp, both`)
    this.maxFrameBytes = intOption('maxFrameBytes', opts.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 1024, 256 * 1024 * 1024)
    this.dialTimeoutMs = intOption('dialTimeoutMs', opts.dialTimeoutMs, 10_000, 1, 600_000)
    this.handshakeTimeoutMs = intOption('handshakeTimeoutMs', opts.handshakeTimeoutMs, 5_000, 1, 600_000)
    this.closeTimeoutMs = intOption('closeTimeoutMs', opts.closeTimeoutMs, 2_000, 1, 600_000)
    this.maxConnections = intOption('maxConnections', opts.maxConnections, 256, 1, 100_000)
    this.inboundPerSecond = intOption('inboundConnectionsPerSecond', opts.inboundConnectionsPerSecond, 100, 1, 1_000_000)
    this.log = opts.log ?? (() => {})
  }

  /** Builds a transport, generating a fresh identity key when none is given (tests, tools). */
  static async create (opts: Omit<QuicTransportOptions, 'privateKey'> & { privateKey?: PrivateKey }): Promise<QuicTransport> {
    return new QuicTransport({ ...opts, privateKey: opts.privateKey ?? await generateKeyPair('Ed25519') })
  }

  private get useQuic (): boolean { return this.kinds !== 'tcp' }
  private get useTcp (): boolean { return this.kinds !== 'quic' }

  // ---- lifecycle -------------------------------------------------------------------------

  async start (): Promise<void> {
    if (this.state !== 'new') throw new EngramError('CONFLICT', `transport cannot be started when ${this.state}`)
    this.state = 'starting'
    const listen: string[] = []
    for (const h of this.hosts) {
      const fam = ipFamily(h, 'host')
      if (this.useQuic) listen.push(`/ip${fam}/${h}/udp/${this.port}/quic-v1`)
      if (this.useTcp) listen.push(`/ip${fam}/${h}/tcp/${this.tcpPort}`)
    }
    const hs = this.handshakeTimeoutMs
    let node: Libp2p | undefined
    try {
      node = await createLibp2p({
        start: false,
        privateKey: this.privateKey,
        addresses: { listen },
        transports: [
          ...(this.useQuic ? [quic({ handshakeTimeout: hs, maxIdleTimeout: Math.max(10_000, 2 * hs), keepAliveInterval: 5_000 })] : []),
          ...(this.useTcp ? [tcp()] : [])
        ],
        connectionEncrypters: this.useTcp ? [noise()] : [],
        streamMuxers: this.useTcp ? [yamux()] : [],
        connectionManager: {
          // sessions are limited by this transport; libp2p's own limit leaves room for
          // connections that are being settled or closed
          maxConnections: this.maxConnections * 2 + 16,
          dialTimeout: this.dialTimeoutMs,
          addressDialTimeout: this.dialTimeoutMs,
          inboundUpgradeTimeout: hs,
          inboundStreamProtocolNegotiationTimeout: hs,
          outboundStreamProtocolNegotiationTimeout: hs,
          inboundConnectionThreshold: this.inboundPerSecond,
          maxIncomingPendingConnections: 64
        },
        // liveness comes from QUIC keep-alives and Yamux pings; no ping protocol is spoken
        connectionMonitor: { enabled: false }
      })
      await node.handle(ENGRAM_PROTOCOL, (stream, conn) => { this.onInboundStream(stream, conn) },
        { maxInboundStreams: 4, maxOutboundStreams: 4 })
      node.addEventListener('connection:open', (evt) => { this.watchIdle(evt.detail) })
      await node.start()
      if ((this.state as State) !== 'starting') throw new Error('stopped while starting')
    } catch (err) {
      this.state = 'stopped'
      try { await node?.stop() } catch { /* already failing */ }
      throw new EngramError('UNAVAILABLE', `cannot listen on ${listen.join(', ')}: ${errorMessage(err)}` +
        (/EADDRINUSE|in use/i.test(errorMessage(err)) ? ' (the port is taken: stop the other process or choose another p2p.port)' : ''),
      { listen }, { cause: err })
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
    for (const t of this.idleTimers) clearTimeout(t)
    this.idleTimers.clear()
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

  // ---- dialing ---------------------------------------------------------------------------

  async dial (addr: string, opts: DialOptions = {}): Promise<Connection> {
    if (this.state !== 'started' || this.node === undefined) throw notStarted(`dial ${addr}`)
    const node = this.node
    const timeoutMs = opts.timeoutMs ?? this.dialTimeoutMs
    const dl = deadline(timeoutMs, opts.signal, this.stopController.signal)
    try {
      const targets = await raceAbort(this.targets(addr), dl.signal)
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
        return await this.sessionOver(conn, addr, dl.signal)
      }
      throw lastErr
    } catch (err) {
      if (opts.signal?.aborted === true) throw opts.signal.reason
      if (this.stopController.signal.aborted) throw notStarted(`dial ${addr}`)
      throw dialFailure(addr, err, dl.timedOut(), timeoutMs)
    }
  }

  /** Multiaddrs to try for a dial address, QUIC before TCP. */
  private async targets (addr: string): Promise<Multiaddr[]> {
    if (addr.startsWith('/')) {
      let ma: Multiaddr
      try {
        ma = multiaddr(addr)
      } catch (err) {
        throw INVALID_INPUT('address', `${JSON.stringify(addr)} is not a valid multiaddr: ${errorMessage(err)}`)
      }
      const comps = ma.getComponents()
      const first = comps[0]
      if (first !== undefined && (first.name === 'dns' || first.name === 'dns4' || first.name === 'dns6') && first.value !== undefined) {
        const family = first.name === 'dns4' ? 4 : first.name === 'dns6' ? 6 : 0
        const found = await lookup(first.value, { all: true, family })
        const rest = ma.toString().slice(`/${first.name}/${first.value}`.length)
        return found.map(f => multiaddr(`/ip${f.family}/${f.address}${rest}`))
      }
      this.refuseOwn(addr, [ma])
      return [ma]
    }
    const hp = parseHostPort(addr)
    const ips = hp.family !== 0
      ? [{ address: hp.host, family: hp.family }]
      : await lookup(hp.host, { all: true }).catch((err: unknown) => {
        throw unreachable(addr, `cannot resolve ${hp.host}: ${errorMessage(err)}`, err)
      })
    const out: Multiaddr[] = []
    if (this.useQuic) for (const ip of ips) out.push(multiaddr(`/ip${ip.family}/${ip.address}/udp/${hp.port}/quic-v1`))
    if (this.useTcp) for (const ip of ips) out.push(multiaddr(`/ip${ip.family}/${ip.address}/tcp/${hp.port}`))
    this.refuseOwn(addr, out)
    return out
  }

  private refuseOwn (addr: string, targets: Multiaddr[]): void {
    const own = new Set(this.listenAddrs().map(a => a.replace(/\/p2p\/[^/]+$/, '')))
    const p2p = (ma: Multiaddr): string | undefined => ma.getComponents().find(c => c.name === 'p2p')?.value
    if (targets.some(t => own.has(t.toString().replace(/\/p2p\/[^/]+$/, '')) || p2p(t) === this.nodeId)) {
      throw INVALID_INPUT('address', `${addr} is this node's own address`)
    }
  }

  /** The session with the peer at the end of `conn`: the existing one, a shared attempt, or a new attempt. */
  private async sessionOver (conn: Libp2pConnection, addr: string, signal: AbortSignal): Promise<Libp2pSession> {
    const peer = conn.remotePeer.toString() as NodeId
    if (peer === this.nodeId) {
      this.release(conn)
      throw INVALID_INPUT('address', `${addr} is this node's own address`)
    }
    // an attempt that fails makes way for a fresh one, a bounded number of times
    let lastErr: unknown
    for (let round = 0; round < 3; round++) {
      const est = this.sessions.get(peer)
      if (est?.isOpen === true) {
        this.release(conn)
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
        this.release(conn)
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
    this.use(conn)
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
      this.unuse(conn)
    }
  }

  private async runAttempt (att: Attempt, conn: Libp2pConnection, peer: NodeId, addr: string, signal: AbortSignal): Promise<Libp2pSession> {
    const step = deadline(this.handshakeTimeoutMs, signal)
    let session: Libp2pSession
    try {
      const stream = await conn.newStream(ENGRAM_PROTOCOL, { signal: step.signal })
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
      this.rememberVoided(peer, reply.voided.map(hex))
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
    const timer = setTimeout(() => {
      this.idleTimers.delete(timer)
      if (!session.isOpen && !session.isClosed) {
        this.log('session handshake timed out', { peer: session.remoteNode, after: this.handshakeTimeoutMs })
        void session.close('handshake timeout')
      }
    }, this.handshakeTimeoutMs)
    timer.unref()
    this.idleTimers.add(timer)
    void session.closed.then(() => { clearTimeout(timer); this.idleTimers.delete(timer) })
  }

  private readonly onHello = (session: Libp2pSession, nonce: Uint8Array): void => {
    const peer = session.remoteNode
    const refuse = (reason: string): void => {
      this.log('session refused', { peer, reason })
      void session.reject(reason)
    }
    if (this.state !== 'started') { refuse('transport stopped'); return }
    if (this.voidedByPeer.get(peer)?.includes(hex(nonce)) === true) { refuse('duplicate'); return }
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

  private rememberVoided (peer: NodeId, nonces: string[]): void {
    if (nonces.length === 0) return
    const list = this.voidedByPeer.get(peer) ?? []
    list.push(...nonces)
    if (list.length > VOIDED_PER_PEER) list.splice(0, list.length - VOIDED_PER_PEER)
    this.voidedByPeer.delete(peer)
    this.voidedByPeer.set(peer, list)
    if (this.voidedByPeer.size > MAX_VOIDED_PEERS) {
      const oldest = this.voidedByPeer.keys().next().value
      if (oldest !== undefined) this.voidedByPeer.delete(oldest)
    }
  }

  private track (session: Libp2pSession): Libp2pSession {
    this.live.add(session)
    this.use(session.conn)
    return session
  }

  private readonly onSessionClosed = (session: Libp2pSession): void => {
    if (this.sessions.get(session.remoteNode) === session) this.sessions.delete(session.remoteNode)
    if (this.live.delete(session)) this.unuse(session.conn)
  }

  private use (conn: Libp2pConnection): void {
    this.connUse.set(conn.id, (this.connUse.get(conn.id) ?? 0) + 1)
  }

  private unuse (conn: Libp2pConnection): void {
    const n = (this.connUse.get(conn.id) ?? 1) - 1
    if (n > 0) { this.connUse.set(conn.id, n); return }
    this.connUse.delete(conn.id)
    this.release(conn)
  }

  /** Closes a libp2p connection that no session or attempt uses. */
  private release (conn: Libp2pConnection): void {
    if ((this.connUse.get(conn.id) ?? 0) > 0 || conn.status !== 'open') return
    conn.close({ signal: AbortSignal.timeout(this.closeTimeoutMs) }).catch((err: unknown) => {
      conn.abort(err instanceof Error ? err : new Error(String(err)))
    })
  }

  /** A connection that carries no session after one handshake's time is closed. */
  private watchIdle (conn: Libp2pConnection): void {
    const timer = setTimeout(() => {
      this.idleTimers.delete(timer)
      this.release(conn)
    }, this.handshakeTimeoutMs)
    timer.unref()
    this.idleTimers.add(timer)
  }
}

function ipFamily (host: string, field: string): 4 | 6 {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return 4
  if (host.includes(':')) return 6
  throw INVALID_INPUT(field, `${JSON.stringify(host)} is not an IP address (listen addresses must be IP literals, e.g. 0.0.0.0, 127.0.0.1, ::1)`)
}
