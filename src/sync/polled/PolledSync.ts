/**
 * Polled mode's scheduler: pulls from every current REST peer every `sync.intervalSeconds`
 * (±10 % jitter), page by page until the peer says there is no more, each call bounded by
 * `sync.syncTimeoutMs`. Runs never overlap for one peer: a run asked for while one is under
 * way waits for it and then runs (or, from the timer, joins it).
 *
 * A run that fails is retried with capped exponential backoff: `retryBaseMs` after the first
 * failure, doubling with each consecutive one, never more than the interval (±10 %), forever.
 * A peer that cannot be reached is marked unreachable meanwhile and recovers by itself.
 *
 * Both directions: each node pulls from the peers it paired, so two nodes that paired each
 * other converge. Each peer is probed (GET /api/v1/p2p/status) on first contact, after a
 * failure and every `probeEveryMs`, and the answer is recorded, so a peer that gains or loses
 * P2P is seen without a restart.
 *
 * Timers, randomness, the clock, the pull and the probe are options, so tests drive the
 * schedule without waiting.
 */
import { isEngramError, CONFLICT } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import type { Engine } from '../../engine/Engine.ts'
import type { Logger } from '../../util/log.ts'
import type { ConflictLog, ConflictPass } from '../../replication/conflicts.ts'
import { tlsFetch, type ClientTls } from '../../tls/client.ts'
import type { RestKey } from './auth.ts'
import { pullFrom, type PeerTls, type PullOptions, type PullProgress, type PullResult } from './DeltaClient.ts'
import type { RestPeers, RestPeer } from '../../peers/RestPeers.ts'
import type { PeerClocks } from '../../replication/PeerClocks.ts'

export interface PolledSettings {
  readonly intervalMs: number
  readonly pageSize: number
  readonly timeoutMs: number
  /** First retry delay after a failure; doubles per consecutive failure up to intervalMs. */
  readonly retryBaseMs: number
}

export interface Timers {
  setTimeout (fn: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); t.unref(); return t },
  clearTimeout: h => clearTimeout(h as NodeJS.Timeout)
}

export interface P2pProbe {
  readonly enabled: boolean
  readonly nodeId?: string
}

export interface PolledSyncOptions {
  readonly engine: Engine
  /** The paired REST peers (the peer registry's). */
  readonly peers: RestPeers
  /** REST auth key; undefined when no secret is configured (then nothing is pulled). */
  readonly key: () => RestKey | undefined
  /** TLS towards peers (tls.*), when configured. */
  readonly tls?: PeerTls
  readonly settings: () => PolledSettings
  readonly log: Logger
  /** A conflict pass for one pull from the peer named so (sync.conflictStrategy). */
  readonly conflicts?: (peer: string) => ConflictPass
  readonly conflictLog?: ConflictLog
  /** Whether sync may run now (the store is healthy, a secret is set), and why not. */
  readonly canSync?: () => { readonly ok: boolean, readonly reason: string }
  readonly random?: () => number
  readonly timers?: Timers
  readonly now?: () => number
  readonly pull?: typeof pullFrom
  /** One POST to a peer (DeltaClient.ts PullOptions.exchange; default HTTP). */
  readonly exchange?: PullOptions['exchange']
  readonly probe?: (url: string, timeoutMs: number, signal: AbortSignal) => Promise<P2pProbe>
  /** Re-probe a healthy peer at most this often (default 10 minutes). */
  readonly probeEveryMs?: number
  /** Where the peers' clock readings go (each delta answer's `now`). */
  readonly clocks?: PeerClocks
  /** Why this peer is not pulled now (it is synced natively), or undefined to pull it. */
  readonly skip?: (peer: RestPeer) => string | undefined
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
  /** Set when the peer was not pulled because it is synced another way (native P2P). */
  readonly skipped?: string
}

const DEFAULT_PROBE_EVERY_MS = 10 * 60 * 1000

export class PolledSync {
  private readonly opts: PolledSyncOptions
  private readonly timers: Timers
  private readonly scheduled = new Map<string, unknown>()
  /** The run under way for each peer, and who follows its progress. */
  private readonly running = new Map<string, { readonly done: Promise<PeerRunResult>, readonly listeners: Set<(p: PullProgress) => void> }>()
  private readonly clockOffsets = new Map<string, number>()
  private abort = new AbortController()
  private started = false

  constructor (opts: PolledSyncOptions) {
    this.opts = opts
    this.timers = opts.timers ?? realTimers
  }

