/**
 * The P2P peers this node dials by itself: those of the configuration (`p2p.manualPeers`,
 * `discovery.manualPeers`) and those added through the API (`POST /api/v1/p2p/peers`,
 * `engram sync pair` in native mode). Peers added through the API are kept in the store's local
 * metadata (never replicated), so they survive restarts; configured ones come from the
 * configuration on every start and are removed there.
 */
import { EngramError, INVALID_INPUT, NOT_FOUND, TOO_MANY, CONFLICT } from '../../core/errors.ts'
import type { Store } from '../../store/Store.ts'
import { parseHostPort } from '../../transport/util.ts'

export interface ManualPeer {
  /** As given: "host:port", "[v6]:port", a host name with a port, or a multiaddr. */
  readonly addr: string
  readonly source: 'config' | 'api'
  readonly addedAt?: string
}

const META_KEY = 'p2p.peers'
export const MAX_MANUAL_PEERS = 256
const MULTIADDR = /^\/[\x21-\x7e]{1,1023}$/
const MEMORY_ADDR = /^mem:[A-Za-z0-9._-]{1,128}$/

/**
 * Checks a peer address: `host:port` (IPv4 or a host name), `[v6]:port`, or a multiaddr
 * (`/ip4/…/udp/…/quic-v1`). Throws INVALID_INPUT naming the field `addr`.
 */
export function validatePeerAddr (addr: unknown): string {
  if (typeof addr !== 'string' || addr.trim() === '') {
    throw INVALID_INPUT('addr', 'must be a peer address such as "10.0.0.5:19091", "laptop.local:19091", "[fe80::1]:19091" or a multiaddr')
  }
  const a = addr.trim()
  if (MULTIADDR.test(a) || MEMORY_ADDR.test(a)) return a
  try {
    parseHostPort(a)
  } catch (e) {
    const why = e instanceof EngramError ? e.message.replace(/^address: /, '') : String(e)
    throw INVALID_INPUT('addr', why)
  }
  return a
}

export class ManualPeers {
  private readonly store: Store
  private readonly configured: readonly string[]
  private added: ManualPeer[]

  constructor (store: Store, configured: readonly string[]) {
    this.store = store
    this.configured = [...new Set(configured.map(a => a.trim()).filter(a => a !== ''))]
    this.added = []
    const raw = store.getMeta(META_KEY)
    if (raw !== undefined) {
      try {
        const list = JSON.parse(raw) as unknown
        if (Array.isArray(list)) {
          for (const p of list as Array<{ addr?: unknown, addedAt?: unknown }>) {
            if (typeof p?.addr === 'string' && !this.configured.includes(p.addr)) {
              this.added.push({ addr: p.addr, source: 'api', ...(typeof p.addedAt === 'string' ? { addedAt: p.addedAt } : {}) })
            }
          }
        }
      } catch {
        // unreadable metadata: start from the configured peers alone (and say nothing worse)
      }
    }
  }

  list (): ManualPeer[] {
    return [...this.configured.map(addr => ({ addr, source: 'config' as const })), ...this.added]
  }

  has (addr: string): boolean {
    return this.configured.includes(addr) || this.added.some(p => p.addr === addr)
  }

  /** Adds a peer (idempotent: an address already listed is returned as it is). */
  add (input: unknown, now = new Date()): { peer: ManualPeer, created: boolean } {
    const addr = validatePeerAddr(input)
    const existing = this.list().find(p => p.addr === addr)
    if (existing !== undefined) return { peer: existing, created: false }
    if (this.configured.length + this.added.length >= MAX_MANUAL_PEERS) {
      throw TOO_MANY(`at most ${MAX_MANUAL_PEERS} P2P peers; remove one first`, MAX_MANUAL_PEERS)
    }
    const peer: ManualPeer = { addr, source: 'api', addedAt: now.toISOString() }
    this.added.push(peer)
    this.save()
    return { peer, created: true }
  }

  /** Removes a peer added through the API. A configured one can only be removed from the configuration. */
  remove (addr: string): ManualPeer {
    if (this.configured.includes(addr)) {
      throw CONFLICT(`P2P peer ${addr} comes from the configuration (p2p.manualPeers or discovery.manualPeers); remove it there and restart`, { addr })
    }
    const i = this.added.findIndex(p => p.addr === addr)
    if (i < 0) throw NOT_FOUND('P2P peer', addr)
    const [peer] = this.added.splice(i, 1)
    this.save()
    return peer!
  }

  private save (): void {
    this.store.setMeta(META_KEY, JSON.stringify(this.added.map(p => ({ addr: p.addr, addedAt: p.addedAt }))))
  }
}
