/**
 * The chaos cluster: N engram daemons in network namespaces (../netns/Lab.ts), every one a
 * manual P2P peer of every other, and the faults the schedule injects into them:
 *
 * - kill -9 and restart on the same data directory;
 * - SIGSTOP / SIGCONT;
 * - partitions by nftables rules in each node's namespace: a node drops what comes from, and
 *   what goes to, the addresses it is cut off from (symmetric splits, one-way cuts, bridges);
 * - clock steps with libfaketime: each daemon runs with libfaketime preloaded and reads its
 *   offset from a file of its own (FAKETIME_TIMESTAMP_FILE, re-read at most every second), so a
 *   running daemon's wall clock can be stepped and fixed (the monotonic clock is never faked,
 *   so its timers keep time).
 *
 * Requests to a node's API go through the lab's agent in its namespace and come back classified
 * as the history records them: answered (2xx / 4xx), refused before anything was sent
 * (connection refused: no effect), or indeterminate (timed out, cut).
 */
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { canonicalRecord } from '../../src/core/records.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import type { MemoryRecord } from '../../src/core/model.ts'
import { Lab, type DaemonHandle, type LabNode } from '../netns/Lab.ts'
import { canonicalJson } from './checker.ts'
import type { NodeView } from './history.ts'

/** Where libfaketime lives on Debian and Ubuntu. */
export const FAKETIME_LIBS = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1']

export function faketimeLib (): string | undefined {
  return FAKETIME_LIBS.find(f => existsSync(f))
}

export const P2P_PORT = 19091

export interface ClusterOptions {
  readonly nodes: number
  /** sync.tombstoneTtlHours: short, so tombstones expire during the run. */
  readonly tombstoneTtlHours: number
  readonly maxDriftMs: number
  readonly gossipIntervalMs: number
  /** Where daemons' logs go (one file per node). */
  readonly logDir: string
  readonly logLevel?: string
  /** More settings, nested as in the config file, over those above (e.g. `{ sync: { memberGoneDays: … } }`). */
  readonly extra?: Readonly<Record<string, Readonly<Record<string, unknown>>>>
  /** Node names (default a, b, c, …). */
  readonly names?: readonly string[]
  /** More environment variables of every daemon (e.g. ENGRAM_P2P_EAGER_ROUTES). */
  readonly env?: Readonly<Record<string, string>>
}

export type Answer =
  | { readonly kind: 'answered', readonly status: number, readonly body: unknown }
  | { readonly kind: 'refused', readonly error: string }
  | { readonly kind: 'indeterminate', readonly error: string }

export interface ClusterNode {
  readonly name: string
  readonly lab: LabNode
  readonly clockFile: string
  daemon: DaemonHandle | undefined
  paused: boolean
  /** Seconds the node's clock is off (libfaketime offset). */
  offsetSeconds: number
}

export class Cluster {
  readonly lab: Lab
  readonly nodes: ClusterNode[] = []
  private readonly opts: ClusterOptions
  private readonly lib: string

  constructor (opts: ClusterOptions) {
    const lib = faketimeLib()
    if (lib === undefined) throw new Error(`libfaketime is not installed (looked for ${FAKETIME_LIBS.join(', ')}); apt-get install libfaketime`)
    this.lib = lib
    this.opts = opts
    this.lab = new Lab()
    for (let i = 0; i < opts.nodes; i++) {
      const name = opts.names?.[i] ?? String.fromCharCode(97 + i)
      const lab = this.lab.addNode(name, i + 1)
      const clockFile = join(this.lab.box.root, `${name}.faketime`)
      writeFileSync(clockFile, '+0\n')
      this.nodes.push({ name, lab, clockFile, daemon: undefined, paused: false, offsetSeconds: 0 })
    }
  }

  node (name: string): ClusterNode {
    const n = this.nodes.find(x => x.name === name)
    if (n === undefined) throw new Error(`no node ${name}`)
    return n
  }

