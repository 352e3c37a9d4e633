/**
 * The libp2p node under `QuicTransport`: QUIC (TLS 1.3) and/or TCP (Noise + Yamux; with a
 * private-network key, bound into the Noise handshake), the engram stream protocol, and the
 * connection limits.
 * Liveness comes from QUIC keep-alives and Yamux pings. Without reach options no other libp2p
 * protocol is spoken; with them the node adds the relay parts of `relay/parts.ts` (circuit relay v2,
 * identify, AutoNAT, DCUtR, the relay server when serving) and the admission rules of
 * `relay/RelayGate.ts`.
 * The libp2p packages of the relay parts (`relay/parts.ts`) are loaded only by a node with reach
 * options: a node without relays starts without reading and compiling them.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { quic } from '@chainsafe/libp2p-quic'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { ConnectionEncrypter, Connection as Libp2pConnection, Libp2p, Stream } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { ENGRAM_PROTOCOL } from '../Transport.ts'
import { ipFamily, type ResolvedOptions } from './options.ts'
import { noisePrologue } from './privateNetwork.ts'
import { tuneQuicReads } from './quicReads.ts'
import type { RelayGate } from './relay/RelayGate.ts'

/** The multiaddrs to listen on: QUIC on `port`, TCP on `tcpPort`, for every host (`only`: of one carrier). */
export function listenAddresses (o: ResolvedOptions, only?: 'quic' | 'tcp'): string[] {
  const listen: string[] = []
  for (const h of o.hosts) {
    const fam = ipFamily(h, 'host')
    if (o.kinds !== 'tcp' && only !== 'tcp') listen.push(`/ip${fam}/${h}/udp/${o.port}/quic-v1`)
    if (o.kinds !== 'quic' && only !== 'quic') listen.push(`/ip${fam}/${h}/tcp/${o.tcpPort}`)
  }
  return listen
}

/**
 * Listens on more addresses on a started node (TCP once the private network's key is known).
 * libp2p has no public call for it; its transport manager's `listen` is the one start uses.
 */
export async function listenMore (node: Libp2p, addrs: string[]): Promise<void> {
  const tm = (node as unknown as { components: { transportManager: { listen: (a: Multiaddr[]) => Promise<void> } } }).components.transportManager
  await tm.listen(addrs.map(a => multiaddr(a)))
}

/**
 * The TCP private network's Noise (`privateNetwork.ts`) when its key comes later: until `key()`
 * gives one, every TCP handshake fails (none is ever run without the key), then the Noise with
 * the key's prologue is built once and used. Before the key the node neither listens on TCP nor
 * dials it (`QuicTransport`), so this refusal is a last guard, not a path taken.
 */
function laterKeyedNoise (key: () => Uint8Array | undefined): (components: Parameters<ReturnType<typeof noise>>[0]) => ConnectionEncrypter {
  return (components) => {
    let inner: ConnectionEncrypter | undefined
    const keyed = (): ConnectionEncrypter => {
      if (inner !== undefined) return inner
      const k = key()
      if (k === undefined) throw new Error('the private network\'s key is not derived yet: no TCP handshake before it')
      inner = noise({ prologueBytes: noisePrologue(k) })(components)
      return inner
    }
    return {
      protocol: '/noise',
      secureOutbound: async (conn, opts) => await keyed().secureOutbound(conn, opts),
      secureInbound: async (conn, opts) => await keyed().secureInbound(conn, opts)
    }
  }
}

export interface NodeHandlers {
  /** An inbound engram stream. */
  readonly onStream: (stream: Stream, conn: Libp2pConnection) => void
  /** Any new libp2p connection, inbound or outbound. */
  readonly onConnectionOpen: (conn: Libp2pConnection) => void
  /** Admission on a node that serves as a relay. */
  readonly gate?: RelayGate
  /** With `keysPending`: the private network's key once it is known. */
  readonly laterKey?: () => Uint8Array | undefined
}

