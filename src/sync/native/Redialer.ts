/**
 * Keeps a session open to each manual peer: dials it, waits while the session lasts, and dials
 * again after it ends — forever, with capped exponential backoff (base, doubling per
 * consecutive failure, at most `maxMs`, ±20 % jitter). A failure is a dial that fails or a
 * session that does not last (`onConnected` says whether it was healthy).
 */
import type { NodeId } from '../../core/ids.ts'
import type { Connection } from '../../transport/Transport.ts'
import { abortableDelay, errorMessage, raceAbort } from '../../transport/util.ts'

export interface BackoffOptions {
  /** First retry delay, ms. Default 500. */
  readonly baseMs?: number
  /** Longest retry delay, ms. Default 30,000. */
  readonly maxMs?: number
}

export interface RedialerOptions extends BackoffOptions {
  readonly dial: (addr: string, signal: AbortSignal) => Promise<Connection>
  /** A session to `addr` is up; resolves when it ends, with whether it was healthy. */
  readonly onConnected: (addr: string, conn: Connection) => Promise<boolean>
  readonly onFailure?: (addr: string, err: unknown, failures: number) => void
  readonly random?: () => number
  readonly now?: () => number
}

export interface DialState {
  readonly addr: string
  nodeId: NodeId | undefined
  connected: boolean
  /** Consecutive failures (0 after a healthy session). */
  failures: number
  lastError: string | undefined
  nextAttemptAt: number | undefined
}

interface Loop {
  readonly state: DialState
  readonly abort: AbortController
  readonly done: Promise<void>
}

export class Redialer {
  private readonly opts: RedialerOptions
  private readonly loops = new Map<string, Loop>()
  private readonly random: () => number
  private readonly now: () => number

  constructor (opts: RedialerOptions) {
    this.opts = opts
    this.random = opts.random ?? Math.random
    this.now = opts.now ?? Date.now
  }

  /** The delay before the next attempt after `failures` consecutive failures. */
  delayFor (failures: number): number {
    const base = this.opts.baseMs ?? 500
    const max = this.opts.maxMs ?? 30_000
    const d = failures <= 0 ? base : Math.min(max, base * 2 ** Math.min(failures - 1, 30))
    return Math.round(d * (0.8 + 0.4 * this.random()))
  }

  /** Starts keeping a session to `addr` (no-op when already running). */
  start (addr: string): void {
    if (this.loops.has(addr)) return
    const state: DialState = { addr, nodeId: undefined, connected: false, failures: 0, lastError: undefined, nextAttemptAt: undefined }
    const abort = new AbortController()
    const done = this.run(state, abort.signal).catch(() => undefined)
    this.loops.set(addr, { state, abort, done })
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

  private async run (st: DialState, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      st.nextAttemptAt = undefined
      let healthy = false
      try {
        const conn = await this.opts.dial(st.addr, signal)
        st.nodeId = conn.remoteNode
        st.connected = true
        healthy = await raceAbort(this.opts.onConnected(st.addr, conn), signal)
        st.connected = false
        if (!healthy) st.lastError = 'the session ended early'
      } catch (e) {
        st.connected = false
        if (signal.aborted) return
        st.lastError = errorMessage(e)
        this.opts.onFailure?.(st.addr, e, st.failures + 1)
      }
      st.failures = healthy ? 0 : st.failures + 1
      const delay = this.delayFor(st.failures)
      st.nextAttemptAt = this.now() + delay
      await abortableDelay(delay, signal)
    }
  }
}