  private get now (): () => number { return this.opts.now ?? Date.now }
  private random (): number { return (this.opts.random ?? Math.random)() }

  start (): void {
    if (this.started) return
    this.started = true
    this.abort = new AbortController()
    const interval = this.opts.settings().intervalMs
    for (const p of this.opts.peers.current()) if (p.status !== 'paused') this.schedule(p.name, Math.floor(this.random() * Math.min(1000, interval)))
  }

  async stop (): Promise<void> {
    this.started = false
    this.abort.abort()
    for (const t of this.scheduled.values()) this.timers.clearTimeout(t)
    this.scheduled.clear()
    await Promise.allSettled([...this.running.values()].map(r => r.done))
  }

  /** The peers with a run scheduled (for tests). */
  scheduledPeers (): string[] {
    return [...this.scheduled.keys()]
  }

  /** Call after a peer is paired, unpaired, paused or resumed: new peers run at once. */
  peersChanged (): void {
    if (!this.started) return
    for (const [name, t] of this.scheduled) {
      const p = this.opts.peers.get(name)
      if (p === undefined || p.status === 'removed' || p.status === 'paused') { this.timers.clearTimeout(t); this.scheduled.delete(name) }
    }
    for (const p of this.opts.peers.current()) {
      if (p.status !== 'paused' && !this.scheduled.has(p.name) && !this.running.has(p.name)) this.schedule(p.name, 0)
    }
  }

  /**
   * Syncs now with one peer (by name) or every current peer that is not paused. A run already
   * under way for a peer (the one a pairing or a resume started, or the timer's) is followed to
   * its end, its progress shown too, then a fresh run starts (so it sees every write made before
   * the call); the result counts both, so a pull that was waited on is never reported as nothing.
   */
  async syncNow (name?: string, onProgress?: (peer: string, p: PullProgress) => void): Promise<PeerRunResult[]> {
    const names = name !== undefined ? [name] : this.opts.peers.current().filter(p => p.status !== 'paused').map(p => p.name)
    return await Promise.all(names.map(async n => {
      const current = this.running.get(n)
      let joined: PeerRunResult | undefined
      if (current !== undefined) {
        const follow = onProgress !== undefined ? (p: PullProgress): void => onProgress(n, p) : undefined
        if (follow !== undefined) current.listeners.add(follow)
        joined = await current.done.catch(() => undefined)
      }
      const before = joined
      const fresh = await this.run(n, onProgress !== undefined && before !== undefined
        ? (peer, p) => onProgress(peer, { pages: before.pages + p.pages, received: before.received + p.received, applied: before.applied + p.applied, ...(p.remaining !== undefined ? { remaining: p.remaining } : {}) })
        : onProgress)
      return before === undefined || before.skipped !== undefined ? fresh : joinResults(before, fresh)
    }))
  }

  /**
   * Follows the pull under way for a peer to its end (starting one when there is none), with its
   * progress: what a pairing or a resume started, seen by whoever asked for it.
   */
  follow (name: string, onProgress?: (peer: string, p: PullProgress) => void): Promise<PeerRunResult> {
    return this.run(name, onProgress)
  }

  private schedule (name: string, delayMs: number): void {
    if (!this.started) return
    const old = this.scheduled.get(name)
    if (old !== undefined) this.timers.clearTimeout(old)
    this.scheduled.set(name, this.timers.setTimeout(() => {
      this.scheduled.delete(name)
      void this.run(name).then(r => this.scheduleNext(name, r), () => this.scheduleNext(name, undefined))
    }, Math.max(0, Math.round(delayMs))))
  }

  /** The delay before the next run: the interval after a success, the backoff after a failure. */
  nextDelay (failures: number): number {
    const { intervalMs, retryBaseMs } = this.opts.settings()
    const jitter = 0.9 + 0.2 * this.random()
    const base = failures === 0 ? intervalMs : Math.min(intervalMs, retryBaseMs * 2 ** Math.min(failures - 1, 30))
    return base * jitter
  }

  private scheduleNext (name: string, r: PeerRunResult | undefined): void {
    const peer = this.opts.peers.get(name)
    if (peer === undefined || peer.status === 'removed' || peer.status === 'paused' || !this.started) return
    // A rate limit (the peer's 429, or this node's tombstone budget) is no sign of trouble:
    // the pull made what progress it could; go on after the first retry delay, without backing off.
    if (r?.code === 'RATE_LIMITED') { this.schedule(name, Math.min(this.opts.settings().intervalMs, this.opts.settings().retryBaseMs)); return }
    this.schedule(name, this.nextDelay(r?.ok === true ? 0 : Math.max(1, peer.failures)))
  }

