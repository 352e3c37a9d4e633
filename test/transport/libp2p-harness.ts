/**
 * Harness pieces shared by the QUIC and TCP conformance runs: silent peers and dead addresses
 * on the loopback interface.
 */
import dgram from 'node:dgram'
import net from 'node:net'
import { multiaddr } from '@multiformats/multiaddr'
import { QuicTransport, type QuicTransportOptions } from '../../src/transport/libp2p/QuicTransport.ts'
import type { TransportHarness } from './conformance.ts'

/** A UDP socket that takes every datagram and answers none: a QUIC peer that went silent. */
export async function silentUdp (host = '127.0.0.1'): Promise<{ port: number, close (): Promise<void> }> {
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4')
  sock.on('message', () => {})
  await new Promise<void>((resolve, reject) => { sock.once('error', reject); sock.bind(0, host, () => { resolve() }) })
  return { port: sock.address().port, close: () => new Promise(resolve => { sock.close(() => { resolve() }) }) }
}

/** A TCP server that accepts connections and never writes a byte. */
export async function silentTcp (host = '127.0.0.1'): Promise<{ port: number, close (): Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => { sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)) })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, host, () => { resolve() }) })
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    close: () => new Promise(resolve => {
      for (const s of sockets) s.destroy()
      server.close(() => { resolve() })
    })
  }
}

/** A free port number (of `kind`) on `host`, found by binding and releasing it. */
export async function freePort (kind: 'udp' | 'tcp', host = '127.0.0.1'): Promise<number> {
  if (kind === 'udp') {
    const s = await silentUdp(host)
    await s.close()
    return s.port
  }
  const s = await silentTcp(host)
  await s.close()
  return s.port
}

export function libp2pHarness (kind: 'quic' | 'tcp', extra: Partial<QuicTransportOptions> = {}): TransportHarness {
  return {
    create: async (opts) => QuicTransport.create({
      host: '127.0.0.1', port: 0, transports: kind, handshakeTimeoutMs: 2000, closeTimeoutMs: 1000, ...extra, ...opts
    }),
    silentPeer: async () => {
      if (kind === 'quic') {
        const s = await silentUdp()
        return { addr: `/ip4/127.0.0.1/udp/${s.port}/quic-v1`, close: s.close }
      }
      const s = await silentTcp()
      return { addr: `/ip4/127.0.0.1/tcp/${s.port}`, close: s.close }
    },
    deadAddr: async () => kind === 'quic'
      ? `/ip4/127.0.0.1/udp/${await freePort('udp')}/quic-v1`
      : `/ip4/127.0.0.1/tcp/${await freePort('tcp')}`
  }
}

/** The port a started transport listens on over `proto`. */
export function listenPort (t: QuicTransport, proto: 'udp' | 'tcp'): number {
  const a = t.listenAddrs().find(x => x.includes(`/${proto}/`))
  if (a === undefined) throw new Error(`no ${proto} address in ${t.listenAddrs().join(', ')}`)
  return Number(multiaddr(a).getComponents().find(c => c.name === proto)?.value)
}
