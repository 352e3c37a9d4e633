/**
 * A node's clock work (docs/SYNC.md, "Deletes that stay deleted" and "Clocks"), on timers that
 * never keep the process alive:
 *
 * - every second: the held records their origin voided although they arrived after its void are
 *   dropped while this node's clock agrees with its peers' and the origin's with this node's
 *   (`Engine.dropVoidedHeld`); then the records held aside whose time has come are applied
 *   (`releaseDue`), so a receiver whose own clock was behind, and is fixed, catches up within a
 *   second; and when this node's clock mark is more than the drift guard ahead of its wall clock
 *   while its wall clock agrees with its peers' (PeerClocks), its clock was fixed: it repairs
 *   (Engine.repairClock: its future records re-stamped, a void announced), so replication
 *   resumes at once;
 * - at start and every min(1 h, TTL / 4): tombstones older than the TTL that every member not
 *   declared gone knows past are collected into history (Rule B, `Engine.collectTombstones`),
 *   and replaced states older than history.retentionDays are dropped (`Store.collectHistory`),
 *   so a replaced state lives at least the retention and at most an hour more;
 * - the log says what is held aside and why ("holding N records from node A stamped up to S s
 *   ahead of this clock …"), at most once a minute per origin, and which members keep
 *   tombstones past the TTL, at most once an hour.
 */
import type { NodeId } from '../core/ids.ts'
import type { Engine, HeldSummary } from '../engine/Engine.ts'
import { clockStatus, type ClockRepairView, type ClockStatusView } from '../replication/clockStatus.ts'
import type { PeerClocks } from '../replication/PeerClocks.ts'
import type { Logger } from '../util/log.ts'

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS

export interface ClockWorkOptions {
  readonly engine: Engine
  readonly ttlHours: number
  readonly memberGoneDays: number
  readonly log: Logger
  readonly now: () => number
  /** How often held records are checked, ms (default 1000). */
  readonly releaseEveryMs?: number
  /** The peers' clock readings: whether this node's clock agrees with them (the repair's condition). */
  readonly clocks?: PeerClocks
  /** history.retentionDays, read at each run (default: history is not collected). */
  readonly historyRetentionDays?: () => number
}

export interface ClockWork {
  /** The `clock` part of the node's status. */
  status (): ClockStatusView
  stop (): void
}

/** The sentence the log and the status use for records held from one origin. */
export function describeHeld (h: HeldSummary): string {
  const ahead = Math.round(h.aheadMs / 1000)
  return `holding ${h.count} record${h.count === 1 ? '' : 's'} from node ${h.node} stamped up to ${ahead} s ahead of this clock; ` +
    `${h.node}'s clock is ahead (or this one is behind); they apply at ${new Date(h.appliesAt).toISOString()}, or within a second of this clock being fixed, ` +
    'or when that node repairs its clock'
}

export function startClockWork (o: ClockWorkOptions): ClockWork {
  const { engine, log, now } = o
  const ttlMs = o.ttlHours * HOUR_MS
  const goneMs = o.memberGoneDays * DAY_MS
  const heldLogged = new Map<NodeId, number>()
  let keptLoggedAt = -Infinity

  const onHeld = (h: HeldSummary): void => {
    const last = heldLogged.get(h.node)
    if (last !== undefined && now() - last < 60_000) return
    heldLogged.set(h.node, now())
    log.warn(describeHeld(h), { peer: h.node, held: h.count, aheadMs: Math.round(h.aheadMs) })
  }
  engine.on('held', onHeld)

  let lastRepair: ClockRepairView | undefined
  const repair = (): void => {
    const mark = engine.store.clockMark()
    if (mark.wall <= now() + engine.clock.maxDriftMs) return
    if (o.clocks?.agreesWithPeers() !== true) return
    const r = engine.repairClock()
    if (r === undefined) return
    lastRepair = { at: new Date(now()).toISOString(), restamped: r.restamped, generation: r.void.generation, aheadMs: r.aheadMs }
    log.warn(`clock repaired: this node's clock was ${Math.round(r.aheadMs / 1000)} s ahead and has been fixed (its peers agree with it now); ` +
      `${r.restamped} record${r.restamped === 1 ? '' : 's'} written meanwhile re-stamped, and peers told to drop the old stamps (void ${r.void.generation})`,
    { restamped: r.restamped, generation: r.void.generation })
  }

  const release = (): void => {
    try {
      repair()
      const clocks = o.clocks
      const dropped = clocks?.agreesWithPeers() === true ? engine.dropVoidedHeld(origin => clocks.agreesWith(origin)) : 0
      if (dropped > 0) {
        log.info('dropped held records their origin had voided (they arrived after its clock repair; its re-stamped states replace them)', { count: dropped })
      }
      const n = engine.releaseDue()
      if (n > 0) log.info('applied records held aside: their stamps are within the drift guard now', { count: n })
    } catch (e) {
      log.error('applying held records or repairing the clock failed; retried in a second', { error: e })
    }
  }

  const collect = (): void => {
    try {
      const r = engine.collectTombstones(ttlMs, goneMs)
      if (r.removed > 0) log.info('collected expired tombstones', { count: r.removed, ttlHours: o.ttlHours })
      if (r.stable !== undefined && r.stable.wall < now() - ttlMs && now() - keptLoggedAt > HOUR_MS) {
        keptLoggedAt = now()
        const lagging = engine.knowledge.list().filter(e => e.node !== engine.node && !r.gone.includes(e.node) && e.wall < now() - ttlMs).map(e => e.node)
        log.info(`keeping tombstones past the TTL until ${lagging.join(', ')} ${lagging.length === 1 ? 'is' : 'are'} heard of again ` +
          `(or declared gone after sync.memberGoneDays = ${o.memberGoneDays}), so a deletion cannot be undone by ${lagging.length === 1 ? 'its' : 'their'} old copies`,
        { since: new Date(r.stable.wall).toISOString() })
      }
      const days = o.historyRetentionDays?.()
      if (days !== undefined) {
        const h = engine.store.collectHistory(now() - days * DAY_MS)
        if (h > 0) log.info('collected history past its retention', { count: h, retentionDays: days })
      }
    } catch (e) {
      log.error('tombstone or history collection failed; it is retried on the next run', { error: e })
    }
  }

  collect()
  const releaser = setInterval(release, o.releaseEveryMs ?? 1000)
  releaser.unref()
  const collector = setInterval(collect, Math.max(250, Math.min(HOUR_MS, ttlMs / 4)))
  collector.unref()
  return {
    status: () => clockStatus({ engine, ...(o.clocks !== undefined ? { clocks: o.clocks } : {}), ...(lastRepair !== undefined ? { lastRepair } : {}), memberGoneMs: goneMs }),
    stop: () => {
      clearInterval(releaser)
      clearInterval(collector)
      engine.off('held', onHeld)
    }
  }
}
