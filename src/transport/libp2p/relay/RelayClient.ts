/**
 * The member side of relays: for each relay this node was given (`p2p.relays`, or by a member over
 * a seed-authenticated session), keep a connection, prove the admission key on it
 * (`transport/relay/admission.ts`), hold a circuit relay v2 reservation there unless AutoNAT has
 * confirmed a public address for this node, and ask the relay every `pollMs` which other members
 * hold reservations, so they can be dialled through it (`onMember`).
 *
 * Each relay runs one loop, bounded per step by the handshake timeout, with a capped backoff after
 * a failure (1 s doubling to 30 s); `stop()` ends every loop. The state of each relay is in
 * `relays()` for status and troubleshooting, and every change of state is logged once.
 */
import type { Connection as Libp2pConnection, Libp2p, PeerId } from '@libp2p/interface'
import { isPrivate, lpStream } from '@libp2p/utils'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import {
  ADMISSION_PROTOCOL, MAX_ADMISSION_MESSAGE, decodeAnswer, decodeNonceMessage, encodeNonceMessage, freshNonce, matchingKey, proof
} from '../../relay/admission.ts'
import { abortableDelay, errorMessage } from '../../util.ts'
import { MAX_MEMBERS_LISTED, MEMBERS_PROTOCOL } from './RelayGate.ts'

export type RelayState = 'connecting' | 'admitted' | 'reserved' | 'refused' | 'unreachable'

export interface RelayView {
  readonly id: string
  readonly addrs: readonly string[]
  readonly state: RelayState
  /** Set when this node decided not to reserve (AutoNAT confirmed a public address). */
  readonly reservation: 'held' | 'not needed' | 'none'
  readonly lastError?: string
  readonly since: number
}

/** What the client needs of libp2p's internals: listening on a relay (`/p2p-circuit`) address. */
export interface CircuitListener {
  listen (addrs: Multiaddr[]): Promise<void>
}

export interface RelayClientOptions {
  /** The group's admission key (RELAY); absent while it is being derived (then `useKey`). */
  readonly key?: Uint8Array
  readonly handshakeTimeoutMs: number
  /** How often each relay is asked for its members and the reservation checked. */
  readonly pollMs: number
  readonly log: (level: 'info' | 'warn' | 'debug', message: string, details?: Record<string, unknown>) => void
  /** A member holding a reservation on `relay` (called again for members already reported). */
  readonly onMember: (member: string, circuitAddr: string, relay: string) => void
  readonly now?: () => number
}

interface Entry {
  id: string
  addrs: Multiaddr[]
  state: RelayState
  reservation: RelayView['reservation']
  lastError?: string
  since: number
  conn?: Libp2pConnection
}

const MAX_BACKOFF_MS = 30_000

export class RelayClient {
  private readonly o: RelayClientOptions
  private readonly entries = new Map<string, Entry>()
  private readonly stopper = new AbortController()
  private readonly loops = new Set<Promise<void>>()
  private node: Libp2p | undefined
  private circuits: CircuitListener | undefined
  private key: Uint8Array | undefined

  constructor (o: RelayClientOptions) {
    this.o = o
    this.key = o.key
  }

  /** Whether the loops run: started, with the key. */
  private get running (): boolean {
    return this.node !== undefined && this.key !== undefined && !this.stopper.signal.aborted
  }

  /**
   * Starts the loops of the relays added so far, once the key is known too; relays added later
   * start at once. Until then every relay stays `connecting`: none is dialled without the key.
   */
  start (node: Libp2p, circuits: CircuitListener): void {
    this.node = node
    this.circuits = circuits
    if (this.running) for (const e of this.entries.values()) this.run(e)
  }

  /** The group's admission key, derived after the client was built: the loops start if the client was started. */
  useKey (key: Uint8Array): void {
    if (this.key !== undefined) return
    this.key = key
    if (this.running) for (const e of this.entries.values()) this.run(e)
  }

