/**
 * Peer addresses as written in the configuration: "host:port", where host is a host name, an
 * IPv4 address, or an IPv6 address in brackets ("[::1]:19091").
 */
import { isIPv4, isIPv6 } from 'node:net'

export interface HostPort {
  readonly host: string
  readonly port: number
}

export type ParsedAddress = { readonly ok: true, readonly address: HostPort } | { readonly ok: false, readonly problem: string }

const BRACKETED = /^\[([^\]]+)\]:(\d{1,5})$/
const PLAIN = /^([^:[\]\s]+):(\d{1,5})$/
const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/

export function parseHostPort (s: string): ParsedAddress {
  let host: string
  let portText: string
  const b = BRACKETED.exec(s)
  const p = b === null ? PLAIN.exec(s) : null
  if (b !== null) {
    host = b[1]!
    portText = b[2]!
    if (!isIPv6(host)) return { ok: false, problem: `"${host}" in brackets is not an IPv6 address` }
  } else if (p !== null) {
    host = p[1]!
    portText = p[2]!
    if (!isIPv4(host) && !isHostName(host)) return { ok: false, problem: `"${host}" is not a host name or IPv4 address` }
  } else {
    if (isIPv6(s.replace(/:\d{1,5}$/, '')) || isIPv6(s)) return { ok: false, problem: 'an IPv6 address must be in brackets, e.g. "[::1]:19091"' }
    return { ok: false, problem: 'is not "host:port"' }
  }
  const port = Number(portText)
  if (port < 1 || port > 65535) return { ok: false, problem: `port ${port} is outside 1-65535` }
  return { ok: true, address: { host, port } }
}

function isHostName (h: string): boolean {
  if (h.length > 253) return false
  const name = h.endsWith('.') ? h.slice(0, -1) : h
  return name.split('.').every(l => HOST_LABEL.test(l)) && !/^[0-9.]+$/.test(name)
}

/** "host:port" text of an address (IPv6 in brackets). */
export function formatHostPort (a: HostPort): string {
  return isIPv6(a.host) ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}
