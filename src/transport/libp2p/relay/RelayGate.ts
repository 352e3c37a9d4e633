/**
 * The relay side of admission (`transport/relay/admission.ts`): which connected nodes proved an
 * admission key, and libp2p's connection-gater rules that follow from it. A node that has not
 * proven a key gets no reservation (`denyInboundRelayReservation`), opens no circuit
 * (`denyOutboundRelayedConnection`: the destination holds a reservation, so it was admitted) and,
 * on a relay that is nothing else, has its connection closed one handshake's time after it opened.
 * Admission lasts as long as the node keeps a connection to the relay.
 *
 * `/engram/relay-members/1.0.0` tells an admitted node which other nodes admitted with the same
 * key hold a reservation now, so members behind NATs find each other through the relay alone.
 */
import type { Connection as Libp2pConnection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import {
  ADMISSION_PROTOCOL, MAX_ADMISSION_MESSAGE, decodeNonceMessage, encodeAnswer, encodeNonceMessage, freshNonce, matchingKey, proof
} from '../../relay/admission.ts'
import { errorMessage } from '../../util.ts'

export const MEMBERS_PROTOCOL = '/engram/relay-members/1.0.0'
/** Most node ids one members answer lists. */
export const MAX_MEMBERS_LISTED = 256

export interface RelayGateOptions {
  /** The keys this relay admits with (one per group it serves). */
  readonly keys: readonly Uint8Array[]
  readonly handshakeTimeoutMs: number
  readonly log: (level: 'info' | 'warn' | 'debug', message: string, details?: Record<string, unknown>) => void
  /** Whether `peer` holds a reservation now (the circuit relay server's reservations). */
  readonly hasReservation: (peer: PeerId) => boolean
}

export class RelayGate {
  /** Admitted node id → the index of the key it proved. */
  private readonly admitted = new Map<string, number>()
  private readonly o: RelayGateOptions
  /** The keys admitted with: those given, and a group's key added once derived (`admitWith`). */
  private readonly keys: Uint8Array[]
  private node: Libp2p | undefined

  constructor (o: RelayGateOptions) {
    this.o = o
    this.keys = [...o.keys]
  }

  /** Admits with one more key from now on (this node's own group's, once its seed's keys are derived). */
  admitWith (key: Uint8Array): void {
    this.keys.push(key)
  }

  isAdmitted (peer: PeerId | string): boolean {
    return this.admitted.has(peer.toString())
  }

  /** How many connected nodes are admitted. */
  get size (): number {
    return this.admitted.size
  }

  /** Registers the protocols and forgets a node when its last connection closes. */
  async register (node: Libp2p): Promise<void> {
    this.node = node
    await node.handle(ADMISSION_PROTOCOL, (stream, conn) => { void this.serve(stream, conn) }, { maxInboundStreams: 1, maxOutboundStreams: 1 })
    await node.handle(MEMBERS_PROTOCOL, (stream, conn) => { void this.serveMembers(stream, conn) }, { maxInboundStreams: 1, maxOutboundStreams: 1 })
    node.addEventListener('connection:close', (evt) => {
      const peer = evt.detail.remotePeer
      if (node.getConnections(peer).length === 0) this.admitted.delete(peer.toString())
    })
  }

  /** Connection-gater rules (merged into the node's gater). */
  gater (): { denyInboundRelayReservation: (p: PeerId) => boolean, denyOutboundRelayedConnection: (s: PeerId, d: PeerId) => boolean } {
    return {
      denyInboundRelayReservation: (peer) => {
        const deny = !this.isAdmitted(peer)
        if (deny) this.o.log('warn', 'refused a relay reservation: the node has not proven an admission key', { peer: peer.toString() })
        return deny
      },
      denyOutboundRelayedConnection: (source, destination) => {
        const s = this.admitted.get(source.toString())
        const deny = s === undefined || s !== this.admitted.get(destination.toString())
        if (deny) this.o.log('warn', 'refused a relayed connection: the nodes were not admitted with one key', { source: source.toString(), destination: destination.toString() })
        return deny
      }
    }
  }

  private async serve (stream: Stream, conn: Libp2pConnection): Promise<void> {
    const signal = AbortSignal.timeout(this.o.handshakeTimeoutMs)
    const lp = lpStream(stream, { maxDataLength: MAX_ADMISSION_MESSAGE })
    const member = conn.remotePeer.toString()
    try {
      const memberNonce = decodeNonceMessage((await lp.read({ signal })).subarray(), 'admission offer')
      const relayNonce = freshNonce()
      await lp.write(encodeNonceMessage(relayNonce), { signal })
      const got = (await lp.read({ signal })).subarray()
      const t = { relayId: this.node?.peerId.toString() ?? '', memberId: member, memberNonce, relayNonce }
      const k = await matchingKey(this.keys, 'member', t, got)
      if (k < 0) {
        this.o.log('warn', 'refused relay admission: wrong proof (another seed, or a stale admission key)', { peer: member, addr: conn.remoteAddr.toString() })
        await lp.write(encodeAnswer(undefined), { signal })
        await stream.close({ signal }).catch(() => {})
        conn.abort(new Error('relay admission refused'))
        return
      }
      this.admitted.set(member, k)
      await lp.write(encodeAnswer(await proof(this.keys[k] as Uint8Array, 'relay', t)), { signal })
      await stream.close({ signal })
      this.o.log('info', 'admitted a node to the relay', { peer: member })
    } catch (err) {
      this.o.log('debug', 'relay admission failed', { peer: member, error: errorMessage(err) })
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private async serveMembers (stream: Stream, conn: Libp2pConnection): Promise<void> {
    const signal = AbortSignal.timeout(this.o.handshakeTimeoutMs)
    const who = conn.remotePeer.toString()
    const k = this.admitted.get(who)
    try {
      const ids: string[] = []
      if (k !== undefined && this.node !== undefined) {
        for (const p of this.node.getPeers()) {
          const id = p.toString()
          if (id !== who && this.admitted.get(id) === k && this.o.hasReservation(p)) ids.push(id)
          if (ids.length >= MAX_MEMBERS_LISTED) break
        }
      }
      const lp = lpStream(stream, { maxDataLength: 64 * 1024 })
      await lp.write(new TextEncoder().encode(JSON.stringify(ids)), { signal })
      await stream.close({ signal })
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }
}
