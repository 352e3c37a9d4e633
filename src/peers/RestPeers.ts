/**
 * The paired REST peers: every node this one pulls from by polled sync, with its status, last
 * result and counters — one section of the peer registry (PeerRegistry.ts), which keeps it in
 * the store's local metadata (never in a replicated namespace). A REST peer is always paired
 * through the API (`engram sync pair NAME URL`, POST /api/v1/sync/peers), under a name.
 *
 * Status: `active` (pulled on schedule), `unreachable` (the last attempt could not reach it;
 * retried with backoff, forever), `paused` (kept, not pulled), `removed` (unpaired: kept in the
 * list with its counters so status shows it, never pulled; pairing the name again revives it).
 * A peer is never dropped silently: only `remove` (engram sync unpair) stops its sync.
 */
import { INVALID_INPUT, NOT_FOUND, TOO_MANY, CONFLICT } from '../core/errors.ts'
import type { NodeId } from '../core/ids.ts'
import { validatePeerUrl } from './addresses.ts'

export type RestPeerStatus = 'active' | 'paused' | 'unreachable' | 'removed'

export interface RestPeerResult {
  readonly ok: boolean
  readonly at: string
  readonly received: number
  readonly applied: number
  readonly conflicts: number
  readonly durationMs: number
  readonly error?: string
  readonly code?: string
}

/** A paired REST peer as the registry keeps it and GET /api/v1/sync/status shows it. */
export interface RestPeer {
  readonly name: string
  readonly url: string
  readonly namespaces?: readonly string[]
  readonly nodeId?: NodeId
  readonly feedId?: string
  readonly status: RestPeerStatus
  readonly addedAt: string
  /** When it was unpaired (status removed). */
  readonly removedAt?: string
  readonly lastSyncAt?: string
  readonly lastResult?: RestPeerResult
  /** Consecutive failures (0 after a success); drives the retry backoff. */
  readonly failures: number
  readonly counters: { readonly syncs: number, readonly failures: number, readonly received: number, readonly applied: number, readonly conflicts: number }
  /** What the last probe of GET /api/v1/p2p/status said. */
  readonly p2p?: { readonly enabled: boolean, readonly nodeId?: string, readonly probedAt: string }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
export const MAX_PEERS = 256
/** Removed peers kept for status at most (the oldest removals are forgotten first). */
const MAX_REMOVED = 64

const STATUSES: readonly RestPeerStatus[] = ['active', 'paused', 'unreachable', 'removed']

/** The peers of a stored list that are whole (a name, a URL, a status); the rest are dropped. */
export function readRestPeers (list: unknown): RestPeer[] {
  if (!Array.isArray(list)) return []
  return list.filter((p): p is RestPeer => typeof p === 'object' && p !== null &&
    typeof p.name === 'string' && NAME.test(p.name) && typeof p.url === 'string' &&
    STATUSES.includes(p.status) && typeof p.counters === 'object' && p.counters !== null)
}

export class RestPeers {
  private readonly persist: (peers: readonly RestPeer[]) => void
  private readonly now: () => number
  private readonly peers = new Map<string, RestPeer>()

  /** Over the stored peers; `persist` keeps the list (the registry's). */
  constructor (stored: readonly RestPeer[], persist: (peers: readonly RestPeer[]) => void, now: () => number = Date.now) {
    this.persist = persist
    this.now = now
    for (const p of stored) this.peers.set(p.name, p)
  }

