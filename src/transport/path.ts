/**
 * Which path a session takes, read from its remote address: `direct`, or `relayed` through the
 * relay whose id comes before `/p2p-circuit` (`/ip4/…/p2p/<relay>/p2p-circuit/p2p/<peer>`).
 */

export interface SessionPath {
  readonly path: 'direct' | 'relayed'
  /** The relay's node id, for a relayed path. */
  readonly relay?: string
}

export function isRelayedAddr (addr: string): boolean {
  return addr.includes('/p2p-circuit')
}

export function sessionPath (remoteAddr: string): SessionPath {
  const i = remoteAddr.indexOf('/p2p-circuit')
  if (i < 0) return { path: 'direct' }
  const m = /\/p2p\/([A-Za-z0-9]+)$/.exec(remoteAddr.slice(0, i))
  return m?.[1] !== undefined ? { path: 'relayed', relay: m[1] } : { path: 'relayed' }
}
