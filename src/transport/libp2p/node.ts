/**
 * The libp2p node under `QuicTransport`: QUIC (TLS 1.3) and/or TCP (Noise + Yamux; with a
 * private-network key, bound into the Noise handshake), the engram stream protocol, and the
 * connection limits.
 * Liveness comes from QUIC keep-alives and Yamux pings; no other libp2p protocol is spoken.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { quic } from '@chainsafe/libp2p-quic'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Connection as Libp2pConnection, Libp2p, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { ENGRAM_PROTOCOL } from '../Transport.ts'
import { ipFamily, type ResolvedOptions } from './options.ts'
import { noisePrologue } from './privateNetwork.ts'
import { tuneQuicReads } from './quicReads.ts'

/** The multiaddrs to listen on: QUIC on `port`, TCP on `tcpPort`, for every host. */
export function listenAddresses (o: ResolvedOptions): string[] {
  const listen: string[] = []
  for (const h of o.hosts) {
    const fam = ipFamily(h, 'host')
    if (o.kinds !== 'tcp') listen.push(`/ip${fam}/${h}/udp/${o.port}/quic-v1`)
    if (o.kinds !== 'quic') listen.push(`/ip${fam}/${h}/tcp/${o.tcpPort}`)
  }
  return listen
}

export interface NodeHandlers {
  /** An inbound engram stream. */
  readonly onStream: (stream: Stream, conn: Libp2pConnection) => void
  /** Any new libp2p connection, inbound or outbound. */
  readonly onConnectionOpen: (conn: Libp2pConnection) => void
}

/** Builds (does not start) the libp2p node. */
export async function createNode (o: ResolvedOptions, listen: string[], h: NodeHandlers): Promise<Libp2p> {
  const hs = o.handshakeTimeoutMs
  const useQuic = o.kinds !== 'tcp'
  const useTcp = o.kinds !== 'quic'
  if (useQuic) await tuneQuicReads()
  const node = await createLibp2p({
    start: false,
    privateKey: o.privateKey,
    addresses: { listen },
    transports: [
      ...(useQuic ? [quic({ handshakeTimeout: hs, maxIdleTimeout: Math.max(10_000, 2 * hs), keepAliveInterval: 5_000 })] : []),
      ...(useTcp ? [tcp()] : [])
    ],
    // TCP only (QUIC has its own TLS): nodes with another private-network key fail the Noise handshake
    connectionEncrypters: useTcp ? [noise(o.privateNetworkKey !== undefined ? { prologueBytes: noisePrologue(o.privateNetworkKey) } : {})] : [],
    streamMuxers: useTcp ? [yamux()] : [],
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
  await node.handle(ENGRAM_PROTOCOL, (stream, conn) => { h.onStream(stream, conn) },
    { maxInboundStreams: 4, maxOutboundStreams: 4 })
  node.addEventListener('connection:open', (evt) => { h.onConnectionOpen(evt.detail) })
  return node
}