  private config (n: ClusterNode): Record<string, unknown> {
    const extra = this.opts.extra ?? {}
    return {
      ...extra,
      p2p: {
        enabled: true,
        seed: 'chaos-suite-shared-seed',
        port: P2P_PORT,
        manualPeers: this.nodes.filter(x => x !== n).map(x => `${x.lab.ip}:${P2P_PORT}`),
        gossipIntervalMs: this.opts.gossipIntervalMs,
        ...extra.p2p
      },
      hlc: { maxDriftMs: this.opts.maxDriftMs, ...extra.hlc },
      sync: { intervalSeconds: 3600, tombstoneTtlHours: this.opts.tombstoneTtlHours, ...extra.sync },
      log: { level: this.opts.logLevel ?? 'info' }
    }
  }

  /** Starts (or restarts) a node's daemon on its data directory. */
  async start (n: ClusterNode): Promise<void> {
    n.daemon = await this.lab.start(n.lab, this.config(n), {
      dirName: n.name,
      logFile: join(this.opts.logDir, `${n.name}.log`),
      logLevel: this.opts.logLevel ?? 'info',
      env: {
        LD_PRELOAD: this.lib,
        FAKETIME_TIMESTAMP_FILE: n.clockFile,
        FAKETIME_CACHE_DURATION: '1',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
        FAKETIME_DONT_RESET: '1',
        ...this.opts.env
      }
    })
    n.paused = false
  }

  async startAll (): Promise<void> {
    await Promise.all(this.nodes.map(n => this.start(n)))
  }

  /** Stops one node cleanly (SIGTERM). */
  async stop (n: ClusterNode): Promise<void> {
    const d = n.daemon
    n.daemon = undefined
    n.paused = false
    if (d !== undefined) {
      const code = await d.stop('SIGTERM')
      if (code !== 0) throw new Error(`${n.name} stopped with ${code}`)
    }
  }

  /** kill -9. */
  async kill (n: ClusterNode): Promise<void> {
    const d = n.daemon
    n.daemon = undefined
    n.paused = false
    if (d !== undefined) await d.stop('SIGKILL')
  }

  pause (n: ClusterNode): void {
    n.daemon?.signal('SIGSTOP')
    n.paused = true
  }

  resume (n: ClusterNode): void {
    n.daemon?.signal('SIGCONT')
    n.paused = false
  }

  /** Steps a node's wall clock to `seconds` off real time (0: correct); the daemon sees it within a second. */
  setClock (n: ClusterNode, seconds: number): void {
    writeFileSync(n.clockFile, `${seconds >= 0 ? '+' : ''}${seconds}\n`)
    n.offsetSeconds = seconds
  }

  /**
   * Cuts traffic: `cuts` maps a node to the nodes whose packets it drops, inbound and outbound
   * as given. Replaces every earlier cut; an empty map heals every partition.
   */
  async partition (cuts: ReadonlyMap<string, { readonly from: readonly string[], readonly to: readonly string[] }>): Promise<void> {
    await Promise.all(this.nodes.map(async n => {
      const cut = cuts.get(n.name)
      const ips = (names: readonly string[]): string => names.map(x => this.node(x).lab.ip).join(', ')
      let rules = 'table inet chaos {}\ndelete table inet chaos\n'
      if (cut !== undefined && (cut.from.length > 0 || cut.to.length > 0)) {
        rules += 'table inet chaos {\n'
        if (cut.from.length > 0) rules += `  chain in { type filter hook input priority 0; policy accept; ip saddr { ${ips(cut.from)} } drop; }\n`
        if (cut.to.length > 0) rules += `  chain out { type filter hook output priority 0; policy accept; ip daddr { ${ips(cut.to)} } drop; }\n`
        rules += '}\n'
      }
      await this.lab.nftAsync(n.lab, rules)
    }))
  }

