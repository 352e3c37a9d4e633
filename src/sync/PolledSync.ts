/**
 * Polled mode: pulls from every active REST peer every `sync.intervalSeconds` (±10 % jitter),
 * page by page, each call bounded by `sync.syncTimeoutMs`. Runs never overlap for one peer.
 * A peer that fails is retried with capped exponential backoff (from `retryBaseMs`, doubling, at
 * most the interval), forever; it is marked unreachable meanwhile and recovers by itself.
 *
 * Both directions: each node pulls from the peers it has paired, so two nodes that paired each
 * other converge. Before each run the peer is probed (GET /api/v1/p2p/status) and the answer
 * recorded, so a peer that gains or loses P2P is seen without a restart.
 */
import { isEngramError } from '../core/errors.ts'
import type { NodeId } from '../core/ids.ts'
import type { Engine } from '../engine/Engine.ts'
import type { ConflictLog, ConflictPass } from './conflicts.ts'
import type { Logger } from '../util/log.ts'
import { pullFrom, type PullProgress, type PullResult } from './DeltaClient.ts'
import type { PeerBook, PeerEntry } from './PeerBook.ts'

export interface PolledSettings {
  readonly intervalMs: number
  readonly pageSize: number
  readonly timeoutMs: number
  /** First retry delay after a failure; doubles per consecutive failure up to intervalMs. */
  readonly retryBaseMs: number
}

export interface PolledSyncOptions {
  readonly engine: Engine
  readonly peers: PeerBook
  /** REST auth key; undefined when no secret is configured (then nothing is pulled). */
  readonly key: Uint8Array | undefined
  readonly settings: () => PolledSettings
  readonly log: Logger
  /** A conflict pass for one pull from `peer` (sync.conflictStrategy). */
  readonly conflicts?: (peer: string) => ConflictPass
  readonly conflictLog?: ConflictLog
  readonly random?: () => number
}

export interface PeerRunResult {
  readonly peer: string
  readonly ok: boolean
  readonly received: number
  readonly applied: number
  readonly conflicts: number
  readonly pages: number
  readonly bytes: number
  readonly durationMs: number
  readonly error?: string
  readonly code?: string
}

export class PolledSync {
  private readonly opts: PolledSyncOptions
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly running = new Map<string, Promise<PeerRunResult>>()
  private readonly abort = new AbortController()
  private started = false

  constructor (opts: PolledSyncOptions) {
    this.opts = opts
  }

  start (): void {
    if (this.started) return
    this.started = true
    if (this.opts.key === undefined && this.opts.peers.list().length > 0) {
      this.opts.log.warn('polled sync is off: no shared secret; set sync.passphrase or p2p.seed to the same value on every node')
    }
    for (const p of this.opts.peers.list()) this.schedule(p.name, this.firstDelay())
  }

  async stop (): Promise<void> {
    this.started = false
    this.abort.abort()
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
    await Promise.allSettled([...this.running.values()])
  }

  /** Call after a peer is paired or unpaired. */
  peersChanged (): void {
    if (!this.started) return
    for (const [name, t] of this.timers) {
      if (this.opts.peers.get(name) === undefined) { clearTimeout(t); this.timers.delete(name) }
    }
    for (const p of this.opts.peers.list()) if (!this.timers.has(p.name) && !this.running.has(p.name)) this.schedule(p.name, 0)
  }

  /** Syncs now with one peer (by name) or every active peer; waits for a run already under way first. */
  async syncNow (name?: string, onProgress?: (peer: string, p: PullProgress) => void): Promise<PeerRunResult[]> {
    const names = name !== undefined ? [name] : this.opts.peers.list().filter(p => p.status !== 'paused').map(p => p.name)
    return await Promise.all(names.map(async n => {
      const current = this.running.get(n)
      if (current !== undefined) await current.catch(() => undefined)
      return await this.run(n, onProgress)
    }))
  }

  private firstDelay (): number {
    return Math.floor((this.opts.random ?? Math.random)() * Math.min(1000, this.opts.settings().intervalMs))
  }

  private schedule (name: string, delayMs: number): void {
    if (!this.started) return
    const old = this.timers.get(name)
    if (old !== undefined) clearTimeout(old)
    const t = setTimeout(() => {
      this.timers.delete(name)
      void this.run(name).then(r => this.scheduleNext(name, r), () => this.scheduleNext(name, undefined))
    }, delayMs)
    t.unref()
    this.timers.set(name, t)
  }

  private scheduleNext (name: string, r: PeerRunResult | undefined): void {
    const peer = this.opts.peers.get(name)
    if (peer === undefined || !this.started) return
    const { intervalMs, retryBaseMs } = this.opts.settings()
    const jitter = 0.9 + 0.2 * (this.opts.random ?? Math.random)()
    const delay = r?.ok === true || peer.failures === 0
      ? intervalMs * jitter
      : Math.min(intervalMs, retryBaseMs * 2 ** Math.min(peer.failures - 1, 30)) * jitter
    this.schedule(name, Math.round(delay))
  }

