/**
 * What the dashboard costs, with real daemons (`engram start`, each in its own process, P2P on)
 * and Debian's chromium driven by playwright-core. `benchUi()` is called by the bench runner;
 * running this file directly prints the figures (`node bench/ui.ts [rows] [idleSeconds] [catchUps]`).
 *
 *  - first_view_ms: what a user waits for: from the start of the navigation (the page's time
 *    origin) to the first frame of the sync view holding the node's real data — its id and its
 *    peer shown connected, from the live stream's first snapshot — checked at every animation
 *    frame; a cold load (a new browser context: empty cache, new connections).
 *    first_view_warm_ms the same on a reload (the page revalidated, 304; its module and style
 *    sheet, named by content, from the cache); first_view_bytes and first_view_requests: what
 *    the cold load transferred (compressed, headers included) and in how many requests.
 *  - idle_*: a node with one connected peer and nothing written, for `idleSeconds` (60) with a
 *    blank tab, then as long with the dashboard's sync view open (each after 10 s to settle,
 *    the page's loading not counted); per minute: the node's CPU
 *    (user + system, from /proc), the browser's CPU (every chromium process) and the bytes the
 *    page received on the live stream (counted by the browser: nothing asks the node anything
 *    meanwhile). Gossip rounds run meanwhile (every 5 s), so the stream sends its counters at
 *    most every 30 s.
 *  - catchup_*: an empty node connects to one holding 100,000 triples (or --rows, when
 *    smaller) and receives them all; timed from the dial to the last triple committed, with no
 *    page open and with the receiver's sync view open, `catchUps` times each (3), in pairs of
 *    alternating order (without, with; with, without; ...); the fastest of each kept:
 *    catchup_ratio = with ÷ without (goal ≤ 1.1); catchup_ratio_median the same of the medians.
 *  - load_average_1m: the machine's load when the figures were taken (they are wall and CPU
 *    times on it).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { eventually } from '../test/support/eventually.ts'
import { CHROMIUM, CHROMIUM_ARGS } from '../test/ui/browser.ts'
import { newSecret } from '../src/config/secretStrength.ts'
import { median } from './stats.ts'
import { benchInput } from './store.ts'

/** The nodes' shared secret: a fresh one each run, as `engram secret new` makes. */
const SEED = newSecret()
const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url))
const TICK_MS = 10 // /proc clock ticks (CLK_TCK 100)

export interface UiBenchOptions {
  readonly rows?: number
  /** Seconds of each idle window (60); 0: no idle figures. */
  readonly idleSeconds?: number
  /** Catch-ups with the page open, and as many without (3). */
  readonly catchUps?: number
}

interface Node { readonly child: ChildProcess, readonly url: string, readonly p2pPort: number }

/** What the functions run in the page use of its document (this file is type-checked without the DOM). */
interface PageDocument {
  querySelector (selector: string): { textContent: string | null } | null
  querySelectorAll (selector: string): ArrayLike<{ textContent: string | null }>
}

/** A UDP port free now (a node's P2P port; its TCP twin is taken on the same number). */
function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4')
    sock.once('error', reject)
    sock.bind(0, '127.0.0.1', () => { const { port } = sock.address(); sock.close(() => { resolve(port) }) })
  })
}

/**
 * A daemon of its own, as a user runs it (`engram start`, P2P on), in `root` with HOME there
 * too (no configuration of this machine read), found through the api.json it writes.
 */
async function startNode (root: string, name: string): Promise<Node> {
  const p2pPort = await freePort()
  const dir = join(root, name)
  mkdirSync(dir, { recursive: true })
  const config = join(dir, 'config.json5')
  // holding a secret, the file must be the user's alone (mode 0600), or the node refuses to start
  writeFileSync(config, JSON.stringify({ p2p: { enabled: true, seed: SEED, port: p2pPort }, sync: { intervalSeconds: 3600 }, log: { level: 'warn' } }), { mode: 0o600 })
  const data = join(dir, 'data')
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: root, XDG_CONFIG_HOME: join(root, 'config'), XDG_DATA_HOME: join(root, 'data') }
  const child = spawn(process.execPath, [BIN, 'start', '--data-dir', data, '--port', '0', '--config', config], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { log += d })
  const found = await eventually((): { url: string } | { exited: number } | undefined => {
    if (child.exitCode !== null) return { exited: child.exitCode }
    try {
      const info = JSON.parse(readFileSync(join(data, 'api.json'), 'utf8')) as { url: string, pid: number }
      return info.pid === child.pid ? { url: info.url } : undefined
    } catch { return undefined }
  }, () => `${name}'s API; its log: ${log}`)
  if ('exited' in found) throw new Error(`${name} exited with ${found.exited}: ${log}`)
  return { child, url: found.url, p2pPort }
}

