/**
 * Native sync over QUIC on loopback, with real SQLite stores in a temporary directory (removed
 * afterwards). The five latency nodes run in this one process (one event loop for all of them,
 * so the figures are conservative). `benchNative()` is called by the bench runner; running this file
 * directly prints the figures.
 *
 *  - write_to_visible_p50_ms / _p99_ms: five nodes in a full mesh; a triple written on one node
 *    (round robin) until it is committed on another, for each of the four others;
 *    visible_on_all_p50_ms / _p99_ms: until the last of the four has it. Closed loop: the next
 *    write starts when the previous one is everywhere.
 *  - idle_round_bytes_per_peer: frame bytes (engram frames, version byte included; QUIC and
 *    stream framing not counted) one node sends one peer per gossip round once everything is in
 *    sync, measured over many rounds of the five-node mesh.
 *  - bulk_insert_triples_per_s: Engine.addTriples into an empty SqliteStore, batches of 10,000;
 *    measured before the bootstrap and again after it, into fresh stores, and the faster of the
 *    two kept (a slow moment of a shared machine then cannot flatter the ratio).
 *  - bootstrap_triples_per_s: a node with an empty store connects to one holding 100,000
 *    triples (or --rows, when smaller) and receives all of them (cursor stream: pages of
 *    sync.maxTriplesPerSync, at most two unacknowledged), from the dial until the last page is
 *    committed, gossip rounds kept out of the way (BOOT_SETTINGS). The source runs in a process
 *    of its own, as it would on another machine;
 *    bootstrap_ratio = bootstrap / bulk insert, both measured in this run;
 *    bootstrap_wire_bytes_per_triple: the engram frame bytes the new node received, per triple.
 *  - Every node signs its writes and checks the signatures of what it receives, as a daemon does.
 *    The bootstrap and the bulk insert are measured again with nodes that neither sign nor check:
 *    bootstrap_signed_ratio = the signed bootstrap / the unsigned one (goal ≥ 0.6: verification is
 *    the receiver's work), insert_signed_ratio = signed / unsigned bulk insert (goal ≥ 0.7), and
 *    the unsigned figures beside (…_unsigned_…).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { asNodeId } from '../src/core/ids.ts'
import { Engine } from '../src/engine/Engine.ts'
import { identitySigner, newSigningIdentity, NodeKeyVerifier } from '../src/node/keys.ts'
import { SqliteStore } from '../src/store/sqlite/SqliteStore.ts'
import { NativeSync, type NativeSyncSettings } from '../src/sync/native/NativeSync.ts'
import { QuicTransport } from '../src/transport/libp2p/QuicTransport.ts'
import { createLogger } from '../src/util/log.ts'
import { percentile } from './stats.ts'
import { benchInput } from './store.ts'

export interface NativeBenchOptions {
  /** Writes measured for latency. Default 500. */
  writes?: number
  /** Triples bootstrapped. Default 100,000. */
  rows?: number
  /** Gossip rounds measured while idle. Default 40. */
  idleRounds?: number
}

export interface BenchNode {
  readonly name: string
  readonly store: SqliteStore
  readonly engine: Engine
  readonly sync: NativeSync
  readonly transport: QuicTransport
}

export const SETTINGS: NativeSyncSettings = { gossipIntervalMs: 5_000, bloomFpr: 0.01, maxTriplesPerSync: 5_000, syncTimeoutMs: 30_000, tombstoneTtlHours: 24 }

/**
 * The bootstrap's nodes: gossip rounds kept out of the way (one a minute), so the figure is the
 * cursor stream's. A round that falls inside a catch-up sends the records the stream is bringing
 * anyway (up to 10,000 a round), and when it falls is chance: with it, two runs of one build
 * differed by a factor of two on a loaded machine.
 */
const BOOT_SETTINGS: NativeSyncSettings = { ...SETTINGS, gossipIntervalMs: 60_000 }


export const round2 = (x: number): number => Math.round(x * 100) / 100

/** A native sync node over QUIC on loopback with a SQLite store in `dir`, started; `signed`: it signs and verifies. */
export async function node (dir: string, name: string, settings: { current: NativeSyncSettings }, signed = true): Promise<BenchNode> {
  const privateKey = await generateKeyPair('Ed25519')
  const transport = new QuicTransport({ privateKey, host: '127.0.0.1', port: 0 })
  const store = SqliteStore.open(join(dir, `${name}.db`), { synchronous: 'normal' })
  const engine = new Engine({
    store, node: transport.nodeId, maxDriftMs: 60_000,
    ...(signed ? { signer: identitySigner(privateKey, transport.nodeId), verifier: new NodeKeyVerifier() } : {})
  })
  const sync = new NativeSync({
    engine, transport, seed: 'bench-seed', settings: () => settings.current, log: createLogger({ level: 'error' })
  })
  await sync.start()
  return { name, store, engine, sync, transport }
}

