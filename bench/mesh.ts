/**
 * Meshes of real daemons on loopback (`npm run bench`, `mesh`): N engram nodes, each the
 * composition root in a process of its own (bench/peers/engram.ts: default configuration, native
 * sync over QUIC), every pair of nodes connected (node i adds node j as a manual peer, for
 * i < j). For each N (default 3, 5 and 10, which a loaded 2-core machine runs in a few minutes;
 * `--nodes 3,5,10,25,50` in bench/run.ts for the larger meshes):
 *
 *  - write_to_visible_p50_ms / _p99_ms: a triple written on one node (round robin) until it is
 *    committed on another, over every other node; visible_on_all_p50_ms / _p99_ms: until the last
 *    of them has it. Closed loop (the next write once the previous one is everywhere), measured
 *    in this parent process, so each figure includes a command round trip to a child (< 1 ms);
 *  - converge_1000_ms: 1,000 writes of one triple each, made back to back on node 0 (each
 *    acknowledged after its own commit), from the first until every node holds all of them;
 *  - copies_per_record_per_node: the records the other nodes received in stream pages during
 *    those 1,000 writes, ÷ (1,000 × (N − 1)) (1: each write reached each node once; a full mesh
 *    relays up to N − 1); bytes_per_write_per_node: the engram frame bytes they received
 *    meanwhile (gossip included), ÷ the same;
 *  - max_rss_mb: the largest peak RSS of a node, and the sum over the nodes (what N of them take).
 *
 * A size is skipped (and said so) when the free memory cannot hold N nodes at twice the largest
 * peak RSS seen so far.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { freemem, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freeUdpPort, PeerProcess, type Figures, type Ready } from './peers/protocol.ts'

const ENGRAM = fileURLToPath(new URL('../dist/bench/peers/engram.js', import.meta.url))
const CONVERGE = 1_000
const MESH_DEADLINE_MS = 300_000
const DEFAULT_NODES: readonly number[] = [3, 5, 10]

type Stats = Figures & { recordsIn: number, sessions: number }

function percentile (sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits

async function stats (nodes: readonly PeerProcess[]): Promise<Stats[]> {
  return await Promise.all(nodes.map(async n => await n.run({ op: 'stats' }) as unknown as Stats))
}

/** Polls every node's stats until `cond` holds for all (at most `ms`). */
async function untilAll (what: string, nodes: readonly PeerProcess[], ms: number, cond: (s: Stats) => boolean): Promise<void> {
  const end = performance.now() + ms
  for (let i = 0; i < 1_000_000; i++) {
    if ((await stats(nodes)).every(cond)) return
    if (performance.now() > end) throw new Error(`mesh: timed out after ${ms} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

async function mesh (n: number, dir: string, writes: number): Promise<{ figures: Record<string, number>, maxRssMb: number }> {
  const nodes: PeerProcess[] = []
  try {
    const ready: Ready[] = []
    for (let i = 0; i < n; i++) {
      const node = new PeerProcess(ENGRAM, [join(dir, `mesh-${n}-${i}`), String(await freeUdpPort())])
      nodes.push(node)
      ready.push(await node.ready)
    }
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) await nodes[i]!.run({ op: 'connect', addr: ready[j]!.addr })
    const t0 = performance.now()
    await untilAll(`${n - 1} open sessions on every node`, nodes, MESH_DEADLINE_MS, s => s.sessions >= n - 1)
    const meshMs = performance.now() - t0

    // latency: closed loop, round robin
    let count = 0
    const each: number[] = []
    const all: number[] = []
    for (let w = 0; w < writes; w++) {
      const writer = w % n
      const others = nodes.filter((_, i) => i !== writer)
      const start = performance.now()
      const seen = others.map(async o => { await o.run({ op: 'wait', n: count + 1 }); each.push(performance.now() - start) })
      await nodes[writer]!.run({ op: 'write', from: count, n: 1 })
      await Promise.all(seen)
      all.push(performance.now() - start)
      count++
    }

    // convergence of 1,000 writes made at node 0
    const before = await stats(nodes)
    const c0 = performance.now()
    const converged = nodes.slice(1).map(async o => await o.run({ op: 'wait', n: count + CONVERGE }))
    await nodes[0]!.run({ op: 'write', from: count, n: CONVERGE, batch: 1 })
    await Promise.all(converged)
    const convergeMs = performance.now() - c0
    const after = await stats(nodes)
    let recordsIn = 0
    let bytesIn = 0
    for (let i = 1; i < n; i++) {
      recordsIn += after[i]!.recordsIn - before[i]!.recordsIn
      bytesIn += after[i]!.bytesIn - before[i]!.bytesIn
    }
    const per = CONVERGE * (n - 1)
    each.sort((a, b) => a - b)
    all.sort((a, b) => a - b)
    const rss = after.map(s => s.maxRssMb)
    const maxRssMb = Math.max(...rss)
    const p = `mesh_${n}`
    return {
      maxRssMb,
      figures: {
        [`${p}_connect_ms`]: Math.round(meshMs),
        [`${p}_write_to_visible_p50_ms`]: round(percentile(each, 0.5)),
        [`${p}_write_to_visible_p99_ms`]: round(percentile(each, 0.99)),
        [`${p}_visible_on_all_p50_ms`]: round(percentile(all, 0.5)),
        [`${p}_visible_on_all_p99_ms`]: round(percentile(all, 0.99)),
        [`${p}_converge_1000_ms`]: Math.round(convergeMs),
        [`${p}_copies_per_record_per_node`]: round(recordsIn / per, 2),
        [`${p}_bytes_per_write_per_node`]: Math.round(bytesIn / per),
        [`${p}_max_rss_mb`]: Math.round(maxRssMb),
        [`${p}_total_rss_mb`]: Math.round(rss.reduce((a, b) => a + b, 0))
      }
    }
  } finally {
    for (const node of nodes) await node.stop().catch(() => node.kill())
  }
}

export async function benchMesh ({ nodes = DEFAULT_NODES, writes = 60 }: { nodes?: readonly number[], writes?: number } = {}): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-mesh-'))
  const out: Record<string, number> = {}
  let rssMb = 0
  try {
    for (const n of nodes) {
      const need = n * rssMb * 2 * 1024 * 1024
      if (need > freemem()) {
        process.stdout.write(`mesh: ${n} nodes skipped: ${Math.round(need / 2 ** 20)} MB needed at twice the peak RSS seen (${Math.round(rssMb)} MB a node), ${Math.round(freemem() / 2 ** 20)} MB free\n`)
        out[`mesh_${n}_skipped`] = 1
        continue
      }
      const r = await mesh(n, dir, writes)
      rssMb = Math.max(rssMb, r.maxRssMb)
      Object.assign(out, r.figures)
      process.stdout.write(`mesh: ${n} nodes: ${JSON.stringify(r.figures)}\n`)
    }
    return out
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const nodes = process.argv[2]?.split(',').map(Number) ?? DEFAULT_NODES
  const figs = await benchMesh({ nodes })
  for (const [k, v] of Object.entries(figs)) process.stdout.write(`${k.padEnd(44)} ${v}\n`)
}
