/**
 * Relayed against direct, in network namespaces this bench builds (test/netns/Lab.ts; Linux
 * and root, as CI runs; elsewhere it says why it did not run and reports nothing). Two nodes, each
 * a process of its own with a real SQLite store, sync over native QUIC sessions:
 *
 *  - direct: both on the LAN that plays the internet, one dialling the other;
 *  - relayed: each behind its own NAT router (nftables masquerade, nothing let in but replies),
 *    reaching the other only through `engram relay` on the LAN (hole punching off, so the path
 *    stays relayed).
 *
 * For each path, in one run:
 *  - write_to_visible_p50_ms / _p99_ms: a triple written on A until it is committed on B (closed
 *    loop, 200 writes after 20 of warm-up; both processes stamp with the same machine clock);
 *  - bulk_triples_per_s: 20,000 triples written on A in batches of 1,000, until the last is on B;
 *  - wire_bytes_per_triple: bytes B's interface received during the bulk transfer, per triple.
 * And for the relay: relay_cpu_ms_per_1000_triples (its process's user + system time during the
 * relayed bulk transfer) and relay_bytes_per_triple (bytes its interface sent, both directions of
 * every circuit, per triple). Ratios relayed / direct are computed from figures of this run.
 *
 * Veth pairs have no delay, so this measures what the relay hop costs in processing, not in
 * distance: on a real network the relay's round trip adds to every figure.
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { seedKeys } from '../src/core/seedKeys.ts'
import { Engine } from '../src/engine/Engine.ts'
import { SqliteStore } from '../src/store/sqlite/SqliteStore.ts'
import { NativeSync, type NativeSyncSettings } from '../src/sync/native/NativeSync.ts'
import { QuicTransport } from '../src/transport/libp2p/QuicTransport.ts'
import { relayMultiaddrs } from '../src/transport/libp2p/relay/relayAddrs.ts'
import { createLogger } from '../src/util/log.ts'
import { cannotRun, Lab, type LabNode, type Spawned } from '../test/netns/Lab.ts'
import { BIN } from '../test/cli/helpers.ts'
import { percentile } from './stats.ts'

const SEED = 'bench-reach-seed-0123456789abcdefghij'
const PORT = 19091
const WARMUP = 20
const WRITES = 200
const BULK = 20_000
const BATCH = 1_000
const SETTINGS: NativeSyncSettings = { gossipIntervalMs: 5_000, bloomFpr: 0.01, maxTriplesPerSync: 5_000, syncTimeoutMs: 30_000, tombstoneTtlHours: 24 }

const now = (): number => performance.timeOrigin + performance.now()
const round2 = (x: number): number => Math.round(x * 100) / 100

interface NodeSpec { dir: string, host: string, relays?: string[] }
type Msg = Record<string, unknown>

/** One node, in the namespace it was started in: commands on stdin, one JSON line each, answers on stdout. */
async function runNode (spec: NodeSpec): Promise<void> {
  const out = (m: Msg): void => { process.stdout.write(JSON.stringify(m) + '\n') }
  const keys = await seedKeys(SEED)
  const transport = new QuicTransport({
    privateKey: await generateKeyPair('Ed25519'),
    host: spec.host,
    port: PORT,
    transports: 'both',
    privateNetworkKey: keys.privateNetwork,
    ...(spec.relays !== undefined ? { reach: { relays: spec.relays.flatMap(relayMultiaddrs), memberKey: keys.relay, pollMs: 200, holePunch: false } } : {})
  })
  mkdirSync(spec.dir, { recursive: true })
  const store = SqliteStore.open(join(spec.dir, 'engram.db'), { synchronous: 'normal' })
  const engine = new Engine({ store, node: transport.nodeId, maxDriftMs: 60_000 })
  const sync = new NativeSync({ engine, transport, seed: SEED, settings: () => SETTINGS, log: createLogger({ level: 'error' }) })
  transport.onRelayMember((member, addr) => { sync.connect(addr, { source: 'relay', expectedNode: member }) })
  let received = 0
  let awaiting: number | undefined
  engine.on('change', ev => {
    const t = now()
    if (ev.via === undefined) return // this node's own write
    for (const e of ev.entries) {
      if (e.record.kind !== 'triple') continue
      received++
      if (e.record.subject.startsWith('lat:')) out({ seen: e.record.subject, t })
    }
    if (awaiting !== undefined && received >= awaiting) { out({ reached: awaiting, t }); awaiting = undefined }
  })
  await sync.start()
  out({ ready: transport.nodeId, addrs: transport.listenAddrs() })
  const rl = createInterface({ input: process.stdin })
  for await (const line of rl) {
    const cmd = JSON.parse(line) as Msg
    if (cmd.op === 'dial') sync.addPeer(cmd.addr)
    else if (cmd.op === 'peers') out({ peers: sync.listPeers().filter(p => p.connected).map(p => ({ node: p.node_id, path: p.path ?? null })) })
    else if (cmd.op === 'write') {
      const t = now()
      engine.addTriples([{ subject: `lat:${String(cmd.i)}`, predicate: 'rel:latency', object: Number(cmd.i) }])
      out({ wrote: cmd.i, t })
    } else if (cmd.op === 'bulk') {
      const n = Number(cmd.n)
      const t = now()
      for (let i = 0; i < n; i += BATCH) {
        engine.addTriples(Array.from({ length: Math.min(BATCH, n - i) }, (_, j) => ({ subject: `bulk:${i + j}`, predicate: 'rel:bulk', object: `value ${i + j} of the bulk transfer` })))
        await new Promise(resolve => setImmediate(resolve))
      }
      out({ bulk: n, t })
    } else if (cmd.op === 'await') {
      awaiting = Number(cmd.n)
      if (received >= awaiting) { out({ reached: awaiting, t: now() }); awaiting = undefined }
    }
  }
  await sync.stop()
  store.close()
}

