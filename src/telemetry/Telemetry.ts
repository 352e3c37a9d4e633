/**
 * A node's telemetry, built once by the node and read by GET /metrics and the live status
 * stream: what it has been doing (Activity.ts), its recent warnings and errors (RecentLog.ts)
 * and its event loop (EventLoopMonitor.ts). `peersChanged()` is a doorbell the node rings when
 * a peer is dialled, reached, fails or goes, so the live status shows it at once.
 */
import type { Engine } from '../engine/Engine.ts'
import { Activity } from './Activity.ts'
import { EventLoopMonitor } from './EventLoopMonitor.ts'
import { RecentLog } from './RecentLog.ts'

export interface Telemetry {
  readonly activity: Activity
  readonly recentLog: RecentLog
  readonly eventLoop: EventLoopMonitor
  /** A peer was dialled, reached, failed or went away. */
  peersChanged (): void
  /** Calls `listener` on every peersChanged(); returns the function that unsubscribes. */
  onPeersChanged (listener: () => void): () => void
  close (): void
}

export function createTelemetry (engine: Pick<Engine, 'on' | 'off'>, opts: { now?: () => number, recentLog?: RecentLog } = {}): Telemetry {
  const activity = new Activity(engine, { now: opts.now })
  const recentLog = opts.recentLog ?? new RecentLog({ now: opts.now })
  const eventLoop = new EventLoopMonitor({ now: opts.now })
  const peerListeners = new Set<() => void>()
  return {
    activity,
    recentLog,
    eventLoop,
    peersChanged () { for (const l of peerListeners) l() },
    onPeersChanged (listener) {
      peerListeners.add(listener)
      return () => { peerListeners.delete(listener) }
    },
    close () {
      peerListeners.clear()
      activity.close()
      eventLoop.close()
    }
  }
}
