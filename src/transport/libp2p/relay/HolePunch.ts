/**
 * The hole punch between two members behind NATs (`transport/relay/punch.ts` is the wire): over
 * the relayed connection that carries their seed-authenticated session, they tell each other
 * where the relay sees them and the TCP port each will dial from, then dial each other at the
 * same moment from that port. A NAT that keeps the source port of a connection (Linux masquerade
 * does when it can, as most home routers) lets the other's SYN in as the answer to its own, and
 * the two SYNs cross: a TCP simultaneous open. The connection is then upgraded by libp2p as any
 * other (keyed Noise, Yamux), the initiator as the dialler and the responder as the answering
 * side, and `QuicTransport` moves the session onto it. Where the NAT picks a new port per
 * connection, or drops the SYNs, the dials time out and the session stays relayed.
 *
 * Why not libp2p's DCUtR alone (kept for what it does: the reverse dial to a confirmed public
 * address): identify ignores private and all TCP observed addresses, DCUtR dials only
 * AutoNAT-confirmed public ones (never confirmed in a group of a few machines), its
 * "act as the answering side" flag is dropped by the dial queue of the installed libp2p, and
 * the QUIC transport dials from a separate client socket, never from one that could take the
 * other's packets. Here the address comes from the relay's identify answer (the relay is one
 * this node was given and authenticated), and only peers holding an open session are answered.
 *
 * Bounded: one punch per peer at a time, `attempts` tries each limited by `timeoutMs`, at most
 * `MAX_PUNCH_CANDIDATES` addresses each way, one observed address kept per relay.
 */
import { createServer } from 'node:net'
import type { Connection as Libp2pConnection, Libp2p, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { decodePunch, encodePunch, MAX_PUNCH_CANDIDATES, MAX_PUNCH_MESSAGE, PUNCH_PROTOCOL, type Candidate } from '../../relay/punch.ts'
import { abortableDelay, errorMessage } from '../../util.ts'

/** Dials from a chosen local TCP port (`parts.ts`); `initiator: false` answers the upgrade. */
export type DialFrom = (ma: Multiaddr, localPort: number, initiator: boolean, signal: AbortSignal) => Promise<Libp2pConnection>

export interface HolePunchOptions {
  readonly timeoutMs: number
  /** Tries per relayed session. */
  readonly attempts: number
  /** Whether `peer` is one of this node's relays (their identify answer says where they see it). */
  readonly isRelay: (peer: string) => boolean
  /** Whether `peer` holds an open session with this node (only those are answered). */
  readonly isMember: (peer: string) => boolean
  readonly log: (level: 'info' | 'warn' | 'debug', message: string, details?: Record<string, unknown>) => void
}

/** One free TCP port on this machine, for a dial to come from. */
async function freePort (): Promise<number> {
  const srv = createServer()
  await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(0, '0.0.0.0', resolve) })
  const port = (srv.address() as { port: number }).port
  await new Promise<void>(resolve => { srv.close(() => { resolve() }) })
  return port
}

function tcpAddr (c: Candidate, peer: string): Multiaddr {
  return multiaddr(`/ip${c.host.includes(':') ? 6 : 4}/${c.host}/tcp/${c.port}/p2p/${peer}`)
}

export class HolePunch {
  private readonly o: HolePunchOptions
  /** Relay id → this node's IP as that relay sees it. */
  private readonly observed = new Map<string, string>()
  private readonly running = new Set<string>()
  private dialFrom: DialFrom | undefined

  constructor (o: HolePunchOptions) {
    this.o = o
  }

  async register (node: Libp2p, dialFrom: DialFrom): Promise<void> {
    this.dialFrom = dialFrom
    node.addEventListener('peer:identify', (evt) => {
      const { peerId, observedAddr } = evt.detail
      const relay = peerId.toString()
      if (observedAddr === undefined || !this.o.isRelay(relay)) return
      const host = observedAddr.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')?.value
      if (host !== undefined && this.observed.get(relay) !== host) {
        this.observed.set(relay, host)
        this.o.log('debug', `relay ${relay} sees this node at ${host}`, { relay, host })
      }
    })
    await node.handle(PUNCH_PROTOCOL, (stream, conn) => { void this.answer(stream, conn) },
      { maxInboundStreams: 1, maxOutboundStreams: 1, runOnLimitedConnection: true })
  }

