/**
 * Keeps a session open to each manual peer: dials it, waits while the session lasts, and dials
 * again after it ends — forever, with capped exponential backoff, jittered ±20 %. Two kinds of
 * failure set two cadences (docs/DISCOVERY.md, "Where peers come from"; docs/PROTOCOL.md, "Redials"):
 *
 * - **refused** — the peer answered and turned the session down, or the session did not last
 *   (`onConnected` says whether it was healthy; a refusal closes it with a failure reason on
 *   either end): `baseMs` doubling per consecutive refusal up to `maxMs` (30 s). Only a healthy
 *   session resets the count, so a peer that keeps refusing is dialled ever less often, up to
 *   the cap, whatever happens between two refusals;
 * - **unanswered** — nothing answered the dial (it timed out, nothing listens there, no route:
 *   `TIMEOUT` or `UNAVAILABLE`): `baseMs` doubling up to `unansweredMaxMs` (5 s). Such a dial
 *   costs the peer nothing and this node a few packets; a short cap means a partition that heals
 *   or a peer that comes back is reached again within seconds.
 *
 * And a session that opens with any peer is a sign the network works: every loop waiting out an
 * unanswered backoff longer than `nudgeMs` then dials within `nudgeMs` (jittered), each at most
 * once per `unansweredMaxMs`; loops waiting after a refusal keep their wait.
 */
import type { NodeId } from '../../core/ids.ts'
import { isEngramError } from '../../core/errors.ts'
import type { Connection } from '../../transport/Transport.ts'
import { abortableDelay, errorMessage, raceAbort } from '../../transport/util.ts'

export interface BackoffOptions {
  /** First retry delay, ms. Default 500. */
  readonly baseMs?: number
  /** Longest retry delay after refusals, ms. Default 30,000. */
  readonly maxMs?: number
  /** Longest retry delay after dials that had no answer, ms (at most `maxMs`). Default 5,000. */
  readonly unansweredMaxMs?: number
  /** When a session opens with any peer, a longer wait after unanswered dials is cut to this, ms. Default 1,000. */
  readonly nudgeMs?: number
}

const BACKOFF_DEFAULTS = { baseMs: 500, maxMs: 30_000, unansweredMaxMs: 5_000, nudgeMs: 1_000 } as const

/** How a dial or session failed (see the file comment). */
export type DialFailureKind = 'refused' | 'unanswered'

/** A dial error with no answer behind it (timed out, nothing listening, no route) is `unanswered`; any other is a refusal. */
export function dialFailureKind (err: unknown): DialFailureKind {
  return isEngramError(err) && (err.code === 'TIMEOUT' || err.code === 'UNAVAILABLE') ? 'unanswered' : 'refused'
}

export interface RedialerOptions extends BackoffOptions {
  readonly dial: (addr: string, signal: AbortSignal) => Promise<Connection>
  /** A session to `addr` is up; resolves when it ends, with whether it was healthy. */
  readonly onConnected: (addr: string, conn: Connection) => Promise<boolean>
  readonly onFailure?: (addr: string, err: unknown, failures: number) => void
  readonly random?: () => number
  readonly now?: () => number
  /** Waits `ms` unless `signal` aborts first (then rejects). Default: a timer. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>
}

export interface DialState {
  readonly addr: string
  nodeId: NodeId | undefined
  connected: boolean
  /** Consecutive failures of either kind (0 after a healthy session). */
  failures: number
  /** Consecutive refusals (0 only after a healthy session): the refusal backoff's exponent. */
  refusals: number
  /** Consecutive dials without an answer (0 after any answer): the unanswered backoff's exponent. */
  unanswered: number
  /** The kind of the last failure (undefined after a healthy session). */
  lastFailure: DialFailureKind | undefined
  lastError: string | undefined
  nextAttemptAt: number | undefined
}

interface Loop {
  readonly state: DialState
  readonly abort: AbortController
  done: Promise<void>
  /** Aborts the backoff wait in progress (a nudge); undefined when not waiting. */
  wake: AbortController | undefined
  nudgedAt: number | undefined
  /** Its first dial is under way (no answer nor failure yet). */
  firstDial: boolean
}

export class Redialer {
  private readonly opts: RedialerOptions
  private readonly loops = new Map<string, Loop>()
  private readonly random: () => number
  private readonly now: () => number
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>
  private readonly baseMs: number
  private readonly maxMs: number
  private readonly unansweredMaxMs: number
  private readonly nudgeMs: number

  constructor (opts: RedialerOptions) {
    this.opts = opts
    this.random = opts.random ?? Math.random
    this.now = opts.now ?? Date.now
    this.sleep = opts.sleep ?? abortableDelay
    this.baseMs = opts.baseMs ?? BACKOFF_DEFAULTS.baseMs
    this.maxMs = opts.maxMs ?? BACKOFF_DEFAULTS.maxMs
    this.unansweredMaxMs = Math.min(this.maxMs, opts.unansweredMaxMs ?? BACKOFF_DEFAULTS.unansweredMaxMs)
    this.nudgeMs = opts.nudgeMs ?? BACKOFF_DEFAULTS.nudgeMs
  }

