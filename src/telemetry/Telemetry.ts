/**
 * A node's telemetry, built once by the node and read by GET /metrics and the live status
 * stream: what it has been doing (Activity.ts), its recent warnings and errors (RecentLog.ts)
 * and its event loop (EventLoopMonitor.ts).
 */
import type { Engine } from '../engine/Engine.ts'
import { Activity } from './Activity.ts'
import { EventLoopMonitor } from './EventLoopMonitor.ts'
import { RecentLog } from './RecentLog.ts'

export interface Telemetry {
  readonly activity: Activity
  readonly recentLog: RecentLog
  readonly eventLoop: EventLoopMonitor
  close (): void
}

export function createTelemetry (engine: Pick<Engine, 'on' | 'off'>, opts: { now?: () => number, recentLog?: RecentLog } = {}): Telemetry {
  const activity = new Activity(engine, { now: opts.now })
  const recentLog = opts.recentLog ?? new RecentLog({ now: opts.now })
  const eventLoop = new EventLoopMonitor({ now: opts.now })
  return {
    activity,
    recentLog,
    eventLoop,
    close () {
      activity.close()
      eventLoop.close()
    }
  }
}
