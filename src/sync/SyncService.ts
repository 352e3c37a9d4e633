/**
 * The sync subsystem as the rest of the node sees it: the paired peers, the polled scheduler, the
 * delta server with its authentication, conflicts, mode selection and auto-sync. What it reads and
 * shows (settings, the native link, the status view) is in contract.ts; resolving a listed
 * conflict in resolveConflict.ts.
 *
 * Mode selection (docs/SYNC.md): the store unhealthy or no shared secret → no sync, and status
 * says why. Otherwise each peer is probed at GET /api/v1/p2p/status (first contact, after a
 * failure, then every 10 minutes); a peer that reports P2P enabled with a node id, while this
 * node has P2P enabled and `sync.nativeP2pPreferred`, is shown as native-capable — until native
 * sync runs, every peer is polled.
 *
 * Settings and the secret are functions: the node reads them from its live configuration, so a
 * reloaded config file applies without a restart.
 */
import { formatHostPort } from '../core/address.ts'
import { INVALID_INPUT, NOT_FOUND, UNAVAILABLE } from '../core/errors.ts'
import type { Engine } from '../engine/Engine.ts'
import type { Logger } from '../util/log.ts'
import { deriveRestKey, deriveRestKeys, type RestKey, type SyncSecrets } from './polled/auth.ts'
import { tlsFetch } from '../tls/client.ts'
import { ConflictPolicy } from '../replication/applyPage.ts'
import { ConflictLog, type ConflictEntry } from '../replication/conflicts.ts'
import type { PeerTls, PullProgress } from './polled/DeltaClient.ts'
import { DeltaEndpoint } from './polled/DeltaEndpoint.ts'
import { DeltaServer } from './polled/DeltaServer.ts'
import { ArrivalIndex } from './polled/ArrivalIndex.ts'
import { LegacyDelta } from './polled/LegacyDelta.ts'
import type { ChangeEvent } from '../engine/Engine.ts'
import { PolledSync, type PeerRunResult, type PolledSyncOptions } from './polled/PolledSync.ts'
import { AutoSync } from './AutoSync.ts'
import { feedIdOf } from '../replication/feedId.ts'
import { PeerRegistry } from '../peers/PeerRegistry.ts'
import type { RestPeer, RestPeers } from '../peers/RestPeers.ts'
import type { NativeLink, PeerView, SyncMode, SyncSettings, SyncStatusView } from './contract.ts'
import { resolveConflict } from './resolveConflict.ts'
import { pairBack, type Endpoint, type PairBack } from './polled/pairing.ts'
import type { PeerClocks } from '../replication/PeerClocks.ts'

export type { Endpoint } from './polled/pairing.ts'
export type { NativeLink, PeerView, SyncMode, SyncSettings, SyncStatusView } from './contract.ts'

/** Where the arrival marks of the legacy delta shape are kept (local metadata, never replicated). */
const ARRIVALS_META_KEY = 'sync.arrivals'

export interface SyncServiceOptions {
  readonly engine: Engine
  /**
   * The shared secrets (sync.passphrase and p2p.seed: each one set is checked), or one secret
   * as a string; undefined or none set: sync is off (and said so).
   */
  readonly secret: () => string | SyncSecrets | undefined
  /** TLS towards peers (tls.*): the client certificate and CA, and the checks of the peers' certificates. */
  readonly tls?: PeerTls
  readonly settings: () => SyncSettings
  readonly log: Logger
  /** Wall clock (auth stamps, syncedAt, status times). */
  readonly now?: () => number
  /** The paired REST peers: the node's peer registry (node/EngramNode.ts); default: a registry of its own over the store. */
  readonly peers?: RestPeers
  /** Debounce of auto-sync triggers (agent end, config change); default 1 s. */
  readonly autoSyncDebounceMs?: number
  readonly random?: () => number
  /** Scheduler internals, for tests. */
  readonly polled?: Pick<PolledSyncOptions, 'timers' | 'pull' | 'probe' | 'probeEveryMs' | 'exchange'>
  /** Native P2P sync when it runs on this node (sync/native/NativeSync.ts). */
  readonly native?: () => NativeLink | undefined
  /** Where the peers' clock readings go (replication/PeerClocks.ts), shared with native sync. */
  readonly clocks?: PeerClocks
}

