/**
 * Peer addresses as people write them — in the configuration (p2p.manualPeers, sync.peers), to
 * `engram peers add`, to the P2P API — and as the transport dials them: "host:port", where host
 * is a host name, an IPv4 address, or an IPv6 address in brackets ("[::1]:19091", a zone
 * allowed: "[fe80::1%eth0]:19091"). The one parser of them; pure (no name is resolved here).
 */

/** A parsed `host:port`. */
export interface HostPort {
  readonly host: string
  readonly port: number
  /** 4 or 6 when `host` is an IP literal, 0 for a host name. */
  readonly family: 0 | 4 | 6
}

export type ParsedAddress = { readonly ok: true, readonly address: HostPort } | { readonly ok: false, readonly problem: string }

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/

/** Whether `s` is an IPv6 literal (hex groups, at most one "::", an optional zone). */
export function isIPv6Literal (s: string): boolean {
  return s.includes(':') && /^[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?$/.test(s) && (s.match(/::/g) ?? []).length <= 1
}

/** Parses "host:port"; a problem says what is wrong, in words a person can act on. */
export function parseHostPort (s: string): ParsedAddress {
  const bad = (problem: string): ParsedAddress => ({ ok: false, problem })
  let host: string
  let portText: string
  if (s.startsWith('[')) {
    const end = s.indexOf(']')
    if (end < 0 || s[end + 1] !== ':') return bad('is not "host:port" (an IPv6 address in brackets, then ":" and the port)')
    host = s.slice(1, end)
    portText = s.slice(end + 2)
    if (!isIPv6Literal(host)) return bad(`"${host}" in brackets is not an IPv6 address`)
  } else {
    const colon = s.lastIndexOf(':')
    if (colon < 0) return bad('is not "host:port"')
    host = s.slice(0, colon)
    portText = s.slice(colon + 1)
    if (host.includes(':')) return bad('an IPv6 address must be in brackets, e.g. "[::1]:19091"')
    if (!IPV4.test(host) && (!HOSTNAME.test(host) || /^[\d.]+$/.test(host))) return bad(`"${host}" is not a host name or IPv4 address`)
  }
  if (!/^\d{1,5}$/.test(portText)) return bad(`is not "host:port" (the port ${JSON.stringify(portText)} is not a number)`)
  const port = Number(portText)
  if (port < 1 || port > 65535) return bad(`port ${port} is outside 1-65535`)
  const family = IPV4.test(host) ? 4 : isIPv6Literal(host) ? 6 : 0
  return { ok: true, address: { host, port, family } }
}

/** "host:port" text of an address (IPv6 in brackets). */
export function formatHostPort (a: Pick<HostPort, 'host' | 'port'>): string {
  return isIPv6Literal(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}
