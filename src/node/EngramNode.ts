/**
 * EngramNode: the composition root, the one place where a node's parts are built and wired.
 *
 *   config ──► data dir (0700) ──► identity.key ──► node id ──► TLS (tls.*, when set)
 *                                   engram.db ──► SqliteStore ──► Engine ──► REST API (fastify)
 *                                                                  ├──► SyncService (polled REST sync)
 *                                                                  ├──► NativeSync (QUIC P2P, when p2p.enabled)
 *                                                                  │      └──► discovery (mDNS, static peers, peer book)
 *                                                                  ├──► telemetry (activity, warnings, event loop):
 *                                                                  │      GET /metrics and the dashboard's live status
 *                                                                  └──► clock work (held records, tombstone and history collection)
 *   identity.key ──► signer (node:crypto) ──► Engine: every local write signed, every record from outside verified
 *   config file ──► watcher ──► live sync settings (hot-reloadable sync.* keys)
 *
 * `start` builds everything and starts its parts through one list (Lifecycle.ts); `stop` stops
 * them in the reverse order (discovery, the parts that need the seed's keys, native sync,
 * api.json, timers, sync, API, the store). The seed's keys (Argon2id) are not waited for: the
 * parts that need them come up when they are derived (seedKeysPart.ts), which a restarted node
 * begins after its first catch-ups (seedKeysSchedule.ts). The daemon (`engram start`) and embedders use the
 * same class: `const node = await EngramNode.start(config)`. Beside it, each a concept of its own:
 * the REST API part (restApi.ts), one daemon per data directory (runningGuard.ts), the migration
 * that signs this node's earlier records (signOwnStates.ts), the sync settings of a configuration
 * (syncSettings.ts).
 */
import type { NodeId } from '../core/ids.ts'
import { Engine } from '../engine/Engine.ts'
import { assertStartable } from '../config/load.ts'
import type { ConfigKey, EngramConfig } from '../config/schema.ts'
import { SqliteStore } from '../store/sqlite/SqliteStore.ts'
import { createLogger, type Logger } from '../util/log.ts'
import { packageVersion } from '../util/version.ts'
import { SyncService } from '../sync/SyncService.ts'
import { PeerRegistry } from '../peers/PeerRegistry.ts'
import { removeApiInfo, writeApiInfo } from './apiInfo.ts'
import { watchConfig, type ConfigWatch } from './configWatch.ts'
import { Lifecycle } from './Lifecycle.ts'
import { loadOrCreateIdentity } from './identity.ts'
import { identitySigner, NodeKeyVerifier } from './keys.ts'
import { DAY_MS } from '../engine/History.ts'
import { createNativeSync, loadTransport, type NativeSyncBuilt } from './nativeSync.ts'
import { seedKeysPart } from './seedKeysPart.ts'
import { seedKeysSchedule, type SeedKeysSchedule } from './seedKeysSchedule.ts'
import { seedKeys, type SeedKeys } from '../core/seedKeys.ts'
import { createDiscovery } from './discovery.ts'
import { createSearch } from './search.ts'
import type { SearchService } from '../search/SearchService.ts'
import type { DiscoveryService } from '../discovery/DiscoveryService.ts'
import { apiLimits } from '../api/limits.ts'
import { logRefusals } from '../api/rateLimit.ts'
import type { NativeSync } from '../sync/native/NativeSync.ts'
import type { MailboxSync } from '../sync/mailbox/MailboxSync.ts'
import { dataPaths, defaultDataDir, ensureDataDir, storeFileBytes } from './paths.ts'
import { reportSecured, secureDataDir } from './permissions.ts'
import { loadOrCreateApiToken } from './apiToken.ts'
import { createTelemetry, type Telemetry } from '../telemetry/Telemetry.ts'
import { RecentLog, withRecent } from '../telemetry/RecentLog.ts'
import { startClockWork, type ClockWork } from './clockWork.ts'
import { PeerClocks } from '../replication/PeerClocks.ts'
import { NodeTls, clientTlsOf } from '../tls/NodeTls.ts'
import { restApiPart } from './restApi.ts'
import { refuseIfRunning } from './runningGuard.ts'
import { signOwnStates } from './signOwnStates.ts'
import { syncSettings } from './syncSettings.ts'

