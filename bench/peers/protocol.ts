/**
 * How the benchmarks drive a peer process (bench/peers/engram.ts, bench/peers/yjs.ts): one JSON
 * command a line on its stdin, one JSON answer a line on its stdout, in order. A peer runs in a
 * process of its own, as it would on another machine, so its time, memory (peak RSS) and bytes
 * are its own.
 *
 *   → {op: 'fill', from, n}    n records (bench/store.ts benchInput from `from`), batches of 10,000
 *   → {op: 'write', from, n, batch?}   n records in writes of `batch` (default n: one write)
 *   → {op: 'connect', addr}    connect to a peer (engram: a manual peer; Yjs: the server's URL)
 *   → {op: 'wait', n, ms?}     answers once the peer holds at least n records (fails after ms)
 *   → {op: 'searchReady'}      answers once the full-text index holds every record (engram; a
 *                              build without deferred indexing answers at once, as does Yjs)
 *   → {op: 'stats'}            answers with the figures below
 *   → {op: 'memory'}           answers with where the resident memory is (memoryFigures below;
 *                              an engram peer only), and `peak`: where it was at the highest
 *                              resident size from the last `connect` until the `wait` that
 *                              followed it ended (PeakMemory below)
 *   → {op: 'route', origin?}   answers with the peer's node id and, given an origin's node id, its
 *                              eager route here: parent (the peer that brings its records first),
 *                              prunesSent, graftsSent (an engram peer only)
 *   → {op: 'stop'}             stops (a Yjs client first saves its document) and exits
 *   ← {ok: true, ...figures}   figures: ms (since the command), records, bytesIn (payload bytes
 *                              received from peers), rssMb, maxRssMb, heapMb (V8's heap), externalMb
 *                              (memory outside it: buffers), cpuMs (user + system CPU
 *                              time since the process began), sinceSpawnMs (since the process
 *                              began); an engram peer adds recordsIn (records received
 *                              in stream pages) and sessions (open P2P sessions)
 *
 * The first line a peer prints, once it is ready, is {ready: true, addr, startMs, sinceSpawnMs}.
 * With ENGRAM_BENCH_CPU_PROF=DIR in the environment every peer process is started with
 * --cpu-prof and leaves its profile in DIR when it exits (one file per process, named by pid).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { getHeapSpaceStatistics } from 'node:v8'

export interface Figures {
  readonly ms: number
  readonly records: number
  readonly bytesIn: number
  readonly rssMb: number
  readonly maxRssMb: number
  /** CPU time of the process since it began (user + system), ms. */
  readonly cpuMs: number
  readonly sinceSpawnMs: number
}

export interface Ready {
  readonly addr: string
  /** The peer's own start (store, API, sync), ms. */
  readonly startMs: number
  /** From the process's start to ready, ms (Node's own start included). */
  readonly sinceSpawnMs: number
  /** Measured in the parent: from spawn() to the ready line, ms. */
  readonly wallMs: number
}

export type Command =
  | { readonly op: 'fill' | 'write', readonly from: number, readonly n: number, readonly batch?: number }
  | { readonly op: 'connect', readonly addr: string }
  | { readonly op: 'wait', readonly n: number, readonly ms?: number }
  | { readonly op: 'stats' | 'stop' | 'memory' | 'searchReady' }
  | { readonly op: 'route', readonly origin?: string }

/** A peer process and its command channel. */
export class PeerProcess {
  readonly ready: Promise<Ready>
  private readonly child: ChildProcess
  private readonly waiting: Array<{ resolve: (v: Record<string, unknown>) => void, reject: (e: Error) => void }> = []
  private readonly exited: Promise<number | null>
  private stderr = ''

