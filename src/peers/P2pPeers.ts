/**
 * The P2P peers: every peer of native sync this node knows — the ones it dials always
 * (`config`: p2p.manualPeers, discovery.manualPeers; `api`: added through the API or `engram
 * sync pair`) and the ones discovery found (`static`, `mdns`; sources.ts) — with its addresses,
 * when it was last seen and its last error. One section of the peer registry (PeerRegistry.ts),
 * kept in the store's local metadata (never replicated), so a restarted node dials the peers it
 * knew at once, before mDNS or the static fallback have found anyone.
 *
 * An entry is keyed by the address that is dialled; a node seen at several addresses has several
 * entries with the same node id. "Seen" means a session with the peer opened (either side
 * dialled), or, for mDNS peers, that the peer announced itself. Errors are those of dials and of
 * sessions that ended with one (e.g. `auth failed`: another seed).
 *
 * Bounds: at most MAX_DIALLED_ALWAYS configured and API peers (adding one more is refused), at
 * most MAX_ENTRIES entries in all (beyond, the discovered peer seen least recently goes).
 */
import { CONFLICT, NOT_FOUND, TOO_MANY } from '../core/errors.ts'
import type { NodeId } from '../core/ids.ts'
import { MAX_ADDR_LENGTH, validatePeerAddr } from './addresses.ts'
import { dialledAlways, isPeerSource, stronger, type PeerSource } from './sources.ts'

export interface P2pPeer {
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

/** Most configured and API peers together. */
export const MAX_DIALLED_ALWAYS = 256
/** Most entries in all. */
export const MAX_ENTRIES = 512
/** Most addresses kept for one entry. */
const MAX_ADDRS = 16
const MAX_ERROR_LENGTH = 300

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/** A stored entry, or undefined when it is not one; `source` reads a stored source (legacy.ts reads older ones). */
export function readP2pPeer (x: unknown, source: (s: unknown) => PeerSource | undefined = s => isPeerSource(s) ? s : undefined): P2pPeer | undefined {
  if (typeof x !== 'object' || x === null) return undefined
  const e = x as Record<string, unknown>
  const num = (v: unknown): number | null => typeof v === 'number' && Number.isFinite(v) ? v : null
  if (typeof e.addr !== 'string' || e.addr === '' || e.addr.length > MAX_ADDR_LENGTH) return undefined
  const src = source(e.source)
  if (src === undefined) return undefined
  const addrs = Array.isArray(e.addrs) ? e.addrs.filter((a): a is string => typeof a === 'string' && a.length <= MAX_ADDR_LENGTH).slice(0, MAX_ADDRS) : []
  return {
    addr: e.addr,
    source: src,
    nodeId: typeof e.nodeId === 'string' && e.nodeId !== '' ? e.nodeId as NodeId : null,
    addrs: addrs.includes(e.addr) ? addrs : [e.addr, ...addrs],
    addedAt: num(e.addedAt) ?? 0,
    lastSeen: num(e.lastSeen),
    lastError: typeof e.lastError === 'string' ? e.lastError.slice(0, MAX_ERROR_LENGTH) : null,
    lastErrorAt: num(e.lastErrorAt),
    refused: e.refused === true
  }
}

/** The entries of a stored list that are whole, at most MAX_ENTRIES, each address once. */
export function readP2pPeers (list: unknown): P2pPeer[] {
  if (!Array.isArray(list)) return []
  const out = new Map<string, P2pPeer>()
  for (const x of list.slice(0, MAX_ENTRIES)) {
    const e = readP2pPeer(x)
    if (e !== undefined && !out.has(e.addr)) out.set(e.addr, e)
  }
  return [...out.values()]
}

const copy = (e: P2pPeer): P2pPeer => ({ ...e, addrs: [...e.addrs] })

export class P2pPeers {
  private readonly persist: (peers: readonly P2pPeer[]) => void
  private readonly now: () => number
  private readonly entries = new Map<string, Mutable<P2pPeer>>()
  /** The configured addresses, in the order of the configuration (configure()). */
  private configured: readonly string[] = []

  /** Over the stored entries; `persist` keeps the list (the registry's). */
  constructor (stored: readonly P2pPeer[], persist: (peers: readonly P2pPeer[]) => void, now: () => number = Date.now) {
    this.persist = persist
    this.now = now
    for (const e of stored) this.entries.set(e.addr, { ...e, addrs: [...e.addrs] })
  }

  list (): P2pPeer[] {
    return [...this.entries.values()].map(copy)
  }

  get (addr: string): P2pPeer | undefined {
    const e = this.entries.get(addr)
    return e === undefined ? undefined : copy(e)
  }

  /** Entries of a node, by its id. */
  ofNode (nodeId: string): P2pPeer[] {
    return this.list().filter(e => e.nodeId === nodeId)
  }

