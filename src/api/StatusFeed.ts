/**
 * The live status of a node for the dashboard, pushed to GET /api/v1/status/stream subscribers
 * only when something changed, and then only what changed, so an open dashboard costs next to
 * nothing while the node is idle.
 *
 *   write or received change (Activity) ──┐
 *   warning or error logged (RecentLog) ──┤
 *   a peer dialled, reached, gone ────────┼──► snapshot, at most every minIntervalMs ──► changes ──► subscribers
 *   every checkMs, while subscribed ──────┘    (busyIntervalMs while changes keep coming)
 *
 * A subscriber is sent the whole snapshot first (`ready`), then `delta` events holding only the
 * changes since the previous event (statusDelta.ts: [path, value] or [path] for a member gone).
 * A snapshot is built by `build` (the same bodies as GET /api/v1/status and GET
 * /api/v1/sync/status, plus recent log lines). What events announce (writes, received changes,
 * log lines, P2P peers coming and going) is sent at most `minIntervalMs` after it happened; while
 * announced changes keep coming (a catch-up), at most every `busyIntervalMs`, so a long stream of
 * pages is not slowed by the page watching it. What changes without an event (a polled run
 * failing, a peer found by discovery) is found by a check every `checkMs`. Members that move
 * while nothing happens (`source.volatile`: gossip rounds, bytes, last-sync times, clock readings)
 * are sent with the next change, or alone at most every `refreshMs`; nothing else, not even a
 * time stamp, is sent by an idle node. Nothing runs while nobody is subscribed.
 *
 * The activity series is sent whole in `ready`, then only the seconds since the previous event
 * (the second under way again, as it may have grown).
 */
import type { ActivityPoint } from '../telemetry/Activity.ts'
import type { Telemetry } from '../telemetry/Telemetry.ts'
import { diffSnapshots, onlyUnder, type Change } from './statusDelta.ts'

export interface StatusFeedOptions {
  /** Shortest time between two snapshots, ms (default 500). */
  readonly minIntervalMs?: number
  /** Shortest time between two snapshots while announced changes keep coming, ms (default 1,000). */
  readonly busyIntervalMs?: number
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
  /** True in a subscriber's first snapshot (the whole window), false after (the seconds since the previous event). */
  readonly full: boolean
}

/** A `delta` event's data. */
export interface StatusDelta {
  readonly at: string
  readonly changes: readonly Change[]
  readonly activity: LiveActivity
}

export type SnapshotBody = Record<string, unknown>

export interface StatusFeedSource {
  /** The snapshot without its activity. */
  build (): SnapshotBody
  /** Member names under which values move while nothing happens (a change of only these is not a change). */
  readonly volatile: ReadonlySet<string>
}

type Listener = (eventText: string) => void

export const STATUS_FEED_DEFAULTS = { minIntervalMs: 500, busyIntervalMs: 1000, checkMs: 5000, refreshMs: 30_000 } as const

export class StatusFeed {
  private readonly source: StatusFeedSource
  private readonly telemetry: Telemetry
  private readonly opts: Required<StatusFeedOptions>
  private readonly listeners = new Set<Listener>()
  private unsubscribe: (() => void) | undefined
  private pending: NodeJS.Timeout | undefined
  private checker: NodeJS.Timeout | undefined
  private lastSentAt = -Infinity
  /** Whether the last event went out because an event announced a change (a burst may be under way). */
  private lastAnnounced = false
  /** The snapshot every subscriber has now (the last one sent, as JSON would carry it). */
  private lastSent: SnapshotBody = {}
  /** The last activity second sent (sent again when it has grown since). */
  private lastPoint: ActivityPoint | undefined
  /** Delta events sent since start, and checks made (for tests and the idle-cost figures). */
  sent = 0
  checks = 0