/** Stops a node (SIGTERM) and waits until it has exited. */
async function stopNode (n: Node): Promise<void> {
  if (n.child.exitCode !== null) return
  const exited = new Promise(resolve => n.child.once('exit', resolve))
  n.child.kill('SIGTERM')
  await exited
}

async function api<T> (node: Node, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(node.url + path, { method, headers: { 'content-type': 'application/json', 'x-engram-client': 'bench' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return await res.json() as T
}

const triples = async (n: Node): Promise<number> => (await api<{ store: { stats: { triples: number } } }>(n, 'GET', '/api/v1/status')).store.stats.triples

/** CPU ms of a process (user + system) from /proc. */
function cpuMs (pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) * TICK_MS
  } catch {
    return 0
  }
}

/** CPU ms of a process and all its descendants (the browser's processes). */
function treeCpuMs (root: number): number {
  const parent = new Map<number, number>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch { /* gone */ }
  }
  const inTree = (pid: number): boolean => { for (let p = pid, i = 0; p > 1 && i < 64; p = parent.get(p) ?? 0, i++) if (p === root) return true; return false }
  let ms = 0
  for (const pid of parent.keys()) if (inTree(pid)) ms += cpuMs(pid)
  return ms
}

/**
 * Counts the bytes the page receives on its live status stream, from the browser's side (the
 * DevTools protocol's network events), so nothing is asked of the node while it is measured.
 */
async function countStreamBytes (page: Page): Promise<() => number> {
  const cdp = await page.context().newCDPSession(page)
  const streams = new Set<string>()
  let bytes = 0
  cdp.on('Network.requestWillBeSent', e => { if (e.request.url.endsWith('/api/v1/status/stream')) streams.add(e.requestId) })
  cdp.on('Network.dataReceived', e => { if (streams.has(e.requestId)) bytes += e.encodedDataLength > 0 ? e.encodedDataLength : e.dataLength })
  await cdp.send('Network.enable')
  return () => bytes
}

/** Opens the sync view and waits until it shows the node and `peers` connected peers. */
async function openSyncView (page: Page, node: Node, peers: number): Promise<number> {
  await page.goto(`${node.url}/#/sync`)
  await page.waitForFunction(n => {
    const doc = (globalThis as unknown as { document: PageDocument }).document
    const states = Array.from(doc.querySelectorAll('table.peers [data-field="state"]'))
    return states.length >= n && states.every(e => e.textContent === 'connected') &&
      doc.querySelector('[data-field="node-id"]')?.textContent?.startsWith('12D3Koo') === true
  }, peers, { timeout: 120_000, polling: 'raf' })
  return await page.evaluate(() => (globalThis as unknown as { performance: { now (): number } }).performance.now())
}

async function firstView (browser: Browser, node: Node): Promise<Record<string, number>> {
  const page = await (await browser.newContext()).newPage()
  const cold = await openSyncView(page, node, 1)
  const [bytes, requests] = await page.evaluate(() => {
    const perf = (globalThis as unknown as { performance: { getEntriesByType (t: string): Array<{ transferSize?: number }> } }).performance
    const entries = [...perf.getEntriesByType('navigation'), ...perf.getEntriesByType('resource')]
    return [entries.reduce((n, e) => n + (e.transferSize ?? 0), 0), entries.length]
  })
  await page.reload()
  const warm = await openSyncView(page, node, 1)
  await page.context().close()
  return { first_view_ms: Math.round(cold), first_view_warm_ms: Math.round(warm), first_view_bytes: bytes, first_view_requests: requests }
}

async function idle (browser: Browser, browserPid: number, node: Node, seconds: number): Promise<Record<string, number>> {
  const page = await (await browser.newContext()).newPage()
  await page.goto('about:blank')
  const settle = (): Promise<void> => new Promise(resolve => setTimeout(resolve, 10_000))
  const window = async (): Promise<{ node: number, browser: number }> => {
    const n0 = cpuMs(node.child.pid!)
    const b0 = treeCpuMs(browserPid)
    await new Promise(resolve => setTimeout(resolve, seconds * 1000))
    return { node: cpuMs(node.child.pid!) - n0, browser: treeCpuMs(browserPid) - b0 }
  }
  // each window starts once what came before (opening the browser, loading the page) is over
  await settle()
  const blank = await window()
  const received = await countStreamBytes(page)
  await openSyncView(page, node, 1)
  await settle()
  const bytes0 = received()
  const open = await window()
  const bytes = received() - bytes0
  await page.context().close()
  const perMin = (x: number): number => Math.round(x * 60 / seconds)
  return {
    idle_seconds: seconds,
    idle_node_cpu_ms_per_min_no_page: perMin(blank.node),
    idle_node_cpu_ms_per_min_page_open: perMin(open.node),
    idle_browser_cpu_ms_per_min_blank_tab: perMin(blank.browser),
    idle_browser_cpu_ms_per_min_page_open: perMin(open.browser),
    idle_stream_bytes_per_min: perMin(bytes)
  }
}

