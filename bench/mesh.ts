/**
 * Meshes of real daemons on loopback (`npm run bench`, `mesh`): N engram nodes, each the
 * composition root in a process of its own (bench/peers/engram.ts: default configuration, native
 * sync over QUIC), started and connected by meshCluster.ts along the dials of meshTopology.ts: a
 * full mesh (every pair), or with `--degree K` a partial mesh (each node dials its ring neighbour
 * and K − 1 seeded others: about 2K sessions a node, as a deployment of many machines would run).
 * Each size runs with eager routes (p2p.eagerRoutes) on, off, or both (`--routes on,off`).
 *
 *  - write_to_visible_p50_ms / _p99_ms: a triple written on one node (round robin) until it is
 *    committed on another, over every other node; visible_on_all_p50_ms / _p99_ms: until the last
 *    of them has it. Closed loop (the next write once the previous one is everywhere), measured
 *    in this parent process, so each figure includes a command round trip to a child (< 1 ms);
 *    60 writes (30 from 25 nodes on); writes_visible_everywhere: how many of them were (the loop
 *    stops at the first that is not everywhere within WRITE_MS);
 *  - converge_1000_ms: 1,000 writes of one triple each (a burst), made back to back on node 0 (each
 *    acknowledged after its own commit), from the first until every node holds all of them (NaN
 *    when one did not within CONVERGE_MS); converged_nodes: the nodes that did;
 *    converge_written_ms: until node 0 had made all 1,000 (the writes are one command to it);
 *    converge_first_node_ms / converge_p50_node_ms / converge_last_node_ms: until the first / the
 *    median / the last converged node held them; converge_records_lacking: how many of them the
 *    nodes that missed the deadline still lacked when it passed (0 when every node converged);
 *    converge_cpu_ms_writer / _per_other_node: the CPU node 0 / each other node spent meanwhile;
 *    these figures are the first burst's; the burst is made `rounds` times (--rounds, default
 *    3), each timed on its own, one after the other: converge_1000_ms_median / _min / _max and
 *    converge_1000_spread_pct ((max − min) ÷ median) over them, converge_p50_node_ms_median
 *    (the median over the rounds of the median node's time); cpu_us_per_write_all_nodes_median
 *    (/_min/_max/_spread_pct): the CPU every node spent during a burst, summed, ÷ its writes —
 *    a figure the machine's load moves far less than wall time — and _less_idle_ the same less
 *    what the nodes spend idle (idle_cpu_pct_per_node) over the burst's wall time;
 *    cpu_us_per_write_per_other_node_median: each other node's part (what relaying a write
 *    costs a node); copies_per_record_per_node_all_rounds / bytes_per_write_per_node_all_rounds
 *    over every burst; converge_load_1m_median: the load after each; every node's time is
 *    printed per round, and the nodes that lagged (missed the deadline, or held the burst later
 *    than 1.5 × the median node and 2 s after it) with their hops from the writer, peers and
 *    CPU; converge_lagged_node_rounds counts them;
 *  - session_failures: sessions that ended by a failure over the whole run, summed over the
 *    nodes; nodes_short_of_sessions: nodes holding fewer sessions than the mesh gives them at the
 *    end (their peers' last errors are printed);
 *  - copies_per_record_per_node: the records the other nodes received in stream pages during
 *    those 1,000 writes, ÷ (1,000 × (N − 1)) (1: each write reached each node once; a full mesh
 *    relays up to N − 1); bytes_per_write_per_node: the engram frame bytes they received
 *    meanwhile (gossip included), ÷ the same;
 *  - idle_cpu_pct_per_node: the CPU a connected, idle daemon spends (sessions, keep-alives,
 *    gossip rounds, knowledge refreshes) over IDLE_MS from its sessions' opening, in % of one
 *    core (the bench's own memory sampler stopped); with ENGRAM_BENCH_IDLE_SETTLE_MS=T also
 *    idle_settled_cpu_pct_per_node, the same once T ms more passed (what is left once the
 *    sessions settled and idle rounds backed off: 40 s at the defaults); load_1m: the machine's load average then and
 *    after the writes;
 *  - rss_mb_per_node_before_writes: the mean resident set of a daemon connected, before the bursts;
 *    peak_rss_mb_per_node: the mean peak; rss_mb_per_node / max_rss_mb / total_rss_mb: the mean and largest resident set of a daemon
 *    after the writes, and the sum over the daemons (what N of them take); where it is, as means
 *    over the daemons (bench/peers/protocol.ts memoryFigures): v8_heap_mb_per_node (V8's heap
 *    pages, live or garbage), of which new_space_mb_per_node (the young generation) and
 *    heap_used_mb_per_node (objects not yet collected), and outside_v8_mb_per_node (native:
 *    QUIC, SQLite, the allocator).
 *
 * A size is skipped (and said so) when the free memory cannot hold N nodes at 1.5 × the mean peak
 * resident set of a daemon in the largest run so far.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { freemem, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { MeshCluster, progress, withDeadline, type NodeStats, type SessionHealth } from './meshCluster.ts'
import { diameter, hopsFrom, meshDials, sessionsPerNode, type Dial } from './meshTopology.ts'
import type { MemoryFigures } from './peers/protocol.ts'
import { median, percentile } from './stats.ts'

const CONVERGE = 1_000
/** Deadlines: starting, opening sessions, one write everywhere, 1,000 writes everywhere. */
const START_MS = 600_000
const CONNECT_MS = 300_000
const WRITE_MS = 60_000
const CONVERGE_MS = 180_000
/** How long a connected mesh idles while its CPU is measured. */
const IDLE_MS = 10_000
const DEFAULT_NODES: readonly number[] = [3, 5, 10]
/**
 * A size runs when the free memory holds its nodes at MEMORY_MARGIN × the mean peak RSS of a
 * daemon in the largest run so far (the mean: one writer or hub may peak far above the rest).
 */
