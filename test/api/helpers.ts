/**
 * A real node's REST API for tests: a SqliteStore in a fresh temporary directory, an Engine with
 * a fixed node id, and the API server listening on 127.0.0.1 with an OS-chosen port. Requests go
 * over HTTP with the global fetch.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { createApiServer } from '../../src/api/server.ts'
import type { ApiDeps } from '../../src/api/types.ts'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import type { Signer } from '../../src/core/signing.ts'
import { NodeKeyVerifier } from '../../src/node/keys.ts'
import { Engine } from '../../src/engine/Engine.ts'
import type { Store } from '../../src/store/Store.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import { clockStatus } from '../../src/replication/clockStatus.ts'

export const NODE_ID = asNodeId('node-a')
export const VERSION = '9.9.9-test'
export const BODY_LIMIT = 4 * 1024 * 1024

export interface TestApiOptions {
  readonly bodyLimitBytes?: number
  readonly p2pStatus?: ApiDeps['p2pStatus']
  /** Wraps the store before the engine sees it (to inject failures). */
  readonly wrapStore?: (store: Store) => Store
  readonly onInternalError?: ApiDeps['onInternalError']
  /** The node id and key of the engine (default: NODE_ID, unsigned). */
  readonly identity?: { readonly node: NodeId, readonly signer: Signer }
  /** The engine's wall clock. */
  readonly now?: () => number
  /** history.retentionDays in ms. */
  readonly historyRetentionMs?: number
  readonly statusStream?: ApiDeps['statusStream']
  readonly remoteMetrics?: boolean
  /** Reports the node's clock in its status (its readings move at every look, as a daemon's do). */
  readonly clock?: boolean
  readonly mailbox?: ApiDeps['mailbox']
}

export interface Reply {
  readonly status: number
  readonly headers: Headers
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  readonly body: any
  readonly text: string
}

export interface TestApi {
  readonly base: string
  readonly dir: string
  readonly dbFile: string
  readonly engine: Engine
  readonly store: Store
  readonly app: FastifyInstance
  /** A JSON request; `body` is sent as JSON unless it is a string (sent as is, still as application/json). */
  request (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>
  close (): Promise<void>
}

export async function startApi (opts: TestApiOptions = {}): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-api-'))
  const dbFile = join(dir, 'engram.db')
  const raw = SqliteStore.open(dbFile)
  const store = opts.wrapStore !== undefined ? opts.wrapStore(raw) : raw
  const node = opts.identity?.node ?? NODE_ID
  const engine = new Engine({
    store,
    node,
    maxDriftMs: 60_000,
    ...(opts.identity !== undefined ? { signer: opts.identity.signer, verifier: new NodeKeyVerifier() } : {}),
    ...(opts.now !== undefined ? { now: opts.now } : {}),
    ...(opts.historyRetentionMs !== undefined ? { historyRetentionMs: () => opts.historyRetentionMs! } : {})
  })
  const startedAt = new Date().toISOString()
  const app = await createApiServer({
    engine,
    version: VERSION,
    bodyLimitBytes: opts.bodyLimitBytes ?? BODY_LIMIT,
    status: () => ({ nodeId: node, version: VERSION, startedAt, dataDir: dir, store: { kind: store.kind, path: dbFile } }),
    p2pStatus: opts.p2pStatus,
    onInternalError: opts.onInternalError,
    statusStream: opts.statusStream,
    remoteMetrics: opts.remoteMetrics,
    mailbox: opts.mailbox,
    ...(opts.clock === true ? { clock: () => clockStatus({ engine, memberGoneMs: 86_400_000 }) } : {})
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const base = `http://127.0.0.1:${port}`

  async function request (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const init: RequestInit = { method, headers: { ...headers } }
    if (body !== undefined) {
      init.headers = { 'content-type': 'application/json', ...headers }
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
    }
    const res = await fetch(base + path, init)
    const text = await res.text()
    let parsed: unknown
    try { parsed = text === '' ? undefined : JSON.parse(text) } catch { parsed = undefined }
    return { status: res.status, headers: res.headers, body: parsed, text }
  }

  async function close (): Promise<void> {
    await app.close()
    raw.close()
    rmSync(dir, { recursive: true, force: true })
  }

  return { base, dir, dbFile, engine, store, app, request, close }
}

/**
 * Asserts the error answer shape `{error, code, details}` (exactly these keys), the status and
 * the code, and, when given, the field named in details.
 */
export function assertError (res: Reply, status: number, code: string, field?: string): void {
  assert.equal(res.status, status, `expected status ${status}, got ${res.status}: ${res.text}`)
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
  assert.deepEqual(Object.keys(res.body as object).sort(), ['code', 'details', 'error'], res.text)
  assert.equal(res.body.code, code, res.text)
  assert.equal(typeof res.body.error, 'string')
  assert.ok(res.body.error.length > 0)
  assert.equal(typeof res.body.details, 'object')
  assert.notEqual(res.body.details, null)
  assert.ok(!/\bat .*\.ts:\d+/.test(res.text), `a stack trace leaked: ${res.text}`)
  if (field !== undefined) {
    assert.equal(res.body.details.field, field, res.text)
    assert.ok(res.body.error.includes(field), `the message should name ${field}: ${res.body.error}`)
  }
}

/** Wraps a store so that chosen methods can be made to fail. */
export function faultyStore (): { wrap: (s: Store) => Store, fail: Map<string, () => never>, health: { value?: { ok: boolean, detail: string } } } {
  const fail = new Map<string, () => never>()
  const health: { value?: { ok: boolean, detail: string } } = {}
  const wrap = (s: Store): Store => new Proxy(s, {
    get (target, prop, receiver) {
      if (prop === 'health' && health.value !== undefined) return () => health.value
      const thrower = typeof prop === 'string' ? fail.get(prop) : undefined
      if (thrower !== undefined) return thrower
      const v: unknown = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    }
  })
  return { wrap, fail, health }
}

export const enc = encodeURIComponent