  async stop (): Promise<void> {
    this.stopper.abort(new Error('stopped'))
    await Promise.allSettled([...this.loops])
  }

  /** Adds a relay by a multiaddr ending in `/p2p/<relay id>`; more addresses of a known relay are merged. */
  add (addr: string): void {
    const ma = multiaddr(addr)
    const id = ma.getComponents().findLast(c => c.name === 'p2p')?.value
    if (id === undefined) throw new Error(`relay address ${addr} does not end in /p2p/<node id>`)
    const known = this.entries.get(id)
    if (known !== undefined) {
      if (!known.addrs.some(a => a.equals(ma))) known.addrs.push(ma)
      return
    }
    const e: Entry = { id, addrs: [ma], state: 'connecting', reservation: 'none', since: this.now() }
    this.entries.set(id, e)
    if (this.running) this.run(e)
  }

  has (id: string): boolean {
    return this.entries.has(id)
  }

  relays (): RelayView[] {
    return [...this.entries.values()].map(e => ({
      id: e.id, addrs: e.addrs.map(String), state: e.state, reservation: e.reservation, since: e.since,
      ...(e.lastError !== undefined ? { lastError: e.lastError } : {})
    }))
  }

  /** Whether AutoNAT confirmed a public, direct address of this node. */
  publiclyReachable (): boolean {
    return (this.node?.getMultiaddrs() ?? []).some(ma => !ma.toString().includes('/p2p-circuit') && !isPrivate(ma))
  }

  private now (): number {
    return (this.o.now ?? Date.now)()
  }

  private set (e: Entry, state: RelayState, error?: string): void {
    if (e.state === state && e.lastError === error) return
    e.state = state
    e.since = this.now()
    if (error !== undefined) e.lastError = error
    const details = { relay: e.id, ...(error !== undefined ? { error } : {}) }
    if (state === 'refused') this.o.log('warn', `relay ${e.id} refused this node: ${error ?? 'no reason'}; check that it was given this group's admission key (engram relay key)`, details)
    else if (state === 'unreachable') this.o.log('warn', `no relay reachable at ${e.addrs.map(String).join(', ')}: ${error ?? 'no answer'}; retrying with backoff`, details)
    else if (state === 'reserved') this.o.log('info', `reserved a slot on relay ${e.id}: peers behind other NATs reach this node through it`, details)
    else this.o.log('debug', `relay ${e.id}: ${state}`, details)
  }

  private run (e: Entry): void {
    const loop = this.loop(e).catch((err: unknown) => { this.o.log('warn', `relay ${e.id} loop ended: ${errorMessage(err)}`) })
    this.loops.add(loop)
    void loop.finally(() => this.loops.delete(loop))
  }