export interface EngramNodeOptions {
  /** Where the node logs. Default: stderr at config.log.level. */
  readonly log?: Logger
  /** Wall clock in ms (tests inject one). Default: Date.now. */
  readonly now?: () => number
  /**
   * The configuration file to watch, and how to load the configuration again when it changes
   * (the daemon passes its file, environment and flags). Both absent: no watching.
   */
  readonly configFile?: string
  readonly reloadConfig?: () => EngramConfig
  /** Polling interval of the configuration file (default 2000 ms). */
  readonly configWatchIntervalMs?: number
  /** Debounce of auto-sync triggers (default 1000 ms). */
  readonly autoSyncDebounceMs?: number
  /** Test hook: native P2P sync by gossip rounds alone (no cursor streams, no live push). */
  readonly p2pGossipOnly?: boolean
  /** Test hook: failed P2P handshakes one source may make at once (default 10). */
  readonly p2pFailedHandshakes?: number
  /**
   * The keys of a seed, derived by the embedder (`seedKeys`): used when it is p2p.seed, as they
   * come. Without them the node derives them itself, when seedKeysSchedule.ts says (a restarted
   * node after its first catch-ups).
   */
  readonly seedKeys?: { readonly seed: string, readonly keys: Promise<SeedKeys> }
  /** Test hook: how the seed's keys are derived (default `seedKeys`), e.g. a slow or failing derivation. */
  readonly deriveSeedKeys?: (seed: string) => Promise<SeedKeys>
}

interface Parts {
  readonly live: { config: EngramConfig }
  readonly nodeId: NodeId
  readonly apiUrl: string
  readonly engine: Engine
  readonly sync: SyncService
  readonly native: NativeSync | undefined
  readonly discovery?: DiscoveryService
  readonly search: SearchService
  readonly lifecycle: Lifecycle
  readonly log: Logger
  readonly telemetry: Telemetry
  readonly keysReady: Promise<void>
}

export class EngramNode {
  readonly nodeId: NodeId
  /** Base URL of the REST API, e.g. http://127.0.0.1:19090 (the actual port when api.port is 0). */
  readonly apiUrl: string
  readonly engine: Engine
  readonly dataDir: string
  /** Polled sync: peers, the scheduler, the delta endpoint, conflicts. */
  readonly sync: SyncService
  private readonly live: { config: EngramConfig }
  /** Native P2P sync (QUIC, seed handshake, streams and gossip); undefined unless p2p.enabled. */
  readonly native: NativeSync | undefined
  /** Discovery (mDNS, static peers, the peer book); undefined unless p2p.enabled. */
  readonly discovery: DiscoveryService | undefined
  /** Full-text and semantic search, and rebuilding the full-text index. */
  readonly search: SearchService
  private readonly lifecycle: Lifecycle
  private readonly log: Logger
  /** What the node has been doing (activity, recent warnings and errors, event loop): GET /metrics, the dashboard. */
  readonly telemetry: Telemetry
  /**
   * Resolves once the parts that need the seed's keys run (TCP in the private network, relays,
   * the mailbox: `seedKeysPart.ts`), at once without P2P; rejects when the keys could not be
   * derived or TCP could not listen (the daemon then stops with that error). `start` does not
   * wait for them: the REST API and QUIC sessions are up before.
   */
  readonly keysReady: Promise<void>
  private stopping: Promise<void> | undefined

  private constructor (p: Parts) {
    this.keysReady = p.keysReady
    this.live = p.live
    this.nodeId = p.nodeId
    this.apiUrl = p.apiUrl
    this.engine = p.engine
    this.dataDir = p.live.config.dataDir
    this.sync = p.sync
    this.native = p.native
    this.discovery = p.discovery
    this.search = p.search
    this.lifecycle = p.lifecycle
    this.log = p.log
    this.telemetry = p.telemetry
  }

