/**
 * A small LAN of network namespaces for tests that need a topology (discovery, the chaos suite),
 * created (and removed) by the test itself: a bridge in a namespace of its own, and one namespace
 * per node, joined to the bridge by a veth pair, with an address 10.<net>.0.<n>/24 and no route
 * anywhere else. Each node is an `engram start` daemon run with `ip netns exec`; its API listens
 * on its namespace's loopback, which the test reaches through an agent process in the namespace
 * (agent.ts). nftables rulesets loaded into a node's namespace cut its traffic (partitions).
 *
 * Needs Linux, root and iproute2; `cannotRun()` says plainly why the tests cannot run elsewhere.
 * Every namespace name carries the test process's pid, so runs never collide, and namespaces a
 * killed run left behind are removed by the next one; `destroy()` kills every process the lab
 * started and deletes every namespace it created.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { BIN, sandbox, waitFor, type Sandbox } from '../support/daemon.ts'

const AGENT = fileURLToPath(new URL('./agent.ts', import.meta.url))

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

/** A daemon's log file, or why it cannot be read. */
function readLog (file: string): string {
  try { return readFileSync(file, 'utf8') } catch (e) { return `(${file}: ${e instanceof Error ? e.message : String(e)})` }
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
  /** The daemon's process id (`ip netns exec` execs the daemon, so this is the node process). */
  readonly pid: number
  /** What the daemon wrote to stderr (empty when it writes to a log file). */
  log (): string
  /** True until the process exited. */
  running (): boolean
  /** Resolves with the exit code (null when killed by a signal) once the process exited. */
  readonly exited: Promise<number | null>
  /** Sends a signal (SIGSTOP, SIGCONT, SIGKILL…) when the process still runs. */
  signal (signal: NodeJS.Signals): void
  /** Sends `signal` and waits (at most 20 s, then SIGKILL) for the process to exit. */
  stop (signal?: NodeJS.Signals): Promise<number | null>
}

export interface StartOptions {
  /** The directory (under the lab's sandbox) of the node's config and data; default the node's name. */
  readonly dirName?: string
  /** Extra environment variables of the daemon. */
  readonly env?: Record<string, string>
  /** Append the daemon's stderr to this file instead of keeping it in memory. */
  readonly logFile?: string
  /** --log-level (default debug). */
  readonly logLevel?: string
}

/** An HTTP answer relayed by an agent, or why there was none. */
export type AgentAnswer = { readonly status: number, readonly body: string } | { readonly error: string }

