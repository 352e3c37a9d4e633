/**
 * Native sync nodes in one process, over the in-memory transport and MemoryStore: for session
 * tests and the seeded simulation.
 */
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import type { ConflictStrategy } from '../../src/config/schema.ts'
import { ConflictPolicy } from '../../src/replication/applyPage.ts'
import { ConflictLog } from '../../src/replication/conflicts.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import type { Signer } from '../../src/core/signing.ts'
import { NodeKeyVerifier } from '../../src/node/keys.ts'
import type { Store } from '../../src/store/Store.ts'
import { NativeSync, type NativeSyncOptions, type NativeSyncSettings } from '../../src/sync/native/NativeSync.ts'
import type { MemoryNetwork, MemoryTransport } from '../../src/transport/memory/MemoryTransport.ts'
import { createLogger, type Logger } from '../../src/util/log.ts'

export interface SimNode {
  readonly id: NodeId
  readonly store: Store
  readonly engine: Engine
  readonly transport: MemoryTransport
  readonly sync: NativeSync
  readonly logs: string[]
  /** The keep-both list (when a conflict strategy was given). */
  readonly conflictLog?: ConflictLog
}

export const FAST_SETTINGS: NativeSyncSettings = {
  gossipIntervalMs: 50,
  bloomFpr: 0.01,
  maxTriplesPerSync: 100,
  syncTimeoutMs: 1_000,
  tombstoneTtlHours: 24
}

export interface SimNodeOptions extends Partial<Omit<NativeSyncOptions, 'engine' | 'transport' | 'log' | 'settings'>> {
  readonly settings?: Partial<NativeSyncSettings>
  readonly store?: Store
  readonly now?: () => number
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error'
  /** The engine's tombstone flood budget (Engine unknownTombstonesPerMinute). */
  readonly unknownTombstonesPerMinute?: number
  /** The node's identity is older than its store (a recreated store: Engine ownHistoryElsewhere). */
  readonly ownHistoryElsewhere?: boolean
  /** sync.conflictStrategy and sync.singleValuedPredicates, applied as the node applies them (absent: the merge rules alone). */
  readonly strategy?: { readonly conflictStrategy: ConflictStrategy, readonly singleValuedPredicates: readonly string[] }
  /** A real identity (node id = its key's peer id): the node signs and checks signatures. */
  readonly identity?: { readonly node: NodeId, readonly signer: Signer }
}

export function simNode (net: MemoryNetwork, name: string, opts: SimNodeOptions = {}): SimNode {
  const id = opts.identity?.node ?? asNodeId(name)
  const store = opts.store ?? new MemoryStore()
  const engine = new Engine({
    store, node: id, maxDriftMs: 60_000, now: opts.now, unknownTombstonesPerMinute: opts.unknownTombstonesPerMinute, ownHistoryElsewhere: opts.ownHistoryElsewhere,
    ...(opts.identity !== undefined ? { signer: opts.identity.signer, verifier: new NodeKeyVerifier() } : {})
  })
  const transport = net.createTransport(id)
  const logs: string[] = []
  const log: Logger = createLogger({ level: opts.logLevel ?? 'info', sink: line => { logs.push(line) }, now: opts.now })
  const settings = { ...FAST_SETTINGS, ...opts.settings }
  const strategy = opts.strategy
  const conflictLog = strategy !== undefined ? new ConflictLog(store) : undefined
  const conflicts = strategy !== undefined
    ? new ConflictPolicy({ settings: () => strategy, log: conflictLog!, peerName: node => node, stampNow: () => engine.clock.now(), now: opts.now })
    : undefined
  const sync = new NativeSync({
    seed: 'test-seed',
    // generous: a handshake that completes never waits for it; tests of silent peers set their own
    handshakeTimeoutMs: 5_000,
    backoff: { baseMs: 20, maxMs: 200 },
    ...opts,
    ...(conflicts !== undefined ? { conflicts } : {}),
    engine,
    transport,
    log,
    settings: () => settings
  })
  return { id, store, engine, transport, sync, logs, ...(conflictLog !== undefined ? { conflictLog } : {}) }
}

export { canonicalDump, sameDumps } from '../support/dumps.ts'
export { eventually } from '../support/eventually.ts'
