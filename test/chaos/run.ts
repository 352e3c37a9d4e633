/**
 * One chaos run: real daemons in network namespaces (Cluster.ts), writers on every node
 * (workload.ts), the seeded fault schedule (schedule.ts), and at the end the checker
 * (checker.ts) over the history and what every node holds.
 *
 *   start N daemons, all peers of each other; wait until they are connected
 *   writers start; after each fault heals, a probe triple is written on every running node and
 *   the time until every probe is on every running node is the convergence time of that heal
 *   (heal.ts, with what explains it: start-up, sessions up, catch-ups)
 *   after the last fault: writers stop, everything heals, the nodes converge (bounded wait),
 *   they are stopped cleanly and their stores read
 *
 * The next fault never starts before the last heal's probes converged (or gave up), so one
 * heal's measure is not disturbed by the next fault. Everything is bounded in time; `destroy`
 * runs whatever happens, killing every process and deleting every namespace the run made.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { check, percentile, type Verdict } from './checker.ts'
import { Cluster, type ClusterNode } from './Cluster.ts'
import { describeHeal, measureHeal, worstHeals } from './heal.ts'
import type { Heal, NodeView, Op } from './history.ts'
import { cutsOf, describeStep, makeSchedule, type Fault, type Step } from './schedule.ts'
import { Writer, type RunClock } from './workload.ts'

export interface ChaosOptions {
  readonly seed: number
  readonly durationMs: number
  readonly nodes: number
  readonly ttlSeconds: number
  readonly maxDriftMs: number
  /** Where the history, the report and the daemons' logs go. */
  readonly outDir: string
  /** Receives progress lines. */
  readonly print: (line: string) => void
  /** Pause between two writes of one writer (default 100 ms). */
  readonly paceMs?: number
  /**
   * How far past its planned end the fault phase may run (slow heals push faults later): faults
   * not started by then are skipped, and the run fails saying so. Default 60 s.
   */
  readonly overrunMs?: number
  /** Most time the nodes get to agree at the end. Default 120 s. */
  readonly finalLimitMs?: number
  /** Copies every node's data directory into `outDir/data/<node>` before the cluster is removed. */
  readonly keep?: boolean
  /** The schedule's faults, gaps, warm-up and cool-down last this fraction of their usual time (schedule.ts; default 1). */
  readonly timeScale?: number
  /** The daemons run with p2p.eagerRoutes on (ENGRAM_P2P_EAGER_ROUTES=1), whatever its default. */
  readonly eagerRoutes?: boolean
}

export interface ChaosResult {
  readonly verdict: Verdict
  readonly schedule: readonly Step[]
  /** ms until the nodes agreed after the last heal (undefined: they did not within the bound). */
  readonly finalConvergenceMs: number | undefined
  /** Faults of the schedule not injected because the run overran (0 normally). */
  readonly skipped: number
  /** Every heal's measure (heal.ts). */
  readonly heals: readonly Heal[]
}

/** Most time the probes of one heal may take to converge. */
const PROBE_LIMIT_MS = 30_000
/** Time a node keeps its own keys after its clock was fixed (its stamps may still run ahead until it repairs). */
const PRIVATE_GRACE_MS = 30_000

interface Window { readonly node: string, readonly from: number, to: number, readonly marginMs: number }