export class SyncService {
  readonly peers: RestPeers
  readonly conflictLog: ConflictLog
  /** sync.conflictStrategy and the keep-both list, for both carriers (native sync is handed it too). */
  readonly conflicts: ConflictPolicy
  readonly feedId: string
  /** POST /api/v1/sync/delta (the API route maps its codes to HTTP). */
  readonly delta: DeltaEndpoint
  private readonly opts: SyncServiceOptions
  private readonly now: () => number
  private readonly polled: PolledSync
  private readonly auto: AutoSync
  private derived: { secret: string, key: RestKey | undefined } | undefined
  private endpoint: Endpoint | undefined
  /** When records arrived here, for the legacy delta shape (served by arrival, not by stamp). */
  private readonly arrivals: ArrivalIndex
  private readonly onChange = (ev: ChangeEvent): void => {
    const last = ev.entries[ev.entries.length - 1]
    if (last !== undefined) this.arrivals.observe(last.seq)
  }

  constructor (opts: SyncServiceOptions) {
    this.opts = opts
    this.now = opts.now ?? Date.now
    const store = opts.engine.store
    const feedId = feedIdOf(store)
    this.feedId = feedId
    this.peers = opts.peers ?? new PeerRegistry(store, this.now).rest
    this.conflictLog = new ConflictLog(store, n => opts.log.warn(`the conflict list is full: dropped the ${n} oldest conflicts`, { max: 10_000 }))
    this.conflicts = new ConflictPolicy({
      settings: opts.settings,
      log: this.conflictLog,
      peerName: node => this.peers.byNode(node)?.name ?? node,
      stampNow: () => opts.engine.clock.now(),
      now: this.now
    })
    const server = new DeltaServer({
      engine: opts.engine,
      feedId,
      now: this.now,
      maxPage: () => opts.settings().maxTriplesPerSync,
      pullNamespaces: node => this.peers.byNode(node)?.namespaces
    })
    this.arrivals = new ArrivalIndex({
      load: () => store.getMeta(ARRIVALS_META_KEY),
      save: text => { try { store.setMeta(ARRIVALS_META_KEY, text) } catch (e) { opts.log.debug('could not save the arrival marks', { error: String(e) }) } },
      now: this.now
    })
    this.arrivals.observe(store.stats().lastSeq)
    opts.engine.on('change', this.onChange)
    this.delta = new DeltaEndpoint({
      engine: opts.engine,
      server,
      legacy: new LegacyDelta({ engine: opts.engine, arrivals: this.arrivals, now: this.now }),
      legacyRemote: () => {
        const secret = opts.secret()
        return { allowed: opts.settings().legacyRemoteClients, passphrase: typeof secret === 'string' ? secret : secret?.passphrase }
      },
      key: () => this.key(),
      log: opts.log,
      now: this.now,
      ...(opts.clocks !== undefined ? { clocks: opts.clocks } : {})
    })
    this.polled = new PolledSync({
      ...opts.polled,
      ...(opts.clocks !== undefined ? { clocks: opts.clocks } : {}),
      engine: opts.engine,
      peers: this.peers,
      key: () => this.key(),
      tls: opts.tls,
      log: opts.log,
      random: opts.random,
      now: this.now,
      canSync: () => { const m = this.mode(); return { ok: m.mode !== 'none', reason: m.reason } },
      skip: p => this.nativeFor(p) ? 'synced natively (P2P session open)' : undefined,
      settings: () => {
        const s = opts.settings()
        return { intervalMs: s.intervalSeconds * 1000, pageSize: s.maxTriplesPerSync, timeoutMs: s.syncTimeoutMs, retryBaseMs: s.retryBaseMs }
      },
      conflicts: peer => this.conflicts.pass(undefined, peer),
      conflictLog: this.conflictLog
    })
    this.auto = new AutoSync({ run: () => this.polled.syncNow(), log: opts.log, debounceMs: opts.autoSyncDebounceMs })
  }