  /** One REST call to a node, classified (see the file comment). */
  async call (n: ClusterNode, method: string, path: string, body: unknown, timeoutMs: number): Promise<Answer> {
    const d = n.daemon
    if (d === undefined || !d.running()) return { kind: 'refused', error: 'the node is down' }
    const a = await this.lab.call(n.lab, method, d.url + path, body, timeoutMs)
    if ('error' in a) return /ECONNREFUSED/.test(a.error) ? { kind: 'refused', error: a.error } : { kind: 'indeterminate', error: a.error }
    let parsed: unknown
    try { parsed = a.body === '' ? null : JSON.parse(a.body) } catch { parsed = a.body }
    return { kind: 'answered', status: a.status, body: parsed }
  }

  /** Whether a triple is live on a node (its GET answers 200). */
  async hasTriple (n: ClusterNode, id: string): Promise<boolean> {
    const a = await this.call(n, 'GET', `/api/v1/triples/${id}`, undefined, 10_000)
    return a.kind === 'answered' && a.status === 200
  }

  /** A note's value on a node; undefined when it is absent (or the node did not answer). */
  async noteValue (n: ClusterNode, key: string): Promise<unknown> {
    const a = await this.call(n, 'GET', `/api/v1/notes/${encodeURIComponent(key)}`, undefined, 10_000)
    return a.kind === 'answered' && a.status === 200 ? (a.body as { value: unknown }).value : undefined
  }

  /** A REST call that must succeed (2xx): its body; throws naming the node and the answer otherwise. */
  async request<T> (n: ClusterNode, method: string, path: string, body?: unknown): Promise<T> {
    const a = await this.call(n, method, path, body, 15_000)
    if (a.kind !== 'answered' || a.status >= 300) throw new Error(`${method} ${path} on ${n.name}: ${a.kind === 'answered' ? `${a.status} ${JSON.stringify(a.body)}` : a.error}`)
    return a.body as T
  }

  /** Stops every daemon cleanly (SIGCONT first for a paused one). */
  async stopAll (): Promise<void> {
    await Promise.all(this.nodes.map(async n => {
      const d = n.daemon
      n.daemon = undefined
      if (d !== undefined) {
        const code = await d.stop('SIGTERM')
        if (code !== 0) throw new Error(`${n.name} stopped with ${code}`)
      }
    }))
  }

  /** A node's data directory. */
  dataDir (n: ClusterNode): string {
    return join(this.lab.box.root, n.name, 'data')
  }

  /** What a stopped node's store holds: live records, and how many are held aside. */
  view (n: ClusterNode): NodeView {
    const store = SqliteStore.open(join(this.dataDir(n), 'engram.db'))
    try {
      return viewOf(n.name, store.dump(), store.heldOrigins().reduce((sum, o) => sum + o.count, 0))
    } finally {
      store.close()
    }
  }

  async destroy (): Promise<void> {
    await this.lab.destroy()
  }
}

export function viewOf (node: string, records: readonly MemoryRecord[], held: number): NodeView {
  const triples = new Map<string, string>()
  const notes = new Map<string, { value: string, stamp: string }>()
  const episodes = new Map<string, string>()
  const traces = new Map<string, number>()
  const live: string[] = []
  const stamp = (r: MemoryRecord): string => `${r.hlc.wall.toString(16).padStart(12, '0')}.${r.hlc.counter.toString(16).padStart(4, '0')}.${r.hlc.node}`
  for (const r of records) {
    if ((r.kind === 'triple' || r.kind === 'note') && r.deleted) continue
    live.push(canonicalRecord(r))
    switch (r.kind) {
      case 'triple': triples.set(r.id, stamp(r)); break
      case 'note': notes.set(r.key, { value: canonicalJson(r.value), stamp: stamp(r) }); break
      case 'episode': episodes.set(r.id, canonicalJson(r.data)); break
      case 'trace': {
        const marker = (r.data as { marker?: unknown } | null)?.marker
        if (typeof marker === 'string') traces.set(marker, (traces.get(marker) ?? 0) + 1)
      }
    }
  }
  return { node, triples, notes, episodes, traces, live, held }
}