export async function runChaos (o: ChaosOptions): Promise<ChaosResult> {
  mkdirSync(o.outDir, { recursive: true })
  const names = Array.from({ length: o.nodes }, (_, i) => String.fromCharCode(97 + i))
  const timeScale = o.timeScale ?? 1
  const schedule = makeSchedule({
    seed: o.seed, nodes: names, durationMs: o.durationMs, warmupMs: Math.round(8_000 * timeScale), cooldownMs: Math.round(5_000 * timeScale),
    ttlMs: o.ttlSeconds * 1000, maxDriftMs: o.maxDriftMs, timeScale
  })
  o.print(`chaos: seed ${o.seed}, ${o.nodes} nodes, ${(o.durationMs / 60_000).toFixed(1)} min, tombstone TTL ${o.ttlSeconds} s, hlc.maxDriftMs ${o.maxDriftMs}, time scale ${timeScale}${o.eagerRoutes === true ? ", eager routes on" : ""}; output in ${o.outDir}`)
  o.print(`chaos: replay with: npm run chaos -- --seed ${o.seed} --minutes ${o.durationMs / 60_000} --nodes ${o.nodes} --ttl-seconds ${o.ttlSeconds} --max-drift-ms ${o.maxDriftMs} --time-scale ${timeScale}${o.eagerRoutes === true ? ' --eager-routes' : ''}`)
  o.print(`chaos: schedule (${schedule.length} faults):`)
  for (const s of schedule) o.print(`  ${describeStep(s)}`)

  const cluster = new Cluster({ nodes: o.nodes, tombstoneTtlHours: o.ttlSeconds / 3600, maxDriftMs: o.maxDriftMs, gossipIntervalMs: 500, logDir: o.outDir, ...(o.eagerRoutes === true ? { env: { ENGRAM_P2P_EAGER_ROUTES: '1' } } : {}) })
  const ops: Op[] = []
  const heals: Heal[] = []
  const clockWindows: Window[] = []
  const privateWindows: Window[] = []
  let t0 = performance.now()
  const clock: RunClock = {
    now: () => performance.now() - t0,
    isPrivate: (node, at) => privateWindows.some(w => w.node === node && at >= w.from && at <= w.to + w.marginMs),
    clockSafe: (from, to) => !clockWindows.some(w => to >= w.from && from <= w.to + w.marginMs)
  }
  const record = (op: Omit<Op, 'id'>): Op => {
    const full = { ...op, id: ops.length + 1 }
    ops.push(full)
    return full
  }
  let writers: Writer[] = []
  let finalConvergenceMs: number | undefined
  let skipped = 0
  const overrun = o.overrunMs ?? 60_000
  const finalLimitMs = o.finalLimitMs ?? 120_000
  try {
    await cluster.startAll()
    await waitConnected(cluster, 120_000)
    o.print('chaos: every node is connected to every other; writers start')
    t0 = performance.now()
    writers = cluster.nodes.map(n => new Writer(cluster, n, {
      seed: o.seed, elements: 60, notes: 6, episodes: 20, paceMs: o.paceMs ?? 100, requestTimeoutMs: 3_000
    }, clock, record))
    let healNo = 0
    for (const step of schedule) {
      await sleepUntil(clock, step.at)
      if (clock.now() + step.fault.ms > o.durationMs + overrun) {
        skipped++
        o.print(`chaos: ${(clock.now() / 1000).toFixed(1)} s: SKIPPED (the run overran its schedule by more than ${overrun} ms): ${describeStep(step).trim()}`)
        continue
      }
      o.print(`chaos: ${(clock.now() / 1000).toFixed(1)} s: ${describeStep(step).trim()}`)
      const { what, startupMs } = await inject(cluster, step.fault, clock, clockWindows, privateWindows, o.maxDriftMs)
      const limit = Math.max(5_000, Math.min(PROBE_LIMIT_MS, o.durationMs + overrun - clock.now()))
      const heal = await measureHeal({ cluster, clock, record }, ++healNo, what, limit, startupMs)
      heals.push(heal)
      o.print(`chaos: ${(clock.now() / 1000).toFixed(1)} s: healed (${what}); ${describeHeal(heal)}${heal.convergedMs === undefined ? ` (limit ${limit} ms)` : ''}`)
    }
    await sleepUntil(clock, o.durationMs)
    await Promise.all(writers.map(w => w.stop()))
    writers = []
    o.print(`chaos: ${(clock.now() / 1000).toFixed(1)} s: writers stopped after ${ops.length} operations; waiting for the nodes to agree`)
    finalConvergenceMs = await waitAgreement(cluster, finalLimitMs)
    o.print(`chaos: ${finalConvergenceMs === undefined ? `the nodes did NOT agree within ${finalLimitMs} ms` : `the nodes agree after ${finalConvergenceMs.toFixed(0)} ms`}; stopping them`)
    await cluster.stopAll()
    const views: NodeView[] = cluster.nodes.map(n => cluster.view(n))
    const verdict = check(ops, views, heals)
    writeFileSync(join(o.outDir, 'history.json'), JSON.stringify({ seed: o.seed, schedule, ops, heals }, null, 1))
    writeFileSync(join(o.outDir, 'verdict.json'), JSON.stringify({ ...verdict, finalConvergenceMs, skipped }, null, 2))
    return { verdict, schedule, finalConvergenceMs, skipped, heals }
  } finally {
    await Promise.allSettled(writers.map(w => w.stop()))
    if (o.keep === true) {
      await cluster.stopAll().catch(() => undefined)
      for (const n of cluster.nodes) cpSync(cluster.dataDir(n), join(o.outDir, 'data', n.name), { recursive: true })
      o.print(`chaos: the nodes' data directories are kept in ${join(o.outDir, 'data')}`)
    }
    await cluster.destroy()
  }
}

