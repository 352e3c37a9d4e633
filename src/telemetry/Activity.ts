/**
 * What a node has been doing, counted from its engine's change events: records written here
 * (local writes) and records received from peers that changed something here, in totals (by
 * kind, and by peer for received ones) and per second over the last minutes.
 *
 *   engine 'change' ──► totals (GET /metrics: engram_writes_total, engram_applied_records_total)
 *                  └──► one slot per second in a ring of `windowSeconds` slots
 *                       (the dashboard's chart of writes and received changes per second)
 *
 * Counting costs a few increments per committed batch; nothing runs between changes (no timer):
 * a slot is cleared when the clock comes back to it. `onActivity` listeners are told after each
 * counted batch (the live status stream uses it as a doorbell).
 */
import type { NodeId } from '../core/ids.ts'
import type { RecordKind } from '../core/model.ts'
import type { ChangeEvent, Engine } from '../engine/Engine.ts'

/** One second of activity: [epoch second, records written here, records received that changed something]. */
export type ActivityPoint = readonly [second: number, writes: number, received: number]

export interface ActivityTotals {
  /** Records written here (each state change of a local write), by kind. */
  readonly writes: Readonly<Record<RecordKind, number>>
  /** Records from peers that changed something here, by kind. */
  readonly received: Readonly<Record<RecordKind, number>>
}

export interface ActivityOptions {
  /** Seconds of per-second history kept (default 300). */
  readonly windowSeconds?: number
  /** Wall clock, ms (default Date.now). */
  readonly now?: () => number
}

/** Peers whose received totals are kept; beyond, the first seen are forgotten (docs/LIMITS.md). */
export const MAX_PEERS_COUNTED = 1024

const zeroByKind = (): Record<RecordKind, number> => ({ triple: 0, note: 0, episode: 0, trace: 0 })

export class Activity {
  readonly windowSeconds: number
  private readonly now: () => number
  private readonly engine: Pick<Engine, 'on' | 'off'>
  private readonly writes = zeroByKind()
  private readonly received = zeroByKind()
  private readonly byPeer = new Map<NodeId, number>()
  private readonly slotSecond: Float64Array
  private readonly slotWrites: Float64Array
  private readonly slotReceived: Float64Array
  private readonly listeners = new Set<() => void>()
  private readonly onChange = (event: ChangeEvent): void => { this.record(event) }

  constructor (engine: Pick<Engine, 'on' | 'off'>, opts: ActivityOptions = {}) {
    this.engine = engine
    this.now = opts.now ?? Date.now
    this.windowSeconds = opts.windowSeconds ?? 300
    this.slotSecond = new Float64Array(this.windowSeconds).fill(-1)
    this.slotWrites = new Float64Array(this.windowSeconds)
    this.slotReceived = new Float64Array(this.windowSeconds)
    engine.on('change', this.onChange)
  }

  /** Stops counting (the engine's listener is removed). */
  close (): void {
    this.engine.off('change', this.onChange)
    this.listeners.clear()
  }

  /** Calls `listener` after every counted batch; returns the function that unsubscribes. */
  onActivity (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Counts one committed batch. */
  record (event: ChangeEvent): void {
    const local = event.via === undefined
    const byKind = local ? this.writes : this.received
    for (const { record } of event.entries) byKind[record.kind]++
    const n = event.entries.length
    if (!local) this.countPeer(event.via, n)
    const slot = this.slot(Math.floor(this.now() / 1000))
    if (local) this.slotWrites[slot]! += n
    else this.slotReceived[slot]! += n
    for (const l of this.listeners) l()
  }

  totals (): ActivityTotals {
    return { writes: { ...this.writes }, received: { ...this.received } }
  }

  /** Records received from each peer that changed something here, by the peer's node id. */
  receivedByPeer (): ReadonlyMap<NodeId, number> {
    return new Map(this.byPeer)
  }

  /**
   * The seconds of the window with any activity, oldest first; with `after`, only the seconds
   * after that one (epoch seconds). A second still under way is included (its counts may grow).
   */
  series (after = -Infinity): ActivityPoint[] {
    const nowSecond = Math.floor(this.now() / 1000)
    const oldest = nowSecond - this.windowSeconds + 1
    const out: ActivityPoint[] = []
    for (let i = 0; i < this.windowSeconds; i++) {
      const s = this.slotSecond[i]!
      if (s < oldest || s > nowSecond || s <= after) continue
      const w = this.slotWrites[i]!
      const r = this.slotReceived[i]!
      if (w > 0 || r > 0) out.push([s, w, r])
    }
    return out.sort((a, b) => a[0] - b[0])
  }

  /** The ring slot of `second`, cleared first when it last held an older second. */
  private slot (second: number): number {
    const i = ((second % this.windowSeconds) + this.windowSeconds) % this.windowSeconds
    if (this.slotSecond[i] !== second) {
      this.slotSecond[i] = second
      this.slotWrites[i] = 0
      this.slotReceived[i] = 0
    }
    return i
  }

  private countPeer (peer: NodeId, n: number): void {
    const had = this.byPeer.get(peer)
    if (had === undefined && this.byPeer.size >= MAX_PEERS_COUNTED) {
      const oldest = this.byPeer.keys().next().value
      if (oldest !== undefined) this.byPeer.delete(oldest)
    }
    this.byPeer.set(peer, (had ?? 0) + n)
  }
}