async function catchUp (root: string, browser: Browser, source: Node, rows: number, run: number, withPage: boolean): Promise<number> {
  const target = await startNode(root, `target-${run}`)
  let page: Page | undefined
  try {
    if (withPage) {
      page = await (await browser.newContext()).newPage()
      await page.goto(`${target.url}/#/sync`)
      await page.waitForFunction(() => (globalThis as unknown as { document: PageDocument }).document.querySelector('[data-field="connection"]')?.textContent === 'live', undefined, { timeout: 60_000 })
    }
    // the node's start and the page's loading are over before the catch-up starts
    await new Promise(resolve => setTimeout(resolve, 3000))
    const t0 = performance.now()
    await api(target, 'POST', '/api/v1/p2p/peers', { addr: `127.0.0.1:${source.p2pPort}` })
    await eventually(async () => (await triples(target)) >= rows, 'the catch-up', { ms: 600_000, everyMs: 100 })
    return (performance.now() - t0) / 1000
  } finally {
    await page?.context().close()
    await stopNode(target)
  }
}

export async function benchUi (opts: UiBenchOptions = {}): Promise<Record<string, number>> {
  const rows = opts.rows ?? 100_000
  const root = mkdtempSync(join(tmpdir(), 'engram-bench-ui-'))
  const server = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
  const browser = await chromium.connect(server.wsEndpoint())
  const browserPid = server.process().pid!
  const nodes: Node[] = []
  try {
    const a = await startNode(root, 'a')
    const b = await startNode(root, 'b')
    nodes.push(a, b)
    await api(a, 'POST', '/api/v1/p2p/peers', { addr: `127.0.0.1:${b.p2pPort}` })
    await eventually(async () => (await api<{ peer_count: number }>(a, 'GET', '/api/v1/p2p/status')).peer_count === 1, 'a and b connected')
    const view = await firstView(browser, a)
    const idleSeconds = opts.idleSeconds ?? 60
    const idleFigures = idleSeconds > 0 ? await idle(browser, browserPid, a, idleSeconds) : {}

    // the source of the catch-ups: b, with `rows` triples
    for (let i = 0; i < rows; i += 10_000) {
      await api(b, 'POST', '/api/v1/triples', { triples: Array.from({ length: Math.min(10_000, rows - i) }, (_, j) => benchInput(i + j)) })
    }
    const without: number[] = []
    const withPage: number[] = []
    const runs = Math.max(1, opts.catchUps ?? 3)
    for (let i = 0; i < 2 * runs; i++) {
      // pairs in alternating order: without, with; with, without; ...
      const open = (i % 2 === 1) !== (Math.floor(i / 2) % 2 === 1)
      const s = await catchUp(root, browser, b, rows, i, open)
      if (open) withPage.push(s)
      else without.push(s)
    }
    const best = (xs: number[]): number => Math.min(...xs)
    return {
      // how busy the machine was (1-minute load average over its cores): every figure here is wall or CPU time on it
      load_average_1m: Math.round(loadavg()[0]! * 100) / 100,
      ...view,
      ...idleFigures,
      catchup_rows: rows,
      catchup_s_no_page: Math.round(best(without) * 100) / 100,
      catchup_s_page_open: Math.round(best(withPage) * 100) / 100,
      catchup_ratio: Math.round(best(withPage) / best(without) * 100) / 100,
      catchup_runs: runs,
      catchup_s_no_page_median: Math.round(median(without) * 100) / 100,
      catchup_s_page_open_median: Math.round(median(withPage) * 100) / 100,
      catchup_ratio_median: Math.round(median(withPage) / median(without) * 100) / 100
    }
  } finally {
    await browser.close().catch(() => {})
    await server.close().catch(() => {})
    await Promise.allSettled(nodes.map(stopNode))
    rmSync(root, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await benchUi({ rows: Number(process.argv[2] ?? 100_000), idleSeconds: Number(process.argv[3] ?? 60), catchUps: Number(process.argv[4] ?? 3) })
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(40)} ${v}\n`)
}
