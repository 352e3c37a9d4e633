/**
 * `npm run demo`: native P2P sync on one machine, end to end.
 *
 * Starts three engram daemons (the built `engram start`) with native P2P on, each in its own
 * temporary data directory with a free UDP port and the other two as manual peers; writes on
 * the first, shows the writes arriving on the others together with the gossip statistics,
 * deletes one, shows it gone everywhere, then stops the daemons and removes the directories.
 *
 *   npm run demo          (builds first)
 *   node scripts/demo.ts  (after npm run build)
 */
import { spawn, type ChildProcess } from 'node:child_process'
import dgram from 'node:dgram'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newSecret } from '../src/config/secretStrength.ts'

const BIN = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url))
/** The nodes' shared seed: a fresh one each run, as `engram secret new` makes them. */
const SEED = newSecret()
const NAMES = ['laptop', 'desktop', 'server']

interface DemoNode {
  readonly name: string
  readonly dir: string
  readonly p2pPort: number
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  url: string
  log: string
}

const out = (s = ''): void => { process.stdout.write(`${s}\n`) }
const pause = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** A UDP port nothing uses right now. */
async function freeUdpPort (): Promise<number> {
  const sock = dgram.createSocket('udp4')
  await new Promise<void>((resolve, reject) => { sock.once('error', reject); sock.bind(0, '127.0.0.1', () => { resolve() }) })
  const port = sock.address().port
  await new Promise<void>(resolve => { sock.close(() => { resolve() }) })
  return port
}