  /**
   * `nodeFlags`: Node.js flags before the script, and `env` its environment (an engram peer: those
   * the `engram` executable's `#!` line gives, src/cli/launch.ts DAEMON_V8_FLAGS and DAEMON_ENV).
   */
  constructor (script: string, args: readonly string[], nodeFlags: readonly string[] = [], env: Readonly<Record<string, string | undefined>> = process.env) {
    const t0 = performance.now()
    // ENGRAM_BENCH_CPU_PROF=DIR: every peer process writes a V8 CPU profile into DIR as it exits
    const prof = process.env.ENGRAM_BENCH_CPU_PROF
    const flags = prof === undefined || prof === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${prof}`]
    this.child = spawn(process.execPath, [...flags, ...nodeFlags, script, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => { this.stderr = (this.stderr + d).slice(-4_000) })
    const lines = createInterface({ input: this.child.stdout! })
    let onReady: (r: Ready) => void = () => {}
    let onFail: (e: Error) => void = () => {}
    this.ready = new Promise<Ready>((resolve, reject) => { onReady = resolve; onFail = reject })
    let first = true
    lines.on('line', line => {
      const msg = JSON.parse(line) as Record<string, unknown>
      if (first) {
        first = false
        onReady({ ...(msg as unknown as Omit<Ready, 'wallMs'>), wallMs: performance.now() - t0 })
        return
      }
      const w = this.waiting.shift()
      if (w === undefined) return
      if (msg.ok === true) w.resolve(msg)
      else w.reject(new Error(`peer ${script}: ${String(msg.error)}`))
    })
    this.exited = new Promise(resolve => this.child.on('exit', code => {
      const e = new Error(`peer ${script} exited (${code}): ${this.stderr}`)
      onFail(e)
      for (const w of this.waiting.splice(0)) w.reject(e)
      resolve(code)
    }))
  }

  /** The process id (what `kill` and `stop` end). */
  get pid (): number | undefined { return this.child.pid }

  /** Sends a command; resolves with the answer. */
  async run (cmd: Command): Promise<Figures & Record<string, unknown>> {
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => { this.waiting.push({ resolve, reject }) })
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`)
    return await answer as Figures & Record<string, unknown>
  }

  /** Stops the peer and waits for its exit. */
  async stop (): Promise<void> {
    if (this.child.exitCode !== null) return
    this.child.stdin!.write(`${JSON.stringify({ op: 'stop' })}\n`)
    await this.exited
  }

  /** Ends the process at once (after a failure). */
  kill (): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
  }
}

