/**
 * An engram node as a benchmark peer (bench/peers/protocol.ts): the composition root itself
 * (EngramNode: store, REST API, native sync over QUIC), with the default configuration but for
 * its data dir, ports and seed, in a process of its own. Loaded by bench/peers/engram.ts, once
 * the process runs with the daemon's V8 flags; like `engram start`, a first start derives the
 * seed's keys before the node's modules load, and a restart leaves them to the node
 * (node/seedKeysSchedule.ts).
 *
 * CONFIG_JSON: more configuration over the defaults, e.g. {"p2p.eagerRoutes":true}.
 * Records are written through the engine (the REST API's write path without HTTP). `connect`
 * adds a manual peer (kept in the store, so a restarted node dials it again by itself);
 * `bytesIn` is the engram frame bytes received from peers since start.
 */
import { defaultConfig } from '../../src/config/load.ts'
import type { NodeId } from '../../src/core/ids.ts'
import type { Command } from './protocol.ts'

const [dataDir, port, overrides] = process.argv.slice(2) as [string, string, string | undefined]
const config = defaultConfig({
  dataDir,
  'api.port': 0,
  'p2p.enabled': true,
  'p2p.port': Number(port),
  'p2p.seed': 'bench-seed-7f3a9c2e41d8b605',
  'log.level': 'error',
  ...(overrides !== undefined ? JSON.parse(overrides) as Record<string, unknown> : {})
})
const seedKeys = await (await import('../../src/node/seedKeysSchedule.ts')).firstStartSeedKeys(config)
const { EngramNode } = await import('../../src/node/EngramNode.ts')
const { benchInput } = await import('../store.ts')
const { memoryFigures, PeakMemory, processFigures, servePeer, until } = await import('./protocol.ts')
/** Where the memory is at its highest from a `connect` until the `wait` after it (the copy's peak), answered with `memory`. */
const peak = new PeakMemory()
const t0 = performance.now()
const node = await EngramNode.start(config, seedKeys !== undefined ? { seedKeys } : {})
const startMs = performance.now() - t0
const native = node.native!
const store = node.engine.store

const records = (): number => store.stats().triples
const bytesIn = (): number => native.sessionInfo().reduce((s, i) => s + i.bytesReceived, 0)
const recordsIn = (): number => native.sessionInfo().reduce((s, i) => s + i.recordsReceived, 0)
const sessions = (): number => native.sessionInfo().filter(i => i.state === 'open').length

const onChange = (f: () => void): () => void => { node.engine.on('change', f); return () => { node.engine.off('change', f) } }

function write (from: number, n: number, batch: number): void {
  for (let i = 0; i < n; i += batch) {
    node.engine.addTriples(Array.from({ length: Math.min(batch, n - i) }, (_, j) => benchInput(from + i + j)))
  }
}

async function handle (cmd: Command): Promise<Record<string, unknown>> {
  const c0 = performance.now()
  switch (cmd.op) {
    case 'fill': write(cmd.from, cmd.n, 10_000); break
    case 'write': write(cmd.from, cmd.n, cmd.batch ?? cmd.n); break
    case 'connect': peak.start(); native.addPeer(cmd.addr); break
    case 'wait': await until(`${cmd.n} records`, cmd.ms ?? 1_200_000, () => records() >= cmd.n, onChange); peak.stop(); break
    case 'stats': break
    case 'searchReady': {
      // the index catches up in the background after a catch-up that deferred it: polled (its slices are no changes)
      const end = performance.now() + 1_200_000
      while (store.textIndex().rebuilding && performance.now() < end) await new Promise(resolve => setTimeout(resolve, 20))
      break
    }
    case 'memory': return { ms: performance.now() - c0, ...memoryFigures(), peak: peak.stop() }
    // this node's id, and the eager route of `origin` here (its parent: the peer that brings its records first)
    case 'route': return { ms: performance.now() - c0, id: node.nodeId, ...(cmd.origin !== undefined ? native.routeOf(cmd.origin as NodeId) : {}) }
    case 'stop':
      await node.stop()
      setImmediate(() => process.exit(0))
      break
  }
  if (cmd.op === 'stop') return { ms: performance.now() - c0, records: 0, bytesIn: 0, recordsIn: 0, sessions: 0, ...processFigures() }
  return { ms: performance.now() - c0, records: records(), bytesIn: bytesIn(), recordsIn: recordsIn(), sessions: sessions(), ...processFigures() }
}

servePeer(handle, { addr: `127.0.0.1:${port}`, api: node.apiUrl, startMs, sinceSpawnMs: performance.now() })