  constructor (source: StatusFeedSource, telemetry: Telemetry, opts: StatusFeedOptions = {}) {
    this.source = source
    this.telemetry = telemetry
    this.opts = {
      minIntervalMs: opts.minIntervalMs ?? STATUS_FEED_DEFAULTS.minIntervalMs,
      busyIntervalMs: opts.busyIntervalMs ?? STATUS_FEED_DEFAULTS.busyIntervalMs,
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
   * first one (`event: ready`, the whole snapshot and activity window) and the function that
   * unsubscribes.
   */
  subscribe (listener: Listener): { ready: string, unsubscribe: () => void } {
    const body = this.build()
    if (this.listeners.size === 0) {
      this.start(body)
    } else {
      // the others are brought to the same snapshot first, so the next delta suits everyone
      this.send(diffSnapshots(this.lastSent, body), body, [], false)
    }
    this.listeners.add(listener)
    const ready = this.text('ready', JSON.stringify({ ...body, at: this.at(), activity: this.activity(this.telemetry.activity.series(), true) }))
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

  private start (body: SnapshotBody): void {
    const wake = (): void => { this.schedule() }
    const offs = [this.telemetry.activity.onActivity(wake), this.telemetry.recentLog.onLine(wake), this.telemetry.onPeersChanged(wake)]
    this.unsubscribe = () => { for (const off of offs) off() }
    this.checker = setInterval(() => { this.flush(false) }, this.opts.checkMs)
    this.checker.unref()
    this.lastSent = body
    this.lastSentAt = this.opts.now()
    this.lastAnnounced = false
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

  /**
   * An event announced a change: a delta goes out within minIntervalMs, or busyIntervalMs after
   * the previous one when that one was announced too and recent (changes keep coming).
   */
  private schedule (): void {
    if (this.pending !== undefined || this.listeners.size === 0) return
    const now = this.opts.now()
    const busy = this.lastAnnounced && now - this.lastSentAt < this.opts.busyIntervalMs + this.opts.minIntervalMs
    const wait = Math.max(0, this.lastSentAt + (busy ? this.opts.busyIntervalMs : this.opts.minIntervalMs) - now)
    this.pending = setTimeout(() => { this.pending = undefined; this.flush(true) }, wait)
    this.pending.unref()
  }

  /** Builds a snapshot and sends what changed when it says something new (`announced`: an event said so). */
  private flush (announced: boolean): void {
    if (this.listeners.size === 0) return
    if (!announced) this.checks++
    const body = this.build()
    const changes = diffSnapshots(this.lastSent, body)
    const points = this.newPoints()
    const news = announced || points.length > 0 || !onlyUnder(changes, this.source.volatile)
    // what moves on its own waits for news, or for refreshMs
    if (!news && this.opts.now() - this.lastSentAt < this.opts.refreshMs) return
    this.send(changes, body, points, announced)
  }

  /** Sends `changes` (and new activity `points`) to every subscriber; nothing when there is neither. */
  private send (changes: readonly Change[], body: SnapshotBody, points: readonly ActivityPoint[], announced: boolean): void {
    if (changes.length === 0 && points.length === 0) return
    this.lastSent = body
    this.lastSentAt = this.opts.now()
    this.lastAnnounced = announced
    if (points.length > 0) this.lastPoint = points[points.length - 1]
    this.sent++
    const delta: StatusDelta = { at: this.at(), changes, activity: this.activity(points, false) }
    const text = this.text('delta', JSON.stringify(delta))
    for (const l of this.listeners) l(text)
  }

  /** The snapshot as a subscriber receives it (JSON's values: no undefined members, dates as strings). */
  private build (): SnapshotBody {
    return JSON.parse(JSON.stringify(this.source.build())) as SnapshotBody
  }

  /** The activity seconds not sent yet, and the last one sent if it has grown since. */
  private newPoints (): ActivityPoint[] {
    const last = this.lastPoint
    if (last === undefined) return this.telemetry.activity.series()
    return this.telemetry.activity.series(last[0] - 1).filter(p => p[0] > last[0] || p[1] !== last[1] || p[2] !== last[2])
  }

  private activity (points: readonly ActivityPoint[], full: boolean): LiveActivity {
    return { windowSeconds: this.telemetry.activity.windowSeconds, points, full }
  }

  private at (): string {
    return new Date(this.opts.now()).toISOString()
  }

  private text (event: 'ready' | 'delta', data: string): string {
    return `event: ${event}\ndata: ${data}\n\n`
  }
}
