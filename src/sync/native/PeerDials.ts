/**
 * Which peers native sync dials: the configured and API peers of the peer registry
 * (peers/P2pPeers.ts) and the peers discovery proposes (by address, with where they came from and
 * the node expected there), each dialled and redialled with backoff by the Redialer (Redialer.ts)
 * while the node runs. Adding an API peer makes a proposed peer at that address one dialled
 * always; removing one stops its dial loop (the caller closes its sessions).
 *
 * Used by NativeSync.ts, which owns the Redialer and the sessions; P2pStatus.ts lists `proposed`.
 */
import { NOT_FOUND } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import type { P2pPeer, P2pPeers } from '../../peers/P2pPeers.ts'
import type { ProposedSource } from '../../peers/sources.ts'
import type { PeerDialState } from './NativeSyncOptions.ts'
import type { Redialer } from './Redialer.ts'

export class PeerDials {
  /** Peers proposed by discovery (mDNS, the static list, the peer book), by address. */
  readonly proposed = new Map<string, { source: ProposedSource, expectedNode?: NodeId }>()

  private readonly peers: P2pPeers
  private readonly redialer: Redialer
  /** Whether the node runs: dials start at once then, else at `startAll`. */
  private readonly started: () => boolean

  constructor (peers: P2pPeers, redialer: Redialer, started: () => boolean) {
    this.peers = peers
    this.redialer = redialer
    this.started = started
  }

  /** The node discovery said is at `addr`, if any (a dial checks it). */
  expectedNode (addr: string): NodeId | undefined {
    return this.proposed.get(addr)?.expectedNode
  }

  /** Starts dialing every configured, API and proposed peer (at the node's start); the peers dialled always. */
  startAll (): readonly P2pPeer[] {
    const always = this.peers.dialledAlways()
    for (const p of always) this.redialer.start(p.addr)
    for (const addr of this.proposed.keys()) this.redialer.start(addr)
    return always
  }

  /** Adds an API peer (kept in the registry) and starts dialing it. */
  add (addr: unknown): { peer: P2pPeer, created: boolean } {
    const { peer, created } = this.peers.add(addr)
    // a peer discovery proposed is now dialled always (the same dial loop goes on), listed once
    this.proposed.delete(peer.addr)
    if (this.started()) this.redialer.start(peer.addr)
    return { peer, created }
  }

  /** Where dialing a manual or proposed peer stands; `isConnected`: whether a session with a node is open. */
  dialState (addr: string, isConnected: (node: NodeId) => boolean): PeerDialState | undefined {
    const st = this.redialer.state(addr)
    if (st === undefined) return undefined
    return {
      open: st.nodeId !== undefined && isConnected(st.nodeId),
      failures: st.failures,
      ...(st.nodeId !== undefined ? { nodeId: st.nodeId } : {}),
      ...(st.lastError !== undefined ? { lastError: st.lastError } : {})
    }
  }

  /**
   * Removes an API peer by address or node id and stops dialing it (CONFLICT for a configured
   * one): the peer removed, and the node it was dialled at, whose sessions the caller closes.
   */
  async remove (idOrAddr: string): Promise<{ readonly removed: P2pPeer, readonly node: NodeId | undefined }> {
    const match = this.peers.dialledAlways().find(p => p.addr === idOrAddr || this.redialer.state(p.addr)?.nodeId === idOrAddr)
    if (match === undefined) throw NOT_FOUND('P2P peer', idOrAddr)
    const removed = this.peers.remove(match.addr)
    const node = this.redialer.state(match.addr)?.nodeId
    await this.redialer.stop(match.addr)
    return { removed, node }
  }

  /** Keeps a session to a peer that discovery proposed: dialled and redialled with backoff. */
  connect (addr: string, opts: { readonly source: ProposedSource, readonly expectedNode?: NodeId }): void {
    if (this.proposed.has(addr) || this.peers.isDialledAlways(addr)) return
    this.proposed.set(addr, { source: opts.source, ...(opts.expectedNode !== undefined ? { expectedNode: opts.expectedNode } : {}) })
    if (this.started()) this.redialer.start(addr)
  }

  /** Stops dialing a proposed peer; an open session stays until it ends. */
  async disconnect (addr: string): Promise<void> {
    if (!this.proposed.delete(addr)) return
    await this.redialer.stop(addr)
  }

  /** Whether `node` is a configured or API peer this node has reached (SessionGuard lets it in whatever the counts). */
  isManualPeer (node: NodeId): boolean {
    return this.peers.dialledAlways().some(p => this.redialer.state(p.addr)?.nodeId === node)
  }
}