/** The orchestrator's side of a node process. */
class NodeProc {
  private readonly lines: Msg[] = []
  private wake: (() => void) | undefined
  readonly name: string
  readonly proc: Spawned
  constructor (name: string, proc: Spawned) {
    this.name = name
    this.proc = proc
    createInterface({ input: proc.child.stdout! }).on('line', line => {
      try { this.lines.push(JSON.parse(line) as Msg) } catch { return }
      this.wake?.()
    })
  }

  send (m: Msg): void { this.proc.child.stdin?.write(JSON.stringify(m) + '\n') }

  /** The next line (in order) that has `key`; lines before it without the key are dropped. */
  async next (key: string, ms = 120_000): Promise<Msg> {
    const end = Date.now() + ms
    for (let i = 0; i < 10_000_000; i++) {
      const at = this.lines.findIndex(l => key in l)
      if (at >= 0) return this.lines.splice(0, at + 1)[at] as Msg
      if (Date.now() > end) throw new Error(`${this.name}: no "${key}" within ${ms} ms; stderr: ${this.proc.err().slice(-2000)}`)
      await new Promise<void>(resolve => { this.wake = resolve; setTimeout(resolve, 200) })
    }
    throw new Error('unreachable')
  }
}

function startNode (lab: Lab, node: LabNode, spec: NodeSpec): NodeProc {
  const self = fileURLToPath(import.meta.url)
  return new NodeProc(node.name, lab.spawnIn(node, [process.execPath, ...process.execArgv, self, '--node', JSON.stringify(spec)]))
}

/** Bytes an interface of a namespace has received and sent. */
function ifaceBytes (node: LabNode): { rx: number, tx: number } {
  const r = spawnSync('ip', ['-n', node.ns, '-s', '-j', 'link', 'show', 'eth0'], { encoding: 'utf8' })
  const s = (JSON.parse(r.stdout) as Array<{ stats64: { rx: { bytes: number }, tx: { bytes: number } } }>)[0]!.stats64
  return { rx: s.rx.bytes, tx: s.tx.bytes }
}

/** CPU time (user + system) of a process, ms. */
function cpuMs (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10 // clock ticks of 10 ms (USER_HZ 100)
}

