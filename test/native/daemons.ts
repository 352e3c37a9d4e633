/**
 * engram daemons with native P2P on, for multi-process tests over real QUIC on loopback: each
 * node is `engram start` in its own process with its own data directory, API port 0 and a UDP
 * port picked free by the test (test/sync/daemons.ts does the process part). SIM_ROUTES=0 starts
 * the nodes of this version with p2p.eagerRoutes off (every stream carries everything, as between
 * older nodes; an older version's config has no such key).
 */
import type { P2pStatusView } from '../../src/api/contract.ts'
import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { after, before } from 'node:test'
import { DEFAULT_DEADLINE_MS, eventually } from '../support/eventually.ts'
import { sandbox, type Sandbox } from '../cli/helpers.ts'
import { dumpDiff, dumpFile, startNode, type Node } from '../sync/daemons.ts'

export const SEED = 'native-multi-process-seed'
const ROUTES = process.env.SIM_ROUTES === '0' ? { eagerRoutes: false } : {}

/**
 * The daemons of one test file: a sandbox made before its tests (`box()`), and the set of nodes
 * still running (`live`), killed after its tests, whatever happened, before the sandbox goes.
 */
export function daemonsFixture (): { box: () => Sandbox, live: Set<P2pNode> } {
  let box: Sandbox | undefined
  const live = new Set<P2pNode>()
  before(() => { box = sandbox() })
  after(async () => {
    await Promise.allSettled([...live].map(n => n.kill()))
    box?.remove()
  })
  return {
    box: () => {
      if (box === undefined) throw new Error('the sandbox is made before the tests run')
      return box
    },
    live
  }
}

export interface P2pNode extends Node {
  readonly p2pPort: number
  readonly nodeId: string
  /** GET /api/v1/p2p/status */
  p2p (): Promise<P2pStatus>
  /** Store statistics from GET /api/v1/status. */
  stats (): Promise<Record<string, number>>
}

/** GET /api/v1/p2p/status as a running daemon answers it (every field present). */
export type P2pStatus = Required<P2pStatusView>

export interface P2pNodeOptions {
  readonly seed?: string
  readonly p2pPort?: number
  /** Manual peers, "host:port". */
  readonly peers?: readonly string[]
  readonly p2p?: Record<string, unknown>
  readonly sync?: Record<string, unknown>
  readonly env?: Record<string, string>
  /** The CLI entry to run (another version's); default this checkout's build. */
  readonly bin?: string
  /** More sections of the configuration file (node, history, …). */
  readonly config?: Record<string, Record<string, unknown>>
}

/**
 * Port numbers free now on both UDP and TCP (a node listens on both), one per node, drawn at
 * random from below the kernel's ephemeral range: a number the kernel hands out to any socket
 * bound to port 0 (another test file's client, a dial) can be taken between this check and the
 * daemon's bind, and a daemon whose P2P port is taken exits just after its API began to listen.
 */
export async function freePorts (n: number): Promise<number[]> {
  const below = ephemeralLow()
  const out: number[] = []
  for (let tries = 0; out.length < n && tries < 1000; tries++) {
    const p = 10_000 + Math.floor(Math.random() * (below - 10_000))
    if (!out.includes(p) && await udpFree(p) && await tcpFree(p)) out.push(p)
  }
  if (out.length < n) throw new Error(`found only ${out.length} of ${n} ports free on both UDP and TCP`)
  return out
}

/** The lowest ephemeral port (Linux: /proc/sys/net/ipv4/ip_local_port_range; else IANA's 49152). */
function ephemeralLow (): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    return Number.isInteger(low) && low > 11_000 ? low : 49_152
  } catch {
    return 49_152
  }
}

function udpFree (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = createSocket('udp4')
    s.once('error', () => { s.close(); resolve(false) })
    s.bind(port, '0.0.0.0', () => { s.close(() => { resolve(true) }) })
  })
}

function tcpFree (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const srv = createServer()
    srv.once('error', () => { resolve(false) })
    srv.listen(port, '0.0.0.0', () => { srv.close(() => { resolve(true) }) })
  })
}