  private run (name: string, onProgress?: (peer: string, p: PullProgress) => void): Promise<PeerRunResult> {
    const existing = this.running.get(name)
    if (existing !== undefined) return existing
    const p = this.runOnce(name, onProgress).finally(() => this.running.delete(name))
    this.running.set(name, p)
    return p
  }

  private async runOnce (name: string, onProgress?: (peer: string, p: PullProgress) => void): Promise<PeerRunResult> {
    const { engine, peers, log } = this.opts
    const peer = peers.get(name)
    const started = performance.now()
    if (peer === undefined) return fail(name, started, 'no such peer', 'NOT_FOUND')
    if (peer.status === 'paused') return fail(name, started, 'peer is paused', 'UNAVAILABLE')
    if (this.opts.key === undefined) {
      return this.record(peer, fail(name, started, 'no shared secret: set sync.passphrase or p2p.seed on both nodes', 'UNAUTHORIZED'))
    }
    const settings = this.opts.settings()
    const pass = this.opts.conflicts?.(name)
    await this.probe(peer, settings.timeoutMs)
    try {
      const res: PullResult = await pullFrom({ url: peer.url, nodeId: peer.nodeId, feedId: peer.feedId }, {
        engine, key: this.opts.key, timeoutMs: settings.timeoutMs, pageSize: settings.pageSize,
        namespaces: peer.namespaces, conflicts: pass, conflictLog: this.opts.conflictLog, signal: this.abort.signal,
        onProgress: onProgress !== undefined ? p => onProgress(name, p) : undefined
      })
      const conflicts = pass?.count ?? 0
      const result: PeerRunResult = { peer: name, ok: true, received: res.received, applied: res.applied, conflicts, pages: res.pages, bytes: res.bytes, durationMs: res.durationMs }
      if (peer.status === 'unreachable') log.info('peer is reachable again', { peer: name, url: peer.url })
      peers.update(name, { nodeId: res.nodeId as NodeId, feedId: res.feedId })
      if (res.inferredDeletes > 0) log.info('deleted records the peer had deleted while this node was away', { peer: name, count: res.inferredDeletes })
      return this.record(peers.get(name)!, result)
    } catch (e) {
      const code = isEngramError(e) ? e.code : 'INTERNAL'
      const message = e instanceof Error ? e.message : String(e)
      return this.record(peer, fail(name, started, message, code))
    }
  }

  private async probe (peer: PeerEntry, timeoutMs: number): Promise<void> {
    let enabled = false
    let nodeId: string | undefined
    try {
      const r = await fetch(new URL('/api/v1/p2p/status', peer.url), { signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(Math.min(timeoutMs, 5000))]) })
      if (r.ok) {
        const body = await r.json() as { enabled?: unknown, node_id?: unknown }
        enabled = body.enabled === true && typeof body.node_id === 'string' && body.node_id !== ''
        nodeId = typeof body.node_id === 'string' ? body.node_id : undefined
      } else {
        await r.body?.cancel()
      }
    } catch {
      // Unreachable: the pull that follows reports it.
    }
    this.opts.peers.update(peer.name, { p2p: { enabled, nodeId, probedAt: new Date().toISOString() } })
  }

  private record (peer: PeerEntry, r: PeerRunResult): PeerRunResult {
    const { log, peers } = this.opts
    const at = new Date().toISOString()
    const c = peer.counters
    if (r.ok) {
      peers.update(peer.name, {
        status: peer.status === 'paused' ? 'paused' : 'active', failures: 0, lastSyncAt: at,
        lastResult: { ok: true, at, received: r.received, applied: r.applied, conflicts: r.conflicts, durationMs: Math.round(r.durationMs) },
        counters: { syncs: c.syncs + 1, failures: c.failures, received: c.received + r.received, applied: c.applied + r.applied, conflicts: c.conflicts + r.conflicts }
      })
      log.debug('polled sync done', { peer: peer.name, received: r.received, applied: r.applied, pages: r.pages })
    } else {
      const failures = peer.failures + 1
      peers.update(peer.name, {
        status: r.code === 'UNAVAILABLE' || r.code === 'TIMEOUT' ? 'unreachable' : peer.status, failures,
        lastResult: { ok: false, at, received: 0, applied: 0, conflicts: 0, durationMs: Math.round(r.durationMs), error: r.error, code: r.code },
        counters: { ...c, failures: c.failures + 1 }
      })
      if (failures === 1 || failures % 10 === 0) {
        log.warn(`polled sync with ${peer.name} failed: ${r.error ?? 'unknown error'}`, { peer: peer.name, url: peer.url, code: r.code, failures, retry: 'automatic, with backoff' })
      }
    }
    return r
  }
}

function fail (peer: string, started: number, error: string, code: string): PeerRunResult {
  return { peer, ok: false, received: 0, applied: 0, conflicts: 0, pages: 0, bytes: 0, durationMs: performance.now() - started, error, code }
}