/** Polls `cond` every 50 ms until it returns a value, at most `ms`. */
async function waitFor<T> (what: string, ms: number, cond: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms
  for (let i = 0; i < 100_000; i++) {
    const v = await cond().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > end) break
    await pause(50)
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

async function api<T> (node: DemoNode, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(path, node.url), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000)
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${node.name}: ${method} ${path} answered ${res.status}: ${text}`)
  return JSON.parse(text) as T
}

function startNode (name: string, root: string, p2pPort: number, peers: number[]): DemoNode {
  const dir = join(root, name)
  const config = join(root, `${name}.json5`)
  writeFileSync(config, JSON.stringify({
    p2p: { enabled: true, seed: SEED, port: p2pPort, manualPeers: peers.map(p => `127.0.0.1:${p}`), gossipIntervalMs: 1000 },
    log: { level: 'warn' }
  }), { mode: 0o600 })
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('ENGRAM_')) env[k] = v
  Object.assign(env, { HOME: root, XDG_CONFIG_HOME: join(root, 'config'), XDG_DATA_HOME: join(root, 'data') })
  const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dir, '--port', '0', '--config', config], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  const node: DemoNode = { name, dir, p2pPort, child, url: '', log: '', exited: new Promise(resolve => child.on('exit', code => resolve(code))) }
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { node.log += d })
  return node
}

interface Status {
  peer_count: number
  gossip_stats: { round: number, pending_announcements: number, known_ids: number, bloom_filter_items: number, bloom_filter_fpr: number }
  sync_stats: { local_ids: number, total_successful_syncs: number, total_failed_syncs: number }
}

async function showStats (nodes: readonly DemoNode[]): Promise<void> {
  const rows = [['node', 'peers', 'round', 'pending', 'known ids', 'bloom items', 'bloom fpr', 'local ids', 'syncs ok', 'failed']]
  for (const n of nodes) {
    const s = await api<Status>(n, 'GET', '/api/v1/p2p/status')
    const g = s.gossip_stats
    rows.push([n.name, String(s.peer_count), String(g.round), String(g.pending_announcements), String(g.known_ids), String(g.bloom_filter_items),
      g.bloom_filter_fpr.toFixed(4), String(s.sync_stats.local_ids), String(s.sync_stats.total_successful_syncs), String(s.sync_stats.total_failed_syncs)])
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length)))
  for (const r of rows) out(`  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`)
}

const countOf = async (n: DemoNode, subject: string): Promise<number> =>
  (await api<{ total: number }>(n, 'GET', `/api/v1/triples?subject=${encodeURIComponent(subject)}&limit=0`)).total

async function main (): Promise<void> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first (npm run demo does)`)
  const root = mkdtempSync(join(tmpdir(), 'engram-demo-'))
  const nodes: DemoNode[] = []
  let interrupted = false
  const onSignal = (): void => { interrupted = true; out('\ninterrupted: stopping the nodes') }
  process.once('SIGINT', onSignal)
  try {
    const ports = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()]
    out(`Starting three engram nodes with native P2P (QUIC on UDP ${ports.join(', ')}), data in ${root}`)
    for (const [i, name] of NAMES.entries()) nodes.push(startNode(name, root, ports[i]!, ports.filter((_, j) => j !== i)))
    for (const n of nodes) {
      n.url = await waitFor(`${n.name} to listen`, 30_000, async () => {
        const file = join(n.dir, 'api.json')
        if (n.child.exitCode !== null) throw new Error(`${n.name} exited: ${n.log}`)
        return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { url: string }).url : undefined
      })
    }
    await waitFor('the nodes to connect to each other', 30_000, async () => {
      const counts = await Promise.all(nodes.map(async n => (await api<Status>(n, 'GET', '/api/v1/p2p/status')).peer_count))
      return counts.every(c => c === 2) ? true : undefined
    })
    out('All three are connected to each other (seed handshake done on every session).\n')
    const [laptop, ...others] = nodes as [DemoNode, DemoNode, DemoNode]

    out(`Writing on ${laptop.name}: three triples and a note`)
    const t0 = performance.now()
    const created = await api<{ triples: Array<{ id: string }> }>(laptop, 'POST', '/api/v1/triples', {
      triples: [
        { subject: 'user:alice', predicate: 'prefers:editor', object: 'vim' },
        { subject: 'user:alice', predicate: 'prefers:shell', object: 'zsh' },
        { subject: 'user:alice', predicate: 'works:on', object: { kind: 'node', value: 'project:engram' } }
      ]
    })
    await api(laptop, 'PUT', '/api/v1/notes/project:engram:goal', { value: 'keep agent memory in step across machines' })
    for (const n of others) {
      await waitFor(`the writes on ${n.name}`, 10_000, async () => (await countOf(n, 'user:alice')) === 3 ? true : undefined)
      const note = await api<{ value: unknown }>(n, 'GET', '/api/v1/notes/project:engram:goal')
      out(`  ${n.name}: 3 triples and the note ${JSON.stringify(note.value)} arrived after ${(performance.now() - t0).toFixed(0)} ms`)
    }
    if (interrupted) return
    out('\nGossip statistics (anti-entropy rounds run every second as a backstop to live push):')
    await pause(2_500)
    await showStats(nodes)

    const doomed = created.triples[1]!.id
    out(`\nDeleting user:alice prefers:shell "zsh" on ${others[0]!.name}`)
    const t1 = performance.now()
    await api(others[0]!, 'DELETE', `/api/v1/triples/${doomed}`)
    for (const n of nodes) {
      await waitFor(`the delete on ${n.name}`, 10_000, async () => (await countOf(n, 'user:alice')) === 2 ? true : undefined)
      out(`  ${n.name}: gone after ${(performance.now() - t1).toFixed(0)} ms (2 triples left)`)
    }
    out('\nGossip statistics after the delete:')
    await pause(1_500)
    await showStats(nodes)
    out('\nDone.')
  } finally {
    process.removeListener('SIGINT', onSignal)
    for (const n of nodes) if (n.child.exitCode === null) n.child.kill('SIGTERM')
    const codes = await Promise.race([Promise.all(nodes.map(n => n.exited)), pause(10_000).then(() => undefined)])
    if (codes === undefined) for (const n of nodes) if (n.child.exitCode === null) n.child.kill('SIGKILL')
    out('Stopped the three nodes.')
    rmSync(root, { recursive: true, force: true })
  }
}

try {
  await main()
} catch (e) {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exitCode = 1
}