export async function startP2pNode (box: Sandbox, name: string, opts: P2pNodeOptions = {}): Promise<P2pNode> {
  const p2pPort = opts.p2pPort ?? (await freePorts(1))[0]!
  const node = await startNode(box, name, {
    config: {
      ...opts.config,
      p2p: { enabled: true, seed: opts.seed ?? SEED, port: p2pPort, manualPeers: [...(opts.peers ?? [])], gossipIntervalMs: 250, ...(opts.bin === undefined ? ROUTES : {}), ...opts.p2p },
      sync: { ...opts.sync }
    },
    env: opts.env,
    bin: opts.bin
  })
  const p2p = (): Promise<P2pStatus> => node.client.request<P2pStatus>('GET', '/api/v1/p2p/status')
  // a daemon that exits just after its API began to listen (its P2P port taken, say) says why in its log
  const nodeId = await p2p().then(s => s.node_id, (e: unknown) => {
    throw new Error(`${name} did not answer its first P2P status (${e instanceof Error ? e.message : String(e)}); its log:\n${node.daemon.stderr()}`)
  })
  return {
    ...node,
    p2pPort,
    nodeId,
    p2p,
    stats: async () => (await node.client.status() as unknown as { store: { stats: Record<string, number> } }).store.stats
  }
}

/** Starts nodes in parallel, each with every other one as a manual peer. */
export async function startMesh (box: Sandbox, names: readonly string[], opts: Omit<P2pNodeOptions, 'p2pPort' | 'peers'> = {}): Promise<P2pNode[]> {
  const ports = await freePorts(names.length)
  return await Promise.all(names.map((n, i) => startP2pNode(box, n, {
    ...opts,
    p2pPort: ports[i],
    peers: ports.filter((_, j) => j !== i).map(p => `127.0.0.1:${p}`)
  })))
}

const STAT_KEYS = ['triples', 'tripleTombstones', 'notes', 'noteTombstones', 'episodes', 'traces']

/** Whether the running nodes look converged: same store counts and same gossip window digest. */
export async function looksConverged (nodes: readonly P2pNode[]): Promise<{ ok: boolean, detail: string }> {
  const views = await Promise.all(nodes.map(async n => {
    const [s, p] = await Promise.all([n.stats(), n.p2p()])
    return `${STAT_KEYS.map(k => s[k]).join('/')} ${p.window.n}:${p.window.x}`
  }))
  return { ok: views.every(v => v === views[0]), detail: nodes.map((n, i) => `${n.name}: ${views[i]}`).join('; ') }
}

/**
 * Polls until `cond` holds (test/support/eventually.ts, never less than its default deadline). A
 * condition that throws fails at once: the loops that assert inside `cond` mean it.
 */
export async function until (cond: () => Promise<boolean>, what: () => string | Promise<string>, ms: number, everyMs = 100): Promise<void> {
  let failed: unknown
  await eventually(async () => { try { return await cond() } catch (e) { failed = e; return true } }, what, { ms: Math.max(ms, DEFAULT_DEADLINE_MS), everyMs })
  if (failed !== undefined) throw failed
}

export async function waitConverged (nodes: readonly P2pNode[], ms = DEFAULT_DEADLINE_MS): Promise<void> {
  let last = ''
  await until(async () => { const r = await looksConverged(nodes); last = r.detail; return r.ok }, () => `convergence: ${last}`, ms)
}

/** Stops the nodes and checks that their stores hold identical canonical dumps. */
export async function stopAndCompare (nodes: readonly P2pNode[]): Promise<string[]> {
  await Promise.all(nodes.map(n => n.stop()))
  const dumps = nodes.map(n => dumpFile(n.dataDir))
  for (let i = 1; i < dumps.length; i++) {
    if (JSON.stringify(dumps[i]) !== JSON.stringify(dumps[0])) {
      throw new Error(`${nodes[i]!.name} differs from ${nodes[0]!.name}: ${dumpDiff(dumps[0]!, dumps[i]!)}`)
    }
  }
  return dumps[0]!
}
