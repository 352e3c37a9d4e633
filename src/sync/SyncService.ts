/**
 * The sync subsystem as the rest of the node sees it: the peer book, the polled scheduler, the
 * delta server with its authentication, conflicts, mode selection and auto-sync.
 *
 * Mode selection (docs/SYNC.md): the store unhealthy → no sync, and status says why. Otherwise
 * each peer is probed at GET /api/v1/p2p/status on every run; a peer that reports P2P enabled
 * with a node id, while this node has P2P enabled and `sync.nativeP2pPreferred`, is synced
 * natively once native sync runs — until then every peer is polled.
 */
import { EngramError, NOT_FOUND, isEngramError } from '../core/errors.ts'
import { asNodeId, type NodeId } from '../core/ids.ts'
import type { Engine } from '../engine/Engine.ts'
import type { Logger } from '../util/log.ts'
import { REPLAY_WINDOW_MS, ReplayGuard, deriveRestKey, signResponse, verifyRequest } from './auth.ts'
import { ConflictLog, ConflictPass, type ConflictEntry, type ConflictStrategy } from './conflicts.ts'
import { DELTA_PATH } from './DeltaClient.ts'
import { DeltaServer } from './DeltaServer.ts'
import { parseDeltaRequest } from './messages.ts'
import { PeerBook, type PeerEntry } from './PeerBook.ts'
import { PolledSync, type PeerRunResult } from './PolledSync.ts'
import type { PullProgress } from './DeltaClient.ts'
import { randomBytes } from 'node:crypto'

export interface SyncSettings {
  readonly intervalSeconds: number
  readonly maxTriplesPerSync: number
  readonly syncTimeoutMs: number
  readonly conflictStrategy: ConflictStrategy
  readonly singleValuedPredicates: readonly string[]
  readonly autoSync: boolean
  readonly nativeP2pPreferred: boolean
  readonly p2pEnabled: boolean
  /** First retry delay for an unreachable peer. */
  readonly retryBaseMs: number
}

export interface SyncServiceOptions {
  readonly engine: Engine
  /** sync.passphrase, else p2p.seed; undefined: sync disabled (and said so). */
  readonly secret: string | undefined
  readonly settings: () => SyncSettings
  readonly log: Logger
  /** Debounce of auto-sync triggers (agent end, config change). */
  readonly autoSyncDebounceMs?: number
  readonly random?: () => number
}

export type SyncMode = 'polled' | 'native' | 'none'

export interface SignedReply {
  readonly status: number
  readonly body: string
  readonly headers: Record<string, string>
}

const FEED_ID_KEY = 'feed.id'

export class SyncService {
  readonly peers: PeerBook
  readonly conflictLog: ConflictLog
  private readonly opts: SyncServiceOptions
  private readonly key: Uint8Array | undefined
  private readonly guard = new ReplayGuard(REPLAY_WINDOW_MS)
  private readonly server: DeltaServer
  private readonly polled: PolledSync
  private readonly feedId: string
  private autoTimer: NodeJS.Timeout | undefined
  private autoRun: Promise<unknown> | undefined

  constructor (opts: SyncServiceOptions) {
    this.opts = opts
    const store = opts.engine.store
    let feedId = store.getMeta(FEED_ID_KEY)
    if (feedId === undefined) { feedId = randomBytes(16).toString('hex'); store.setMeta(FEED_ID_KEY, feedId) }
    this.feedId = feedId
    this.key = opts.secret !== undefined ? deriveRestKey(opts.secret) : undefined
    this.peers = new PeerBook(store)
    this.conflictLog = new ConflictLog(store)
    this.server = new DeltaServer({
      engine: opts.engine,
      feedId,
      maxPage: () => opts.settings().maxTriplesPerSync,
      pullNamespaces: node => this.peers.byNode(node)?.namespaces
    })
    this.polled = new PolledSync({
      engine: opts.engine,
      peers: this.peers,
      key: this.key,
      log: opts.log,
      random: opts.random,
      settings: () => {
        const s = opts.settings()
        return { intervalMs: s.intervalSeconds * 1000, pageSize: s.maxTriplesPerSync, timeoutMs: s.syncTimeoutMs, retryBaseMs: s.retryBaseMs }
      },
      conflicts: peer => {
        const s = opts.settings()
        return new ConflictPass(s.conflictStrategy, new Set(s.singleValuedPredicates), peer, () => opts.engine.clock.now())
      },
      conflictLog: this.conflictLog
    })
  }

