/**
 * Polled sync nodes in one process: MemoryStores, each with a SyncService whose pulls reach the
 * other nodes' delta endpoints (sync/polled/DeltaEndpoint.ts) directly instead of over HTTP —
 * the requests are signed and checked, the answers signed and verified, exactly as over a
 * socket. The network loses a share of the requests (`dropRate`) and delays answers by a few
 * event-loop turns, drawn from a seeded generator.
 */
import { statusForCode } from '../../src/api/errors.ts'
import type { ConflictStrategy } from '../../src/config/schema.ts'
import { UNAVAILABLE } from '../../src/core/errors.ts'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import type { Store } from '../../src/store/Store.ts'
import type { HttpExchange, PostOptions } from '../../src/sync/polled/DeltaClient.ts'
import { SyncService, type SyncSettings } from '../../src/sync/SyncService.ts'
import { createLogger } from '../../src/util/log.ts'

export interface PolledNode {
  readonly id: NodeId
  readonly url: string
  readonly store: Store
  readonly engine: Engine
  readonly sync: SyncService
  readonly logs: string[]
}

export interface PolledNodeOptions {
  readonly conflictStrategy?: ConflictStrategy
  readonly singleValuedPredicates?: readonly string[]
  readonly random?: () => number
  readonly settings?: Partial<SyncSettings>
  /** Wall clock of the node (engine stamps, conflict times). */
  readonly now?: () => number
}

export const POLLED_SETTINGS: SyncSettings = {
  intervalSeconds: 0.03,
  maxTriplesPerSync: 7,
  syncTimeoutMs: 5_000,
  conflictStrategy: 'last-writer-wins',
  singleValuedPredicates: [],
  autoSync: false,
  nativeP2pPreferred: false,
  p2pEnabled: false,
  retryBaseMs: 20,
    legacyRemoteClients: false
}

export class PolledNetwork {
  /** Share of requests lost (the pull fails with UNAVAILABLE and is retried with backoff). */
  dropRate = 0
  readonly stats = { requests: 0, dropped: 0 }
  private readonly nodes = new Map<string, PolledNode>()
  private readonly random: () => number

  constructor (random: () => number) {
    this.random = random
  }

  node (name: string, opts: PolledNodeOptions = {}): PolledNode {
    const id = asNodeId(name)
    const url = `http://${name}.sim:1`
    const store = new MemoryStore()
    const engine = new Engine({ store, node: id, maxDriftMs: 60_000, now: opts.now })
    const logs: string[] = []
    const settings: SyncSettings = {
      ...POLLED_SETTINGS,
      ...(opts.conflictStrategy !== undefined ? { conflictStrategy: opts.conflictStrategy } : {}),
      ...(opts.singleValuedPredicates !== undefined ? { singleValuedPredicates: opts.singleValuedPredicates } : {}),
      ...opts.settings
    }
    const sync = new SyncService({
      engine,
      secret: () => 'simulation-secret',
      settings: () => settings,
      log: createLogger({ level: 'error', sink: line => { logs.push(line) } }),
      random: opts.random,
      now: opts.now,
      polled: { probe: async () => ({ enabled: false }), exchange: (u, o) => this.exchange(u, o) }
    })
    const node = { id, url, store, engine, sync, logs }
    this.nodes.set(url, node)
    return node
  }

  private exchange (url: URL, opts: PostOptions): HttpExchange {
    this.stats.requests++
    const target = this.nodes.get(url.origin)
    if (target === undefined || this.random() < this.dropRate) {
      this.stats.dropped++
      const lost = Promise.reject(UNAVAILABLE(`peer ${url.origin} is unreachable (simulated loss)`, { url: url.origin }))
      lost.catch(() => {})
      return { sent: Promise.resolve(), answer: lost }
    }
    const reply = target.sync.delta.handle(opts.headers, Buffer.from(opts.body), false)
    const status = reply.code === undefined ? 200 : statusForCode(reply.code)
    const turns = Math.floor(this.random() * 3)
    const answer = (async () => {
      for (let i = 0; i < turns; i++) await new Promise(resolve => setImmediate(resolve))
      return { status, headers: new Headers(reply.sign(status)), body: Buffer.from(reply.body) }
    })()
    return { sent: Promise.resolve(), answer }
  }
}