/** Builds (does not start) the libp2p node. */
export async function createNode (o: ResolvedOptions, listen: string[], h: NodeHandlers): Promise<Libp2p> {
  const hs = o.handshakeTimeoutMs
  const useQuic = o.kinds !== 'tcp'
  const useTcp = o.kinds !== 'quic'
  if (useQuic) await tuneQuicReads()
  const reach = o.reach
  // loaded only by a node with reach options
  const relay = reach !== undefined ? await import('./relay/parts.ts') : undefined
  const keyed = o.keysPending
    ? laterKeyedNoise(h.laterKey ?? (() => undefined))
    : noise(o.privateNetworkKey !== undefined ? { prologueBytes: noisePrologue(o.privateNetworkKey) } : {})
  const node = await createLibp2p({
    start: false,
    privateKey: o.privateKey,
    addresses: { listen },
    transports: [
      ...(useQuic ? [quic({ handshakeTimeout: hs, maxIdleTimeout: Math.max(10_000, 2 * hs), keepAliveInterval: 5_000 })] : []),
      ...(useTcp ? [tcp()] : []),
      ...(relay !== undefined ? [relay.relayTransport(hs)] : [])
    ],
    // TCP and circuits (QUIC has its own TLS): nodes with another private-network key fail the
    // Noise handshake; the unkeyed Noise is for dialling relays only (relay/parts.ts)
    connectionEncrypters: relay !== undefined && reach?.relayOnly === true
      ? [relay.relayNoise(true)]
      : useTcp || relay !== undefined ? [keyed, ...(relay !== undefined ? [relay.relayNoise(false)] : [])] : [],
    streamMuxers: useTcp || relay !== undefined ? [yamux()] : [],
    ...(relay !== undefined && reach !== undefined ? { services: relay.reachServices(hs, reach.serve?.limits, reach.holePunch && !reach.relayOnly) } : {}),
    ...(h.gate !== undefined ? { connectionGater: h.gate.gater() } : {}),
    connectionManager: {
      // sessions are limited by the transport; libp2p's own limit leaves room for
      // connections that are being settled or closed
      maxConnections: o.maxConnections * 2 + 16,
      dialTimeout: o.dialTimeoutMs,
      addressDialTimeout: o.dialTimeoutMs,
      inboundUpgradeTimeout: hs,
      inboundStreamProtocolNegotiationTimeout: hs,
      outboundStreamProtocolNegotiationTimeout: hs,
      inboundConnectionThreshold: o.inboundPerSecond,
      maxIncomingPendingConnections: 64
    },
    connectionMonitor: { enabled: false }
  })
  // runOnLimitedConnection: sessions run over relayed circuits too (the relay's limits apply)
  if (reach?.relayOnly !== true) {
    await node.handle(ENGRAM_PROTOCOL, (stream, conn) => { h.onStream(stream, conn) },
      { maxInboundStreams: 4, maxOutboundStreams: 4, runOnLimitedConnection: true })
  }
  if (h.gate !== undefined) await h.gate.register(node)
  node.addEventListener('connection:open', (evt) => { h.onConnectionOpen(evt.detail) })
  clearAddressWriteOnStop(node)
  return node
}

/**
 * libp2p's address manager writes the node's own addresses to its peer store through a 1 s
 * debounce, armed whenever a transport starts or stops listening, and its stop leaves that timer
 * armed: a stopped node kept the process alive another second (`engram start`, told to stop,
 * exited only on its own one-second bound). Cleared once the node has stopped; nothing reads the
 * addresses of a stopped node.
 */
function clearAddressWriteOnStop (node: Libp2p): void {
  type Debounced = { stop?: () => void }
  const write = (node as unknown as { components?: { addressManager?: { _updatePeerStoreAddresses?: Debounced } } }).components?.addressManager?._updatePeerStoreAddresses
  node.addEventListener('stop', () => { write?.stop?.() })
}