  start (): void {
    if (this.key === undefined) {
      this.opts.log.info('sync is off: no shared secret; set sync.passphrase (or p2p.seed) to the same value on every node to sync')
    }
    this.polled.start()
  }

  async stop (): Promise<void> {
    if (this.autoTimer !== undefined) clearTimeout(this.autoTimer)
    await this.polled.stop()
    await this.autoRun?.catch(() => undefined)
  }

  mode (): { mode: SyncMode, reason: string } {
    const health = this.opts.engine.store.health()
    if (!health.ok) return { mode: 'none', reason: `store unhealthy: ${health.detail}` }
    if (this.key === undefined) return { mode: 'none', reason: 'no shared secret (sync.passphrase or p2p.seed)' }
    return { mode: 'polled', reason: 'REST delta sync on an interval' }
  }

  status (): Record<string, unknown> {
    const s = this.opts.settings()
    const { mode, reason } = this.mode()
    return {
      mode,
      reason,
      nodeId: this.opts.engine.node,
      feedId: this.feedId,
      intervalSeconds: s.intervalSeconds,
      conflictStrategy: s.conflictStrategy,
      autoSync: s.autoSync,
      peers: this.peers.list().map(p => this.peerView(p)),
      conflicts: this.conflictLog.list().length
    }
  }

  peerView (p: PeerEntry): Record<string, unknown> {
    const s = this.opts.settings()
    const native = s.p2pEnabled && s.nativeP2pPreferred && p.p2p?.enabled === true
    return { ...p, mode: native ? 'native-capable (polled until native sync runs)' : 'polled', cursor: p.nodeId !== undefined ? this.opts.engine.store.getCursor(p.nodeId) : 0 }
  }

  pair (input: { name: unknown, url: unknown, namespaces?: unknown }): PeerEntry {
    const p = this.peers.add(input)
    this.polled.peersChanged()
    return p
  }

  unpair (name: string): PeerEntry {
    const p = this.peers.remove(name)
    this.polled.peersChanged()
    return p
  }

  async syncNow (peer?: string, onProgress?: (peer: string, p: PullProgress) => void): Promise<PeerRunResult[]> {
    if (peer !== undefined && this.peers.get(peer) === undefined) throw NOT_FOUND('peer', peer)
    const { mode, reason } = this.mode()
    if (mode === 'none') throw new EngramError('UNAVAILABLE', `sync is off: ${reason}`)
    return await this.polled.syncNow(peer, onProgress)
  }

  /** `engram hook agent-end` / library agentEnd(), and config changes: a debounced sync when sync.autoSync. */
  trigger (reason: string): boolean {
    if (!this.opts.settings().autoSync || this.mode().mode !== 'polled') return false
    if (this.autoTimer !== undefined) clearTimeout(this.autoTimer)
    this.autoTimer = setTimeout(() => {
      this.autoTimer = undefined
      this.opts.log.debug('auto-sync', { reason })
      this.autoRun = this.polled.syncNow().catch(e => this.opts.log.warn('auto-sync failed', { error: e }))
    }, this.opts.autoSyncDebounceMs ?? 1000)
    this.autoTimer.unref()
    return true
  }

  listConflicts (): ConflictEntry[] {
    return this.conflictLog.list()
  }

