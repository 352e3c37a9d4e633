/**
 * Event-loop delay and utilization of the node's process, for GET /metrics.
 *
 * The delay histogram (node:perf_hooks monitorEventLoopDelay) samples with a timer, so it is
 * started only when first read — a node that is never scraped pays nothing — and runs from then
 * on. Figures are of windows of `windowMs` (default 60 s): a read returns the window under way
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
  /** Sampling resolution of the delay histogram, ms (default 20). */
  readonly resolutionMs?: number
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

  constructor (opts: EventLoopMonitorOptions = {}) {
    this.opts = { windowMs: opts.windowMs ?? 60_000, resolutionMs: opts.resolutionMs ?? 20, now: opts.now ?? Date.now }
  }

  read (): EventLoopFigures {
    const now = this.opts.now()
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

  /** Stops sampling (the node is stopping). */
  close (): void {
    this.histogram?.disable()
    this.histogram = undefined
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
