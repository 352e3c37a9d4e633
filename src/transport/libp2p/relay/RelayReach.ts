/**
 * A transport's parts for reaching nodes through relays, built from its reach options: the
 * RelayGate when it serves as a relay, the RelayClient when it uses relays (with the keys pending,
 * it waits for its key before it dials any), and the HolePunch tried over relayed sessions (it
 * dials TCP: not with `relayOnly` or QUIC alone). It tells the members found on the relays to the
 * handlers given, and answers what the transport reports of its relays: the relays and their
 * state, reachability, the nodes a relay admits.
 *
 * Used by QuicTransport.ts (../QuicTransport.ts), which owns the libp2p node and the sessions.
 */
import type { Libp2p } from '@libp2p/interface'
import { INVALID_INPUT } from '../../../core/errors.ts'
import type { NodeId } from '../../../core/ids.ts'
import { isRelayedAddr } from '../../path.ts'
import type { ReachStatus } from '../../Transport.ts'
import type { ResolvedOptions } from '../options.ts'
import { HolePunch } from './HolePunch.ts'
import { reservationHolder } from './limits.ts'
import { RelayClient, type RelayView } from './RelayClient.ts'
import { RelayGate } from './RelayGate.ts'

/** Hole punches tried per relayed session before it stays relayed. */
const PUNCH_ATTEMPTS = 3

export interface RelayReachOptions {
  readonly o: ResolvedOptions
  readonly nodeId: NodeId
  readonly handshakeTimeoutMs: number
  /** The transport's libp2p node, once started. */
  readonly node: () => Libp2p | undefined
  /** Whether a session with `peer` is established. */
  readonly hasSession: (peer: NodeId) => boolean
}

export class RelayReach {
  readonly gate: RelayGate | undefined
  readonly client: RelayClient | undefined
  readonly holePunch: HolePunch | undefined
  private readonly memberHandlers: Array<(member: NodeId, circuitAddr: string, relay: NodeId) => void> = []

  constructor (opts: RelayReachOptions) {
    const { o, nodeId, handshakeTimeoutMs } = opts
    const reach = o.reach
    if (reach?.serve !== undefined) {
      this.gate = new RelayGate({
        keys: reach.serve.keys,
        handshakeTimeoutMs,
        log: o.notice,
        hasReservation: (peer) => { const node = opts.node(); return node !== undefined && reservationHolder(node.services as Record<string, unknown>)(peer) }
      })
    }
    // with the keys pending, the client waits for its key (`useKeys`) before it dials any relay
    if (reach?.memberKey !== undefined || (reach !== undefined && o.keysPending)) {
      this.client = new RelayClient({
        ...(reach.memberKey !== undefined ? { key: reach.memberKey } : {}),
        handshakeTimeoutMs,
        pollMs: reach.pollMs,
        log: o.notice,
        onMember: (member, addr, relay) => {
          // the node with the smaller id dials, so two members never open two circuits at once
          if (member <= nodeId || opts.hasSession(member as NodeId)) return
          for (const h of this.memberHandlers) h(member as NodeId, addr, relay as NodeId)
        }
      })
      for (const r of reach.relays) this.client.add(r)
    }
    // the punch dials TCP (HolePunch.ts)
    if (this.client !== undefined && reach?.holePunch === true && !reach.relayOnly && o.kinds !== 'quic') {
      const client = this.client
      this.holePunch = new HolePunch({
        timeoutMs: handshakeTimeoutMs,
        attempts: PUNCH_ATTEMPTS,
        isRelay: (peer) => client?.isRelay(peer) === true,
        isMember: (peer) => opts.hasSession(peer as NodeId),
        log: o.notice
      })
    }
  }

  /** The group's admission key, given later (`keysPending`): the gate admits with it, the client proves it. */
  useKey (memberKey: Uint8Array): void {
    this.gate?.admitWith(memberKey)
    this.client?.useKey(memberKey)
  }

  /** Called for each member of this node's group that holds a reservation on one of its relays. */
  onMember (handler: (member: NodeId, circuitAddr: string, relay: NodeId) => void): void {
    this.memberHandlers.push(handler)
  }

  /** Uses one more relay (a multiaddr ending in `/p2p/<relay id>`), e.g. one a member told of. */
  addRelay (addr: string): void {
    if (this.client === undefined) throw INVALID_INPUT('relay', 'this node has no admission key: relays need p2p.seed')
    this.client.add(addr)
  }

  /** The relays this node uses, and their state. */
  relays (): RelayView[] {
    return this.client?.relays() ?? []
  }

  /** `public` once AutoNAT has confirmed a direct address of this node from outside; else `private`. */
  reachability (): 'public' | 'private' {
    return this.client?.publiclyReachable() === true ? 'public' : 'private'
  }

  /** Relays, reachability and relay service, for the P2P status; `listenAddrs`: the node's addresses now. */
  status (listenAddrs: readonly string[]): ReachStatus {
    return {
      reachability: this.reachability(),
      relayed_addrs: listenAddrs.filter(isRelayedAddr),
      relays: this.relays().map(r => ({
        id: r.id, addrs: r.addrs, state: r.state, reservation: r.reservation, since: new Date(r.since).toISOString(), last_error: r.lastError ?? null
      })),
      serving: this.gate !== undefined ? { admitted: this.gate.size } : null
    }
  }

  /** Relays that admitted this node now (ids), the ones its relay services can be asked of. */
  admittedRelays (): string[] {
    return this.relays().filter(r => r.state === 'admitted' || r.state === 'reserved').map(r => r.id)
  }

  /** How many nodes are admitted to this node's relay now (0 when not serving). */
  admittedCount (): number {
    return this.gate?.size ?? 0
  }

}