  private run (name: string, onProgress?: (peer: string, p: PullProgress) => void): Promise<PeerRunResult> {
    const follow = onProgress !== undefined ? (p: PullProgress): void => onProgress(name, p) : undefined
    const existing = this.running.get(name)
    if (existing !== undefined) {
      if (follow !== undefined) existing.listeners.add(follow)
      return existing.done
    }
    const listeners = new Set<(p: PullProgress) => void>(follow !== undefined ? [follow] : [])
    const done = this.runOnce(name, p => { for (const l of listeners) l(p) }).finally(() => this.running.delete(name))
    this.running.set(name, { done, listeners })
    return done
  }

  private async runOnce (name: string, onProgress: (p: PullProgress) => void): Promise<PeerRunResult> {
    const { engine, peers } = this.opts
    const peer = peers.get(name)
    const started = performance.now()
    if (peer === undefined || peer.status === 'removed') return fail(name, started, `no such peer: ${name}`, 'NOT_FOUND')
    if (peer.status === 'paused') return fail(name, started, `peer ${name} is paused`, 'UNAVAILABLE')
    const can = this.opts.canSync?.() ?? { ok: true, reason: '' }
    if (!can.ok) return fail(name, started, `sync is off: ${can.reason}`, 'UNAVAILABLE')
    const key = this.opts.key()
    if (key === undefined) return this.record(name, fail(name, started, 'no shared secret: set sync.passphrase or p2p.seed to the same value on both nodes', 'UNAUTHORIZED'))
    const settings = this.opts.settings()
    if (this.probeDue(peer)) await this.probe(peer, settings.timeoutMs)
    const skipped = this.opts.skip?.(peers.get(name) ?? peer)
    if (skipped !== undefined) {
      return { peer: name, ok: true, received: 0, applied: 0, conflicts: 0, pages: 0, bytes: 0, durationMs: performance.now() - started, skipped }
    }
    const pass = this.opts.conflicts?.(name)
    try {
      const res: PullResult = await (this.opts.pull ?? pullFrom)({ url: peer.url, nodeId: peer.nodeId }, {
        engine,
        key,
        ...(this.opts.tls !== undefined ? { tls: this.opts.tls } : {}),
        timeoutMs: settings.timeoutMs,
        pageSize: settings.pageSize,
        namespaces: peer.namespaces,
        conflicts: pass,
        conflictLog: this.opts.conflictLog,
        signal: this.abort.signal,
        now: this.now,
        clockOffsets: this.clockOffsets,
        ...(this.opts.clocks !== undefined ? { clocks: this.opts.clocks } : {}),
        ...(this.opts.exchange !== undefined ? { exchange: this.opts.exchange } : {}),
        // Remember the peer's identity at once: its cursor is kept under it.
        onPeer: nodeId => {
          this.refuseTwin(name, peer.url, nodeId)
          peers.update(name, { nodeId })
        },
        onProgress
      })
      this.refuseTwin(name, peer.url, res.nodeId)
      if (peers.get(name)?.status === 'unreachable') this.opts.log.info(`peer ${name} is reachable again`, { peer: name, url: peer.url })
      peers.update(name, { nodeId: res.nodeId as NodeId, feedId: res.feedId })
      if (res.inferredDeletes > 0) {
        this.opts.log.info(`deleted ${res.inferredDeletes} records that ${name} deleted while this node was away`, { peer: name, count: res.inferredDeletes })
      }
      return this.record(name, {
        peer: name, ok: true, received: res.received, applied: res.applied, conflicts: pass?.count ?? 0, pages: res.pages, bytes: res.bytes, durationMs: res.durationMs
      })
    } catch (e) {
      const code = isEngramError(e) ? e.code : 'INTERNAL'
      const message = e instanceof Error ? e.message : String(e)
      const result = fail(name, started, message, code)
      // Stopped by the node shutting down: not the peer's failure.
      return this.abort.signal.aborted ? result : this.record(name, result)
    }
  }

  /** One node paired under two names would pull with one cursor twice at once: refused. */
  private refuseTwin (name: string, url: string, nodeId: string): void {
    const twin = this.opts.peers.byNode(nodeId)
    if (twin !== undefined && twin.name !== name) {
      throw CONFLICT(`${url} is node ${nodeId}, already paired as "${twin.name}"; unpair one of them`, { peer: twin.name })
    }
  }

