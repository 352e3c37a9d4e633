/**
 * Peers as earlier versions kept them, moved into the registry's keys (PeerRegistry.ts) the first
 * time a registry is opened over such a store; then the old keys are deleted. Three keys of the
 * store's local metadata:
 *
 *   sync.peers    the paired REST peers: a JSON list in the format RestPeers keeps (unchanged)
 *   p2p.peerBook  every known P2P peer: {addr, source, nodeId, addrs, addedAt (ms), lastSeen,
 *                 lastError, lastErrorAt, refused}, with `manual` for what is `config` now
 *   p2p.peers     the P2P peers added through the API: {addr, addedAt (ISO 8601)}
 *
 * Each section is written whole in one write before any old key is deleted, and a section that
 * exists already is never written over: a migration cut short by a crash is finished by the
 * next open, and nothing is migrated twice.
 */
import type { Store } from '../store/Store.ts'
import { validatePeerAddr } from './addresses.ts'
import { readP2pPeer, readP2pPeers, type P2pPeer } from './P2pPeers.ts'
import { readRestPeers } from './RestPeers.ts'
import { isPeerSource, type PeerSource } from './sources.ts'

export const LEGACY_KEYS = { rest: 'sync.peers', book: 'p2p.peerBook', added: 'p2p.peers' } as const

function parse (raw: string | undefined): unknown {
  if (raw === undefined) return undefined
  try { return JSON.parse(raw) } catch { return undefined }
}

/** A source as the old peer book stored it. */
const legacySource = (s: unknown): PeerSource | undefined => s === 'manual' ? 'config' : isPeerSource(s) ? s : undefined

/**
 * The P2P section from the old book and the old list of API peers, in the book's order. The API
 * peers are those of the list (the book's `api` entries mirrored it; one it no longer named was
 * being forgotten); a peer in both keeps what the book knew of it, and the list's time it was
 * added. A peer of the list the book did not hold comes last.
 */
export function legacyP2pPeers (book: unknown, added: unknown, now: number): P2pPeer[] {
  const listed = new Map<string, number | undefined>()
  for (const x of Array.isArray(added) ? added as unknown[] : []) {
    if (typeof x !== 'object' || x === null) continue
    const p = x as { addr?: unknown, addedAt?: unknown }
    let addr: string
    try { addr = validatePeerAddr(p.addr) } catch { continue }
    const at = typeof p.addedAt === 'string' ? Date.parse(p.addedAt) : NaN
    listed.set(addr, Number.isFinite(at) ? at : undefined)
  }
  const out = new Map<string, P2pPeer>()
  for (const x of Array.isArray(book) ? book as unknown[] : []) {
    const e = readP2pPeer(x, legacySource)
    if (e === undefined || out.has(e.addr)) continue
    if (e.source === 'api') {
      if (!listed.has(e.addr)) continue
      out.set(e.addr, { ...e, addedAt: listed.get(e.addr) ?? e.addedAt })
    } else if (listed.has(e.addr) && e.source !== 'config') {
      out.set(e.addr, { ...e, source: 'api', addedAt: listed.get(e.addr) ?? e.addedAt }) // added through the API since
    } else {
      out.set(e.addr, e) // a configured peer stays the configuration's
    }
  }
  for (const [addr, at] of listed) {
    if (!out.has(addr)) out.set(addr, { addr, source: 'api', nodeId: null, addrs: [addr], addedAt: at ?? now, lastSeen: null, lastError: null, lastErrorAt: null, refused: false })
  }
  return readP2pPeers([...out.values()])
}

/** Moves the old keys into `keys` (the registry's) when any is left; does nothing otherwise. */
export function migrateLegacyPeers (store: Store, keys: { readonly rest: string, readonly p2p: string }, now: () => number): void {
  const rest = store.getMeta(LEGACY_KEYS.rest)
  const book = store.getMeta(LEGACY_KEYS.book)
  const added = store.getMeta(LEGACY_KEYS.added)
  if (rest === undefined && book === undefined && added === undefined) return
  if (rest !== undefined && store.getMeta(keys.rest) === undefined) {
    store.setMeta(keys.rest, JSON.stringify(readRestPeers(parse(rest))))
  }
  if ((book !== undefined || added !== undefined) && store.getMeta(keys.p2p) === undefined) {
    store.setMeta(keys.p2p, JSON.stringify(legacyP2pPeers(parse(book), parse(added), now())))
  }
  for (const k of Object.values(LEGACY_KEYS)) store.setMeta(k, undefined)
}
