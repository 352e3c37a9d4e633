/**
 * What a dial address means to `QuicTransport`: the multiaddrs to try, in order. A multiaddr is
 * used as given (a `/dns…/` one is resolved first); `host:port` and `[v6]:port` mean QUIC on
 * that UDP port and, when TCP is enabled, TCP on the same port number after it. A host name is
 * resolved to every address it has.
 */
import { lookup } from 'node:dns/promises'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { INVALID_INPUT } from '../../core/errors.ts'
import { dialAddress, errorMessage, unreachable } from '../util.ts'
import type { TransportKinds } from './options.ts'

/** Multiaddrs to try for a dial address, QUIC before TCP. */
export async function dialTargets (addr: string, kinds: TransportKinds): Promise<Multiaddr[]> {
  if (addr.startsWith('/')) {
    let ma: Multiaddr
    try {
      ma = multiaddr(addr)
    } catch (err) {
      throw INVALID_INPUT('address', `${JSON.stringify(addr)} is not a valid multiaddr: ${errorMessage(err)}`)
    }
    const first = ma.getComponents()[0]
    if (first !== undefined && (first.name === 'dns' || first.name === 'dns4' || first.name === 'dns6') && first.value !== undefined) {
      const family = first.name === 'dns4' ? 4 : first.name === 'dns6' ? 6 : 0
      const found = await lookup(first.value, { all: true, family })
      const rest = ma.toString().slice(`/${first.name}/${first.value}`.length)
      return found.map(f => multiaddr(`/ip${f.family}/${f.address}${rest}`))
    }
    return [ma]
  }
  const hp = dialAddress(addr)
  const ips = hp.family !== 0
    ? [{ address: hp.host, family: hp.family }]
    : await lookup(hp.host, { all: true }).catch((err: unknown) => {
      throw unreachable(addr, `cannot resolve ${hp.host}: ${errorMessage(err)}`, err)
    })
  const out: Multiaddr[] = []
  if (kinds !== 'tcp') for (const ip of ips) out.push(multiaddr(`/ip${ip.family}/${ip.address}/udp/${hp.port}/quic-v1`))
  if (kinds !== 'quic') for (const ip of ips) out.push(multiaddr(`/ip${ip.family}/${ip.address}/tcp/${hp.port}`))
  return out
}

const withoutPeer = (a: string): string => a.replace(/\/p2p\/[^/]+$/, '')

/** Throws INVALID_INPUT when a target is one of this node's own addresses or names its id. */
export function refuseOwn (addr: string, targets: readonly Multiaddr[], ownAddrs: readonly string[], ownId: string): void {
  // a relayed address is this node's own only when its destination is this node
  const own = new Set(ownAddrs.filter(a => !a.includes('/p2p-circuit')).map(withoutPeer))
  const p2p = (ma: Multiaddr): string | undefined => ma.getComponents().findLast(c => c.name === 'p2p')?.value
  if (targets.some(t => (!t.toString().includes('/p2p-circuit') && own.has(withoutPeer(t.toString()))) || p2p(t) === ownId)) {
    throw INVALID_INPUT('address', `${addr} is this node's own address`)
  }
}
