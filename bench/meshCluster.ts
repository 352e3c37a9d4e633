/**
 * A mesh of real engram daemons for the mesh benchmark (bench/mesh.ts): N processes of
 * bench/peers/engram.ts (the composition root, native sync over QUIC on loopback), started a
 * few at a time, connected along the dials of meshTopology.ts, and stopped by pid.
 *
 * Every wait has a deadline and shows its progress (count, total, rate, ETA, on stderr); a
 * daemon that does not stop within STOP_MS of being asked is killed (SIGKILL to its pid), and
 * a daemon whose parent is gone ends by itself (servePeer: its stdin closes).
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { processIo } from '../src/cli/io.ts'
import { Progress } from '../src/cli/progress.ts'
import { freeUdpPort, PeerProcess, type Figures, type MemoryFigures, type Ready } from './peers/protocol.ts'
import { sessionsPerNode, type Dial } from './meshTopology.ts'
import { DAEMON_V8_FLAGS, withDaemonEnv } from '../src/cli/launch.ts'

const ENGRAM = fileURLToPath(new URL('../dist/bench/peers/engram.js', import.meta.url))
/** Daemons starting at once (each start is a second or so of one core). */
const START_AT_ONCE = 3
const STOP_MS = 15_000
const POLL_MS = 250

/** What a daemon answers to `stats` (bench/peers/engram.ts). */
export type NodeStats = Figures & { recordsIn: number, sessions: number }

export function progress (label: string, unit: string, total: number): Progress {
  return new Progress(processIo(), label, { unit, total, plainEveryMs: 2_000 })
}

/** What the nodes' own sync status says about their sessions (GET /api/v1/sync/status). */
export interface SessionHealth {
  /** Sessions ended by a failure, summed over the nodes (sync_stats.total_failed_syncs). */
  readonly failures: number
  /** Nodes with fewer open sessions than the mesh gives them. */
  readonly shortNodes: number
  /** Nodes whose API did not answer within 30 s (a daemon too busy to). */
  readonly unanswered: number
  /** The peers' last errors and how many peers ended with each. */
  readonly errors: Record<string, number>
}

interface SyncStatus {
  native?: { sync_stats: { total_failed_syncs: number }, peers: Array<{ connected: boolean, last_error: string | null }> }
}

export class MeshCluster {
  readonly nodes: PeerProcess[] = []
  readonly n: number
  private readonly ready: Ready[] = []
  private readonly dirs: string[] = []

  private constructor (n: number) { this.n = n }

  /**
   * Starts n daemons with `config` over the defaults (at most `ms` for all of them), each in a
   * new data dir under `dir`. A data dir that exists is refused: a daemon started on another
   * run's dir would begin with that run's records (every wait for them met at once) and dial
   * that run's peers, long gone (failures counted against this run).
   */
  static async start (n: number, dir: string, config: Record<string, unknown>, ms: number): Promise<MeshCluster> {
    mkdirSync(dir, { recursive: true })
    const c = new MeshCluster(n)
    const shown = progress(`mesh ${n}: starting daemons`, 'daemons', n)
    const end = performance.now() + ms
    try {
      for (let i = 0; i < n; i += START_AT_ONCE) {
        const batch: Array<Promise<Ready>> = []
        for (let j = i; j < Math.min(n, i + START_AT_ONCE); j++) {
          c.dirs.push(join(dir, `mesh-${n}-${j}`))
          mkdirSync(c.dirs[j]!) // throws EEXIST on a dir another run used
          const node = new PeerProcess(ENGRAM, [c.dirs[j]!, String(await freeP2pPort()), JSON.stringify(config)], DAEMON_V8_FLAGS, withDaemonEnv(process.env))
          c.nodes.push(node)
          batch.push(node.ready)
        }
        c.ready.push(...await withDeadline(Promise.all(batch), end - performance.now(), `${n} daemons to start`))
        shown.update(c.ready.length)
      }
      shown.finish()
      return c
    } catch (e) {
      await c.stop()
      throw e
    }
  }