/** Injects a fault, waits its duration, heals it; says what healed (and, for a restart, how long the node took to answer). */
async function inject (cluster: Cluster, f: Fault, clock: RunClock, clockWindows: Window[], privateWindows: Window[], maxDriftMs: number): Promise<{ what: string, startupMs?: number }> {
  const names = cluster.nodes.map(n => n.name)
  switch (f.kind) {
    case 'kill': {
      const n = cluster.node(f.node)
      await cluster.kill(n)
      await sleep(f.ms)
      const started = clock.now()
      await cluster.start(n)
      return { what: `${n.name} restarted`, startupMs: clock.now() - started }
    }
    case 'pause': {
      const n = cluster.node(f.node)
      cluster.pause(n)
      await sleep(f.ms)
      cluster.resume(n)
      return { what: `${n.name} resumed` }
    }
    case 'split': case 'one-way': case 'bridge': case 'isolate':
      await cluster.partition(cutsOf(f, names))
      await sleep(f.ms)
      await cluster.partition(new Map())
      return { what: 'partition removed' }
    case 'clock': {
      const n = cluster.node(f.node)
      const far = Math.abs(f.offsetSeconds) * 1000 > maxDriftMs
      const start = clock.now()
      const window: Window = { node: n.name, from: start, to: Infinity, marginMs: Math.min(Math.abs(f.offsetSeconds) * 1000, maxDriftMs) + 10_000 }
      clockWindows.push(window)
      const own: Window | undefined = far ? { node: n.name, from: start, to: Infinity, marginMs: PRIVATE_GRACE_MS } : undefined
      if (own !== undefined) {
        privateWindows.push(own)
        // let a write to a shared key that is in flight finish before the clock moves
        await sleep(3_500)
      }
      cluster.setClock(n, f.offsetSeconds)
      await sleep(f.ms)
      cluster.setClock(n, 0)
      // libfaketime re-reads the offset within a second
      await sleep(1_100)
      window.to = clock.now()
      if (own !== undefined) own.to = clock.now()
      return { what: `clock of ${n.name} fixed` }
    }
  }
}

/** Waits until every node answers with a P2P session to every other one. */
async function waitConnected (cluster: Cluster, limitMs: number): Promise<void> {
  const end = Date.now() + limitMs
  for (let i = 0; i < 10_000; i++) {
    const counts = await Promise.all(cluster.nodes.map(async n => {
      const a = await cluster.call(n, 'GET', '/api/v1/p2p/status', undefined, 3_000)
      return a.kind === 'answered' ? ((a.body as { connected_peers?: Array<{ connected: boolean }> }).connected_peers ?? []).filter(p => p.connected).length : 0
    }))
    if (counts.every(c => c >= cluster.nodes.length - 1)) return
    if (Date.now() > end) throw new Error(`the nodes did not all connect within ${limitMs} ms (connected peers: ${counts.join(', ')})`)
    await sleep(250)
  }
}

