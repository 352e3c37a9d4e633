/**
 * Start-up of the engram executable as a user runs it (`npm run bench`, `startup`): the built
 * `dist/src/cli/main.js` in processes of its own, with the V8 flags and the environment its `#!`
 * line gives (cli/launch.ts DAEMON_V8_FLAGS, DAEMON_ENV), wall time (from spawn) and CPU time (user +
 * system, from /proc: Linux only, NaN elsewhere). Medians of several runs:
 *
 *  - version: `engram --version`, spawn to exit;
 *  - status: `engram status --json` against a running daemon (polled sync), spawn to exit;
 *  - start_polled / start_native: `engram start` on a data directory it used before, from spawn
 *    until GET /api/v1/health answers (the API ready); native with p2p.enabled and no peers;
 *    CPU at that moment;
 *  - restart_N / resume_N: a node holding N records (100,000, and 1,000,000 when --rows allows)
 *    received from a peer restarts (`engram start`, native sync, the peer as a manual peer) while
 *    the peer wrote 100 more: `restart_N_ready` until the API answers, `resume_N` until it holds
 *    the 100 (the last of them answers a query). The peer is a bench node (bench/peers/engram.ts)
 *    filled once; filling it and the node's first copy of its records are not measured, and the
 *    1,000,000 reuse the 100,000 (900,000 more are filled and copied). `window_N`: then until
 *    its gossip window index is built (GET /api/v1/p2p/status has no `window.building`), with
 *    the CPU spent by then — a build from the whole store, or its saved copy read back. Ratios: 1M ÷ 100k
 *    (restart_ready_1000000_vs_100000, …), which are 1 when start-up does not grow with the store.
 *
 * With `--base DIR` (another checkout, built), every case also runs DIR's executable, run for
 * run interleaved with this one's, as base_…, and vs_base_… = this ÷ base. Each build has data
 * directories of its own (a build may migrate a store to a schema the other refuses): its own
 * node receives the peer's records, from the same peer (so at each restart a node also lacks the
 * 100 written before the other build's restart: it resumes 200).
 * With ENGRAM_BENCH_CPU_PROF=DIR every daemon is started with --cpu-prof and leaves its profile in
 * DIR when it exits (as the peers' processes do, bench/peers/protocol.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiClient } from '../src/client/ApiClient.ts'
import { median } from './stats.ts'
import { benchInput } from './store.ts'
import { freeUdpPort, PeerProcess } from './peers/protocol.ts'
import { DAEMON_V8_FLAGS, withDaemonEnv } from '../src/cli/launch.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SEED = 'bench-seed-7f3a9c2e41d8b605'
const RUNS = 5
const ONE_SHOT_RUNS = 7
const MORE = 100

interface Build { readonly prefix: string, readonly cli: string }
interface Sample { readonly ms: number, readonly cpuMs: number }

/** CPU time of a process (user + system), ms, from /proc (clock ticks of 10 ms); NaN off Linux. */
function cpuMsOf (pid: number | 'self', children = false): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    const [u, s] = children ? [f[13], f[14]] : [f[11], f[12]]
    return (Number(u) + Number(s)) * 10
  } catch {
    return NaN
  }
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Runs `engram …args` to its exit; its CPU is what this process's reaped children gained meanwhile. */
async function oneShot (build: Build, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  const cpu0 = cpuMsOf('self', true)
  const t0 = performance.now()
  const child = spawn(process.execPath, [...DAEMON_V8_FLAGS, build.cli, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  const ms = performance.now() - t0
  if (code !== 0) throw new Error(`engram ${args.join(' ')} exited with ${code}: ${stderr}`)
  return { ms, cpuMs: cpuMsOf('self', true) - cpu0 }
}

/** A daemon of `build` (`engram start`), from its spawn until its API answers. */
class Daemon {
  readonly child: ChildProcess
  readonly ready: Promise<Sample & { client: ApiClient, url: string }>
  private readonly t0 = performance.now()
  private readonly exited: Promise<void>
  private stderr = ''

  constructor (build: Build, dataDir: string, env: NodeJS.ProcessEnv) {
    const prof = process.env.ENGRAM_BENCH_CPU_PROF
    const flags = prof === undefined || prof === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${prof}`]
    this.child = spawn(process.execPath, [...flags, ...DAEMON_V8_FLAGS, build.cli, 'start', '--data-dir', dataDir, '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => { this.stderr = (this.stderr + d).slice(-4_000) })
    this.exited = new Promise(resolve => this.child.on('close', () => resolve()))
    this.ready = this.untilReady(join(dataDir, 'api.json'))
  }

  /** ms since spawn and the daemon's CPU so far. */
  sample (): Sample { return { ms: performance.now() - this.t0, cpuMs: cpuMsOf(this.child.pid!) } }

  private async untilReady (infoFile: string): Promise<Sample & { client: ApiClient, url: string }> {
    const deadline = performance.now() + 120_000
    let client: ApiClient | undefined
    let url = ''
    while (performance.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`engram start exited with ${this.child.exitCode}: ${this.stderr}`)
      if (client === undefined && existsSync(infoFile)) {
        const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { url: string, pid: number }
        if (info.pid === this.child.pid) { url = info.url; client = new ApiClient(info.url, { timeoutMs: 10_000 }) }
      }
      if (client !== undefined && await client.health().then(() => true, () => false)) return { ...this.sample(), client, url }
      await sleep(5)
    }
    throw new Error(`engram start did not answer within 120 s: ${this.stderr}`)
  }

  async stop (): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM')
    await this.exited
  }
}

/** Whether the node behind `client` holds bench record `i` (bench/store.ts benchInput). */
async function holds (client: ApiClient, i: number): Promise<boolean> {
  const { subject, predicate } = benchInput(i)
  return (await client.queryTriples({ subject, predicate, limit: 1 })).triples.length > 0
}

/** Polls until the node holds record `i`; answers the sample at that moment. */
async function untilHolds (daemon: Daemon, client: ApiClient, i: number, ms: number): Promise<Sample> {
  const deadline = performance.now() + ms
  while (performance.now() < deadline) {
    if (await holds(client, i)) return daemon.sample()
    await sleep(10)
  }
  throw new Error(`the node did not receive record ${i} within ${ms / 1000} s`)
}

/** Polls until the node's gossip window index is built; answers the sample at that moment. */
async function untilWindowBuilt (daemon: Daemon, url: string, ms: number): Promise<Sample> {
  const deadline = performance.now() + ms
  const client = new ApiClient(url, { timeoutMs: ms })
  while (performance.now() < deadline) {
    const t0 = performance.now()
    const building = (await client.p2pStatus()).window?.building
    const took = performance.now() - t0
    if (took > 2_000) process.stderr.write(`startup: a status request took ${Math.round(took)} ms (window ${JSON.stringify(building)})\n`)
    if (building === undefined) return daemon.sample()
    await sleep(20)
  }
  throw new Error(`the node's window index was not built within ${ms / 1000} s`)
}

function figures (out: Record<string, number>, name: string, samples: readonly Sample[]): void {
  out[`${name}_ms`] = Math.round(median(samples.map(s => s.ms)))
  out[`${name}_cpu_ms`] = Math.round(median(samples.map(s => s.cpuMs)))
}

export async function benchStartup ({ rows, base }: { rows: number, base?: string }): Promise<Record<string, number>> {
  const builds: Build[] = [{ prefix: '', cli: join(ROOT, 'dist', 'src', 'cli', 'main.js') }]
  if (base !== undefined) builds.push({ prefix: 'base_', cli: join(base, 'dist', 'src', 'cli', 'main.js') })
  for (const b of builds) if (!existsSync(b.cli)) throw new Error(`${b.cli} is missing: build that checkout first`)
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-startup-'))
  // no configuration file of this machine's user; only what each case sets
  const env: NodeJS.ProcessEnv = { ...withDaemonEnv(Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ENGRAM_')))), XDG_CONFIG_HOME: join(dir, 'config'), ENGRAM_LOG_LEVEL: 'warn' }
  const nativeEnv = async (extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> =>
    ({ ...env, ENGRAM_P2P_ENABLED: '1', ENGRAM_P2P_SEED: SEED, ENGRAM_P2P_HOST: '127.0.0.1', ENGRAM_P2P_PORT: String(await freeUdpPort()), ...extra })
  const samples = new Map<string, Sample[]>()
  const add = (b: Build, name: string, s: Sample): void => {
    const k = `${b.prefix}${name}`
    samples.set(k, [...(samples.get(k) ?? []), s])
  }
  const daemons: Daemon[] = []
  const source: PeerProcess[] = []
  try {
    // one-shot commands; `status` against a polled daemon of this build
    const polledDir = join(dir, 'polled')
    const polled = new Daemon(builds[0]!, polledDir, env)
    daemons.push(polled)
    await polled.ready
    for (let i = 0; i < ONE_SHOT_RUNS; i++) {
      for (const b of builds) {
        add(b, 'version', await oneShot(b, ['--version'], env))
        add(b, 'status', await oneShot(b, ['status', '--json', '--data-dir', polledDir], env))
      }
    }
    await polled.stop()

    // daemon start to API ready, on data directories started once before (identity, store, token made)
    const native = await nativeEnv()
    for (const [name, e] of [['start_polled', env], ['start_native', native]] as const) {
      const d = (b: Build): string => join(dir, `${b.prefix}${name}`)
      for (const b of builds) {
        const first = new Daemon(b, d(b), e)
        daemons.push(first)
        await first.ready
        await first.stop()
      }
      for (let i = 0; i < RUNS; i++) {
        for (const b of builds) {
          const daemon = new Daemon(b, d(b), e)
          daemons.push(daemon)
          add(b, name, await daemon.ready)
          await daemon.stop()
        }
      }
    }

    // restart and resume holding N records received from a peer
    const sizes = [100_000, 1_000_000].filter(n => n <= rows)
    if (sizes.length === 0) sizes.push(rows)
    const srcPort = await freeUdpPort()
    const peer = new PeerProcess(join(ROOT, 'dist', 'bench', 'peers', 'engram.js'), [join(dir, 'source'), String(srcPort)], DAEMON_V8_FLAGS, withDaemonEnv(process.env))
    source.push(peer)
    await peer.ready
    const receiverDir = (b: Build): string => join(dir, `${b.prefix}receiver`)
    const receiverEnv = new Map<Build, NodeJS.ProcessEnv>()
    for (const b of builds) receiverEnv.set(b, await nativeEnv({ ENGRAM_P2P_MANUAL_PEERS: `127.0.0.1:${srcPort}` }))
    let written = 0
    for (const n of sizes) {
      // not measured: the fill, and each node's copy of it
      await peer.run({ op: 'fill', from: written, n: n - written })
      written = n
      for (const b of builds) {
        const first = new Daemon(b, receiverDir(b), receiverEnv.get(b)!)
        daemons.push(first)
        await untilHolds(first, (await first.ready).client, written - 1, 1_800_000)
        await first.stop()
      }
      for (let i = 0; i < RUNS; i++) {
        for (const b of builds) {
          await peer.run({ op: 'write', from: written, n: MORE })
          written += MORE
          const daemon = new Daemon(b, receiverDir(b), receiverEnv.get(b)!)
          daemons.push(daemon)
          const ready = await daemon.ready
          add(b, `restart_${n}_ready`, ready)
          add(b, `resume_${n}`, await untilHolds(daemon, ready.client, written - 1, 120_000))
          add(b, `window_${n}`, await untilWindowBuilt(daemon, ready.url, 300_000))
          await daemon.stop()
        }
      }
    }

    const out: Record<string, number> = {}
    for (const [k, s] of samples) figures(out, k, s)
    // restart_ready_1000000_vs_100000 and the like: 1 when start-up does not grow with the store
    const [small, large] = sizes
    for (const b of builds) {
      if (large === undefined) break
      for (const [name, f] of [['restart_ready', 'restart_N_ready_ms'], ['restart_ready_cpu', 'restart_N_ready_cpu_ms'], ['resume', 'resume_N_ms'], ['resume_cpu', 'resume_N_cpu_ms']] as const) {
        const at = (n: number): number => out[`${b.prefix}${f.replace('N', String(n))}`]!
        out[`${b.prefix}${name}_${large}_vs_${small}`] = Math.round(at(large) / at(small!) * 100) / 100
      }
    }
    if (base !== undefined) {
      for (const k of Object.keys(out)) {
        if (k.startsWith('base_') || k.includes('_vs_') || !k.endsWith('_ms')) continue
        out[`vs_base_${k.replace(/_ms$/, '')}`] = Math.round(out[k]! / out[`base_${k}`]! * 100) / 100
      }
    }
    return out
  } finally {
    for (const d of daemons) await d.stop().catch(() => d.child.kill('SIGKILL'))
    for (const p of source) await p.stop().catch(() => p.kill())
    rmSync(dir, { recursive: true, force: true })
  }
}