  /** Dials along `dials`, then waits (at most `ms`) until every node holds the sessions they make. */
  async connect (dials: readonly Dial[], ms: number): Promise<void> {
    for (const d of dials) await this.nodes[d.from]!.run({ op: 'connect', addr: this.ready[d.to]!.addr })
    const want = sessionsPerNode(this.n, dials)
    const total = want.reduce((a, b) => a + b, 0)
    const shown = progress(`mesh ${this.n}: opening sessions`, 'session ends', total)
    await this.poll(`${total / 2} sessions to open`, ms, s => {
      shown.update(s.reduce((sum, x, i) => sum + Math.min(x.sessions, want[i]!), 0))
      return s.every((x, i) => x.sessions >= want[i]!)
    })
    shown.finish()
  }

  /**
   * The session health of every node, read from its REST API (answered while the node's
   * command channel waits for records). `want`: the sessions each node should hold.
   */
  async health (want: readonly number[]): Promise<SessionHealth> {
    const all = await Promise.allSettled(this.ready.map(async (r, i) => {
      const api = (r as Ready & { api: string }).api
      const token = readFileSync(join(this.dirs[i]!, 'api.token'), 'utf8').trim()
      const res = await fetch(`${api}/api/v1/sync/status`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) })
      return (await res.json() as SyncStatus).native
    }))
    const errors: Record<string, number> = {}
    let failures = 0
    let shortNodes = 0
    let unanswered = 0
    all.forEach((a, i) => {
      if (a.status === 'rejected') { unanswered++; return }
      const s = a.value
      if (s === undefined) return
      failures += s.sync_stats.total_failed_syncs
      if (s.peers.filter(p => p.connected).length < want[i]!) shortNodes++
      for (const p of s.peers) if (p.last_error !== null) errors[p.last_error] = (errors[p.last_error] ?? 0) + 1
    })
    return { failures, shortNodes, unanswered, errors }
  }

  async stats (): Promise<NodeStats[]> {
    return await Promise.all(this.nodes.map(async n => await n.run({ op: 'stats' }) as unknown as NodeStats))
  }

  /** Where each node's resident memory is (V8's heap, its young generation, native). */
  async memory (): Promise<MemoryFigures[]> {
    return await Promise.all(this.nodes.map(async n => await n.run({ op: 'memory' }) as unknown as MemoryFigures))
  }

  /** Polls every node's stats until `done` holds (at most `ms`). */
  async poll (what: string, ms: number, done: (s: NodeStats[]) => boolean): Promise<void> {
    const end = performance.now() + ms
    for (let i = 0; i < 1_000_000; i++) {
      if (done(await this.stats())) return
      if (performance.now() > end) throw new Error(`mesh ${this.n}: timed out after ${ms} ms waiting for ${what}`)
      await new Promise(resolve => setTimeout(resolve, POLL_MS))
    }
  }

  /** Stops every daemon (each asked, then killed by pid after STOP_MS). */
  async stop (): Promise<void> {
    await Promise.all(this.nodes.map(async node => {
      try {
        await withDeadline(node.stop(), STOP_MS, `daemon ${node.pid} to stop`)
      } catch {
        node.kill()
      }
    }))
  }
}

/**
 * A port free now for both UDP (QUIC) and TCP: a daemon listens on both with p2p.port, and a
 * UDP port that is free may be taken for TCP by another process (tried 20 times at most).
 */
async function freeP2pPort (): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freeUdpPort()
    const tcp = createServer()
    const free = await new Promise<boolean>(resolve => {
      tcp.once('error', () => resolve(false))
      tcp.listen(port, '0.0.0.0', () => resolve(true))
    })
    if (free) await new Promise<void>(resolve => tcp.close(() => resolve()))
    if (free) return port
  }
  throw new Error('no port free for both UDP and TCP after 20 tries')
}

/** `p`, or a rejection naming `what` after `ms`. */
export async function withDeadline<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(ms)} ms waiting for ${what}`)), Math.max(0, ms)) })
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}
