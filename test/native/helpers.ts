/**
 * Native sync nodes in one process, over the in-memory transport and MemoryStore: for session
 * tests and the seeded simulation.
 */
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import { canonicalRecord } from '../../src/core/records.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
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
}

export function simNode (net: MemoryNetwork, name: string, opts: SimNodeOptions = {}): SimNode {
  const id = asNodeId(name)
  const store = opts.store ?? new MemoryStore()
  const engine = new Engine({ store, node: id, maxDriftMs: 60_000, now: opts.now, unknownTombstonesPerMinute: opts.unknownTombstonesPerMinute })
  const transport = net.createTransport(id)
  const logs: string[] = []
  const log: Logger = createLogger({ level: opts.logLevel ?? 'info', sink: line => { logs.push(line) }, now: opts.now })
  const settings = { ...FAST_SETTINGS, ...opts.settings }
  const sync = new NativeSync({
    seed: 'test-seed',
    handshakeTimeoutMs: 500,
    backoff: { baseMs: 20, maxMs: 200 },
    ...opts,
    engine,
    transport,
    log,
    settings: () => settings
  })
  return { id, store, engine, transport, sync, logs }
}

/** Every record of a store, canonical text, in the store's canonical order. */
export function canonicalDump (store: Store): string[] {
  return store.dump().map(canonicalRecord)
}

/** Polls `cond` every few ms until it holds, failing with `what` after `ms` (bounded in time and count). */
export async function eventually (cond: () => boolean, what: string | (() => string), ms = 10_000, everyMs = 5): Promise<void> {
  const end = Date.now() + ms
  for (let i = 0; i < 1_000_000; i++) {
    if (cond()) return
    if (Date.now() > end) break
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
  if (cond()) return
  throw new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`)
}

export function sameDumps (nodes: readonly { store: Store }[]): boolean {
  const first = JSON.stringify(canonicalDump(nodes[0]!.store))
  return nodes.every(n => JSON.stringify(canonicalDump(n.store)) === first)
}
