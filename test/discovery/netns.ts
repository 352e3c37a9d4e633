/**
 * A small LAN of network namespaces for the discovery tests, created (and removed) by the test
 * itself: a bridge in a namespace of its own, and one namespace per node, joined to the bridge
 * by a veth pair, with an address 10.<net>.0.<n>/24 and no route anywhere else. Each node is an
 * `engram start` daemon run with `ip netns exec`; its API listens on its namespace's loopback,
 * which the test reaches through an agent process in the namespace (nsAgent.ts).
 *
 * Needs Linux, root and iproute2; `canRun()` says plainly why the tests cannot run elsewhere.
 * Every namespace name carries the test process's pid, so runs never collide; `destroy()` kills
 * every process the lab started and deletes every namespace it created.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { BIN, sandbox, waitFor, type Sandbox } from '../cli/helpers.ts'

const AGENT = fileURLToPath(new URL('./nsAgent.ts', import.meta.url))

/** Why namespace tests cannot run here, or undefined when they can. */
export function cannotRun (needNft = false): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root (CI runs the suite as root); run `sudo npm test` to include these tests'
  if (spawnSync('ip', ['-V']).error !== undefined) return 'the `ip` command (iproute2) is not installed'
  if (needNft && spawnSync('nft', ['--version']).error !== undefined) return 'the `nft` command (nftables) is not installed'
  const probe = `egprobe${process.pid}`
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' })
  if (r.status !== 0) return `\`ip netns add\` failed (${(r.stderr ?? '').trim() || `exit ${r.status}`}); the tests need CAP_SYS_ADMIN`
  spawnSync('ip', ['netns', 'del', probe])
  return undefined
}

/** Namespaces left by an earlier run whose process is gone (killed before its `after` hook ran). */
function removeStaleNamespaces (): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? ''
  for (const line of list.split('\n')) {
    const m = /^(eg(\d+)-\S+)/.exec(line.trim())
    if (m === null || Number(m[2]) === process.pid) continue
    let alive = true
    try { process.kill(Number(m[2]), 0) } catch { alive = false }
    if (!alive) spawnSync('ip', ['netns', 'del', m[1] as string])
  }
}

function sh (args: readonly string[], input?: string): string {
  return execFileSync(args[0] as string, args.slice(1), { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) })
}

export interface LabNode {
  readonly name: string
  readonly ns: string
  readonly ip: string
}

/** A process the lab started in a namespace, with what it wrote so far. */
export interface Spawned {
  readonly child: ChildProcess
  out (): string
  err (): string
}

export interface DaemonHandle {
  readonly node: LabNode
  readonly dataDir: string
  readonly url: string
  readonly child: ChildProcess
  log (): string
  /** Sends `signal` and waits (at most 20 s) for the process to exit. */
  stop (signal?: NodeJS.Signals): Promise<number | null>
}

interface Agent {
  readonly child: ChildProcess
  readonly pending: Map<number, (r: { status?: number, body?: string, error?: string }) => void>
  next: number
}

export class Lab {
  readonly prefix: string
  readonly net: number
  readonly box: Sandbox
  private readonly namespaces: string[] = []
  private readonly nodes = new Map<string, LabNode>()
  private readonly daemons = new Set<DaemonHandle>()
  private readonly agents = new Map<string, Agent>()
  private readonly children = new Set<ChildProcess>()
  private readonly bridgeNs: string

  constructor () {
    removeStaleNamespaces()
    this.prefix = `eg${process.pid}`
    this.net = 64 + (process.pid % 128)
    this.bridgeNs = `${this.prefix}-br`
    this.box = sandbox()
    this.addNs(this.bridgeNs)
    sh(['ip', '-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge'])
    sh(['ip', '-n', this.bridgeNs, 'link', 'set', 'br0', 'up'])
  }