  /** The REST auth key(s) of the current secrets (derived again when they change). */
  private key (): RestKey | undefined {
    const secret = this.opts.secret()
    if (secret === undefined) return undefined
    const id = typeof secret === 'string' ? secret : JSON.stringify([secret.passphrase ?? null, secret.seed ?? null])
    if (this.derived?.secret !== id) this.derived = { secret: id, key: typeof secret === 'string' ? deriveRestKey(secret) : deriveRestKeys(secret) }
    return this.derived.key
  }

  start (): void {
    if (this.key() === undefined) {
      this.opts.log.info('sync is off: no shared secret; set sync.passphrase (or p2p.seed) to the same value on every node to sync')
    }
    this.polled.start()
  }

  async stop (): Promise<void> {
    await this.auto.stop()
    await this.polled.stop()
    this.opts.engine.off('change', this.onChange)
    try { this.arrivals.flush() } catch { /* the store may be closed already: the marks are only coarser after a restart */ }
  }

  /** Where this node's API listens (set by the node once it listens). */
  setEndpoint (endpoint: Endpoint): void {
    this.endpoint = endpoint
  }

  /** How to pair this node from the other machine (sync pair explains it). */
  pairBack (): PairBack {
    return pairBack(this.endpoint, this.key() !== undefined, this.opts.tls !== undefined)
  }

  mode (): { mode: SyncMode, reason: string } {
    let health
    try { health = this.opts.engine.store.health() } catch (e) { health = { ok: false, detail: e instanceof Error ? e.message : String(e) } }
    if (!health.ok) return { mode: 'none', reason: `store unhealthy: ${health.detail}` }
    if (this.key() === undefined) return { mode: 'none', reason: 'no shared secret: set sync.passphrase (or p2p.seed) to the same value on every node' }
    if (this.native() !== undefined) {
      return { mode: 'native', reason: 'native P2P sync (QUIC, live push, gossip rounds); paired peers without a P2P session are polled' }
    }
    return { mode: 'polled', reason: 'REST delta sync with every paired peer, every sync.intervalSeconds' }
  }

  /** Native sync, when it runs and sync.nativeP2pPreferred (false forces polled mode). */
  native (): NativeLink | undefined {
    const s = this.opts.settings()
    return s.p2pEnabled && s.nativeP2pPreferred ? this.opts.native?.() : undefined
  }

  /** Whether a paired peer is synced natively now (then polled sync leaves it alone). */
  private nativeFor (p: RestPeer): boolean {
    return p.nodeId !== undefined && this.native()?.isConnected(p.nodeId) === true
  }

  /**
   * Pairing in native mode also adds the peer as a P2P peer: the host of its URL and the UDP
   * port its GET /api/v1/p2p/status reports. Undefined when native sync is off here.
   */
  async pairNative (p: RestPeer): Promise<{ addr?: string, error?: string } | undefined> {
    const native = this.native()
    if (native === undefined) return undefined
    try {
      const res = await tlsFetch(new URL('/api/v1/p2p/status', p.url), { signal: AbortSignal.timeout(Math.min(this.opts.settings().syncTimeoutMs, 10_000)) }, this.opts.tls?.client)
      const body = await res.json().catch(() => undefined) as { enabled?: unknown, port?: unknown } | undefined
      if (!res.ok || body?.enabled !== true || typeof body.port !== 'number') return { error: `${p.url} has no P2P enabled; it is synced by polling` }
      const addr = formatHostPort({ host: new URL(p.url).hostname.replace(/^\[|\]$/g, ''), port: body.port })
      native.addPeer(addr)
      this.opts.log.info(`paired peer ${p.name} for native P2P sync too`, { peer: p.name, addr })
      return { addr }
    } catch (e) {
      return { error: `cannot ask ${p.url} for its P2P port: ${e instanceof Error ? e.message : String(e)}` }
    }
  }