async function waitFor (what: string, cond: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms
  for (let i = 0; i < 100_000 && !(await cond()); i++) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/** Latency, then bulk transfer, from A to B; `around` brackets the bulk transfer (counters). */
async function measure (a: NodeProc, b: NodeProc, bNode: LabNode, around: { before: () => void, after: () => void }): Promise<Record<string, number>> {
  const lat: number[] = []
  for (let i = 0; i < WARMUP + WRITES; i++) {
    a.send({ op: 'write', i })
    const w = await a.next('wrote')
    const s = await b.next('seen', 30_000)
    if (i >= WARMUP) lat.push((s.t as number) - (w.t as number))
  }
  lat.sort((x, y) => x - y)
  const rx0 = ifaceBytes(bNode).rx
  around.before()
  b.send({ op: 'await', n: WARMUP + WRITES + BULK })
  a.send({ op: 'bulk', n: BULK })
  const started = (await a.next('bulk', 300_000)).t as number
  const reached = (await b.next('reached', 300_000)).t as number
  around.after()
  const rx = ifaceBytes(bNode).rx - rx0
  return {
    write_to_visible_p50_ms: round2(percentile(lat, 0.5)),
    write_to_visible_p99_ms: round2(percentile(lat, 0.99)),
    bulk_triples_per_s: Math.round(BULK / ((reached - started) / 1000)),
    wire_bytes_per_triple: round2(rx / BULK)
  }
}

async function peerPath (n: NodeProc): Promise<string | null> {
  n.send({ op: 'peers' })
  const peers = (await n.next('peers')).peers as Array<{ path: string | null }>
  return peers[0]?.path ?? null
}

export async function benchReach (): Promise<Record<string, number>> {
  const why = cannotRun(true)
  if (why !== undefined) {
    process.stdout.write(`reach: not run (${why})\n`)
    return {}
  }
  const lab = new Lab()
  try {
    // direct: two nodes on the LAN
    const da = lab.addNode('da', 20)
    const db = lab.addNode('db', 21)
    const [a, b] = [startNode(lab, da, { dir: join(lab.box.root, 'da'), host: da.ip }), startNode(lab, db, { dir: join(lab.box.root, 'db'), host: db.ip })]
    const bReady = await b.next('ready')
    await a.next('ready')
    a.send({ op: 'dial', addr: (bReady.addrs as string[]).find(x => x.includes('/quic')) })
    await waitFor('the direct session', async () => (await peerPath(a)) === 'direct')
    const direct = await measure(a, b, db, { before: () => {}, after: () => {} })
    a.proc.child.stdin?.end()
    b.proc.child.stdin?.end()

    // relayed: each behind its own NAT, through `engram relay`
    const rn = lab.addNode('relay', 10)
    const key = spawnSync(process.execPath, [BIN, 'relay', 'key'], { env: { ...process.env, ENGRAM_P2P_SEED: SEED, ENGRAM_CONFIG: '' }, encoding: 'utf8' }).stdout.trim()
    const relay = lab.spawnCli(rn, ['relay', '--json', '--listen', rn.ip, '--data-dir', join(lab.box.root, 'relay'), '--log-level', 'error'],
      { ENGRAM_P2P_RELAY_ADMISSION_KEYS: key, ENGRAM_P2P_PORT: String(PORT), ENGRAM_CONFIG: '' })
    await waitFor('the relay', async () => /"node_id":\s*"[^"]+"/.test(relay.out()), 60_000)
    const relayId = (/"node_id":\s*"([^"]+)"/.exec(relay.out()) as RegExpExecArray)[1] as string
    const relays = [`${relayId}@${rn.ip}:${PORT}`]
    const na = lab.addBehind(lab.addRouter('ra', 1, 1), 'na', 1, 2)
    const nb = lab.addBehind(lab.addRouter('rb', 2, 2), 'nb', 2, 2)
    const ra = startNode(lab, na, { dir: join(lab.box.root, 'na'), host: na.ip, relays })
    const rb = startNode(lab, nb, { dir: join(lab.box.root, 'nb'), host: nb.ip, relays })
    await ra.next('ready')
    await rb.next('ready')
    await waitFor('the relayed session', async () => (await peerPath(ra)) === 'relayed' && (await peerPath(rb)) === 'relayed')
    let cpu0 = 0
    let tx0 = 0
    let relayCpu = 0
    let relayTx = 0
    const relayed = await measure(ra, rb, nb, {
      before: () => { cpu0 = cpuMs(relay.child.pid!); tx0 = ifaceBytes(rn).tx },
      after: () => { relayCpu = cpuMs(relay.child.pid!) - cpu0; relayTx = ifaceBytes(rn).tx - tx0 }
    })
    ra.proc.child.stdin?.end()
    rb.proc.child.stdin?.end()
    const both: Record<string, number> = {}
    for (const [k, v] of Object.entries(direct)) both[`direct_${k}`] = v
    for (const [k, v] of Object.entries(relayed)) both[`relayed_${k}`] = v
    return {
      ...both,
      relayed_over_direct_p50: round2(relayed.write_to_visible_p50_ms! / direct.write_to_visible_p50_ms!),
      relayed_over_direct_p99: round2(relayed.write_to_visible_p99_ms! / direct.write_to_visible_p99_ms!),
      relayed_over_direct_bulk: round2(relayed.bulk_triples_per_s! / direct.bulk_triples_per_s!),
      relay_cpu_ms_per_1000_triples: round2(relayCpu / (BULK / 1000)),
      relay_bytes_per_triple: round2(relayTx / BULK)
    }
  } finally {
    await lab.destroy()
  }
}

if (process.argv[2] === '--node') {
  await runNode(JSON.parse(process.argv[3] as string) as NodeSpec)
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await benchReach()
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(34)} ${v.toLocaleString('en')}\n`)
}