  /** Every peer, removed ones included, by name. */
  list (): RestPeer[] {
    return [...this.peers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** The peers sync runs with (not removed). */
  current (): RestPeer[] {
    return this.list().filter(p => p.status !== 'removed')
  }

  get (name: string): RestPeer | undefined {
    return this.peers.get(name)
  }

  /** The current (not removed) peer that is node `nodeId`. */
  byNode (nodeId: string): RestPeer | undefined {
    for (const p of this.peers.values()) if (p.nodeId === nodeId && p.status !== 'removed') return p
    return undefined
  }

  add (input: { name: unknown, url: unknown, namespaces?: unknown }): RestPeer {
    if (typeof input.name !== 'string' || !NAME.test(input.name)) {
      throw INVALID_INPUT('name', 'must be 1-64 of letters, digits, ".", "_", "-", starting with a letter or digit')
    }
    const url = validatePeerUrl(input.url)
    let namespaces: string[] | undefined
    if (input.namespaces !== undefined) {
      if (!Array.isArray(input.namespaces) || input.namespaces.length > 1000 || !input.namespaces.every(n => typeof n === 'string' && !n.includes(':') && n.length <= 256)) {
        throw INVALID_INPUT('namespaces', 'must be a list of at most 1000 namespace names (no ":", at most 256 characters)')
      }
      namespaces = input.namespaces.length > 0 ? input.namespaces as string[] : undefined
    }
    const existing = this.peers.get(input.name)
    if ((existing === undefined || existing.status === 'removed') && this.current().length >= MAX_PEERS) {
      throw TOO_MANY(`at most ${MAX_PEERS} polled peers; unpair one first`, MAX_PEERS)
    }
    for (const p of this.current()) {
      if (p.url === url && p.name !== input.name) throw CONFLICT(`${url} is already paired as "${p.name}"`, { name: p.name })
    }
    const at = new Date(this.now()).toISOString()
    let entry: RestPeer
    if (existing === undefined) {
      entry = { name: input.name, url, ...(namespaces !== undefined ? { namespaces } : {}), status: 'active', addedAt: at, failures: 0, counters: { syncs: 0, failures: 0, received: 0, applied: 0, conflicts: 0 } }
    } else {
      const { removedAt: _gone, namespaces: _old, ...rest } = existing
      entry = {
        ...rest,
        url,
        ...(namespaces !== undefined ? { namespaces } : {}),
        status: existing.status === 'paused' ? 'paused' : 'active',
        failures: 0,
        ...(existing.status === 'removed' ? { addedAt: at } : {}),
        // Another address may be another node: learn its identity again.
        ...(existing.url !== url ? { nodeId: undefined, feedId: undefined } : {})
      }
    }
    this.peers.set(entry.name, entry)
    this.save()
    return entry
  }

  /** Unpairs a peer: it stays listed as removed and is never pulled again (until paired again). */
  remove (name: string): RestPeer {
    const p = this.peers.get(name)
    if (p === undefined || p.status === 'removed') throw NOT_FOUND('peer', name)
    const removed: RestPeer = { ...p, status: 'removed', removedAt: new Date(this.now()).toISOString() }
    this.peers.set(name, removed)
    const gone = this.list().filter(x => x.status === 'removed').sort((a, b) => (a.removedAt ?? '').localeCompare(b.removedAt ?? ''))
    for (const x of gone.slice(0, Math.max(0, gone.length - MAX_REMOVED))) this.peers.delete(x.name)
    this.save()
    return removed
  }

  /** Pauses or resumes a current peer. */
  setPaused (name: string, paused: boolean): RestPeer {
    const p = this.peers.get(name)
    if (p === undefined || p.status === 'removed') throw NOT_FOUND('peer', name)
    const next: RestPeer = { ...p, status: paused ? 'paused' : 'active', failures: paused ? p.failures : 0 }
    this.peers.set(name, next)
    this.save()
    return next
  }

  update (name: string, patch: Partial<RestPeer>): RestPeer | undefined {
    const p = this.peers.get(name)
    if (p === undefined) return undefined
    // Unpairing wins over whatever a run that was under way reports.
    const next = { ...p, ...patch, name: p.name, ...(p.status === 'removed' ? { status: p.status } : {}) }
    this.peers.set(name, next)
    this.save()
    return next
  }

  private save (): void {
    this.persist(this.list())
  }
}
