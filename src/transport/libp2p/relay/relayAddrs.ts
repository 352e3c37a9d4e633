/**
 * What a relay entry of `p2p.relays` means: a multiaddr ending in `/p2p/<relay id>` is used as
 * given; `<relay id>@host:port` means QUIC on that UDP port, then TCP on that TCP port (a host
 * name as `/dns/…`, IPv6 in brackets).
 */
import { INVALID_INPUT } from '../../../core/errors.ts'
import { dialAddress } from '../../util.ts'

export function relayMultiaddrs (entry: string): string[] {
  if (entry.startsWith('/')) return [entry]
  const at = entry.indexOf('@')
  if (at <= 0) throw INVALID_INPUT('p2p.relays', `${JSON.stringify(entry)} is neither a multiaddr nor "<node id>@host:port"`)
  const id = entry.slice(0, at)
  const hp = dialAddress(entry.slice(at + 1))
  const host = hp.family === 4 ? `/ip4/${hp.host}` : hp.family === 6 ? `/ip6/${hp.host}` : `/dns/${hp.host}`
  return [`${host}/udp/${hp.port}/quic-v1/p2p/${id}`, `${host}/tcp/${hp.port}/p2p/${id}`]
}