const MEMORY_MARGIN = 1.5
/** Bursts of CONVERGE writes a run makes, each timed on its own. */
const DEFAULT_ROUNDS = 3
/** A node lagged in a round when it held the burst later than STRAGGLER × the median node and STRAGGLER_MS after it. */
const STRAGGLER = 1.5
const STRAGGLER_MS = 2_000

export interface MeshOptions {
  readonly nodes?: readonly number[]
  /** Closed-loop writes for the latency figures. */
  readonly writes?: number
  /** Each node's dials beyond its ring neighbour + 1 (a partial mesh); undefined: a full mesh. */
  readonly degree?: number
  /** p2p.eagerRoutes for each run (default: both, on first). */
  readonly routes?: readonly boolean[]
  /** Bursts of 1,000 writes at node 0, each timed on its own (default DEFAULT_ROUNDS). */
  readonly rounds?: number
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0)
const mean = (xs: readonly number[]): number => sum(xs) / xs.length

/** The idle CPU of each node over IDLE_MS, once `settleMs` more passed (undefined when 0). */
async function idleAfter (cluster: MeshCluster, settleMs: number): Promise<{ cpu: number[], load: number } | undefined> {
  if (!Number.isFinite(settleMs) || settleMs <= 0) return undefined
  await new Promise(resolve => setTimeout(resolve, Math.min(settleMs, 600_000)))
  const s0 = await cluster.stats()
  await new Promise(resolve => setTimeout(resolve, IDLE_MS))
  const s1 = await cluster.stats()
  return { cpu: s1.map((s, i) => (s.cpuMs - s0[i]!.cpuMs) / (s.sinceSpawnMs - s0[i]!.sinceSpawnMs) * 100), load: loadavg()[0]! }
}