  /**
   * Resolves a listed conflict by writing the chosen value as a new local write (which then
   * replicates like any other), and removes it from the list.
   */
  resolveConflict (id: string, choice: 'kept' | 'other'): ConflictEntry {
    const c = this.conflictLog.list().find(e => e.id === id)
    if (c === undefined) throw NOT_FOUND('conflict', id)
    const chosen = (choice === 'kept' ? c.kept : c.other) as Record<string, unknown>
    const engine = this.opts.engine
    if (c.kind === 'note') {
      engine.setNote(chosen.key, chosen.value)
    } else {
      const loser = (choice === 'kept' ? c.other : c.kept) as { id: string }
      const current = engine.store.getTriple(loser.id as never)
      if (current !== undefined && !current.deleted) engine.deleteTriple(loser.id)
      engine.addTriples([{ subject: chosen.subject, predicate: chosen.predicate, object: chosen.object }])
    }
    this.conflictLog.remove(id)
    return c
  }

  /**
   * Handles POST /api/v1/sync/delta: authenticates the raw request, answers one page, signs the
   * answer. Failures are answered (and signed when the caller proved the secret) with
   * {error, code}; an unauthenticated caller learns nothing and changes nothing.
   *
   * An unsigned request from this machine (loopback) is answered unsigned: it is read-only and
   * reveals nothing the loopback API does not, and it lets local tools in the existing clients'
   * shape work unchanged. From any other address a request must be signed.
   */
  handleDelta (headers: Record<string, string | string[] | undefined>, rawBody: Uint8Array, fromLoopback: boolean): SignedReply {
    if (fromLoopback && headers['x-engram-sig'] === undefined && headers['x-engram-node'] === undefined) return this.serveUnsigned(rawBody)
    if (this.key === undefined) {
      return { status: 401, body: JSON.stringify({ error: 'this node has no sync secret configured: set sync.passphrase or p2p.seed', code: 'UNAUTHORIZED' }), headers: {} }
    }
    let verified
    try {
      verified = verifyRequest(this.key, this.guard, headers, 'POST', DELTA_PATH, rawBody)
    } catch (e) {
      const message = isEngramError(e) ? e.message : 'unauthorized'
      this.opts.log.warn(`refused a sync request: ${message}`, { node: String(headers['x-engram-node'] ?? '?') })
      return { status: 401, body: JSON.stringify({ error: message, code: 'UNAUTHORIZED' }), headers: {} }
    }
    const reply = (status: number, payload: unknown): SignedReply => {
      const body = JSON.stringify(payload)
      return { status, body, headers: { 'x-engram-node': this.opts.engine.node, 'x-engram-sig': signResponse(this.key!, this.opts.engine.node, status, verified.nonce, body) } }
    }
    try {
      const { mode, reason } = this.mode()
      if (mode === 'none') return reply(503, { error: `sync is off on this node: ${reason}`, code: 'UNAVAILABLE' })
      const req = parseDeltaRequest(JSON.parse(Buffer.from(rawBody).toString('utf8')))
      if (req.since !== undefined && req.cursor === undefined) return reply(200, this.server.serveLegacy(req))
      return reply(200, this.server.serve(req, asNodeId(verified.node) as NodeId))
    } catch (e) {
      if (e instanceof SyntaxError) return reply(400, { error: 'body is not valid JSON', code: 'INVALID_INPUT' })
      if (isEngramError(e)) return reply(e.code === 'INVALID_INPUT' ? 400 : 500, { error: e.message, code: e.code, details: e.details ?? {} })
      this.opts.log.error('delta request failed', { error: e })
      return reply(500, { error: 'internal error', code: 'INTERNAL' })
    }
  }

  private serveUnsigned (rawBody: Uint8Array): SignedReply {
    const reply = (status: number, payload: unknown): SignedReply => ({ status, body: JSON.stringify(payload), headers: {} })
    try {
      const req = parseDeltaRequest(JSON.parse(Buffer.from(rawBody).toString('utf8')))
      if (req.since !== undefined && req.cursor === undefined) return reply(200, this.server.serveLegacy(req))
      return reply(200, this.server.serve(req, asNodeId('local') as NodeId))
    } catch (e) {
      if (e instanceof SyntaxError) return reply(400, { error: 'body is not valid JSON', code: 'INVALID_INPUT' })
      if (isEngramError(e)) return reply(e.code === 'INVALID_INPUT' ? 400 : 500, { error: e.message, code: e.code, details: e.details ?? {} })
      return reply(500, { error: 'internal error', code: 'INTERNAL' })
    }
  }
}