/** A digest of a node's live data through its API: triples and notes with their stamps, episodes, the trace count. */
async function digest (cluster: Cluster, n: ClusterNode): Promise<string | undefined> {
  const get = async (path: string): Promise<unknown> => {
    const a = await cluster.call(n, 'GET', path, undefined, 5_000)
    return a.kind === 'answered' && a.status === 200 ? a.body : undefined
  }
  const [t, no, e, tr] = await Promise.all([
    get('/api/v1/triples?limit=10000'), get('/api/v1/notes?limit=10000'), get('/api/v1/episodes?limit=10000'), get('/api/v1/traces?limit=1')
  ]) as Array<{ triples?: Array<{ id: string, hlc: string }>, notes?: Array<{ key: string, hlc: string }>, episodes?: Array<{ id: string, hlc: string }>, total?: number } | undefined>
  if (t === undefined || no === undefined || e === undefined || tr === undefined) return undefined
  return JSON.stringify([
    t.triples?.map(x => `${x.id}@${x.hlc}`).sort(),
    no.notes?.map(x => `${x.key}@${x.hlc}`).sort(),
    e.episodes?.map(x => `${x.id}@${x.hlc}`).sort(),
    tr.total
  ])
}

/** Waits until every node's digest is the same twice in a row; ms it took, or undefined past the limit. */
async function waitAgreement (cluster: Cluster, limitMs: number): Promise<number | undefined> {
  const start = performance.now()
  let agreedOnce = false
  for (let i = 0; i < 10_000 && performance.now() - start < limitMs; i++) {
    const ds = await Promise.all(cluster.nodes.map(n => digest(cluster, n)))
    const agree = ds[0] !== undefined && ds.every(d => d === ds[0])
    if (agree && agreedOnce) return performance.now() - start
    agreedOnce = agree
    await sleep(agree ? 1_000 : 250)
  }
  return undefined
}

function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

async function sleepUntil (clock: RunClock, at: number): Promise<void> {
  const wait = at - clock.now()
  if (wait > 0) await sleep(wait)
}

/** Whether the run passed: the checker's verdict, the final agreement, and the whole schedule run. */
export function passed (r: ChaosResult): boolean {
  return r.verdict.ok && r.finalConvergenceMs !== undefined && r.skipped === 0
}

/** The report's lines. */
export function report (r: ChaosResult, seed: number): string[] {
  const v = r.verdict
  const ms = (x: number | undefined): string => x === undefined ? 'n/a' : `${(x / 1000).toFixed(2)} s`
  const lines = [
    `chaos result (seed ${seed}): ${passed(r) ? 'PASS' : 'FAIL'}${r.skipped > 0 ? ` (${r.skipped} faults skipped: the run overran)` : ''}`,
    `  operations: ${v.ops.total} (acknowledged ${v.ops.ok}, refused ${v.ops.fail}, indeterminate ${v.ops.info})`,
    `  acknowledged writes lost: ${v.lost}`,
    `  resurrections: ${v.resurrected}`,
    `  divergent records: ${v.divergent}`,
    `  stamps against real-time order: ${v.orderViolations}`,
    `  duplicated trace entries: ${v.duplicated}; records held aside at the end: ${v.held}`,
    `  heals: ${v.heals}, not converged in time: ${v.unconverged}; convergence after heal p50 ${ms(v.convergenceP50Ms)}, p99 ${ms(v.convergenceP99Ms)}`,
    `  final agreement after the last heal: ${ms(r.finalConvergenceMs)}`
  ]
  const sorted = (xs: Array<number | undefined>): number[] => xs.filter((x): x is number => x !== undefined).sort((a, b) => a - b)
  const sessions = sorted(r.heals.map(h => h.sessionsMs))
  const startups = sorted(r.heals.map(h => h.startupMs))
  lines.push(`  beside it (not in the figure): P2P sessions all up after heal p50 ${ms(percentile(sessions, 0.5))}, p99 ${ms(percentile(sessions, 0.99))} (not within 5 s of convergence: ${r.heals.length - sessions.length} heals); restarts' start-up (before the heal) p50 ${ms(percentile(startups, 0.5))}, max ${ms(startups.at(-1))}`)
  lines.push('  slowest heals:')
  for (const line of worstHeals(r.heals, 5)) lines.push(`    ${line}`)
  for (const x of v.violations.slice(0, 30)) lines.push(`  ${x.kind} ${x.key} on ${x.node}: ${x.detail}`)
  if (v.violations.length > 30) lines.push(`  … ${v.violations.length - 30} more in verdict.json`)
  return lines
}
