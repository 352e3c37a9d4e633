/**
 * The live status of a node for the dashboard, pushed to GET /api/v1/status/stream subscribers
 * only when something changed, so an open dashboard costs next to nothing while the node is idle.
 *
 *   write or received change (Activity) ──┐
 *   warning or error logged (RecentLog) ──┤
 *   a peer dialled, reached, gone ────────┼──► snapshot, at most every minIntervalMs ──► subscribers
 *   every checkMs, while subscribed ──────┘    (only when it differs from the last one sent)
 *
 * A snapshot is built by `build` (the same bodies as GET /api/v1/status and GET
 * /api/v1/sync/status, plus activity and recent log lines). What events announce (writes,
 * received changes, log lines, P2P peers coming and going) is sent at most `minIntervalMs`
 * after it happened. What changes without an event (a polled run failing, a peer found by
 * discovery) is found by a check every `checkMs`, which sends only when the snapshot's
 * `signature` changed; counters that move while nothing else does (gossip rounds, bytes,
 * last-sync times) are sent at most every `refreshMs`.
 * Nothing runs while nobody is subscribed.
 *
 * The activity series is sent whole in a subscriber's first snapshot, then only the seconds since
 * the previous snapshot (the second under way again, as it may have grown).
 */
import type { ActivityPoint } from '../telemetry/Activity.ts'
import type { Telemetry } from '../telemetry/Telemetry.ts'

export interface StatusFeedOptions {
  /** Shortest time between two snapshots, ms (default 500). */
  readonly minIntervalMs?: number
  /** How often changes no event announces are looked for while someone is subscribed, ms (default 5,000). */
  readonly checkMs?: number
  /** Longest time counters that move on their own go unsent, ms (default 30,000). */
  readonly refreshMs?: number
  readonly now?: () => number
}

export interface LiveActivity {
  /** Seconds of history the node keeps. */
  readonly windowSeconds: number
  /** Seconds with activity, oldest first: [epoch second, local writes, received changes]. */
  readonly points: readonly ActivityPoint[]
  /** True in a subscriber's first snapshot (the whole window), false after (the seconds since the previous snapshot). */
  readonly full: boolean
}

export type SnapshotBody = Record<string, unknown>

export interface StatusFeedSource {
  /** The snapshot without its activity. */
  build (): SnapshotBody
  /** What counts as a change: the snapshot without the counters that move on their own. */
  signature (snapshot: SnapshotBody): string
}

type Listener = (eventText: string) => void

export const STATUS_FEED_DEFAULTS = { minIntervalMs: 500, checkMs: 5000, refreshMs: 30_000 } as const

export class StatusFeed {
  private readonly source: StatusFeedSource
  private readonly telemetry: Telemetry
  private readonly opts: Required<StatusFeedOptions>
  private readonly listeners = new Set<Listener>()
  private unsubscribe: (() => void) | undefined
  private pending: NodeJS.Timeout | undefined
  private checker: NodeJS.Timeout | undefined
  private lastSentAt = -Infinity
  private lastSignature = ''
  private lastBody = ''
  /** The last activity second sent (sent again when it has grown since). */
  private lastPoint: ActivityPoint | undefined
  /** Snapshots sent since start (for tests and the idle-cost figures). */
  sent = 0

  constructor (source: StatusFeedSource, telemetry: Telemetry, opts: StatusFeedOptions = {}) {
    this.source = source
    this.telemetry = telemetry
    this.opts = {
      minIntervalMs: opts.minIntervalMs ?? STATUS_FEED_DEFAULTS.minIntervalMs,
      checkMs: opts.checkMs ?? STATUS_FEED_DEFAULTS.checkMs,
      refreshMs: opts.refreshMs ?? STATUS_FEED_DEFAULTS.refreshMs,
      now: opts.now ?? Date.now
    }
  }

  get subscribers (): number {
    return this.listeners.size
  }