interface Agent {
  readonly child: ChildProcess
  readonly pending: Map<number, (r: AgentAnswer) => void>
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
   * (nftables), nothing from the LAN side let in but replies, neither forwarded nor to the router
   * itself (dropped without an answer, as home routers do). Masquerade keeps a connection's source
   * port when it is free, so hole punching can work; with `randomPorts` each connection gets a
   * random port (a "symmetric" NAT, where it cannot). With `blockUdp`, UDP is dropped in both
   * directions (a network that allows TCP only).
   */
  addRouter (name: string, n: number, lan: number, opts: { blockUdp?: boolean, randomPorts?: boolean } = {}): LabNode {
    const r = this.addNode(name, n)
    sh(['ip', 'netns', 'exec', r.ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'])
    sh(['ip', '-n', r.ns, 'link', 'add', 'lan0', 'type', 'bridge'])
    sh(['ip', '-n', r.ns, 'link', 'set', 'lan0', 'up'])
    sh(['ip', '-n', r.ns, 'addr', 'add', `10.${this.net}.${lan}.1/24`, 'dev', 'lan0'])
    this.nft(r, `table ip nat {
  chain nat_out {
    type nat hook postrouting priority 100;
    oifname "eth0" masquerade${opts.randomPorts === true ? ' fully-random' : ''}
  }
}
table inet filter {
  chain forward_filter {
    type filter hook forward priority 0; policy drop;
    ${opts.blockUdp === true ? 'meta l4proto udp drop' : ''}
    ct state established,related accept
    iifname "lan0" accept
  }
  chain input_filter {
    type filter hook input priority 0; policy accept;
    iifname "eth0" ct state established,related accept
    iifname "eth0" drop
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

  /** Loads an nftables ruleset into a node's namespace without blocking the event loop. */
  nftAsync (node: LabNode, ruleset: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = execFile('ip', ['netns', 'exec', node.ns, 'nft', '-f', '-'], (err, _out, stderr) => {
        if (err !== null) reject(new Error(`nft in ${node.ns} failed: ${stderr || err.message}`))
        else resolve()
      })
      child.stdin?.end(ruleset)
    })
  }

  /** Starts `engram start` in the node's namespace with this configuration (JSON5 object). */
  async start (node: LabNode, config: Record<string, unknown>, opts: StartOptions | string = {}): Promise<DaemonHandle> {
    const o: StartOptions = typeof opts === 'string' ? { dirName: opts } : opts
    const dir = join(this.box.root, o.dirName ?? node.name)
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'config.json5')
    writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 })
    const dataDir = join(dir, 'data')
    const logFd = o.logFile !== undefined ? openSync(o.logFile, 'a') : undefined
    const child = spawn('ip', ['netns', 'exec', node.ns, process.execPath, BIN, 'start', '--data-dir', dataDir, '--port', '0', '--config', file, '--log-level', o.logLevel ?? 'debug'],
      { env: { ...this.box.env, ...o.env }, stdio: ['ignore', 'ignore', logFd ?? 'pipe'] })
    if (logFd !== undefined) closeSync(logFd)
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    let exit: number | null | undefined
    // 'close': the daemon's log is read to its end by then (at 'exit' its pipe may still hold some)
    const exited = new Promise<number | null>(resolve => { child.on('close', code => { exit = code; resolve(code) }) })
    const infoFile = join(dataDir, 'api.json')
    let url: string
    try {
      url = await waitFor(() => {
        if (exit !== undefined) throw new Error(`daemon ${node.name} exited with ${exit} before listening: ${stderr || (o.logFile !== undefined ? `see ${o.logFile}` : '')}`)
        if (!existsSync(infoFile)) return undefined
        const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { url: string, pid: number }
        return info.pid === child.pid ? info.url : undefined
      }, 120_000, () => `${node.name}'s api.json; its log so far:\n${(o.logFile !== undefined ? readLog(o.logFile) : stderr).split('\n').slice(-20).join('\n')}`)
    } catch (e) {
      // a daemon that did not come up is killed, or it would keep the test process alive
      child.kill('SIGKILL')
      throw e
    }
    const handle: DaemonHandle = {
      node,
      dataDir,
      url,
      child,
      pid: child.pid!,
      exited,
      log: () => stderr,
      running: () => exit === undefined,
      signal: (signal) => { if (exit === undefined) child.kill(signal) },
      stop: async (signal = 'SIGTERM') => {
        if (exit === undefined) {
          child.kill('SIGCONT')
          child.kill(signal)
        }
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

  /** A request to a daemon's API, made from inside its namespace; throws unless it answers 2xx. */
  async request<T> (d: DaemonHandle, method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.call(d.node, method, d.url + path, body, 15_000)
    if ('error' in answer) throw new Error(`${method} ${path} on ${d.node.name}: ${answer.error}`)
    if (answer.status >= 400) throw new Error(`${method} ${path} on ${d.node.name}: ${answer.status} ${answer.body}`)
    return JSON.parse(answer.body === '' ? 'null' : answer.body) as T
  }

  /**
   * An HTTP request from inside a node's namespace: its answer, or why there was none (the agent
   * gives up after `timeoutMs`; the lab waits a little longer for the agent itself).
   */
  call (node: LabNode, method: string, url: string, body: unknown, timeoutMs: number): Promise<AgentAnswer> {
    const agent = this.agentOf(node)
    const id = agent.next++
    return new Promise<AgentAnswer>(resolve => {
      const t = setTimeout(() => { agent.pending.delete(id); resolve({ error: `the agent in ${node.ns} did not answer within ${timeoutMs + 5000} ms` }) }, timeoutMs + 5000)
      agent.pending.set(id, r => { clearTimeout(t); resolve(r) })
      agent.child.stdin?.write(JSON.stringify({ id, method, url, body, timeoutMs }) + '\n')
    })
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
    const known = this.agents.get(node.ns)
    if (known !== undefined) return known
    const child = spawn('ip', ['netns', 'exec', node.ns, process.execPath, AGENT], { env: this.box.env, stdio: ['pipe', 'pipe', 'inherit'] })
    const agent: Agent = { child, pending: new Map(), next: 1 }
    createInterface({ input: child.stdout! }).on('line', line => {
      try {
        const r = JSON.parse(line) as { id: number } & AgentAnswer
        const { id, ...answer } = r
        agent.pending.get(id)?.(answer)
        agent.pending.delete(id)
      } catch { /* not an answer */ }
    })
    this.agents.set(node.ns, agent)
    return agent
  }
}