async function mesh (n: number, dir: string, writes: number, degree: number | undefined, routes: boolean, rounds: number): Promise<{ figures: Record<string, number>, peakRssMb: number }> {
  const dials = meshDials(n, degree)
  const t0 = performance.now()
  const cluster = await MeshCluster.start(n, dir, { 'p2p.eagerRoutes': routes }, START_MS)
  try {
    const startMs = performance.now() - t0
    const c0 = performance.now()
    await cluster.connect(dials, CONNECT_MS)
    const connectMs = performance.now() - c0
    const nodes = cluster.nodes

    // idle: what the open sessions alone cost — the peak sampler `connect` started (bench/peers/protocol.ts
    // PeakMemory, 40 reads a second, unused here) stopped first: its CPU is the harness's, not the daemon's
    await cluster.memory()
    const idle0 = await cluster.stats()
    await new Promise(resolve => setTimeout(resolve, IDLE_MS))
    const idle1 = await cluster.stats()
    const idleLoad = loadavg()[0]!
    const idleCpu = idle1.map((s, i) => (s.cpuMs - idle0[i]!.cpuMs) / (s.sinceSpawnMs - idle0[i]!.sinceSpawnMs) * 100)
    // ENGRAM_BENCH_IDLE_SETTLE_MS: idle again, after that much more time (settling after connect, or a steady cost?)
    const settled = await idleAfter(cluster, Number(process.env.ENGRAM_BENCH_IDLE_SETTLE_MS ?? 0))

    // latency: closed loop, round robin (stops at the first write that misses its deadline)
    let count = 0
    const each: number[] = []
    const all: number[] = []
    const shown = progress(`mesh ${n}: closed-loop writes`, 'writes', writes)
    try {
      for (let w = 0; w < writes; w++) {
        const writer = w % n
        const others = nodes.filter((_, i) => i !== writer)
        const start = performance.now()
        const seen = others.map(async o => { await o.run({ op: 'wait', n: count + 1, ms: WRITE_MS }); each.push(performance.now() - start) })
        await nodes[writer]!.run({ op: 'write', from: count, n: 1 })
        count++
        await Promise.all(seen)
        all.push(performance.now() - start)
        shown.update(all.length)
      }
    } catch (e) {
      process.stdout.write(`mesh ${n}: a write missed its ${WRITE_MS} ms deadline: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`)
    }
    shown.finish()

    // convergence of 1,000 writes made at node 0, `rounds` times over (skipped when a
    // closed-loop write never arrived; the rounds after the first when one did not converge)
    const rssBefore = (await cluster.stats()).map(s => s.rssMb)
    const results: Round[] = []
    for (let r = 0; r < rounds && all.length === writes && results.every(x => Number.isFinite(x.convergeMs)); r++) {
      results.push(await burst(cluster, n, count, r, rounds))
      count += CONVERGE
    }
    const first = results[0]
    const after = await cluster.stats()
    const memory = await cluster.memory()
    const load = loadavg()[0]!
    const health = await cluster.health(sessionsPerNode(n, dials))
    if (Object.keys(health.errors).length > 0) process.stdout.write(`mesh ${n}: session errors: ${JSON.stringify(health.errors)}\n`)
    const lagged = stragglers(n, dials, results, await routeTree(cluster))
    // what the nodes that missed the deadline still lacked of the bursts (0 when all converged)
    const lacking = all.length === writes ? after.slice(1).reduce((sum, s) => sum + Math.max(0, count - s.records), 0) : NaN
    const measured = { first, rounds: results, after, rssBefore, memory, each, all, idleCpu, idleLoad, settled, load, startMs, connectMs, lacking, lagged, health, diameter: diameter(n, dials), dials: dials.length }
    return { peakRssMb: mean(after.map(s => s.maxRssMb)), figures: figures(n, writes, measured) }
  } finally {
    await cluster.stop()
  }
}

/** One burst of CONVERGE writes at node 0, from the first until every node holds them. */
interface Round {
  readonly before: NodeStats[]
  readonly after: NodeStats[]
  /** NaN when some node did not hold all of them by the deadline. */
  readonly convergeMs: number
  /** Nodes that held all of them by the deadline. */
  readonly converged: number
  /** Until node 0 had made all of them. */
  readonly writtenMs: number
  /** When each node held them, by node (NaN for node 0 and for a node that missed the deadline). */
  readonly arrived: readonly number[]
  readonly load: number
}

async function burst (cluster: MeshCluster, n: number, count: number, r: number, rounds: number): Promise<Round> {
  const nodes = cluster.nodes
  const before = await cluster.stats()
  const converging = progress(`mesh ${n}: ${CONVERGE} writes at node 0 converging (round ${r + 1} of ${rounds})`, 'nodes', n - 1)
  const arrived = new Array<number>(n).fill(NaN)
  let converged = 0
  const c1 = performance.now()
  const arrivals = nodes.slice(1).map(async (o, i) => {
    await o.run({ op: 'wait', n: count + CONVERGE, ms: CONVERGE_MS })
    arrived[i + 1] = performance.now() - c1
    converging.update(++converged)
  })
  await nodes[0]!.run({ op: 'write', from: count, n: CONVERGE, batch: 1 })
  const writtenMs = performance.now() - c1
  const outcomes = await withDeadline(Promise.allSettled(arrivals), CONVERGE_MS + 10_000, `${CONVERGE} writes on ${n} nodes`)
  const convergeMs = outcomes.every(o => o.status === 'fulfilled') ? performance.now() - c1 : NaN
  converging.finish()
  return { before, after: await cluster.stats(), convergeMs, converged, writtenMs, arrived, load: loadavg()[0]! }
}

