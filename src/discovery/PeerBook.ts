/**
 * The peer book: every P2P peer this node knows, with where it came from, its addresses, when
 * it was last seen and its last error. It is kept in the store's local metadata (never
 * replicated) under `p2p.peerBook`, so a restarted node dials the peers it knew at once
 * (`DiscoveryService.ts`), before mDNS or the static fallback have found anyone.
 *
 * Sources: `manual` (p2p.manualPeers, discovery.manualPeers), `api` (POST /api/v1/p2p/peers,
 * `engram sync pair`), `mdns` (announced on the LAN), `static` (sync.peers /
 * ENGRAM_SYNC_PEERS, once the static fallback used them). An entry is keyed by the address that
 * is dialled; a node seen at several addresses has several entries with the same node id.
 *
 * "Seen" means a session with the peer opened (either side dialled), or, for mDNS peers, that
 * the peer announced itself. Errors are those of dials and of sessions that ended with one
 * (e.g. `auth failed`: another seed). At most `MAX_ENTRIES` entries are kept (the ones seen
 * least recently go first).
 */
import type { NodeId } from '../core/ids.ts'
import type { Store } from '../store/Store.ts'

export type PeerSource = 'manual' | 'api' | 'mdns' | 'static'
export const PEER_SOURCES: readonly PeerSource[] = ['manual', 'api', 'mdns', 'static']

export interface PeerBookEntry {
  /** The address dialled: "host:port", "[v6]:port", a host name with a port, or a multiaddr. */
  readonly addr: string
  readonly source: PeerSource
  readonly nodeId: NodeId | null
  /** Every address known for the peer (mDNS announces several), the dialled one first. */
  readonly addrs: readonly string[]
  /** When it was first recorded, ms since the epoch. */
  readonly addedAt: number
  /** When it was last seen (a session opened or was open, or an mDNS announcement), ms; null: never. */
  readonly lastSeen: number | null
  readonly lastError: string | null
  readonly lastErrorAt: number | null
  /** The peer failed the seed handshake (another seed): not dialled again until it announces itself anew. */
  readonly refused: boolean
}

/** Lower is stronger. */
const SOURCE_RANK: Readonly<Record<PeerSource, number>> = { manual: 0, api: 1, static: 2, mdns: 3 }

export const PEER_BOOK_META_KEY = 'p2p.peerBook'
export const MAX_ENTRIES = 512
const MAX_ERROR_LENGTH = 300

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

function parseEntry (x: unknown): PeerBookEntry | undefined {
  if (typeof x !== 'object' || x === null) return undefined
  const e = x as Record<string, unknown>
  const num = (v: unknown): number | null => typeof v === 'number' && Number.isFinite(v) ? v : null
  if (typeof e.addr !== 'string' || e.addr === '' || e.addr.length > 1100) return undefined
  if (typeof e.source !== 'string' || !PEER_SOURCES.includes(e.source as PeerSource)) return undefined
  const addrs = Array.isArray(e.addrs) ? e.addrs.filter((a): a is string => typeof a === 'string' && a.length <= 1100).slice(0, 16) : []
  return {
    addr: e.addr,
    source: e.source as PeerSource,
    nodeId: typeof e.nodeId === 'string' && e.nodeId !== '' ? e.nodeId as NodeId : null,
    addrs: addrs.includes(e.addr) ? addrs : [e.addr, ...addrs],
    addedAt: num(e.addedAt) ?? 0,
    lastSeen: num(e.lastSeen),
    lastError: typeof e.lastError === 'string' ? e.lastError.slice(0, MAX_ERROR_LENGTH) : null,
    lastErrorAt: num(e.lastErrorAt),
    refused: e.refused === true
  }
}

export class PeerBook {
  private readonly store: Store
  private readonly now: () => number
  private readonly entries = new Map<string, Mutable<PeerBookEntry>>()

  constructor (store: Store, now: () => number) {
    this.store = store
    this.now = now
    const raw = store.getMeta(PEER_BOOK_META_KEY)
    if (raw === undefined) return
    try {
      const list = JSON.parse(raw) as unknown
      if (!Array.isArray(list)) return
      for (const x of list.slice(0, MAX_ENTRIES)) {
        const e = parseEntry(x)
        if (e !== undefined) this.entries.set(e.addr, { ...e, addrs: [...e.addrs] })
      }
    } catch {
      // an unreadable book is started anew; the configured peers are dialled anyway
    }
  }