  /** A node namespace on the LAN, address 10.<net>.0.<n>. */
  addNode (name: string, n: number): LabNode {
    const ns = `${this.prefix}-${name}`
    this.addNs(ns)
    const veth = `v${n}`
    sh(['ip', '-n', this.bridgeNs, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
    sh(['ip', '-n', this.bridgeNs, 'link', 'set', veth, 'master', 'br0'])
    sh(['ip', '-n', this.bridgeNs, 'link', 'set', veth, 'up'])
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
    sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up'])
    const ip = `10.${this.net}.0.${n}`
    sh(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0'])
    const node = { name, ns, ip }
    this.nodes.set(name, node)
    return node
  }

  /**
   * A NAT router on the LAN (which plays the internet) at 10.<net>.0.<n>, with a private network
   * 10.<net>.<lan>.0/24 behind it: forwarding on, every connection from behind masqueraded
   * (nftables), nothing from the LAN side let in but replies. With `blockUdp`, UDP is dropped in
   * both directions (a network that allows TCP only).
   */
  addRouter (name: string, n: number, lan: number, opts: { blockUdp?: boolean } = {}): LabNode {
    const r = this.addNode(name, n)
    sh(['ip', 'netns', 'exec', r.ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'])
    sh(['ip', '-n', r.ns, 'link', 'add', 'lan0', 'type', 'bridge'])
    sh(['ip', '-n', r.ns, 'link', 'set', 'lan0', 'up'])
    sh(['ip', '-n', r.ns, 'addr', 'add', `10.${this.net}.${lan}.1/24`, 'dev', 'lan0'])
    this.nft(r, `table ip nat {
  chain nat_out {
    type nat hook postrouting priority 100;
    oifname "eth0" masquerade
  }
}
table inet filter {
  chain forward_filter {
    type filter hook forward priority 0; policy drop;
    ${opts.blockUdp === true ? 'meta l4proto udp drop' : ''}
    ct state established,related accept
    iifname "lan0" accept
  }
}
`)
    return r
  }

  /** A node behind `router`, at 10.<net>.<lan>.<n>, its default route through the router. */
  addBehind (router: LabNode, name: string, lan: number, n: number): LabNode {
    const ns = `${this.prefix}-${name}`
    this.addNs(ns)
    const veth = `l${lan}h${n}`
    sh(['ip', '-n', router.ns, 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
    sh(['ip', '-n', router.ns, 'link', 'set', veth, 'master', 'lan0'])
    sh(['ip', '-n', router.ns, 'link', 'set', veth, 'up'])
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
    sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up'])
    const ip = `10.${this.net}.${lan}.${n}`
    sh(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0'])
    sh(['ip', '-n', ns, 'route', 'add', 'default', 'via', `10.${this.net}.${lan}.1`])
    const node = { name, ns, ip }
    this.nodes.set(name, node)
    return node
  }

  /**
   * Runs the engram CLI in a node's namespace with `args` (e.g. `relay`), its stdout and stderr
   * kept; stopped with the lab.
   */
  spawnCli (node: LabNode, args: readonly string[], env: Record<string, string> = {}): Spawned {
    return this.spawnIn(node, [process.execPath, BIN, ...args], env)
  }

  /** Runs `argv` in a node's namespace (stdin a pipe the caller may write to), its output kept; stopped with the lab. */
  spawnIn (node: LabNode, argv: readonly string[], env: Record<string, string> = {}): Spawned {
    const child = spawn('ip', ['netns', 'exec', node.ns, ...argv], { env: { ...this.box.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { err += d })
    this.children.add(child)
    child.on('exit', () => { this.children.delete(child) })
    return { child, out: () => out, err: () => err }
  }

  /** Loads an nftables ruleset into a node's namespace. */
  nft (node: LabNode, ruleset: string): void {
    sh(['ip', 'netns', 'exec', node.ns, 'nft', '-f', '-'], ruleset)
  }

  /** Starts `engram start` in the node's namespace with this configuration (JSON5 object). */
  async start (node: LabNode, config: Record<string, unknown>, dirName = node.name): Promise<DaemonHandle> {
    const dir = join(this.box.root, dirName)
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'config.json5')
    writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 })
    const dataDir = join(dir, 'data')
    const child = spawn('ip', ['netns', 'exec', node.ns, process.execPath, BIN, 'start', '--data-dir', dataDir, '--port', '0', '--config', file, '--log-level', 'debug'],
      { env: this.box.env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    let exit: number | null | undefined
    const exited = new Promise<number | null>(resolve => { child.on('exit', code => { exit = code; resolve(code) }) })
    const infoFile = join(dataDir, 'api.json')
    let url: string
    try {
      url = await waitFor(() => {
        if (exit !== undefined) throw new Error(`daemon ${node.name} exited with ${exit} before listening: ${stderr}`)
        if (!existsSync(infoFile)) return undefined
        const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { url: string, pid: number }
        return info.pid === child.pid ? info.url : undefined
      }, 60_000, () => `${node.name}'s api.json; its log so far:\n${stderr.split('\n').slice(-20).join('\n')}`)
    } catch (e) {
      // a daemon that did not come up is killed, or it would keep the test process alive
      child.kill('SIGKILL')
      throw e
    }
    const handle: DaemonHandle = {
      node, dataDir, url, child,
      log: () => stderr,
      stop: async (signal = 'SIGTERM') => {
        if (exit === undefined) child.kill(signal)
        const t = setTimeout(() => { if (exit === undefined) child.kill('SIGKILL') }, 20_000)
        const code = await exited
        clearTimeout(t)
        this.daemons.delete(handle)
        return code
      }
    }
    this.daemons.add(handle)
    return handle
  }

  /** A request to a daemon's API, made from inside its namespace. */
  async request<T> (d: DaemonHandle, method: string, path: string, body?: unknown): Promise<T> {
    const agent = this.agentOf(d.node)
    const id = agent.next++
    const answer = await new Promise<{ status?: number, body?: string, error?: string }>((resolve, reject) => {
      const t = setTimeout(() => { agent.pending.delete(id); reject(new Error(`${method} ${path} on ${d.node.name}: no answer within 15 s`)) }, 15_000)
      agent.pending.set(id, r => { clearTimeout(t); resolve(r) })
      agent.child.stdin?.write(JSON.stringify({ id, method, url: d.url + path, body }) + '\n')
    })
    if (answer.error !== undefined) throw new Error(`${method} ${path} on ${d.node.name}: ${answer.error}`)
    if (answer.status === undefined || answer.status >= 400) throw new Error(`${method} ${path} on ${d.node.name}: ${answer.status ?? '?'} ${answer.body ?? ''}`)
    return JSON.parse(answer.body ?? 'null') as T
  }

  /** Kills every process the lab started and deletes every namespace it created. */
  async destroy (): Promise<void> {
    await Promise.allSettled([...this.daemons].map(d => d.stop('SIGKILL')))
    for (const c of this.children) c.kill('SIGKILL')
    this.children.clear()
    for (const a of this.agents.values()) { a.child.stdin?.end(); a.child.kill('SIGKILL') }
    this.agents.clear()
    for (const ns of this.namespaces.reverse()) spawnSync('ip', ['netns', 'del', ns])
    this.namespaces.length = 0
    this.box.remove()
  }

  private addNs (ns: string): void {
    sh(['ip', 'netns', 'add', ns])
    this.namespaces.push(ns)
  }

  private agentOf (node: LabNode): Agent {
    let a = this.agents.get(node.ns)
    if (a !== undefined) return a
    const child = spawn('ip', ['netns', 'exec', node.ns, process.execPath, AGENT], { env: this.box.env, stdio: ['pipe', 'pipe', 'inherit'] })
    const agent: Agent = { child, pending: new Map(), next: 1 }
    createInterface({ input: child.stdout! }).on('line', line => {
      try {
        const r = JSON.parse(line) as { id: number, status?: number, body?: string, error?: string }
        agent.pending.get(r.id)?.(r)
        agent.pending.delete(r.id)
      } catch { /* not an answer */ }
    })
    this.agents.set(node.ns, agent)
    a = agent
    return a
  }
}
