/**
 * Two peers in processes of their own on loopback, engram beside Yjs, on one workload
 * (`npm run bench`, `peers`; each peer is a process of bench/peers/, driven as
 * bench/peers/protocol.ts says). For each size (10,000, 100,000 and 1,000,000 triples, capped by
 * --rows) a source node is filled (the bulk insert: Engine.addTriples in batches of 10,000 on a
 * running node with the default configuration), then:
 *
 *  - full copy: an empty node connects to the source and receives everything (from the connect
 *    until it holds every record); bytes received, the receiver's peak RSS (over its whole life:
 *    start_peak_rss_mb is the part before the connect, its start's, so the copy set the peak only
 *    where full_copy_peak_rss_mb is the higher), and the CPU time
 *    (user + system) the receiver and the source spent on it — steadier than the time on a
 *    loaded machine; and where the receiver's memory is right after it (`after_copy_*`: anonymous
 *    resident memory, V8's heap and what of it is in use, the rest outside V8: protocol.ts
 *    memoryFigures), and where it was at the highest resident size during the copy (`copy_peak_*`,
 *    sampled every 25 ms: protocol.ts PeakMemory; v8_high_water is the most V8 held at any sample,
 *    its share of the peak, since V8 keeps freed pages resident for reuse); search_ready_ms:
 *    from the connect until search finds every record (the full-text index a far-behind catch-up
 *    deferred, indexed in the background, complete: the peak RSS and CPU above do not include
 *    that work), after_copy_index_cpu_ms the receiver's CPU time from the end of the copy until
 *    then;
 *    ratio_to_insert = full-copy rate ÷ bulk-insert rate; ratio_to_raw_insert = full-copy rate ÷
 *    the rate of plain SQLite INSERTs of the same rows into the store's schema (bench/store.ts
 *    rawInsert, measured in this run just before the copy, in this process);
 *  - live +100: 100 triples written on the source in one write, until the receiver holds them;
 *    eleven such writes one after another (ENGRAM_BENCH_PEERS_LIVE_ROUNDS): the median of their
 *    times, and the first's;
 *  - resume +100: the receiver stops, 100 more are written on the source, the receiver starts
 *    again (a new process on the same data), five times (ENGRAM_BENCH_PEERS_RESUME_ROUNDS), each
 *    figure the median of the five; `restart_ready_ms` is from its spawn until it is up
 *    (store open, REST API answering, sync started), `resume_ms` until it holds the 100: the
 *    ready line's time, then from the moment the peer reads the `wait` command that follows it.
 *    The peer reads that command only once its event loop is free, so what it does between its
 *    ready line and then (a restarted engram node: the QUIC dial and a garbage collection, tens of
 *    milliseconds) is not counted there; `resume_100_whole_ms` counts it: the ready line's time,
 *    then the peer's own clock from its ready line until it held the 100 (the answer's
 *    sinceSpawnMs less the ready line's).
 *
 * Yjs runs the same steps at 100,000 (or the largest size, if smaller) with y-websocket's server
 * as the source and a y-websocket client as the receiver (bench/peers/yjs.ts; its client saves
 * its document on stop and loads it on start, its state vector then doing what engram's cursor
 * does). `vs_yjs_*` are engram ÷ Yjs, measured in this one run (below 1: engram is faster,
 * smaller, leaner).
 *
 * The engram peer runs as built: dist/bench/peers/engram.js, bundled as the `engram` executable
 * is (scripts/build-cli.ts), so it loads as `engram start` does. With `base` (another checkout,
 * built) its engram peer runs every size too, right after this one's, as base_engram_…;
 * vs_base_* are this ÷ base.
 *
 * ENGRAM_BENCH_PEER_CONFIG (JSON, e.g. {"sync.maxTriplesPerSync":20000}): more configuration for
 * this build's engram peers, not the base's (with --base, a setting measured against the default).
 * ENGRAM_BENCH_PEERS_LIVE_ROUNDS (default 11): how many live writes the median is taken over;
 * ENGRAM_BENCH_PEERS_RESUME_ROUNDS (default 5): how many restarts.
 * ENGRAM_BENCH_PEER_V8_FLAGS (e.g. "--max-semi-space-size=16"): the Node.js flags this build's
 * engram peers run with, in place of the daemon's (src/cli/launch.ts DAEMON_V8_FLAGS): a V8
 * setting measured against the daemon's in one run. Every engram peer runs in the daemon's
 * environment (DAEMON_ENV); the base's with the base's own daemon flags and environment (its
 * src/cli/launch.ts), as its `engram start` would.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { freeUdpPort, PeerProcess, type Figures, type MemoryFigures, type PeakFigures } from './peers/protocol.ts'
import { median } from './stats.ts'
import { rawInsert } from './store.ts'
import { DAEMON_V8_FLAGS, withDaemonEnv } from '../src/cli/launch.ts'

// the peers run as built (dist/, as `engram start` does; `npm run bench` builds first), not through type stripping
const built = (name: string): string => fileURLToPath(new URL(`../dist/bench/peers/${name}.js`, import.meta.url))
const ENGRAM = built('engram')
const YJS = built('yjs')
const LIVE = 100
/**
 * Live writes of LIVE, one after another: live_100_ms is the median of their times,
 * live_100_first_ms the first (after a copy, the first writes also pay for work the copy left).
 * ENGRAM_BENCH_PEERS_LIVE_ROUNDS (odd, 3 to 201): more of them, for a steadier median on a loaded machine.
 */