  /** The peers native sync dials always: the configured ones in the configuration's order, then the API's, oldest first. */
  dialledAlways (): P2pPeer[] {
    const order = (e: P2pPeer): number => { const i = this.configured.indexOf(e.addr); return i < 0 ? this.configured.length : i }
    const all = this.list().filter(e => dialledAlways(e.source))
    return [
      ...all.filter(e => e.source === 'config').sort((a, b) => order(a) - order(b)),
      ...all.filter(e => e.source === 'api').sort((a, b) => a.addedAt - b.addedAt)
    ]
  }

  /** Whether native sync dials `addr` always (a configured or API peer). */
  isDialledAlways (addr: string): boolean {
    const e = this.entries.get(addr)
    return e !== undefined && dialledAlways(e.source)
  }

  /**
   * The configured peers of this run (p2p.manualPeers and discovery.manualPeers): each is listed
   * as `config`; a peer the configuration listed before and lists no more is forgotten.
   */
  configure (addrs: readonly string[]): void {
    const wanted = [...new Set(addrs.map(a => a.trim()).filter(a => a !== ''))]
    this.configured = wanted
    for (const e of [...this.entries.values()]) {
      if (e.source === 'config' && !wanted.includes(e.addr)) this.entries.delete(e.addr)
    }
    for (const addr of wanted) this.record(addr, 'config')
    this.trim()
    this.save(true)
  }

  /**
   * Adds a peer through the API (idempotent: a configured or API peer is answered as it is).
   * A peer discovery found becomes an API peer, dialled always. INVALID_INPUT naming `addr` for an
   * address it cannot use, TOO_MANY beyond MAX_DIALLED_ALWAYS.
   */
  add (input: unknown): { peer: P2pPeer, created: boolean } {
    const addr = validatePeerAddr(input)
    const existing = this.entries.get(addr)
    if (existing !== undefined && dialledAlways(existing.source)) return { peer: copy(existing), created: false }
    if (this.dialledAlways().length >= MAX_DIALLED_ALWAYS) {
      throw TOO_MANY(`at most ${MAX_DIALLED_ALWAYS} P2P peers; remove one first`, MAX_DIALLED_ALWAYS)
    }
    const e = this.record(addr, 'api')
    e.addedAt = this.now()
    this.trim()
    this.save(true)
    return { peer: copy(e), created: true }
  }

  /** Removes a peer added through the API. A configured one can only be removed from the configuration. */
  remove (addr: string): P2pPeer {
    const e = this.entries.get(addr)
    if (e?.source === 'config') {
      throw CONFLICT(`P2P peer ${addr} comes from the configuration (p2p.manualPeers or discovery.manualPeers); remove it there and restart`, { addr })
    }
    if (e?.source !== 'api') throw NOT_FOUND('P2P peer', addr)
    this.entries.delete(addr)
    this.save(true)
    return copy(e)
  }

  /**
   * Records a peer discovery proposes (or updates its node id and addresses). A peer known from
   * several sources keeps the strongest (sources.ts). A peer proposed again is no longer `refused`.
   */
  put (addr: string, source: PeerSource, info: { nodeId?: NodeId, addrs?: readonly string[], seen?: boolean } = {}): P2pPeer {
    const e = this.record(addr, source)
    if (info.nodeId !== undefined) e.nodeId = info.nodeId
    if (info.addrs !== undefined) e.addrs = [addr, ...info.addrs.filter(a => a !== addr)].slice(0, MAX_ADDRS)
    if (info.seen === true) e.lastSeen = this.now()
    e.refused = false
    this.trim()
    this.save()
    return copy(e)
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

  /** Forgets a peer discovery found (a configured or API peer stays: the configuration or the API removes it). */
  forget (addr: string): boolean {
    const e = this.entries.get(addr)
    if (e === undefined || dialledAlways(e.source)) return false
    this.entries.delete(addr)
    this.save()
    return true
  }

  /** The entry of `addr`, created with `source` or raised to it when that is stronger. */
  private record (addr: string, source: PeerSource): Mutable<P2pPeer> {
    let e = this.entries.get(addr)
    if (e === undefined) {
      e = { addr, source, nodeId: null, addrs: [addr], addedAt: this.now(), lastSeen: null, lastError: null, lastErrorAt: null, refused: false }
      this.entries.set(addr, e)
    } else if (stronger(source, e.source)) {
      e.source = source
    }
    return e
  }

  private trim (): void {
    if (this.entries.size <= MAX_ENTRIES) return
    // the discovered peer seen least recently goes (configured and API peers only when nothing else is left)
    const order = [...this.entries.values()].sort((a, b) =>
      Number(dialledAlways(a.source)) - Number(dialledAlways(b.source)) ||
      (a.lastSeen ?? a.addedAt) - (b.lastSeen ?? b.addedAt))
    for (const e of order.slice(0, this.entries.size - MAX_ENTRIES)) this.entries.delete(e.addr)
  }

  /**
   * Keeps the list. What the configuration or the API changed must be kept (a failure reaches the
   * caller); what a dial or an announcement observed is kept if it can be (the store may be
   * closing at shutdown: the list in memory is what was current).
   */
  private save (must = false): void {
    try {
      this.persist([...this.entries.values()])
    } catch (e) {
      if (must) throw e
    }
  }
}
