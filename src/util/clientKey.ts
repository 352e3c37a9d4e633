/**
 * Which client an address belongs to, for per-client limits (REST connections and rates, P2P
 * handshakes): an IPv4 address (IPv4-mapped IPv6 included), or the /64 prefix of an IPv6 address
 * — one machine commonly holds a whole /64, so counting its addresses one by one would let it
 * multiply its share. Accepts a socket address (`10.0.0.5`, `::ffff:10.0.0.5`, `fe80::1%eth0`) or
 * a multiaddr (`/ip4/10.0.0.5/udp/19091/quic-v1/p2p/…`); anything else is its own key.
 */
export function clientKey (address: string | undefined): string {
  if (address === undefined || address === '') return '?'
  const m = /^\/(ip4|ip6)\/([^/]+)/.exec(address)
  const raw = m !== null ? m[2]! : address
  const a = raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw
  if (!a.includes(':')) return a
  const groups = expandIpv6(a.split('%')[0]!)
  return groups === undefined ? a : `${groups.slice(0, 4).join(':')}::/64`
}

/** The 8 groups of an IPv6 address (lower case, no leading zeros), or undefined. */
function expandIpv6 (a: string): string[] | undefined {
  const halves = a.toLowerCase().split('::')
  if (halves.length > 2) return undefined
  const head = halves[0] === '' ? [] : halves[0]!.split(':')
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1]!.split(':') : []
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0
  if (fill < 0) return undefined
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail]
  if (groups.length !== 8 || !groups.every(g => /^[0-9a-f]{1,4}$/.test(g))) return undefined
  return groups.map(g => g.replace(/^0+(?=.)/, ''))
}