  /**
   * Subscribes `listener` to status events (already formatted as event-stream text); returns the
   * first one (`event: ready`, with the whole activity window) and the function that unsubscribes.
   */
  subscribe (listener: Listener): { ready: string, unsubscribe: () => void } {
    if (this.listeners.size === 0) this.start()
    this.listeners.add(listener)
    const ready = this.text('ready', JSON.stringify(this.source.build()), this.telemetry.activity.series(), true)
    return {
      ready,
      unsubscribe: () => {
        if (this.listeners.delete(listener) && this.listeners.size === 0) this.stop()
      }
    }
  }

  /** Ends every subscription (the server is closing). */
  close (): void {
    this.listeners.clear()
    this.stop()
  }

  private start (): void {
    const wake = (): void => { this.schedule() }
    const offs = [this.telemetry.activity.onActivity(wake), this.telemetry.recentLog.onLine(wake), this.telemetry.onPeersChanged(wake)]
    this.unsubscribe = () => { for (const off of offs) off() }
    this.checker = setInterval(() => { this.flush(false) }, this.opts.checkMs)
    this.checker.unref()
    // The first check compares with what the first subscriber is sent.
    const body = this.source.build()
    this.lastSignature = this.source.signature(body)
    this.lastBody = JSON.stringify(body)
    this.lastSentAt = this.opts.now()
    this.lastPoint = this.telemetry.activity.series().at(-1)
  }

  private stop (): void {
    this.unsubscribe?.()
    this.unsubscribe = undefined
    if (this.checker !== undefined) clearInterval(this.checker)
    if (this.pending !== undefined) clearTimeout(this.pending)
    this.checker = undefined
    this.pending = undefined
  }

  /** An event announced a change: a snapshot goes out within minIntervalMs. */
  private schedule (): void {
    if (this.pending !== undefined || this.listeners.size === 0) return
    const wait = Math.max(0, this.lastSentAt + this.opts.minIntervalMs - this.opts.now())
    this.pending = setTimeout(() => { this.pending = undefined; this.flush(true) }, wait)
    this.pending.unref()
  }

  /** Builds a snapshot and sends it when it says something new (`announced`: an event said so). */
  private flush (announced: boolean): void {
    if (this.listeners.size === 0) return
    const now = this.opts.now()
    const body = this.source.build()
    const signature = this.source.signature(body)
    const points = this.newPoints()
    const changed = announced || signature !== this.lastSignature || points.length > 0
    if (!changed && now - this.lastSentAt < this.opts.refreshMs) return
    const bodyText = JSON.stringify(body)
    // A refresh with nothing new at all, not even a counter, is not sent.
    if (!changed && bodyText === this.lastBody) return
    this.lastSignature = signature
    this.lastBody = bodyText
    this.lastSentAt = now
    if (points.length > 0) this.lastPoint = points[points.length - 1]
    this.sent++
    const text = this.text('status', bodyText, points, false)
    for (const l of this.listeners) l(text)
  }

  /** The activity seconds not sent yet, and the last one sent if it has grown since. */
  private newPoints (): ActivityPoint[] {
    const last = this.lastPoint
    if (last === undefined) return this.telemetry.activity.series()
    return this.telemetry.activity.series(last[0] - 1).filter(p => p[0] > last[0] || p[1] !== last[1] || p[2] !== last[2])
  }

  private text (event: 'ready' | 'status', bodyText: string, points: readonly ActivityPoint[], full: boolean): string {
    const activity: LiveActivity = { windowSeconds: this.telemetry.activity.windowSeconds, points, full }
    // The body's fields, then `at` and `activity`: one JSON object on one line.
    const at = new Date(this.opts.now()).toISOString()
    return `event: ${event}\ndata: ${bodyText.slice(0, -1)}${bodyText.length > 2 ? ',' : ''}"at":${JSON.stringify(at)},"activity":${JSON.stringify(activity)}}\n\n`
  }
}