/** The eager route tree of node 0's records: each node's path from node 0 along its parents ([] when one is unknown or loops). */
interface RouteTree { readonly path: ReadonlyArray<readonly number[]>, readonly prunes: number, readonly grafts: number, readonly graftsBy: readonly number[] }

async function routeTree (cluster: MeshCluster): Promise<RouteTree> {
  const nodes = cluster.nodes
  const ids = await Promise.all(nodes.map(async o => (await o.run({ op: 'route' })).id as string))
  const index = new Map(ids.map((id, i) => [id, i]))
  const routes = await Promise.all(nodes.map(async o => await o.run({ op: 'route', origin: ids[0]! }) as unknown as { parent?: string, prunesSent: number, graftsSent: number }))
  const parent = routes.map(r => r.parent !== undefined ? index.get(r.parent) : undefined)
  const path = nodes.map((_, i) => {
    const up = [i]
    for (let at = i; at !== 0;) {
      const p = parent[at]
      if (p === undefined || up.includes(p) || up.length > nodes.length) return []
      up.push(p)
      at = p
    }
    return up.reverse()
  })
  return { path, prunes: sum(routes.map(r => r.prunesSent)), grafts: sum(routes.map(r => r.graftsSent)), graftsBy: routes.map(r => r.graftsSent) }
}

/**
 * Prints, for each round, every node's convergence time, and the nodes that lagged (missed the
 * deadline, or held the burst later than STRAGGLER × the median node and STRAGGLER_MS after
 * it) with their hops from the writer, their peers and the CPU they spent. Returns how many
 * (node, round) pairs lagged.
 */
function stragglers (n: number, dials: readonly Dial[], rounds: readonly Round[], tree: RouteTree): number {
  const hops = hopsFrom(n, dials, 0)
  const depth = tree.path.map(p => p.length - 1)
  const deep = depth.filter(d => d > 0)
  process.stdout.write(`mesh ${n}: eager route of the writer's records: depth in its tree by node (node 1 on) ${depth.slice(1).map(d => d < 0 ? '?' : d).join(' ')}; median ${median(deep)}, deepest ${Math.max(...deep)}; hops in the mesh ${hops.slice(1).join(' ')}; prunes sent ${tree.prunes}, grafts sent ${tree.grafts} (by node, node 1 on: ${tree.graftsBy.slice(1).join(' ')})\n`)
  const peers = (i: number): number[] => dials.flatMap(d => d.from === i ? [d.to] : d.to === i ? [d.from] : [])
  let lagged = 0
  rounds.forEach((r, k) => {
    const times = r.arrived.slice(1)
    const p50 = median(times.filter(Number.isFinite))
    process.stdout.write(`mesh ${n} round ${k + 1}: ms until each node held the burst (node 1 on): ${times.map(t => Number.isFinite(t) ? Math.round(t) : 'missed').join(' ')}\n`)
    for (let i = 1; i < n; i++) {
      const t = r.arrived[i]!
      if (Number.isFinite(t) && !(t > p50 * STRAGGLER && t > p50 + STRAGGLER_MS)) continue
      lagged++
      const cpu = r.after[i]!.cpuMs - r.before[i]!.cpuMs
      process.stdout.write(`mesh ${n} round ${k + 1}: node ${i} lagged: ${Number.isFinite(t) ? `${Math.round(t)} ms` : 'missed the deadline'} (median node ${Math.round(p50)} ms), ${hops[i]} hops from the writer, route ${tree.path[i]!.join('→')} (after the rounds), ${tree.graftsBy[i]} grafts sent in the run, peers ${peers(i).join(',')}, ${r.after[i]!.sessions} sessions open, ${cpu} ms CPU, ${r.after[i]!.records} records\n`)
    }
  })
  return lagged
}

interface Measured {
  /** The first round (undefined when none ran). */
  readonly first: Round | undefined
  readonly rounds: readonly Round[]
  readonly after: NodeStats[]
  /** Each node's resident set before the bursts. */
  readonly rssBefore: readonly number[]
  readonly memory: MemoryFigures[]
  readonly each: number[]
  readonly all: number[]
  readonly idleCpu: number[]
  readonly idleLoad: number
  /** The idle CPU measured again after a settle period (ENGRAM_BENCH_IDLE_SETTLE_MS), with the load then. */
  readonly settled: { readonly cpu: number[], readonly load: number } | undefined
  readonly load: number
  readonly startMs: number
  readonly connectMs: number
  /** Records of the bursts the nodes that missed the deadline still lacked at the end. */
  readonly lacking: number
  /** (node, round) pairs that lagged (stragglers()). */
  readonly lagged: number
  readonly health: SessionHealth
  readonly diameter: number
  readonly dials: number
}