  /** The node's configuration: as started, with the hot-reloadable keys as last reloaded. */
  get config (): EngramConfig {
    return this.live.config
  }

  /**
   * An agent session ended: with sync.autoSync on, a debounced sync with every peer starts.
   * Says whether one was triggered, and why not.
   */
  agentEnd (): { triggered: boolean, reason: string } {
    return this.sync.trigger('agent-end')
  }

  /**
   * Builds the node and starts its parts, in this order (stopped in the reverse order):
   * store → REST API (listening) → polled sync → configuration watch → clock work →
   * api.json → native P2P sync (QUIC) → the seed's derivation (when: seedKeysSchedule.ts) →
   * the parts that need the seed's keys (TCP, relays, the
   * mailbox: brought up when the keys are derived, which this does not wait for) → discovery.
   */
  static async start (config: EngramConfig, opts: EngramNodeOptions = {}): Promise<EngramNode> {
    assertStartable(config)
    const now = opts.now ?? Date.now
    // Warnings and errors are also kept for the dashboard and counted for GET /metrics.
    const recentLog = new RecentLog({ now })
    const log = withRecent(opts.log ?? createLogger({ level: config.log.level }), recentLog)
    const paths = dataPaths(config.dataDir)
    ensureDataDir(paths.dir)
    await refuseIfRunning(paths.dir, clientTlsOf(config.tls))
    reportSecured(secureDataDir(paths), log)

    const identity = await loadOrCreateIdentity(paths.dir)
    if (identity.created) log.info('created a new node identity', { node: identity.nodeId, key: identity.path })
    const nodeId = identity.nodeId
    const tls = NodeTls.load(config.tls, nodeId, now())
    for (const w of tls?.warnings ?? []) log.warn(w)

    const apiToken = loadOrCreateApiToken(paths.dir)
    if (apiToken.created) log.info('created the API token (sent by the CLI and MCP server; required with api.requireToken)')
    const lifecycle = new Lifecycle(log)
    const store = SqliteStore.open(paths.db, { synchronous: config.store.synchronous })
    // A database SQLite just created (and its -wal and -shm) has the umask's mode: tighten it.
    secureDataDir(paths)
    await lifecycle.start({ name: 'the store', stop: () => { store.close() } })
    // every peer this node knows, in one registry (a store of an earlier version is migrated here)
    let peers: PeerRegistry
    try {
      peers = new PeerRegistry(store, now)
    } catch (e) {
      await lifecycle.stop()
      throw e
    }
    const live = { config }
    let discovery: DiscoveryService | undefined
    // an identity older than its store (a recreated store) may have written states the store lacks
    const engine = new Engine({
      store,
      node: nodeId,
      maxDriftMs: config.hlc.maxDriftMs,
      now,
      unknownTombstonesPerMinute: config.sync.maxUnknownTombstonesPerMinute,
      ownHistoryElsewhere: !identity.created,
      signer: identitySigner(identity.privateKey, nodeId),
      verifier: new NodeKeyVerifier(),
      requireSignatures: () => live.config.sync.requireSignatures,
      revocationQuorum: () => live.config.sync.revocationQuorum,
      historyRetentionMs: () => live.config.history.retentionDays * DAY_MS,
      log: log.child({ part: 'provenance' })
    })
    const clockLog = log.child({ part: 'clock' })
    const clocks = new PeerClocks({
      maxDriftMs: () => config.hlc.maxDriftMs,
      now,
      // a node on the real clock detects its own wall clock being stepped; a test's clock is never stepped
      ...(opts.now === undefined ? { monotonic: () => performance.now() } : {}),
      report: news => { if (news.kind === 'off') clockLog.warn(news.sentence); else clockLog.info(news.sentence) }
    })
    const telemetry = createTelemetry(engine, { now, recentLog })
    await lifecycle.start({ name: 'telemetry', stop: () => { telemetry.close() } })
    let native: NativeSync | undefined
    let mailbox: MailboxSync | undefined
    let keys: Promise<SeedKeys> | undefined
    let schedule: SeedKeysSchedule | undefined
    let p2p: NativeSyncBuilt | undefined
    const sync = new SyncService({
      engine,
      // Each secret set is checked: the passphrase on top of the seed.
      secret: () => ({ passphrase: live.config.sync.passphrase, seed: live.config.p2p.seed }),
      ...(tls !== undefined ? { tls: tls.peer(now) } : {}),
      settings: () => syncSettings(live.config),
      log: log.child({ part: 'sync' }),
      now,
      peers: peers.rest,
      autoSyncDebounceMs: opts.autoSyncDebounceMs,
      native: () => native,
      clocks
    })
    try {
      const seed = config.p2p.enabled ? config.p2p.seed : undefined
      // One memory-hard derivation gives every key of the seed (core/seedKeys.ts), off the main
      // thread and off the start's path: only TCP, relays and the mailbox wait for it (seedKeysPart.ts);
      // a restarted node derives after its first catch-ups (seedKeysSchedule.ts)
      if (seed !== undefined && opts.seedKeys?.seed !== seed) {
        const derive = opts.deriveSeedKeys ?? seedKeys
        schedule = seedKeysSchedule({ derive: () => derive(seed), atOnce: store.stats().lastSeq === 0, busy: () => native?.busy() ?? false })
      }
      keys = seed === undefined ? undefined : (schedule?.keys ?? opts.seedKeys?.keys)
      keys?.catch(() => {})
      // the transport's modules load while the store is brought up to date
      if (config.p2p.enabled) loadTransport().catch(() => {})
      await signOwnStates(engine, store, log)
      if (config.node.name !== undefined) engine.publishName(config.node.name)
      p2p = await createNativeSync({
        config: () => live.config, engine, privateKey: identity.privateKey, log, now, gossipOnly: opts.p2pGossipOnly, failedHandshakes: opts.p2pFailedHandshakes,
        peers: peers.p2p,
        onPeerEvent: ev => { discovery?.onDialerEvent(ev); telemetry.peersChanged() },
        conflicts: sync.conflicts,
        clocks,
        windowFile: paths.window,
        ...(tls !== undefined ? { certificates: tls.handshake(now) } : {})
      })
      native = p2p?.native
    } catch (e) {
      await lifecycle.stop()
      throw e
    }
    let search: ReturnType<typeof createSearch>
    try {
      search = createSearch({ config, engine, vectorsFile: paths.vectors, log })
    } catch (e) {
      await lifecycle.stop()
      throw e
    }
    // A vector file SQLite just created has the umask's mode: tighten it.
    secureDataDir(paths)
    await lifecycle.start({ name: 'the vector store', stop: () => { search.close() } })
    const startedAt = new Date(now()).toISOString()
    const version = packageVersion()
    let clockWork: ClockWork | undefined
    const api = restApiPart({
      host: config.api.host,
      port: config.api.port,
      tls,
      log,
      now,
      deps: () => ({
        engine,
        version,
        bodyLimitBytes: config.api.bodyLimitBytes,
        limits: apiLimits(config.api),
        access: { allowedHosts: config.api.allowedHosts, ...(config.api.requireToken ? { token: apiToken.token } : {}) },
        now,
        onRateLimited: logRefusals(log.child({ part: 'api' }), now),
        status: () => ({ nodeId, version, startedAt, dataDir: paths.dir, store: { kind: store.kind, path: paths.db, sizeBytes: storeFileBytes(paths.db) } }),
        clock: () => clockWork?.status(),
        mailbox: () => mailbox?.counts,
        sync,
        telemetry,
        remoteMetrics: config.api.remoteMetrics,
        search: search.search,
        revocationQuorum: () => live.config.sync.revocationQuorum,
        p2p: native,
        p2pPeerBook: () => discovery?.view(),
        onInternalError: (err, req) => log.error(`internal error answering ${req.method} ${req.url}; this is a bug, please report it with this line`,
          { error: err instanceof Error ? (err.stack ?? err.message) : String(err) })
      })
    })
    await lifecycle.start(api)
    const apiUrl = api.url()
    const apiPort = Number(new URL(apiUrl).port)
    sync.setEndpoint({ url: apiUrl, host: config.api.host, port: apiPort })
    try {
      discovery = createDiscovery({ config, peers: peers.p2p, native, nodeId, apiPort, log })
    } catch (e) {
      await lifecycle.stop()
      throw e
    }
    await lifecycle.start({ name: 'sync', start: () => { sync.start() }, stop: () => sync.stop() })
    await lifecycle.start({ name: 'search', start: () => { search.search.start() }, stop: () => search.search.stop() })
    if (opts.configFile !== undefined && opts.reloadConfig !== undefined) {
      const { configFile, reloadConfig } = opts
      let watch: ConfigWatch | undefined
      await lifecycle.start({
        name: 'the configuration watch',
        start: () => {
          watch = watchConfig({
            file: configFile,
            reload: reloadConfig,
            current: () => live.config,
            log,
            intervalMs: opts.configWatchIntervalMs,
            onChange: (next: EngramConfig, changed: readonly ConfigKey[]) => {
              live.config = next
              const t = sync.trigger(`config change (${changed.join(', ')})`)
              if (t.triggered) log.info('configuration changed: syncing with every peer', { keys: changed.join(',') })
            }
          })
        },
        stop: () => { watch?.close() }
      })
    }
    await lifecycle.start({
      name: 'clock work',
      start: () => {
        clockWork = startClockWork({
          engine,
          ttlHours: config.sync.tombstoneTtlHours,
          memberGoneDays: config.sync.memberGoneDays,
          historyRetentionDays: () => live.config.history.retentionDays,
          log: clockLog,
          now,
          clocks
        })
      },
      stop: () => { clockWork?.stop() }
    })
    await lifecycle.start({
      name: 'api.json',
      // with TLS on, the paths of its files, so a CLI on this machine trusts this daemon by itself
      start: () => { writeApiInfo(paths.dir, { url: apiUrl, pid: process.pid, nodeId, startedAt, ...(tls !== undefined ? { tls: { ca: config.tls.ca, cert: config.tls.cert, key: config.tls.key } } : {}) }) },
      stop: () => { removeApiInfo(paths.dir, { pid: process.pid, url: apiUrl }) }
    })
    if (native !== undefined) {
      const n = native
      await lifecycle.start({ name: 'native P2P sync', start: () => n.start(), stop: () => n.stop() })
    }
    let keysReady: Promise<void> = Promise.resolve()
    if (schedule !== undefined) await lifecycle.start(schedule)
    if (p2p !== undefined && keys !== undefined) {
      const part = seedKeysPart({ keys, useKeys: p2p.useKeys, keysFailed: p2p.keysFailed, onMailbox: m => { mailbox = m }, log })
      await lifecycle.start(part)
      keysReady = part.ready
    }
    if (discovery !== undefined) {
      const d = discovery
      await lifecycle.start({ name: 'discovery', start: () => d.start(), stop: () => d.stop() })
    }
    const hint = paths.dir === defaultDataDir(process.env) && config.api.port !== 0 ? 'engram status' : `engram status --data-dir ${paths.dir}`
    log.info(`engram node started; try: ${hint}`, {
      node: nodeId, dataDir: paths.dir, api: apiUrl,
      ...(tls !== undefined ? { tls: tls.requireClientCert ? 'on, client certificates required' : 'on' } : {})
    })
    return new EngramNode({ live, nodeId, apiUrl, engine, sync, native, discovery, search: search.search, lifecycle, log, telemetry, keysReady })
  }

  /** Stops the node: every part in the reverse order of start, the store last. Safe to call more than once. */
  stop (): Promise<void> {
    this.stopping ??= (async () => {
      await this.lifecycle.stop()
      this.log.info('engram node stopped', { node: this.nodeId })
    })()
    return this.stopping
  }
}