const LIVE_ROUNDS = oddRounds('ENGRAM_BENCH_PEERS_LIVE_ROUNDS', 11, 3, 201)
/**
 * Restarts of the receiver, each after LIVE more writes on the source: restart_ready_ms,
 * resume_100_ms and resume_100_whole_ms are the medians of their figures (one restart is one
 * sample of a start, which the machine's load moves by a quarter).
 * ENGRAM_BENCH_PEERS_RESUME_ROUNDS (odd, 1 to 21).
 */
const RESUME_ROUNDS = oddRounds('ENGRAM_BENCH_PEERS_RESUME_ROUNDS', 5, 1, 21)

/** The middle of an odd number of figures. */

function oddRounds (name: string, byDefault: number, min: number, max: number): number {
  const given = process.env[name]
  if (given === undefined || given === '') return byDefault
  const n = Number(given)
  if (!Number.isSafeInteger(n) || n < min || n > max || n % 2 === 0) throw new Error(`${name} must be an odd number from ${min} to ${max} (got ${given})`)
  return n
}
/** Configuration over the defaults for this build's engram peers (bench/peers/engram.ts CONFIG_JSON). */
const PEER_CONFIG = process.env.ENGRAM_BENCH_PEER_CONFIG
/** Node.js flags for this build's engram peers (ENGRAM_BENCH_PEER_V8_FLAGS), else the daemon's. */
const PEER_V8_FLAGS: readonly string[] = process.env.ENGRAM_BENCH_PEER_V8_FLAGS?.split(/\s+/).filter(f => f !== '') ?? DAEMON_V8_FLAGS

type System = 'engram' | 'yjs'

/** How a daemon starts: its V8 flags and its environment (src/cli/launch.ts DAEMON_V8_FLAGS, withDaemonEnv). */
interface Launch {
  readonly flags: readonly string[]
  readonly env: Readonly<Record<string, string | undefined>>
}

/** This build's engram peers: ENGRAM_BENCH_PEER_V8_FLAGS or the daemon's flags, the daemon's environment. */
const PEER_LAUNCH: Launch = { flags: PEER_V8_FLAGS, env: withDaemonEnv(process.env) }

/** How another checkout's daemon starts (its src/cli/launch.ts; an older one: no variables of its own). */
async function launchOf (checkout: string): Promise<Launch> {
  type Env = Readonly<Record<string, string | undefined>>
  const launch = await import(pathToFileURL(join(checkout, 'src', 'cli', 'launch.ts')).href) as { DAEMON_V8_FLAGS?: readonly string[], withDaemonEnv?: (env: Env) => Env }
  return { flags: launch.DAEMON_V8_FLAGS ?? [], env: launch.withDaemonEnv?.(process.env) ?? process.env }
}