  private async loop (e: Entry): Promise<void> {
    const signal = this.stopper.signal
    let backoff = 1000
    while (!signal.aborted) {
      try {
        await this.step(e, signal)
        backoff = 1000
        await abortableDelay(this.o.pollMs, signal)
      } catch (err) {
        if (signal.aborted) return
        if (e.state !== 'refused') this.set(e, 'unreachable', errorMessage(err))
        e.reservation = 'none'
        await abortableDelay(backoff, signal).catch(() => {})
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS)
      }
    }
  }

  /** One pass: connect and admit if needed, reserve if needed, ask for members. */
  private async step (e: Entry, signal: AbortSignal): Promise<void> {
    const node = this.node as Libp2p
    if (e.conn === undefined || e.conn.status !== 'open') {
      e.conn = await this.connect(node, e, signal)
      await this.admit(node, e, e.conn, signal)
      this.set(e, 'admitted')
    }
    const reserved = node.getMultiaddrs().some(ma => ma.toString().includes(`/p2p/${e.id}/p2p-circuit`))
    if (this.publiclyReachable()) {
      e.reservation = reserved ? 'held' : 'not needed'
    } else if (!reserved) {
      const relayAddr = e.conn.remoteAddr.toString().includes(`/p2p/${e.id}`) ? e.conn.remoteAddr : e.conn.remoteAddr.encapsulate(`/p2p/${e.id}`)
      try {
        await (this.circuits as CircuitListener).listen([relayAddr.encapsulate('/p2p-circuit')])
      } catch (err) {
        e.reservation = 'none'
        this.set(e, 'admitted', `reservation refused: ${errorMessage(err)}`)
        this.o.log('warn', `relay ${e.id} refused a reservation: ${errorMessage(err)}; it may be full (p2p.relay.maxReservations) or not a relay`, { relay: e.id })
        throw err
      }
      e.reservation = 'held'
      this.set(e, 'reserved')
    } else {
      e.reservation = 'held'
      if (e.state !== 'reserved') this.set(e, 'reserved')
    }
    for (const member of await this.members(e.conn, signal)) {
      this.o.onMember(member, `${e.conn.remoteAddr.toString().includes(`/p2p/${e.id}`) ? e.conn.remoteAddr.toString() : `${e.conn.remoteAddr.toString()}/p2p/${e.id}`}/p2p-circuit/p2p/${member}`, e.id)
    }
  }

  private async connect (node: Libp2p, e: Entry, signal: AbortSignal): Promise<Libp2pConnection> {
    let last: unknown
    for (const addr of e.addrs) {
      try {
        return await node.dial(addr, { signal: AbortSignal.any([signal, AbortSignal.timeout(this.o.handshakeTimeoutMs)]) })
      } catch (err) {
        last = err
        if (signal.aborted) throw err
      }
    }
    throw last ?? new Error('no address')
  }

  private async admit (node: Libp2p, e: Entry, conn: Libp2pConnection, signal: AbortSignal): Promise<void> {
    const s = AbortSignal.any([signal, AbortSignal.timeout(this.o.handshakeTimeoutMs)])
    const stream = await conn.newStream(ADMISSION_PROTOCOL, { signal: s, runOnLimitedConnection: false })
    const lp = lpStream(stream, { maxDataLength: MAX_ADMISSION_MESSAGE })
    const memberNonce = freshNonce()
    await lp.write(encodeNonceMessage(memberNonce), { signal: s })
    const relayNonce = decodeNonceMessage((await lp.read({ signal: s })).subarray(), 'admission challenge')
    const t = { relayId: e.id, memberId: node.peerId.toString(), memberNonce, relayNonce }
    const key = this.key as Uint8Array
    await lp.write(await proof(key, 'member', t), { signal: s })
    const answer = decodeAnswer((await lp.read({ signal: s })).subarray())
    await stream.close({ signal: s }).catch(() => {})
    if (answer === undefined || await matchingKey([key], 'relay', t, answer) !== 0) {
      const why = answer === undefined ? 'admission refused (the relay holds another admission key)' : 'the relay failed to prove the admission key'
      this.set(e, 'refused', why)
      throw new Error(why)
    }
  }

  private async members (conn: Libp2pConnection, signal: AbortSignal): Promise<string[]> {
    const s = AbortSignal.any([signal, AbortSignal.timeout(this.o.handshakeTimeoutMs)])
    const stream = await conn.newStream(MEMBERS_PROTOCOL, { signal: s })
    const lp = lpStream(stream, { maxDataLength: 64 * 1024 })
    const list: unknown = JSON.parse(new TextDecoder().decode((await lp.read({ signal: s })).subarray()))
    await stream.close({ signal: s }).catch(() => {})
    if (!Array.isArray(list)) return []
    return list.filter((x): x is string => typeof x === 'string' && /^[A-Za-z0-9]{1,128}$/.test(x)).slice(0, MAX_MEMBERS_LISTED)
  }

  /** Whether `peer` is one of this client's relays (its connections are kept open). */
  isRelay (peer: PeerId | string): boolean {
    return this.entries.has(peer.toString())
  }
}