/** Serves the commands of protocol.ts on stdin/stdout for a peer process. */
export function servePeer (handle: (cmd: Command) => Promise<Record<string, unknown>>, ready: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ready: true, ...ready })}\n`)
  const lines = createInterface({ input: process.stdin })
  // the parent gone (its end of stdin closed): nothing will drive this peer any more
  lines.on('close', () => { void tail.finally(() => process.exit(0)) })
  let tail = Promise.resolve()
  lines.on('line', line => {
    const cmd = JSON.parse(line) as Command
    tail = tail.then(async () => {
      try {
        const out = await handle(cmd)
        process.stdout.write(`${JSON.stringify({ ok: true, ...out })}\n`)
      } catch (e) {
        process.stdout.write(`${JSON.stringify({ ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) })}\n`)
      }
    })
  })
}

/** Memory and time figures of this process. */
export function processFigures (): { rssMb: number, maxRssMb: number, heapMb: number, externalMb: number, cpuMs: number, sinceSpawnMs: number } {
  const cpu = process.cpuUsage()
  const mem = process.memoryUsage()
  return {
    heapMb: Math.round(mem.heapTotal / 1e5) / 10,
    externalMb: Math.round(mem.external / 1e5) / 10,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    rssMb: Math.round(process.memoryUsage.rss() / 1e5) / 10,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1e2) / 10,
    sinceSpawnMs: Math.round(performance.now())
  }
}

/** Where a process's memory is, MB: what `{op: 'memory'}` answers. */
export interface MemoryFigures {
  /** Anonymous resident memory (/proc/self/status RssAnon: heaps, not mapped files such as the node binary). */
  readonly anonMb: number
  /** V8's heap pages in memory, all spaces (what its garbage collector holds, live or not). */
  readonly v8Mb: number
  /** Of which the young generation (new space), sized by V8 after the allocation rate. */
  readonly newSpaceMb: number
  /** Objects alive at the last collection, or allocated since (V8's heapUsed). */
  readonly heapUsedMb: number
  /** anonMb − v8Mb: native memory (QUIC, SQLite, buffers, the allocator's free lists, and V8's freed pages it keeps for reuse). */
  readonly outsideV8Mb: number
}

/** Where the memory was at a process's highest resident size over a stretch (PeakMemory). */
export interface PeakFigures extends MemoryFigures {
  /**
   * The resident size at that sample, MB of 10^6 bytes as in memoryFigures (the true peak, between
   * two samples, may be a little higher; maxRssMb, from getrusage, counts 1,024,000 bytes to its MB).
   */
  readonly rssMb: number
  /**
   * The most V8's heap pages held at any sample, MB. V8 keeps the pages a collection frees for
   * reuse, still resident, so its share of the peak is this high-water mark rather than its size
   * at the peak's moment (v8Mb); the difference shows up in outsideV8Mb.
   */
  readonly v8HighWaterMb: number
}

/** How often PeakMemory samples, ms. */
export const PEAK_SAMPLE_MS = 25

/**
 * Samples this process's resident size every PEAK_SAMPLE_MS from `start()` and keeps where the
 * memory was at its highest sample (memoryFigures): the breakdown at the peak, not after it.
 * Cheap: the resident size is one read of /proc/self/statm; the breakdown is taken only at a new
 * highest sample.
 */
export class PeakMemory {
  private timer: NodeJS.Timeout | undefined
  private best: PeakFigures | undefined
  private v8HighWater = 0

  start (): void {
    this.stop()
    this.best = undefined
    this.v8HighWater = 0
    this.sample()
    this.timer = setInterval(() => { this.sample() }, PEAK_SAMPLE_MS)
    this.timer.unref()
  }

  /** Stops sampling; the figures at the highest sample since `start()` (undefined: never started). */
  stop (): PeakFigures | undefined {
    if (this.timer !== undefined) {
      clearInterval(this.timer)
      this.timer = undefined
      this.sample()
    }
    return this.best === undefined ? undefined : { ...this.best, v8HighWaterMb: this.v8HighWater }
  }

  private sample (): void {
    const rss = process.memoryUsage.rss()
    const v8 = getHeapSpaceStatistics().reduce((a, s) => a + s.physical_space_size, 0)
    const mb = (x: number): number => Math.round(x / 1e5) / 10
    this.v8HighWater = Math.max(this.v8HighWater, mb(v8))
    if (this.best !== undefined && mb(rss) <= this.best.rssMb) return
    this.best = { rssMb: mb(rss), ...memoryFigures(), v8HighWaterMb: 0 }
  }
}

/** Where this process's resident memory is (Linux: NaN for anonMb and outsideV8Mb elsewhere). */
export function memoryFigures (): MemoryFigures {
  const mb = (x: number): number => Math.round(x / 1e5) / 10
  const spaces = getHeapSpaceStatistics()
  const v8 = spaces.reduce((a, s) => a + s.physical_space_size, 0)
  const young = spaces.filter(s => s.space_name === 'new_space').reduce((a, s) => a + s.physical_space_size, 0)
  let anon = NaN
  try {
    const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (m !== null) anon = Number(m[1]) * 1024
  } catch { /* not Linux */ }
  return { anonMb: mb(anon), v8Mb: mb(v8), newSpaceMb: mb(young), heapUsedMb: mb(process.memoryUsage().heapUsed), outsideV8Mb: mb(anon - v8) }
}

/**
 * Resolves once `cond` holds, checked now and after each change `onChange` reports (at most
 * `ms`). No polling: a peer waiting costs nothing while it receives, so its CPU is the sync's own
 * (and dozens of waiting peers do not fill two cores).
 */
export async function until (what: string, ms: number, cond: () => boolean, onChange: (check: () => void) => () => void): Promise<void> {
  if (cond()) return
  await new Promise<void>((resolve, reject) => {
    const check = (): void => { if (cond()) { done(); resolve() } }
    const timer = setTimeout(() => { done(); reject(new Error(`timed out after ${ms} ms waiting for ${what}`)) }, ms)
    const off = onChange(check)
    const done = (): void => { clearTimeout(timer); off() }
  })
}

/** A UDP port free now on 127.0.0.1 (for a peer's p2p.port). */
export async function freeUdpPort (): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>(resolve => s.bind(0, '127.0.0.1', resolve))
  const port = s.address().port
  await new Promise<void>(resolve => s.close(() => resolve()))
  return port
}