  private probeDue (peer: RestPeer): boolean {
    if (peer.p2p === undefined || peer.status === 'unreachable' || peer.failures > 0) return true
    return this.now() - Date.parse(peer.p2p.probedAt) >= (this.opts.probeEveryMs ?? DEFAULT_PROBE_EVERY_MS)
  }

  private async probe (peer: RestPeer, timeoutMs: number): Promise<void> {
    let result: P2pProbe = { enabled: false }
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(Math.min(timeoutMs, 5000))])
    try {
      result = await (this.opts.probe ?? ((url, ms, sig) => probeP2p(url, ms, sig, this.opts.tls?.client)))(peer.url, timeoutMs, signal)
    } catch {
      // Unreachable: the pull that follows says so.
    }
    this.opts.peers.update(peer.name, { p2p: { ...result, probedAt: new Date(this.now()).toISOString() } })
  }

  private record (name: string, r: PeerRunResult): PeerRunResult {
    const { log, peers } = this.opts
    const peer = peers.get(name)
    if (peer === undefined) return r
    const at = new Date(this.now()).toISOString()
    const c = peer.counters
    const steady = peer.status === 'paused' || peer.status === 'removed'
    if (r.ok) {
      peers.update(name, {
        status: steady ? peer.status : 'active', failures: 0, lastSyncAt: at,
        lastResult: { ok: true, at, received: r.received, applied: r.applied, conflicts: r.conflicts, durationMs: Math.round(r.durationMs) },
        counters: { syncs: c.syncs + 1, failures: c.failures, received: c.received + r.received, applied: c.applied + r.applied, conflicts: c.conflicts + r.conflicts }
      })
      log.debug('polled sync done', { peer: name, received: r.received, applied: r.applied, pages: r.pages })
    } else {
      const failures = peer.failures + 1
      const unreachable = r.code === 'UNAVAILABLE' || r.code === 'TIMEOUT'
      peers.update(name, {
        status: steady ? peer.status : unreachable ? 'unreachable' : 'active',
        failures,
        lastResult: { ok: false, at, received: 0, applied: 0, conflicts: 0, durationMs: Math.round(r.durationMs), error: r.error, code: r.code },
        counters: { ...c, failures: c.failures + 1 }
      })
      // A refused peer (credentials, certificates) is logged every time: it may be an intruder.
      if (failures === 1 || failures % 10 === 0 || r.code === 'UNAUTHORIZED') {
        log.warn(`polled sync with ${name} failed: ${r.error ?? 'unknown error'}`, { peer: name, url: peer.url, code: r.code, failures, retry: 'automatic, with backoff' })
      }
    }
    return r
  }
}

/** A run that was waited on, then the fresh one: counts of both; the fresh one says how it ended. */
function joinResults (joined: PeerRunResult, fresh: PeerRunResult): PeerRunResult {
  return {
    ...fresh,
    received: joined.received + fresh.received,
    applied: joined.applied + fresh.applied,
    conflicts: joined.conflicts + fresh.conflicts,
    pages: joined.pages + fresh.pages,
    bytes: joined.bytes + fresh.bytes,
    durationMs: joined.durationMs + fresh.durationMs
  }
}

function fail (peer: string, started: number, error: string, code: string): PeerRunResult {
  return { peer, ok: false, received: 0, applied: 0, conflicts: 0, pages: 0, bytes: 0, durationMs: performance.now() - started, error, code }
}

/** GET /api/v1/p2p/status: P2P is on when it answers 200 with `enabled: true` and a node id. */
export async function probeP2p (url: string, _timeoutMs: number, signal: AbortSignal, tls?: ClientTls): Promise<P2pProbe> {
  const r = await tlsFetch(new URL('/api/v1/p2p/status', url), { signal }, tls)
  if (!r.ok) {
    await r.body?.cancel()
    return { enabled: false }
  }
  const body = await r.json() as { enabled?: unknown, node_id?: unknown, nodeId?: unknown }
  const nodeId = typeof body.node_id === 'string' ? body.node_id : typeof body.nodeId === 'string' ? body.nodeId : undefined
  return { enabled: body.enabled === true && nodeId !== undefined && nodeId !== '', ...(nodeId !== undefined ? { nodeId } : {}) }
}