  /** The delay before the next attempt after `failures` consecutive failures of `kind` (0: after a healthy session). */
  delayFor (failures: number, kind: DialFailureKind = 'refused'): number {
    const cap = kind === 'refused' ? this.maxMs : this.unansweredMaxMs
    const d = failures <= 0 ? this.baseMs : Math.min(cap, this.baseMs * 2 ** Math.min(failures - 1, 30))
    return this.jitter(d)
  }

  /** Starts keeping a session to `addr` (no-op when already running). */
  start (addr: string): void {
    if (this.loops.has(addr)) return
    const state: DialState = { addr, nodeId: undefined, connected: false, failures: 0, refusals: 0, unanswered: 0, lastFailure: undefined, lastError: undefined, nextAttemptAt: undefined }
    const loop: Loop = { state, abort: new AbortController(), done: Promise.resolve(), wake: undefined, nudgedAt: undefined, firstDial: true }
    loop.done = this.run(loop).catch(() => undefined)
    this.loops.set(addr, loop)
  }

  /** Stops dialing `addr` (an open session stays; the caller closes it). */
  async stop (addr: string): Promise<void> {
    const loop = this.loops.get(addr)
    if (loop === undefined) return
    this.loops.delete(addr)
    loop.abort.abort()
    await loop.done
  }

  async stopAll (): Promise<void> {
    await Promise.all([...this.loops.keys()].map(a => this.stop(a)))
  }

  states (): DialState[] {
    return [...this.loops.values()].map(l => l.state)
  }

  state (addr: string): DialState | undefined {
    return this.loops.get(addr)?.state
  }

  /**
   * Whether the first dial of some peer is under way: at a start, the dial of a peer that will
   * then catch this node up (the node's background work waits for it, as for the catch-up
   * itself: NativeSync's `busy`). Once a dial connected or failed it no longer counts, so a peer
   * that does not answer holds nothing for longer than one dial.
   */
  firstDialing (): boolean {
    for (const loop of this.loops.values()) if (loop.firstDial) return true
    return false
  }

  /**
   * A session opened with some peer: every loop waiting out an unanswered backoff with more than
   * `nudgeMs` left dials within `nudgeMs` instead (each at most once per `unansweredMaxMs`).
   * Returns how many loops were nudged.
   */
  nudge (): number {
    const now = this.now()
    let n = 0
    for (const loop of this.loops.values()) {
      const st = loop.state
      if (loop.wake === undefined || st.lastFailure !== 'unanswered' || st.nextAttemptAt === undefined) continue
      if (st.nextAttemptAt - now <= this.nudgeMs) continue
      if (loop.nudgedAt !== undefined && now - loop.nudgedAt < this.unansweredMaxMs) continue
      loop.nudgedAt = now
      loop.wake.abort()
      n++
    }
    return n
  }

  private jitter (ms: number): number {
    return Math.round(ms * (0.8 + 0.4 * this.random()))
  }

  private async run (loop: Loop): Promise<void> {
    const st = loop.state
    const signal = loop.abort.signal
    while (!signal.aborted) {
      st.nextAttemptAt = undefined
      let outcome: DialFailureKind | 'healthy'
      try {
        let conn: Connection
        try {
          conn = await this.opts.dial(st.addr, signal)
        } finally {
          loop.firstDial = false
        }
        st.nodeId = conn.remoteNode
        st.connected = true
        const healthy = await raceAbort(this.opts.onConnected(st.addr, conn), signal)
        st.connected = false
        outcome = healthy ? 'healthy' : 'refused'
        if (!healthy) st.lastError = 'the session ended early'
      } catch (e) {
        st.connected = false
        if (signal.aborted) return
        st.lastError = errorMessage(e)
        outcome = dialFailureKind(e)
        this.opts.onFailure?.(st.addr, e, st.failures + 1)
      }
      const delay = this.count(st, outcome)
      st.nextAttemptAt = this.now() + delay
      await this.wait(loop, delay)
    }
  }

  /** Counts an attempt's outcome; returns the delay before the next one. */
  private count (st: DialState, outcome: DialFailureKind | 'healthy'): number {
    if (outcome === 'healthy') {
      st.failures = st.refusals = st.unanswered = 0
      st.lastFailure = undefined
      return this.delayFor(0)
    }
    st.failures++
    st.lastFailure = outcome
    if (outcome === 'refused') {
      st.refusals++
      st.unanswered = 0
      return this.delayFor(st.refusals, 'refused')
    }
    st.unanswered++
    return this.delayFor(st.unanswered, 'unanswered')
  }

  /** Waits `ms`, or less when nudged (then a jittered `nudgeMs` at most); rejects when the loop stops. */
  private async wait (loop: Loop, ms: number): Promise<void> {
    const stop = loop.abort.signal
    const wake = new AbortController()
    // the wait ends on a nudge or when the loop stops (one listener, removed after: loops live long)
    const onStop = (): void => { wake.abort(stop.reason) }
    stop.addEventListener('abort', onStop, { once: true })
    loop.wake = wake
    try {
      await this.sleep(ms, wake.signal)
    } catch (e) {
      if (stop.aborted) throw e
      loop.wake = undefined
      const short = Math.round(this.nudgeMs * (0.5 + 0.5 * this.random()))
      loop.state.nextAttemptAt = this.now() + short
      await this.sleep(short, stop)
    } finally {
      loop.wake = undefined
      stop.removeEventListener('abort', onStop)
    }
  }
}
