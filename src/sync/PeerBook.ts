/**
 * The polled-sync peer book: every REST peer this node pulls from, kept in the store's local
 * metadata (never in a replicated namespace), with its status, last result and counters.
 * A peer is never dropped silently: only `remove` (engram sync unpair) takes one out.
 */
import { INVALID_INPUT, NOT_FOUND, EngramError } from '../core/errors.ts'
import type { NodeId } from '../core/ids.ts'
import type { Store } from '../store/Store.ts'

export type PeerStatus = 'active' | 'paused' | 'unreachable'

export interface PeerResult {
  readonly ok: boolean
  readonly at: string
  readonly received: number
  readonly applied: number
  readonly conflicts: number
  readonly durationMs: number
  readonly error?: string
  readonly code?: string
}

export interface PeerEntry {
  readonly name: string
  readonly url: string
  readonly namespaces?: readonly string[]
  readonly nodeId?: NodeId
  readonly feedId?: string
  readonly status: PeerStatus
  readonly addedAt: string
  readonly lastSyncAt?: string
  readonly lastResult?: PeerResult
  /** Consecutive failures (0 after a success); drives the retry backoff. */
  readonly failures: number
  readonly counters: { readonly syncs: number, readonly failures: number, readonly received: number, readonly applied: number, readonly conflicts: number }
  /** What the last probe of GET /api/v1/p2p/status said. */
  readonly p2p?: { readonly enabled: boolean, readonly nodeId?: string, readonly probedAt: string }
}

const META_KEY = 'sync.peers'
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
export const MAX_PEERS = 256

export function validatePeerUrl (url: unknown): string {
  if (typeof url !== 'string') throw INVALID_INPUT('url', 'must be a string like http://10.0.0.5:19090')
  let u: URL
  try { u = new URL(url) } catch { throw INVALID_INPUT('url', `is not a URL: ${url} (expected e.g. http://10.0.0.5:19090)`) }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw INVALID_INPUT('url', 'must start with http:// or https://')
  if (u.username !== '' || u.password !== '') throw INVALID_INPUT('url', 'must not carry credentials')
  return u.origin
}

export class PeerBook {
  private readonly store: Store
  private peers: Map<string, PeerEntry>

  constructor (store: Store) {
    this.store = store
    this.peers = new Map()
    const raw = store.getMeta(META_KEY)
    if (raw !== undefined) {
      for (const p of JSON.parse(raw) as PeerEntry[]) this.peers.set(p.name, p)
    }
  }

  list (): PeerEntry[] {
    return [...this.peers.values()].sort((a, b) => a.name.localeCompare(b.name))
  }

  get (name: string): PeerEntry | undefined {
    return this.peers.get(name)
  }

  byNode (nodeId: string): PeerEntry | undefined {
    for (const p of this.peers.values()) if (p.nodeId === nodeId) return p
    return undefined
  }

  add (input: { name: unknown, url: unknown, namespaces?: unknown }): PeerEntry {
    if (typeof input.name !== 'string' || !NAME.test(input.name)) {
      throw INVALID_INPUT('name', 'must be 1-64 of letters, digits, ".", "_", "-", starting with a letter or digit')
    }
    const url = validatePeerUrl(input.url)
    let namespaces: string[] | undefined
    if (input.namespaces !== undefined) {
      if (!Array.isArray(input.namespaces) || !input.namespaces.every(n => typeof n === 'string' && !n.includes(':') && n.length <= 256)) {
        throw INVALID_INPUT('namespaces', 'must be a list of namespace names (no ":")')
      }
      namespaces = input.namespaces.length > 0 ? input.namespaces as string[] : undefined
    }
    const existing = this.peers.get(input.name)
    if (existing === undefined && this.peers.size >= MAX_PEERS) {
      throw new EngramError('LIMIT_EXCEEDED', `at most ${MAX_PEERS} polled peers; unpair one first`)
    }
    for (const p of this.peers.values()) {
      if (p.url === url && p.name !== input.name) throw new EngramError('CONFLICT', `${url} is already paired as "${p.name}"`, { name: p.name })
    }
    const entry: PeerEntry = existing !== undefined
      ? { ...existing, url, namespaces, status: existing.status === 'paused' ? 'paused' : 'active', ...(existing.url !== url ? { nodeId: undefined, feedId: undefined } : {}) }
      : { name: input.name, url, namespaces, status: 'active', addedAt: new Date().toISOString(), failures: 0, counters: { syncs: 0, failures: 0, received: 0, applied: 0, conflicts: 0 } }
    this.peers.set(entry.name, entry)
    this.save()
    return entry
  }

  remove (name: string): PeerEntry {
    const p = this.peers.get(name)
    if (p === undefined) throw NOT_FOUND('peer', name)
    this.peers.delete(name)
    this.save()
    return p
  }

  update (name: string, patch: Partial<PeerEntry>): PeerEntry | undefined {
    const p = this.peers.get(name)
    if (p === undefined) return undefined
    const next = { ...p, ...patch, name: p.name }
    this.peers.set(name, next)
    this.save()
    return next
  }

  private save (): void {
    this.store.setMeta(META_KEY, JSON.stringify(this.list()))
  }
}