  status (): SyncStatusView {
    const s = this.opts.settings()
    const { mode, reason } = this.mode()
    const peers = this.peers.list()
    const last = peers.map(p => p.lastSyncAt).filter((x): x is string => x !== undefined).sort().at(-1)
    return {
      mode,
      reason,
      nodeId: this.opts.engine.node,
      feedId: this.feedId,
      ...(this.endpoint !== undefined ? { endpoint: this.endpoint } : {}),
      settings: {
        intervalSeconds: s.intervalSeconds,
        maxTriplesPerSync: s.maxTriplesPerSync,
        syncTimeoutMs: s.syncTimeoutMs,
        retryBaseMs: s.retryBaseMs,
        conflictStrategy: s.conflictStrategy,
        autoSync: s.autoSync
      },
      lastSyncAt: last ?? null,
      peers: peers.map(p => this.peerView(p)),
      conflicts: this.conflictLog.list().length,
      ...(this.native() !== undefined ? { native: this.native()!.status() } : {})
    }
  }

  peerView (p: RestPeer): PeerView {
    const s = this.opts.settings()
    const native = s.p2pEnabled && s.nativeP2pPreferred && p.p2p?.enabled === true
    return {
      ...p,
      mode: p.status === 'removed' ? 'none' : this.nativeFor(p) ? 'native' : native ? 'native-capable (polled until a P2P session is open)' : 'polled',
      cursor: p.nodeId !== undefined ? this.opts.engine.store.getCursor(p.nodeId) : 0
    }
  }

  pair (input: { name: unknown, url: unknown, namespaces?: unknown }): RestPeer {
    if (this.opts.tls !== undefined && typeof input.url === 'string' && /^http:/i.test(input.url.trim())) {
      throw INVALID_INPUT('url', `must be https:// because TLS is on here (tls.cert): ${input.url.trim().replace(/^http:/i, 'https:')}`)
    }
    const p = this.peers.add(input)
    this.polled.peersChanged()
    this.opts.log.info(`paired peer ${p.name}`, { peer: p.name, url: p.url })
    return p
  }

  unpair (name: string): RestPeer {
    const p = this.peers.remove(name)
    this.polled.peersChanged()
    this.opts.log.info(`unpaired peer ${name}`, { peer: name })
    return p
  }

  /** Pauses (or resumes) a peer: a paused peer stays paired but is not pulled. */
  setPaused (name: string, paused: boolean): RestPeer {
    const p = this.peers.setPaused(name, paused)
    this.polled.peersChanged()
    return p
  }

  /** Throws what `syncNow` would refuse with: an unknown peer (NOT_FOUND), sync off (UNAVAILABLE). */
  assertCanSync (peer?: string): void {
    if (peer !== undefined) {
      const p = this.peers.get(peer)
      if (p === undefined || p.status === 'removed') throw NOT_FOUND('peer', peer)
    }
    const { mode, reason } = this.mode()
    if (mode === 'none') throw UNAVAILABLE(`sync is off: ${reason}`)
  }

  /** Syncs now with one peer or every current peer that is not paused; resolves with each peer's result. */
  async syncNow (peer?: string, onProgress?: (peer: string, p: PullProgress) => void): Promise<PeerRunResult[]> {
    this.assertCanSync(peer)
    this.native()?.gossipNow()
    return await this.polled.syncNow(peer, onProgress)
  }

  /** The pull a pairing or a resume of `peer` started, followed to its end with its progress. */
  async follow (peer: string, onProgress?: (peer: string, p: PullProgress) => void): Promise<PeerRunResult> {
    this.assertCanSync(peer)
    return await this.polled.follow(peer, onProgress)
  }

  /**
   * An agent session ended, or the configuration changed: a debounced sync with every peer when
   * sync.autoSync is on. Triggers never start overlapping runs.
   */
  trigger (reason: string): { triggered: boolean, reason: string } {
    if (!this.opts.settings().autoSync) return { triggered: false, reason: 'sync.autoSync is off' }
    const { mode, reason: why } = this.mode()
    if (mode === 'none') return { triggered: false, reason: `sync is off: ${why}` }
    this.auto.trigger(reason)
    return { triggered: true, reason: `a sync with every peer starts within ${this.auto.debounceMs} ms` }
  }

  listConflicts (): ConflictEntry[] {
    return this.conflictLog.list()
  }

  /** Resolves a listed conflict by writing the chosen value as a new local write (resolveConflict.ts). */
  resolveConflict (id: string, keep: 'kept' | 'other'): ConflictEntry {
    return resolveConflict(this.opts.engine, this.conflictLog, id, keep)
  }
}