  list (): PeerBookEntry[] {
    return [...this.entries.values()].map(e => ({ ...e, addrs: [...e.addrs] }))
  }

  get (addr: string): PeerBookEntry | undefined {
    const e = this.entries.get(addr)
    return e === undefined ? undefined : { ...e, addrs: [...e.addrs] }
  }

  /** Entries of a node, by its id. */
  ofNode (nodeId: string): PeerBookEntry[] {
    return this.list().filter(e => e.nodeId === nodeId)
  }

  /**
   * Records a peer (or updates its node id and addresses). A peer known from several sources
   * keeps the strongest: manual, then api, then static, then mdns (an mDNS announcement of a
   * configured peer does not make it forgettable). A peer proposed again is no longer `refused`.
   */
  put (addr: string, source: PeerSource, info: { nodeId?: NodeId, addrs?: readonly string[], seen?: boolean } = {}): PeerBookEntry {
    const now = this.now()
    let e = this.entries.get(addr)
    if (e === undefined) {
      e = { addr, source, nodeId: info.nodeId ?? null, addrs: [addr], addedAt: now, lastSeen: null, lastError: null, lastErrorAt: null, refused: false }
      this.entries.set(addr, e)
      this.trim()
    }
    if (SOURCE_RANK[source] < SOURCE_RANK[e.source]) e.source = source
    if (info.nodeId !== undefined) e.nodeId = info.nodeId
    if (info.addrs !== undefined) e.addrs = [addr, ...info.addrs.filter(a => a !== addr)].slice(0, 16)
    if (info.seen === true) e.lastSeen = now
    e.refused = false
    this.save()
    return { ...e }
  }

  /** A session with the peer at `addr` opened (or it answered): seen now, no error. */
  seen (addr: string, nodeId?: NodeId): void {
    const e = this.entries.get(addr)
    if (e === undefined) return
    e.lastSeen = this.now()
    if (nodeId !== undefined) e.nodeId = nodeId
    e.lastError = null
    e.lastErrorAt = null
    e.refused = false
    this.save()
  }

  /** A session with `nodeId` is or was open (whoever dialled): every entry of that node is seen. */
  seenNode (nodeId: NodeId): void {
    let changed = false
    for (const e of this.entries.values()) {
      if (e.nodeId !== nodeId) continue
      e.lastSeen = this.now()
      e.lastError = null
      e.lastErrorAt = null
      e.refused = false
      changed = true
    }
    if (changed) this.save()
  }

  /** A dial of `addr` failed, or its session ended with an error. */
  failed (addr: string, error: string, opts: { refused?: boolean, nodeId?: NodeId } = {}): void {
    const e = this.entries.get(addr)
    if (e === undefined) return
    e.lastError = error.slice(0, MAX_ERROR_LENGTH)
    e.lastErrorAt = this.now()
    if (opts.nodeId !== undefined) e.nodeId = opts.nodeId
    if (opts.refused === true) e.refused = true
    this.save()
  }

  forget (addr: string): boolean {
    if (!this.entries.delete(addr)) return false
    this.save()
    return true
  }

  private trim (): void {
    if (this.entries.size <= MAX_ENTRIES) return
    // the entry seen least recently goes (configured and API peers only when nothing else is left)
    const order = [...this.entries.values()].sort((a, b) =>
      Number(a.source === 'manual' || a.source === 'api') - Number(b.source === 'manual' || b.source === 'api') ||
      (a.lastSeen ?? a.addedAt) - (b.lastSeen ?? b.addedAt))
    for (const e of order.slice(0, this.entries.size - MAX_ENTRIES)) this.entries.delete(e.addr)
  }

  private save (): void {
    try {
      this.store.setMeta(PEER_BOOK_META_KEY, JSON.stringify([...this.entries.values()]))
    } catch {
      // a closed store at shutdown: the book in memory is what was current
    }
  }
}