export async function until (what: string, ms: number, cond: () => boolean): Promise<void> {
  const end = Date.now() + ms
  for (let i = 0; i < 10_000_000 && !cond(); i++) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 1))
  }
}

export async function stopAll (nodes: readonly BenchNode[]): Promise<void> {
  await Promise.all(nodes.map(n => n.sync.stop()))
  for (const n of nodes) n.store.close()
}

/** Five nodes: write-to-visible latency and idle round bytes. */
async function mesh (dir: string, writes: number, idleRounds: number): Promise<Record<string, number>> {
  const settings = { current: SETTINGS }
  const nodes: BenchNode[] = []
  for (let i = 0; i < 5; i++) nodes.push(await node(dir, `mesh${i}`, settings))
  try {
    for (const [i, n] of nodes.entries()) for (const m of nodes.slice(i + 1)) n.sync.addPeer(m.transport.listenAddrs()[0]!)
    await until('a full mesh', 30_000, () => nodes.every(n => n.sync.connectedPeers().length === 4))
    // arrival times of each triple id, per node
    const arrivals = nodes.map(() => new Map<string, number>())
    nodes.forEach((n, i) => n.engine.on('change', ev => {
      const at = performance.now()
      for (const e of ev.entries) if (e.record.kind === 'triple') arrivals[i]!.set(e.record.id, at)
    }))
    const each: number[] = []
    const all: number[] = []
    for (let w = 0; w < writes + 20; w++) {
      const writer = w % nodes.length
      const t0 = performance.now()
      const [t] = nodes[writer]!.engine.addTriples([{ subject: `bench:w${w}`, predicate: 'rel:latency', object: w }])
      const id = t!.id
      await until(`write ${w} everywhere`, 10_000, () => arrivals.every(a => a.has(id)))
      if (w < 20) continue // warm-up
      const times = arrivals.map((a, i) => (i === writer ? undefined : a.get(id)! - t0)).filter((x): x is number => x !== undefined)
      each.push(...times)
      all.push(Math.max(...times))
    }
    each.sort((a, b) => a - b)
    all.sort((a, b) => a - b)

    // idle: everything in sync; fast rounds, bytes counted per session
    settings.current = { ...SETTINGS, gossipIntervalMs: 50 }
    await new Promise(resolve => setTimeout(resolve, 6_000)) // the 5 s tick picks up the new interval
    const sent = (): number => nodes.reduce((s, n) => s + n.sync.sessionInfo().reduce((x, i) => x + i.bytesSent, 0), 0)
    const round0 = nodes.map(n => (n.sync.status().gossip_stats as { round: number }).round)
    const bytes0 = sent()
    await until(`${idleRounds} idle rounds`, 60_000, () => nodes.every((n, i) => (n.sync.status().gossip_stats as { round: number }).round - round0[i]! >= idleRounds))
    const bytes = sent() - bytes0
    const rounds = nodes.reduce((s, n, i) => s + (n.sync.status().gossip_stats as { round: number }).round - round0[i]!, 0)
    return {
      write_to_visible_p50_ms: round2(percentile(each, 0.5)),
      write_to_visible_p99_ms: round2(percentile(each, 0.99)),
      visible_on_all_p50_ms: round2(percentile(all, 0.5)),
      visible_on_all_p99_ms: round2(percentile(all, 0.99)),
      idle_round_bytes_per_peer: round2(bytes / (rounds * 4))
    }
  } finally {
    await stopAll(nodes)
  }
}

/**
 * The source of the bootstrap, in a process of its own (as it is on another machine): a node
 * holding `rows` triples. Prints its listen address and peer id on stdout, then serves until
 * stdin closes.
 */