interface Run {
  readonly insertMs: number
  /** Plain SQLite INSERTs, rows per second (engram only). */
  readonly rawInsertPerS: number
  readonly fullMs: number
  readonly fullBytes: number
  readonly fullMaxRssMb: number
  /** The receiver's peak RSS before the connect: its start's (the seed's Argon2id), MB. */
  readonly startMaxRssMb: number
  /** CPU time of the receiver, and of the source, during the full copy (user + system), ms. */
  readonly fullCpuMs: number
  /** From the connect until search finds every record (engram: the index a catch-up deferred done), ms. */
  readonly searchMs: number
  /** The receiver's CPU time from the end of the copy until then (engram), ms. */
  readonly indexCpuMs: number
  readonly fullSourceCpuMs: number
  /** The receiver's memory right after the copy, and at its highest during the copy (engram only). */
  readonly memory?: MemoryFigures & { readonly peak?: PeakFigures }
  readonly liveMs: number
  /** The first of the live writes, ms. */
  readonly liveFirstMs: number
  readonly restartReadyMs: number
  readonly resumeMs: number
  /** From the spawn until it holds the 100, what the peer did before it read the `wait` command included. */
  readonly resumeWholeMs: number
  readonly resumeBytes: number
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits

/** The source and the receiver of one system, each in a process (`engram`: that build's peer, started as `launch` says). */
async function run (system: System, rows: number, dir: string, engram = ENGRAM, launch = PEER_LAUNCH): Promise<Run> {
  const tag = engram === ENGRAM ? '' : 'base-'
  const config = engram === ENGRAM && PEER_CONFIG !== undefined ? [PEER_CONFIG] : []
  const receiverArgs = async (): Promise<string[]> => system === 'engram'
    ? [join(dir, `${tag}${system}-${rows}-receiver`), String(await freeUdpPort()), ...config]
    : ['client', join(dir, `yjs-${rows}.state`)]
  let sourceCpuMs = 0
  const flags = system === 'engram' ? launch.flags : []
  const env = system === 'engram' ? launch.env : process.env
  const source = new PeerProcess(system === 'engram' ? engram : YJS,
    system === 'engram' ? [join(dir, `${tag}${system}-${rows}-source`), String(await freeUdpPort()), ...config] : ['server'], flags, env)
  const peers: PeerProcess[] = [source]
  try {
    const { addr } = await source.ready
    const fill = await source.run({ op: 'fill', from: 0, n: rows })
    sourceCpuMs = fill.cpuMs

    const rawInsertPerS = system === 'engram' ? rawInsert(join(dir, `${tag}raw-${rows}.db`), rows) : NaN
    const args = await receiverArgs()
    let receiver = new PeerProcess(system === 'engram' ? engram : YJS, args, flags, env)
    peers.push(receiver)
    await receiver.ready
    const t0 = performance.now()
    const connected = await receiver.run({ op: 'connect', addr })
    const full: Figures = await receiver.run({ op: 'wait', n: rows })
    const fullMs = performance.now() - t0
    const source1 = await source.run({ op: 'stats' })
    // where the receiver's memory is right after the copy (an engram peer answers `memory`)
    const memory = system === 'engram' ? await receiver.run({ op: 'memory' }) as unknown as MemoryFigures & { peak?: PeakFigures } : undefined
    // until search finds every record: the index a catch-up deferred, indexed in the background
    const searchReady = system === 'engram' ? await receiver.run({ op: 'searchReady' }) : full
    const searchMs = performance.now() - t0

    // one write of LIVE is a few tens of ms, which the machine's load moves by as much: LIVE_ROUNDS, the median
    const lives: number[] = []
    for (let i = 0; i < LIVE_ROUNDS; i++) {
      const waitLive = receiver.run({ op: 'wait', n: rows + (i + 1) * LIVE })
      const t1 = performance.now()
      await source.run({ op: 'write', from: rows + i * LIVE, n: LIVE })
      await waitLive
      lives.push(performance.now() - t1)
    }
    const liveFirstMs = lives[0]!
    const liveMs = median(lives)
    let held = rows + LIVE_ROUNDS * LIVE

    const readies: number[] = []
    const resumes: number[] = []
    const wholes: number[] = []
    let resumeBytes = 0
    for (let i = 0; i < RESUME_ROUNDS; i++) {
      await receiver.stop()
      await source.run({ op: 'write', from: held, n: LIVE })
      held += LIVE
      receiver = new PeerProcess(system === 'engram' ? engram : YJS, system === 'engram' ? args : [...args, addr], flags, env)
      peers.push(receiver)
      const ready = await receiver.ready
      const resumed = await receiver.run({ op: 'wait', n: held })
      readies.push(ready.wallMs)
      resumes.push(ready.wallMs + resumed.ms)
      wholes.push(ready.wallMs + (resumed.sinceSpawnMs - ready.sinceSpawnMs))
      resumeBytes = resumed.bytesIn
    }
    return {
      insertMs: fill.ms,
      rawInsertPerS,
      fullMs,
      fullBytes: full.bytesIn,
      fullMaxRssMb: full.maxRssMb,
      startMaxRssMb: connected.maxRssMb,
      fullCpuMs: full.cpuMs - connected.cpuMs,
      searchMs,
      indexCpuMs: searchReady.cpuMs - full.cpuMs,
      fullSourceCpuMs: source1.cpuMs - sourceCpuMs,
      ...(memory !== undefined ? { memory } : {}),
      liveMs,
      liveFirstMs,
      restartReadyMs: median(readies),
      resumeMs: median(resumes),
      resumeWholeMs: median(wholes),
      resumeBytes
    }
  } finally {
    for (const p of peers) await p.stop().catch(() => p.kill())
  }
}

function figures (prefix: string, rows: number, r: Run): Record<string, number> {
  return {
    [`${prefix}_full_copy_ms`]: Math.round(r.fullMs),
    [`${prefix}_full_copy_records_per_s`]: Math.round(rows / r.fullMs * 1000),
    [`${prefix}_full_copy_ratio_to_insert`]: round(r.insertMs / r.fullMs),
    ...(Number.isNaN(r.rawInsertPerS) ? {} : { [`${prefix}_full_copy_ratio_to_raw_insert`]: round(rows / r.fullMs * 1000 / r.rawInsertPerS, 3), [`${prefix}_raw_insert_rows_per_s`]: Math.round(r.rawInsertPerS) }),
    [`${prefix}_full_copy_bytes_per_record`]: round(r.fullBytes / rows),
    [`${prefix}_full_copy_peak_rss_mb`]: r.fullMaxRssMb,
    [`${prefix}_start_peak_rss_mb`]: r.startMaxRssMb,
    [`${prefix}_full_copy_receiver_cpu_ms`]: r.fullCpuMs,
    [`${prefix}_full_copy_search_ready_ms`]: Math.round(r.searchMs),
    [`${prefix}_after_copy_index_cpu_ms`]: r.indexCpuMs,
    [`${prefix}_full_copy_source_cpu_ms`]: r.fullSourceCpuMs,
    ...(r.memory !== undefined
      ? {
          [`${prefix}_after_copy_anon_mb`]: r.memory.anonMb,
          [`${prefix}_after_copy_v8_mb`]: r.memory.v8Mb,
          [`${prefix}_after_copy_heap_used_mb`]: r.memory.heapUsedMb,
          [`${prefix}_after_copy_outside_v8_mb`]: r.memory.outsideV8Mb
        }
      : {}),
    ...(r.memory?.peak !== undefined
      ? {
          [`${prefix}_copy_peak_sample_rss_mb`]: r.memory.peak.rssMb,
          [`${prefix}_copy_peak_anon_mb`]: r.memory.peak.anonMb,
          [`${prefix}_copy_peak_v8_mb`]: r.memory.peak.v8Mb,
          [`${prefix}_copy_peak_v8_high_water_mb`]: r.memory.peak.v8HighWaterMb,
          [`${prefix}_copy_peak_outside_v8_mb`]: r.memory.peak.outsideV8Mb
        }
      : {}),
    [`${prefix}_live_100_ms`]: round(r.liveMs, 1),
    [`${prefix}_live_100_first_ms`]: round(r.liveFirstMs, 1),
    [`${prefix}_restart_ready_ms`]: Math.round(r.restartReadyMs),
    [`${prefix}_resume_100_ms`]: Math.round(r.resumeMs),
    [`${prefix}_resume_100_whole_ms`]: Math.round(r.resumeWholeMs),
    [`${prefix}_resume_100_bytes`]: r.resumeBytes
  }
}

export async function benchPeers ({ rows, base }: { rows: number, base?: string | undefined }): Promise<Record<string, number>> {
  const baseEngram = base === undefined ? undefined : join(base, 'dist', 'bench', 'peers', 'engram.js')
  const baseLaunch = base === undefined ? undefined : await launchOf(base)
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-peers-'))
  const sizes = [10_000, 100_000, 1_000_000].filter(n => n <= rows)
  if (sizes.length === 0) sizes.push(rows)
  const out: Record<string, number> = {}
  try {
    let side: { rows: number, engram: Run, base?: Run } | undefined
    for (const n of sizes) {
      const r = await run('engram', n, dir)
      Object.assign(out, figures(`engram_${n}`, n, r))
      const b = baseEngram === undefined ? undefined : await run('engram', n, dir, baseEngram, baseLaunch)
      if (b !== undefined) {
        Object.assign(out, figures(`base_engram_${n}`, n, b), {
          [`vs_base_${n}_restart_ready`]: round(r.restartReadyMs / b.restartReadyMs),
          [`vs_base_${n}_resume_100`]: round(r.resumeMs / b.resumeMs),
          [`vs_base_${n}_resume_100_whole`]: round(r.resumeWholeMs / b.resumeWholeMs)
        })
      }
      if (n <= 100_000) side = { rows: n, engram: r, ...(b !== undefined ? { base: b } : {}) }
    }
    side ??= { rows: sizes[0]!, engram: await run('engram', sizes[0]!, dir) }
    const y = await run('yjs', side.rows, dir)
    Object.assign(out, figures(`yjs_${side.rows}`, side.rows, y))
    const e = side.engram
    Object.assign(out, {
      vs_yjs_full_copy_time: round(e.fullMs / y.fullMs),
      vs_yjs_live_100_time: round(e.liveMs / y.liveMs),
      vs_yjs_resume_100_time: round(e.resumeMs / y.resumeMs),
      vs_yjs_resume_100_whole_time: round(e.resumeWholeMs / y.resumeWholeMs),
      vs_yjs_full_copy_bytes: round(e.fullBytes / y.fullBytes),
      vs_yjs_full_copy_peak_rss: round(e.fullMaxRssMb / y.fullMaxRssMb),
      vs_yjs_full_copy_receiver_cpu: round(e.fullCpuMs / y.fullCpuMs),
      vs_yjs_restart_ready_time: round(e.restartReadyMs / y.restartReadyMs),
      ...(side.base !== undefined ? { base_vs_yjs_resume_100_time: round(side.base.resumeMs / y.resumeMs), base_vs_yjs_resume_100_whole_time: round(side.base.resumeWholeMs / y.resumeWholeMs), base_vs_yjs_restart_ready_time: round(side.base.restartReadyMs / y.restartReadyMs) } : {})
    })
    const big = sizes.at(-1)!
    const small = sizes.find(n => n === 100_000)
    if (small !== undefined && big > small) out[`engram_full_copy_time_${big}_over_${small}`] = round(out[`engram_${big}_full_copy_ms`]! / out[`engram_${small}_full_copy_ms`]!)
    return out
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = Number(process.argv[2] ?? 100_000)
  const figs = await benchPeers({ rows })
  for (const [k, v] of Object.entries(figs)) process.stdout.write(`${k.padEnd(44)} ${v}\n`)
}