function figures (n: number, writes: number, m: Measured): Record<string, number> {
  // records and bytes the other nodes received during a round (or all of them), per write per node
  const received = (rs: readonly Round[]): { records: number, bytes: number } => {
    let records = 0
    let bytes = 0
    for (const r of rs) {
      for (let i = 1; i < n; i++) {
        records += r.after[i]!.recordsIn - r.before[i]!.recordsIn
        bytes += r.after[i]!.bytesIn - r.before[i]!.bytesIn
      }
    }
    const per = CONVERGE * (n - 1) * rs.length
    return { records: records / per, bytes: bytes / per }
  }
  const cpuOf = (r: Round, i: number): number => r.after[i]!.cpuMs - r.before[i]!.cpuMs
  const f = m.first
  const once = received(f !== undefined ? [f] : [])
  const over = received(m.rounds)
  const arrived = (f?.arrived.slice(1).filter(Number.isFinite) ?? []).sort((a, b) => a - b)
  m.each.sort((a, b) => a - b)
  m.all.sort((a, b) => a - b)
  const rss = m.after.map(s => s.rssMb)
  // each round: its convergence time, the median node's, and the CPU of every node per write (µs)
  const converge = m.rounds.map(r => r.convergeMs)
  const medianNode = m.rounds.map(r => median(r.arrived.slice(1).filter(Number.isFinite)))
  const idleMsPerMs = m.idleCpu.reduce((a, b) => a + b, 0) / 100
  const cpuAll = m.rounds.map(r => sum(m.after.map((_, i) => cpuOf(r, i))) * 1000 / CONVERGE)
  const cpuOthers = m.rounds.map(r => sum(m.after.slice(1).map((_, i) => cpuOf(r, i + 1))) * 1000 / CONVERGE / (n - 1))
  const cpuLessIdle = m.rounds.map((r, k) => cpuAll[k]! - idleMsPerMs * r.convergeMs * 1000 / CONVERGE)
  const spread = (xs: readonly number[]): number => round((Math.max(...xs) - Math.min(...xs)) / median(xs) * 100)
  return {
    sessions: m.dials,
    diameter_hops: m.diameter,
    start_ms: Math.round(m.startMs),
    connect_ms: Math.round(m.connectMs),
    idle_cpu_pct_per_node: round(mean(m.idleCpu), 2),
    idle_load_1m: round(m.idleLoad, 2),
    ...(m.settled !== undefined ? { idle_settled_cpu_pct_per_node: round(mean(m.settled.cpu), 2), idle_settled_load_1m: round(m.settled.load, 2) } : {}),
    writes_visible_everywhere: m.all.length,
    writes_closed_loop: writes,
    write_to_visible_p50_ms: round(percentile(m.each, 0.5)),
    write_to_visible_p99_ms: round(percentile(m.each, 0.99)),
    visible_on_all_p50_ms: round(percentile(m.all, 0.5)),
    visible_on_all_p99_ms: round(percentile(m.all, 0.99)),
    // the first round, as before rounds were repeated
    converge_1000_ms: Math.round(f?.convergeMs ?? NaN),
    converged_nodes: f?.converged ?? 0,
    converge_written_ms: Math.round(f?.writtenMs ?? NaN),
    converge_first_node_ms: Math.round(Math.min(...arrived)),
    converge_p50_node_ms: Math.round(percentile(arrived, 0.5)),
    converge_last_node_ms: Math.round(Math.max(...arrived)),
    converge_records_lacking: m.lacking,
    // CPU from before the burst to after it (the stats read once every node held it, or timed out)
    converge_cpu_ms_writer: f !== undefined ? cpuOf(f, 0) : NaN,
    converge_cpu_ms_per_other_node: f !== undefined ? Math.round(mean(m.after.slice(1).map((_, i) => cpuOf(f, i + 1)))) : NaN,
    session_failures: m.health.failures,
    nodes_short_of_sessions: m.health.shortNodes,
    nodes_status_unanswered: m.health.unanswered,
    copies_per_record_per_node: round(once.records, 2),
    bytes_per_write_per_node: Math.round(once.bytes),
    // every round: the median and the spread ((max − min) ÷ median) of each figure
    converge_rounds: m.rounds.length,
    converge_1000_ms_median: Math.round(median(converge)),
    converge_1000_ms_min: Math.round(Math.min(...converge)),
    converge_1000_ms_max: Math.round(Math.max(...converge)),
    converge_1000_spread_pct: spread(converge),
    converge_p50_node_ms_median: Math.round(median(medianNode)),
    converge_lagged_node_rounds: m.lagged,
    // CPU per write: every node's (the writer's included), and each other node's (what relaying costs a node)
    cpu_us_per_write_all_nodes_median: Math.round(median(cpuAll)),
    cpu_us_per_write_all_nodes_min: Math.round(Math.min(...cpuAll)),
    cpu_us_per_write_all_nodes_max: Math.round(Math.max(...cpuAll)),
    cpu_us_per_write_all_nodes_spread_pct: spread(cpuAll),
    cpu_us_per_write_all_nodes_less_idle_median: Math.round(median(cpuLessIdle)),
    cpu_us_per_write_per_other_node_median: Math.round(median(cpuOthers)),
    converge_load_1m_median: round(median(m.rounds.map(r => r.load)), 2),
    copies_per_record_per_node_all_rounds: round(over.records, 2),
    bytes_per_write_per_node_all_rounds: Math.round(over.bytes),
    rss_mb_per_node_before_writes: Math.round(mean(m.rssBefore)),
    rss_mb_per_node: Math.round(mean(rss)),
    max_rss_mb: Math.round(Math.max(...m.after.map(s => s.maxRssMb))),
    peak_rss_mb_per_node: Math.round(mean(m.after.map(s => s.maxRssMb))),
    total_rss_mb: Math.round(rss.reduce((a, b) => a + b, 0)),
    v8_heap_mb_per_node: Math.round(mean(m.memory.map(x => x.v8Mb))),
    new_space_mb_per_node: Math.round(mean(m.memory.map(x => x.newSpaceMb))),
    heap_used_mb_per_node: Math.round(mean(m.memory.map(x => x.heapUsedMb))),
    outside_v8_mb_per_node: Math.round(mean(m.memory.map(x => x.outsideV8Mb))),
    load_1m: round(m.load, 2)
  }
}