async function serveSource (dir: string, rows: number, signed: boolean): Promise<void> {
  const source = await node(dir, signed ? 'source' : 'source-unsigned', { current: BOOT_SETTINGS }, signed)
  for (let i = 0; i < rows; i += 10_000) source.engine.addTriples(Array.from({ length: Math.min(10_000, rows - i) }, (_, j) => benchInput(i + j)))
  // a node in its steady state: its gossip index has taken in what was written (as the first
  // round would), before any peer comes
  source.sync.status()
  process.stdout.write(`${JSON.stringify({ addr: source.transport.listenAddrs()[0] })}\n`)
  await new Promise<void>(resolve => { process.stdin.on('end', resolve).on('close', resolve).resume() })
  await stopAll([source])
}

/** Bulk insert rate, then bootstrap of the same triples to an empty node from a source process. */
async function bootstrap (dir: string, rows: number, signed: boolean): Promise<{ bulk: number, boot: number, wire: number }> {
  const inputs = Array.from({ length: rows }, (_, i) => benchInput(i))
  const bulkSigner = signed ? await newSigningIdentity() : undefined
  // the baseline: the store's bulk insert rate, on a store of its own with nothing listening (seconds)
  const bulkInsert = (file: string): number => {
    const plain = SqliteStore.open(join(dir, file), { synchronous: 'normal' })
    const bulk = new Engine({ store: plain, node: bulkSigner?.node ?? asNodeId('bench-bulk'), maxDriftMs: 60_000, ...(bulkSigner !== undefined ? { signer: bulkSigner.signer } : {}) })
    const t0 = performance.now()
    for (let i = 0; i < rows; i += 10_000) bulk.addTriples(inputs.slice(i, i + 10_000))
    const s = (performance.now() - t0) / 1000
    plain.close()
    return s
  }
  const tag = signed ? '' : '-unsigned'
  const insertBefore = bulkInsert(`bulk-before${tag}.db`)

  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve-source', dir, String(rows), String(signed)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const nodes: BenchNode[] = []
  try {
    const addr = await new Promise<string>((resolve, reject) => {
      let buf = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        buf += d
        const line = buf.split('\n')[0]
        if (buf.includes('\n') && line !== undefined) resolve((JSON.parse(line) as { addr: string }).addr)
      })
      child.on('exit', code => reject(new Error(`the source process exited with ${code}`)))
    })
    const target = await node(dir, `target${tag}`, { current: BOOT_SETTINGS }, signed)
    nodes.push(target)
    const t1 = performance.now()
    target.sync.addPeer(addr)
    await until('the bootstrap', 600_000, () => target.store.stats().triples >= rows)
    const bootS = (performance.now() - t1) / 1000
    const received = target.sync.sessionInfo().reduce((s, i) => s + i.bytesReceived, 0)
    if (signed && target.store.provenanceStats().unsigned !== 0) throw new Error('the bootstrap stored records without their signatures')
    return { bulk: rows / Math.min(insertBefore, bulkInsert(`bulk-after${tag}.db`)), boot: rows / bootS, wire: received / rows }
  } finally {
    await stopAll(nodes)
    child.stdin.end()
    await new Promise(resolve => { if (child.exitCode !== null) resolve(undefined); else child.on('exit', resolve) })
  }
}

export async function benchNative (opts: NativeBenchOptions = {}): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-native-'))
  try {
    // the bootstrap first: the mesh's QUIC connections may still be draining after it stops
    const rows = opts.rows ?? 100_000
    let boot = {}
    if (rows > 0) {
      const plain = await bootstrap(dir, rows, false)
      const signed = await bootstrap(dir, rows, true)
      boot = {
        bootstrap_rows: rows,
        bulk_insert_triples_per_s: Math.round(signed.bulk),
        bootstrap_triples_per_s: Math.round(signed.boot),
        bootstrap_ratio: round2(signed.boot / signed.bulk),
        bootstrap_wire_bytes_per_triple: round2(signed.wire),
        bulk_insert_unsigned_triples_per_s: Math.round(plain.bulk),
        bootstrap_unsigned_triples_per_s: Math.round(plain.boot),
        bootstrap_unsigned_wire_bytes_per_triple: round2(plain.wire),
        insert_signed_ratio: round2(signed.bulk / plain.bulk),
        bootstrap_signed_ratio: round2(signed.boot / plain.boot)
      }
    }
    const latency = opts.writes === 0 ? {} : await mesh(dir, opts.writes ?? 500, opts.idleRounds ?? 40)
    return { ...latency, ...boot }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--serve-source') {
  await serveSource(process.argv[3]!, Number(process.argv[4]), process.argv[5] !== 'false')
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await benchNative()
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(28)} ${v}\n`)
}
