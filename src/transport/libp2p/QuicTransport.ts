/**
 * The network transport of native sync: libp2p over QUIC (TLS 1.3, `@chainsafe/libp2p-quic`),
 * optionally TCP with Noise encryption and Yamux multiplexing where UDP is blocked, in a
 * private network (`privateNetwork.ts`) when a key is given. With `keysPending` the key (and the
 * relays' admission key) comes later, through `useKeys`: until then the transport listens and
 * dials over QUIC only, TCP is `starting` in `carriers()`, and the relay parts wait.
 *
 * The node id is the libp2p peer id of the node's Ed25519 key; both QUIC's TLS handshake and
 * Noise prove it to the peer, so `Connection.remoteNode` is authenticated.
 *
 * Each session is one long-lived bidirectional stream (`/engram/sync/1.0.0`, wire format in
 * `framing.ts`) on one libp2p connection. The stream opener sends HELLO with a fresh 16-byte
 * nonce; the other side answers ACCEPT or REJECT. Which attempts become sessions, per peer, is
 * decided by `SessionTable.ts` (at most one session per peer; crossing attempts settled by their
 * keys). A libp2p connection that carries no session (for example a peer that connected and went
 * silent) is closed after `handshakeTimeoutMs` (`ConnectionUse.ts`).
 *
 * The parts: `options.ts` (options and their checks), `node.ts` (the libp2p node), `targets.ts`
 * (what a dial address means), `SessionTable.ts`, `session.ts` (one session over one stream),
 * `framing.ts`.
 *
 * With reach options (`relay/`; the parts they call for are built in `relay/RelayReach.ts`),
 * sessions also run over circuit relay v2 connections: the node
 * keeps reservations on its relays (`relay/RelayClient.ts`), reports the members it can reach
 * through them (`onRelayMember`), and, serving as a relay, admits only nodes that prove a key
 * (`relay/RelayGate.ts`). Over a session through a relay, the node with the smaller id tries a
 * hole punch (`relay/HolePunch.ts`). When a direct connection to a peer appears (the punch, or
 * DCUtR's reverse dial) while the session with that peer runs through a relay, the node with the
 * smaller id opens a new session over the direct connection, which replaces the relayed one (a
 * HELLO from a peer with a session replaces it); `sessionPath` (`path.ts`) says which path a
 * session takes. The same rule moves a session off the TCP fallback: a dial that connected over
 * TCP after QUIC had no answer keeps probing QUIC in the background (`QuicReturn.ts`), and a QUIC
 * connection to a peer whose session runs on TCP (or through a relay) takes the session
 * (`isBetterPath`).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection as Libp2pConnection, Libp2p, PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { requestRelay, serveAdmitted, type RelayAnswer, type RelayServiceOptions } from './relay/relayRequests.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import { INVALID_INPUT, CONFLICT, UNAVAILABLE } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import type { CarrierState, CarrierStatus, Connection, DialOptions, ReachStatus, Transport } from '../Transport.ts'
import { deadline, dialFailure, errorMessage, notStarted, raceAbort, unreachable } from '../util.ts'
import { ConnectionUse } from './ConnectionUse.ts'
import { createNode, listenAddresses, listenMore } from './node.ts'
import { resolveOptions, type LaterKeys, type QuicTransportOptions, type ResolvedOptions, type TransportKinds } from './options.ts'
import { PRIVATE_NETWORK_KEY_BYTES } from './privateNetwork.ts'
import { quicReadTuning } from './quicReads.ts'
import { SessionTable } from './SessionTable.ts'
import type { Libp2pSession } from './session.ts'
import { dialTargets, refuseOwn } from './targets.ts'
import { carrierOf, isBetterPath, isRelayedAddr } from '../path.ts'
import { QuicReturn } from './QuicReturn.ts'
import type { RelayView } from './relay/RelayClient.ts'
import type { DialFrom } from './relay/HolePunch.ts'
import { RelayReach } from './relay/RelayReach.ts'

export type { LaterKeys, QuicTransportOptions, ReachOptions, TransportKinds } from './options.ts'
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
  private readonly table: SessionTable
  private readonly conns: ConnectionUse
  /** The relay gate, relay client and hole punch, as the reach options ask (relay/RelayReach.ts). */
  private readonly reach: RelayReach
  private readonly quicReturn: QuicReturn
  /** With `keysPending`: the keys once given (`useKeys`), TCP's listening once started, and why TCP failed. */
  private laterKeys: LaterKeys | undefined
  private starting: Promise<void> | undefined
  private tcpListen: Promise<void> | undefined
  private tcpFailure: string | undefined

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
    this.table = new SessionTable({
      nodeId: this.nodeId,
      maxFrameBytes: this.maxFrameBytes,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
      closeTimeoutMs: this.closeTimeoutMs,
      maxConnections: this.maxConnections,
      conns: this.conns,
      log: this.log,
      isStarted: () => this.state === 'started',
      onEstablished: (s) => { this.onEstablished(s) }
    })
    this.quicReturn = new QuicReturn({
      connect: async (target, signal) => {
        if (this.node === undefined) throw notStarted('probe QUIC')
        return await this.node.dial(target, { signal, force: true })
      },
      sessionAddr: peer => this.table.open(peer)?.remoteAddr,
      probeMs: this.handshakeTimeoutMs,
      signal: this.stopController.signal,
      log: this.log,
      notice: (message, details) => { this.o.notice('info', message, details) }
    })
    this.reach = new RelayReach({
      o: this.o,
      nodeId: this.nodeId,
      handshakeTimeoutMs: this.handshakeTimeoutMs,
      node: () => this.node,
      hasSession: peer => this.table.open(peer) !== undefined
    })
  }

  /** Builds a transport, generating a fresh identity key when none is given (tests, tools). */
  static async create (opts: Omit<QuicTransportOptions, 'privateKey'> & { privateKey?: PrivateKey }): Promise<QuicTransport> {
    return new QuicTransport({ ...opts, privateKey: opts.privateKey ?? await generateKeyPair('Ed25519') })
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async start (): Promise<void> {
    if (this.state !== 'new') throw CONFLICT(`transport cannot be started when ${this.state}`)
    this.state = 'starting'
    this.starting = this.startNode()
    await this.starting
  }

  private async startNode (): Promise<void> {
    // TCP listens only with its private network's key: with the keys pending, it starts in `useKeys`
    const tcpNow = !this.o.keysPending || this.laterKeys !== undefined
    const listen = listenAddresses(this.o, tcpNow ? undefined : 'quic')
    let node: Libp2p | undefined
    try {
      node = await createNode(this.o, listen, {
        onStream: (stream, conn) => { this.table.accept(stream, conn) },
        onConnectionOpen: conn => { this.onConnectionOpen(conn) },
        ...(this.reach.gate !== undefined ? { gate: this.reach.gate } : {}),
        laterKey: () => this.laterKeys?.privateNetworkKey
      })
      const circuits = (node.services as Record<string, unknown>).circuits as { dialFrom: DialFrom }
      await this.reach.holePunch?.register(node, circuits.dialFrom)
      await node.start()
      this.reach.client?.start(node, circuits as never)
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
    if (tcpNow) this.tcpListen = Promise.resolve()
  }

  /**
   * The seed's keys, for a transport built with `keysPending`, once they are derived: from now on
   * TCP dials with the private network's key and (once started) listens, the relay client proves
   * `memberKey` to its relays, and a relay admits this node's group with it. Resolves when TCP
   * listens (at once when the transport is not started yet: `start` then listens on TCP too);
   * rejects with UNAVAILABLE when it cannot. Nothing happens on a stopped transport.
   */
  async useKeys (keys: LaterKeys): Promise<void> {
    if (!this.o.keysPending) throw CONFLICT('this transport was given its keys when it was built')
    if (this.laterKeys !== undefined) throw CONFLICT('the transport has its keys already')
    if (!(keys.privateNetworkKey instanceof Uint8Array) || keys.privateNetworkKey.byteLength !== PRIVATE_NETWORK_KEY_BYTES) {
      throw INVALID_INPUT('privateNetworkKey', `must be ${PRIVATE_NETWORK_KEY_BYTES} bytes`)
    }
    if (this.o.reach !== undefined && keys.memberKey?.byteLength !== 32) throw INVALID_INPUT('memberKey', 'relays need the group\'s 32-byte admission key')
    if (this.state === 'stopped') return
    this.laterKeys = keys
    if (keys.memberKey !== undefined) this.reach.useKey(keys.memberKey)
    if (this.state === 'starting') await this.starting?.catch(() => {})
    if ((this.state as State) === 'started') await this.listenTcp()
  }

  /** TCP's listeners on a started transport, once (they close with the node). */
  private listenTcp (): Promise<void> {
    this.tcpListen ??= (async () => {
      const addrs = listenAddresses(this.o, 'tcp')
      if (addrs.length === 0 || this.node === undefined) return
      try {
        await listenMore(this.node, addrs)
        this.log('TCP listens, with the private network\'s key', { listen: addrs })
      } catch (err) {
        this.tcpFailure = errorMessage(err)
        throw UNAVAILABLE(`cannot listen on ${addrs.join(', ')}: ${errorMessage(err)}` +
          (/EADDRINUSE|in use/i.test(errorMessage(err)) ? ' (the port is taken: stop the other process or choose another p2p.port)' : ''),
        { listen: addrs }, err)
      }
    })()
    return this.tcpListen
  }

  /** The seed's keys could not be derived: TCP and the relays stay off, and the status says so. */
  keysFailed (reason: string): void {
    if (this.laterKeys === undefined) this.tcpFailure ??= `the seed's keys could not be derived: ${reason}`
  }

  /** Each carrier's state (TCP `starting` while the seed's keys are derived). */
  readonly carriers = (): CarrierStatus => {
    const running: CarrierState = this.state === 'started' ? 'listening' : this.state === 'stopped' ? 'off' : 'starting'
    const tcp: CarrierState = this.kinds === 'quic'
      ? 'off'
      : this.tcpFailure !== undefined ? 'failed' : running !== 'listening' ? running : this.tcpListen === undefined || this.laterKeys === undefined && this.o.keysPending ? 'starting' : 'listening'
    return { quic: this.kinds === 'tcp' ? 'off' : running, tcp, ...(this.tcpFailure !== undefined ? { tcp_error: this.tcpFailure } : {}) }
  }

  async stop (): Promise<void> {
    if (this.state === 'stopped') return
    const wasRunning = this.state === 'started'
    this.state = 'stopped'
    this.stopController.abort(notStarted('continue: the transport was stopped'))
    this.table.abortAttempts()
    this.conns.clear()
    await this.reach.client?.stop()
    await this.table.closeAll()
    // a TCP listener being opened is opened before the node stops, so the stop closes it
    await this.tcpListen?.catch(() => {})
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
    return this.table.all()
  }

  // ---- relays ----------------------------------------------------------------------------

  /** Called for each member of this node's group that holds a reservation on one of its relays. */
  onRelayMember (handler: (member: NodeId, circuitAddr: string, relay: NodeId) => void): void {
    this.reach.onMember(handler)
  }

  /** Uses one more relay (a multiaddr ending in `/p2p/<relay id>`), e.g. one a member told of. */
  addRelay (addr: string): void {
    this.reach.addRelay(addr)
  }

  /** The relays this node uses, and their state. */
  relays (): RelayView[] {
    return this.reach.relays()
  }

  /** `public` once AutoNAT has confirmed a direct address of this node from outside; else `private`. */
  reachability (): 'public' | 'private' {
    return this.reach.reachability()
  }

  /** Relays, reachability and relay service, for the P2P status. */
  readonly reachStatus = (): ReachStatus => this.reach.status(this.listenAddrs())

  /** Serves a request-and-answer protocol to the nodes admitted to this relay (`relay/relayRequests.ts`). */
  async serveRelayService (o: RelayServiceOptions, answer: RelayAnswer): Promise<void> {
    if (this.reach.gate === undefined || this.node === undefined) throw CONFLICT('a relay service needs a started transport that serves as a relay')
    await serveAdmitted(this.node, this.reach.gate, o, answer)
  }

  /** Relays that admitted this node now (ids), the ones its relay services can be asked of. */
  admittedRelays (): string[] {
    return this.reach.admittedRelays()
  }

  /** One exchange with a relay service on `relay` (`relay/relayRequests.ts`). */
  async requestRelay (relay: string, o: RelayServiceOptions & { maxFrames: number, isLast: (frame: Uint8Array) => boolean }, request: Uint8Array): Promise<Uint8Array[]> {
    if (this.node === undefined || this.state !== 'started') throw notStarted('ask a relay')
    return await requestRelay(this.node, relay, o, request, this.stopController.signal)
  }

  /** How many nodes are admitted to this node's relay now (0 when not serving). */
  admittedCount (): number {
    return this.reach.admittedCount()
  }

  private onConnectionOpen (conn: Libp2pConnection): void {
    this.conns.watchIdle(conn, c => this.reach.client?.isRelay(c.remotePeer) === true || this.reach.gate?.isAdmitted(c.remotePeer) === true)
    if (isRelayedAddr(conn.remoteAddr.toString())) return
    const peer = conn.remotePeer.toString() as NodeId
    const est = this.table.open(peer)
    // a connection on a preferred path (direct over relayed, QUIC over TCP): move the session there
    if (est === undefined || !isBetterPath(conn.remoteAddr.toString(), est.remoteAddr) || this.nodeId >= peer || this.table.attempting(peer)) return
    this.log('moving the session to a preferred path', { peer, from: est.remoteAddr, addr: conn.remoteAddr.toString() })
    const dl = deadline(this.dialTimeoutMs, this.stopController.signal)
    this.table.initiate(conn, peer, conn.remoteAddr.toString(), dl.signal).catch((err: unknown) => {
      this.log('could not move the session to the preferred path; it stays where it runs', { peer, error: errorMessage(err) })
    })
  }

  // ---- dialing ---------------------------------------------------------------------------

  async dial (addr: string, opts: DialOptions = {}): Promise<Connection> {
    if (this.state !== 'started' || this.node === undefined) throw notStarted(`dial ${addr}`)
    const node = this.node
    const timeoutMs = opts.timeoutMs ?? this.dialTimeoutMs
    const dl = deadline(timeoutMs, opts.signal, this.stopController.signal)
    try {
      const targets: Multiaddr[] = await raceAbort(dialTargets(addr, this.dialKinds(addr)), dl.signal)
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
        const session = await this.table.sessionOver(conn, addr, dl.signal, opts.expectedNode)
        // connected over TCP after QUIC had no answer: keep trying QUIC in the background
        if (i > 0 && carrierOf(session.remoteAddr) === 'tcp') this.quicReturn.watch(session.remoteNode, targets.slice(0, i))
        return session
      }
      throw lastErr
    } catch (err) {
      if (opts.signal?.aborted === true) throw opts.signal.reason
      if (this.stopController.signal.aborted) throw notStarted(`dial ${addr}`)
      throw dialFailure(addr, err, dl.timedOut(), timeoutMs)
    }
  }

  /** What a dial may use: not TCP while its private network's key is being derived. */
  private dialKinds (addr: string): TransportKinds {
    if (!this.o.keysPending || this.laterKeys !== undefined || this.kinds === 'quic') return this.kinds
    if (this.kinds === 'tcp') throw unreachable(addr, 'TCP waits for the seed\'s keys (being derived)')
    return 'quic'
  }

  private onEstablished (session: Libp2pSession): void {
    const peer = session.remoteNode
    // a session through a relay: the node with the smaller id tries for a direct path
    if (this.reach.holePunch !== undefined && isRelayedAddr(session.remoteAddr) && this.nodeId < peer) {
      void this.reach.holePunch.punch(session.conn, peer, this.stopController.signal)
    }
    for (const h of this.handlers) {
      try {
        h(session)
      } catch (err) {
        this.log('connection handler threw', { peer, error: errorMessage(err) })
      }
    }
  }
}