  /** The addresses relays see this node at (distinct, at most `MAX_PUNCH_CANDIDATES`). */
  observedHosts (): string[] {
    return [...new Set(this.observed.values())].slice(0, MAX_PUNCH_CANDIDATES)
  }

  /** Tries to open a direct connection to `peer`, whose session runs over `relayed`; resolves whether one opened. */
  async punch (relayed: Libp2pConnection, peer: string, signal: AbortSignal): Promise<boolean> {
    if (this.running.has(peer) || this.dialFrom === undefined) return false
    this.running.add(peer)
    try {
      let last = 'no attempt'
      for (let i = 1; i <= this.o.attempts && relayed.status === 'open' && !signal.aborted; i++) {
        try {
          await this.initiate(relayed, peer, signal)
          this.o.log('info', `hole punch to ${peer} succeeded: the session moves to a direct connection`, { peer, attempt: i })
          return true
        } catch (err) {
          last = errorMessage(err)
          this.o.log('debug', `hole punch to ${peer}, attempt ${i} of ${this.o.attempts}: ${last}`, { peer })
          await abortableDelay(this.o.timeoutMs / 5, signal).catch(() => {})
        }
      }
      this.o.log('info', `hole punch to ${peer} failed (${last}); the session stays relayed`, { peer })
      return false
    } finally {
      this.running.delete(peer)
    }
  }

  private async candidates (): Promise<{ port: number, list: Candidate[] }> {
    const hosts = this.observedHosts()
    if (hosts.length === 0) throw new Error('no relay has said where it sees this node yet')
    const port = await freePort()
    return { port, list: hosts.map(host => ({ host, port })) }
  }

  private async initiate (relayed: Libp2pConnection, peer: string, outer: AbortSignal): Promise<void> {
    const signal = AbortSignal.any([outer, AbortSignal.timeout(this.o.timeoutMs)])
    const mine = await this.candidates()
    const stream = await relayed.newStream(PUNCH_PROTOCOL, { signal, runOnLimitedConnection: true })
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_PUNCH_MESSAGE })
      const sent = Date.now()
      await lp.write(encodePunch({ type: 'connect', candidates: mine.list }), { signal })
      const theirs = decodePunch((await lp.read({ signal })).subarray())
      if (theirs.type !== 'connect') throw new Error('the peer answered CONNECT with SYNC')
      const rtt = Date.now() - sent
      await lp.write(encodePunch({ type: 'sync' }), { signal })
      await abortableDelay(rtt / 2, signal)
      await this.dialAll(theirs.candidates, peer, mine.port, true, signal)
    } finally {
      await stream.close({ signal }).catch(() => { stream.abort(new Error('punch over')) })
    }
  }

  private async answer (stream: Stream, relayed: Libp2pConnection): Promise<void> {
    const peer = relayed.remotePeer.toString()
    const signal = AbortSignal.timeout(this.o.timeoutMs)
    try {
      if (!this.o.isMember(peer)) throw new Error('no session with this peer')
      const lp = lpStream(stream, { maxDataLength: MAX_PUNCH_MESSAGE })
      const theirs = decodePunch((await lp.read({ signal })).subarray())
      if (theirs.type !== 'connect') throw new Error('the punch did not start with CONNECT')
      const mine = await this.candidates()
      await lp.write(encodePunch({ type: 'connect', candidates: mine.list }), { signal })
      if (decodePunch((await lp.read({ signal })).subarray()).type !== 'sync') throw new Error('the peer sent CONNECT twice')
      await this.dialAll(theirs.candidates, peer, mine.port, false, signal)
      await stream.close({ signal }).catch(() => {})
    } catch (err) {
      this.o.log('debug', `hole punch from ${peer} not answered: ${errorMessage(err)}`, { peer })
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** Dials every candidate of the peer from `port` at once; the first connection wins. */
  private async dialAll (cands: readonly Candidate[], peer: string, port: number, initiator: boolean, signal: AbortSignal): Promise<Libp2pConnection> {
    const dial = this.dialFrom as DialFrom
    const stop = new AbortController()
    const both = AbortSignal.any([signal, stop.signal])
    try {
      return await Promise.any(cands.map(c => dial(tcpAddr(c, peer), port, initiator, both)))
    } catch (err) {
      throw new Error(`no direct connection: ${err instanceof AggregateError ? err.errors.map(errorMessage).join('; ') : errorMessage(err)}`)
    } finally {
      stop.abort()
    }
  }
}