/** The prefix of a run's figures: mesh_25 (full), mesh_50_k3 (partial, degree 3), then _routes / _noroutes. */
function prefix (n: number, degree: number | undefined, routes: boolean): string {
  const shape = degree === undefined || degree >= n - 1 ? `mesh_${n}` : `mesh_${n}_k${degree}`
  return `${shape}_${routes ? 'routes' : 'noroutes'}`
}

export async function benchMesh ({ nodes = DEFAULT_NODES, writes, degree, routes = [true, false], rounds = DEFAULT_ROUNDS }: MeshOptions = {}): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-mesh-'))
  const out: Record<string, number> = {}
  let rssMb = 0
  try {
    for (const n of nodes) {
      for (const r of routes) {
        const p = prefix(n, degree, r)
        const need = n * rssMb * MEMORY_MARGIN * 1024 * 1024
        if (need > freemem()) {
          process.stdout.write(`${p}: skipped: ${Math.round(need / 2 ** 20)} MB needed at ${MEMORY_MARGIN} × the largest mean peak RSS of a daemon seen (${Math.round(rssMb)} MB), ${Math.round(freemem() / 2 ** 20)} MB free\n`)
          out[`${p}_skipped`] = 1
          continue
        }
        // fewer closed-loop writes on a large mesh: each is already n − 1 samples; each run in
        // data dirs of its own (a run on the last run's dirs starts with its records and peers)
        const res = await mesh(n, join(dir, p), writes ?? (n >= 25 ? 30 : 60), degree, r, rounds)
        rssMb = Math.max(rssMb, res.peakRssMb)
        for (const [k, v] of Object.entries(res.figures)) out[`${p}_${k}`] = v
        process.stdout.write(`${p}: ${JSON.stringify(res.figures)}\n`)
      }
    }
    return out
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const nodes = process.argv[2]?.split(',').map(Number) ?? DEFAULT_NODES
  const figs = await benchMesh({ nodes })
  for (const [k, v] of Object.entries(figs)) process.stdout.write(`${k.padEnd(52)} ${v}\n`)
}
