/**
 * Event-loop delay and utilization of the node's process, for GET /metrics.
 *
 * The delay histogram (node:perf_hooks monitorEventLoopDelay) samples with a timer, which costs
 * CPU while it runs (measured here: about 330 ms a minute at a 20 ms resolution, 70 at 100 ms,
 * against 16 for an idle process). So it samples every `resolutionMs` (100 ms: stalls shorter
 * than that are not what monitoring is for) and only while someone reads it: it starts at the
 * first read and stops `idleStopMs` (5 minutes) after the last, so a node nobody scrapes pays
 * nothing. Figures are of windows of `windowMs` (60 s): a read returns the window under way
 * once it holds at least a second of samples, else the last finished one.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks'

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>

export interface EventLoopFigures {
  /** Delay percentiles and maximum, seconds. */
  readonly p50: number
  readonly p99: number
  readonly max: number
  /** Share of the window the loop was busy, 0–1. */
  readonly utilization: number
}

export interface EventLoopMonitorOptions {
  readonly windowMs?: number
  /** Sampling resolution of the delay histogram, ms (default 100). */
  readonly resolutionMs?: number
  /** Sampling stops this long after the last read, ms (default 300,000). */
  readonly idleStopMs?: number
  readonly now?: () => number
}

const NS = 1e-9
const EMPTY: EventLoopFigures = { p50: 0, p99: 0, max: 0, utilization: 0 }

export class EventLoopMonitor {
  private readonly opts: Required<EventLoopMonitorOptions>
  private histogram: IntervalHistogram | undefined
  private windowStart = 0
  private elu: EventLoopUtilization | undefined
  private last: EventLoopFigures = EMPTY
  private idleTimer: NodeJS.Timeout | undefined

  constructor (opts: EventLoopMonitorOptions = {}) {
    this.opts = {
      windowMs: opts.windowMs ?? 60_000,
      resolutionMs: opts.resolutionMs ?? 100,
      idleStopMs: opts.idleStopMs ?? 300_000,
      now: opts.now ?? Date.now
    }
  }

  /** Whether the histogram is sampling now. */
  get sampling (): boolean {
    return this.histogram !== undefined
  }

  read (): EventLoopFigures {
    const now = this.opts.now()
    this.keepAlive()
    if (this.histogram === undefined) {
      this.histogram = monitorEventLoopDelay({ resolution: this.opts.resolutionMs })
      this.histogram.enable()
      this.windowStart = now
      this.elu = performance.eventLoopUtilization()
      return this.last
    }
    const age = now - this.windowStart
    const current = age >= 1000 ? this.figures() : undefined
    if (age >= this.opts.windowMs) {
      this.last = current ?? this.last
      this.histogram.reset()
      this.windowStart = now
      this.elu = performance.eventLoopUtilization()
    }
    return current ?? this.last
  }

  /** Stops sampling (nobody read for idleStopMs, or the node is stopping). */
  close (): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    this.idleTimer = undefined
    this.histogram?.disable()
    this.histogram = undefined
  }

  private keepAlive (): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => { this.close() }, this.opts.idleStopMs)
    this.idleTimer.unref()
  }

  private figures (): EventLoopFigures {
    const h = this.histogram!
    const count = h.count
    return {
      p50: count > 0 ? h.percentile(50) * NS : 0,
      p99: count > 0 ? h.percentile(99) * NS : 0,
      max: count > 0 ? h.max * NS : 0,
      utilization: this.elu !== undefined ? performance.eventLoopUtilization(this.elu).utilization : 0
    }
  }
}
