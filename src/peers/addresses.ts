/**
 * The addresses a peer is given by, checked once for every way in (the API, `engram sync pair`,
 * the configuration, the registry's own records): a P2P address — "host:port" as the one parser
 * of core/address.ts reads it (IPv4, a host name, "[v6]:port"), a multiaddr, or an in-memory
 * address of the test transport — and the URL of a REST peer. Each check throws INVALID_INPUT
 * naming the field and what is allowed.
 */
import { INVALID_INPUT } from '../core/errors.ts'
import { parseHostPort } from '../core/address.ts'

/** Longest P2P address, characters (a multiaddr with a peer id fits). */
export const MAX_ADDR_LENGTH = 1100
const MULTIADDR = /^\/[\x21-\x7e]{1,1023}$/
const MEMORY_ADDR = /^mem:[A-Za-z0-9._-]{1,128}$/

/**
 * Checks a P2P peer address: `host:port` (IPv4 or a host name), `[v6]:port`, or a multiaddr
 * (`/ip4/…/udp/…/quic-v1`). Returns it trimmed; INVALID_INPUT naming `addr` otherwise.
 */
export function validatePeerAddr (addr: unknown): string {
  if (typeof addr !== 'string' || addr.trim() === '') {
    throw INVALID_INPUT('addr', 'must be a peer address such as "10.0.0.5:19091", "laptop.local:19091", "[fe80::1]:19091" or a multiaddr')
  }
  const a = addr.trim()
  if (MULTIADDR.test(a) || MEMORY_ADDR.test(a)) return a
  const parsed = parseHostPort(a)
  if (!parsed.ok) throw INVALID_INPUT('addr', `${JSON.stringify(a)} ${parsed.problem}; expected "host:port", "[ipv6]:port" (a port in 1-65535) or a multiaddr`)
  return a
}

/** Checks the URL of a REST peer: http(s), no credentials. Returns its origin. */
export function validatePeerUrl (url: unknown): string {
  if (typeof url !== 'string') throw INVALID_INPUT('url', 'must be a string like http://10.0.0.5:19090')
  let u: URL
  try { u = new URL(url) } catch { throw INVALID_INPUT('url', `is not a URL: ${url} (expected e.g. http://10.0.0.5:19090)`) }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw INVALID_INPUT('url', 'must start with http:// or https://')
  if (u.username !== '' || u.password !== '') throw INVALID_INPUT('url', 'must not carry credentials')
  return u.origin
}
