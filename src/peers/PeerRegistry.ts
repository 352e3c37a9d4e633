/**
 * The peer registry: every peer this node knows, in one room — the paired REST peers of polled
 * sync (RestPeers.ts) and the P2P peers of native sync and discovery (P2pPeers.ts) — with one
 * vocabulary of where a peer came from (sources.ts) and one check of peer addresses
 * (addresses.ts, over the parser of core/address.ts). The node opens it once over its store
 * (node/EngramNode.ts) and hands each part its section: polled sync the REST peers, native sync
 * and discovery the P2P peers; the API and the CLI show what they hold.
 *
 * Kept in the store's local metadata, never replicated: `peers.rest` and `peers.p2p`, a JSON list
 * each (two keys, so that a dial observed does not rewrite the REST peers). A store written by an
 * earlier version is migrated when the registry is first opened over it (legacy.ts).
 */
import type { Store } from '../store/Store.ts'
import { migrateLegacyPeers } from './legacy.ts'
import { P2pPeers, readP2pPeers } from './P2pPeers.ts'
import { RestPeers, readRestPeers } from './RestPeers.ts'

/** The metadata keys of the two sections. */
export const PEER_KEYS = { rest: 'peers.rest', p2p: 'peers.p2p' } as const

/** A stored JSON value, or undefined when there is none or it does not parse (the section starts empty). */
function stored (store: Store, key: string): unknown {
  const raw = store.getMeta(key)
  if (raw === undefined) return undefined
  try { return JSON.parse(raw) } catch { return undefined }
}

export class PeerRegistry {
  /** The paired REST peers (polled sync). */
  readonly rest: RestPeers
  /** The P2P peers (native sync, discovery). */
  readonly p2p: P2pPeers

  constructor (store: Store, now: () => number = Date.now) {
    migrateLegacyPeers(store, PEER_KEYS, now)
    this.rest = new RestPeers(readRestPeers(stored(store, PEER_KEYS.rest)), list => { store.setMeta(PEER_KEYS.rest, JSON.stringify(list)) }, now)
    this.p2p = new P2pPeers(readP2pPeers(stored(store, PEER_KEYS.p2p)), list => { store.setMeta(PEER_KEYS.p2p, JSON.stringify(list)) }, now)
  }
}
