/**
 * In-process sync nodes for tests: each has its own SqliteStore in a temporary directory, an
 * Engine, a SyncService (not started: tests call syncNow, nothing runs on a timer) and the REST
 * API listening on 127.0.0.1 with an OS-chosen port.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { createApiServer } from '../../src/api/server.ts'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import { canonicalRecord } from '../../src/core/records.ts'
import { Engine } from '../../src/engine/Engine.ts'
import type { Signer } from '../../src/core/signing.ts'
import { NodeKeyVerifier } from '../../src/node/keys.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import { SyncService, type SyncSettings } from '../../src/sync/SyncService.ts'
import { silentLogger, type Logger } from '../../src/util/log.ts'

export const SECRET = 'test-secret-1234'

export const DEFAULT_SETTINGS: SyncSettings = {
  intervalSeconds: 300,
  maxTriplesPerSync: 5000,
  syncTimeoutMs: 10_000,
  conflictStrategy: 'last-writer-wins',
  singleValuedPredicates: [],
  autoSync: false,
  nativeP2pPreferred: true,
  p2pEnabled: false,
  retryBaseMs: 100,
  legacyRemoteClients: false
}

export interface SyncNode {
  readonly name: string
  readonly node: NodeId
  readonly engine: Engine
  readonly store: SqliteStore
  readonly sync: SyncService
  readonly app: FastifyInstance
  readonly url: string
  readonly dir: string
  /** Live settings: change fields to reconfigure the node. */
  settings: SyncSettings
  secret: string | undefined
  close (): Promise<void>
}

export interface SyncNodeOptions {
  readonly secret?: string | null
  readonly settings?: Partial<SyncSettings>
  readonly now?: () => number
  readonly maxDriftMs?: number
  readonly log?: Logger
  readonly autoSyncDebounceMs?: number
  /** A real identity: the node signs its records and checks the signatures of others. */
  readonly identity?: { readonly node: NodeId, readonly signer: Signer }
}

export async function startSyncNode (name: string, opts: SyncNodeOptions = {}): Promise<SyncNode> {
  const dir = mkdtempSync(join(tmpdir(), `engram-sync-${name}-`))
  const store = SqliteStore.open(join(dir, 'engram.db'))
  const node = opts.identity?.node ?? asNodeId(`node-${name}`)
  const engine = new Engine({
    store, node, maxDriftMs: opts.maxDriftMs ?? 60_000, now: opts.now,
    ...(opts.identity !== undefined ? { signer: opts.identity.signer, verifier: new NodeKeyVerifier() } : {})
  })
  const self = {
    settings: { ...DEFAULT_SETTINGS, ...opts.settings },
    secret: opts.secret === null ? undefined : (opts.secret ?? SECRET)
  }
  const sync = new SyncService({
    engine,
    secret: () => self.secret,
    settings: () => self.settings,
    log: opts.log ?? silentLogger,
    now: opts.now,
    autoSyncDebounceMs: opts.autoSyncDebounceMs
  })
  const app = await createApiServer({
    engine,
    version: 'test',
    bodyLimitBytes: 8 * 1024 * 1024,
    status: () => ({ nodeId: node, version: 'test', startedAt: '', dataDir: dir, store: { kind: store.kind, path: dir } }),
    sync
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  sync.setEndpoint({ url, host: '127.0.0.1', port })
  return Object.assign(self, {
    name,
    node,
    engine,
    store,
    sync,
    app,
    url,
    dir,
    async close () {
      await sync.stop()
      await app.close()
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

/** Pairs every node with every other (names are the node names). */
export function pairAll (nodes: readonly SyncNode[]): void {
  for (const a of nodes) for (const b of nodes) if (a !== b) a.sync.pair({ name: b.name, url: b.url })
}

/** Every record, tombstones included, as canonical text. */
export const dumpOf = (n: SyncNode): string[] => n.store.dump().map(canonicalRecord)

/** Syncs every node with every peer until all dumps are equal; at most `rounds` rounds. */
export async function syncUntilEqual (nodes: readonly SyncNode[], rounds = 5): Promise<number> {
  for (let round = 1; round <= rounds; round++) {
    for (const n of nodes) {
      const results = await n.sync.syncNow()
      for (const r of results) if (!r.ok) throw new Error(`${n.name} ← ${r.peer}: ${r.error ?? '?'} (${r.code ?? '?'})`)
    }
    const first = JSON.stringify(dumpOf(nodes[0]!))
    if (nodes.every(n => JSON.stringify(dumpOf(n)) === first)) return round
  }
  throw new Error(`not converged after ${rounds} rounds`)
}
