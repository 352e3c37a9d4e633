/**
 * Which path a session takes, read from its remote address: `direct`, or `relayed` through the
 * relay whose id comes before `/p2p-circuit` (`/ip4/…/p2p/<relay>/p2p-circuit/p2p/<peer>`); which
 * transport carries it (`quic`, or `tcp`, the fallback where UDP is blocked; for a relayed path,
 * the one to the relay); and the order in which paths are preferred: direct QUIC, then direct
 * TCP, then relayed. A transport moves a session onto a connection of a preferred path when one
 * opens (`QuicTransport.ts`; docs/DISCOVERY.md, "The TCP path").
 */

export interface SessionPath {
  readonly path: 'direct' | 'relayed'
  /** The relay's node id, for a relayed path. */
  readonly relay?: string
}

/** The transport that carries a session: QUIC, TCP, or another kind (the in-memory one: null). */
export type Carrier = 'quic' | 'tcp' | null

export function isRelayedAddr (addr: string): boolean {
  return addr.includes('/p2p-circuit')
}

export function sessionPath (remoteAddr: string): SessionPath {
  const i = remoteAddr.indexOf('/p2p-circuit')
  if (i < 0) return { path: 'direct' }
  const m = /\/p2p\/([A-Za-z0-9]+)$/.exec(remoteAddr.slice(0, i))
  return m?.[1] !== undefined ? { path: 'relayed', relay: m[1] } : { path: 'relayed' }
}

/** The transport of the first hop of a remote address (a multiaddr): `quic` or `tcp`, else null. */
export function carrierOf (remoteAddr: string): Carrier {
  const first = remoteAddr.indexOf('/p2p/')
  const hop = first < 0 ? remoteAddr : remoteAddr.slice(0, first)
  if (/\/udp\/\d+\/quic(-v1)?(\/|$)/.test(hop)) return 'quic'
  if (/\/tcp\/\d+(\/|$)/.test(hop)) return 'tcp'
  return null
}

/** How much a path is preferred: 2 direct QUIC, 1 direct over another transport, 0 relayed. */
export function pathRank (remoteAddr: string): number {
  if (isRelayedAddr(remoteAddr)) return 0
  return carrierOf(remoteAddr) === 'quic' ? 2 : 1
}

/** Whether a session on `current` should move to a connection on `offered` (a preferred path). */
export function isBetterPath (offered: string, current: string): boolean {
  return pathRank(offered) > pathRank(current)
}
