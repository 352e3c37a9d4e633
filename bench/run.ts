/**
 * The benchmark harness (`npm run bench`): runs each benchmark, prints a table, then one JSON
 * line with every figure (for tools that track them).
 *
 *   node bench/run.ts [--rows N] [--only NAME] [--nodes LIST] [--degree K] [--routes on,off] [--rounds R] [--base DIR]
 *
 * --rows N     rows for the benchmarks that take a size (default 1,000,000)
 * --nodes LIST mesh sizes of the mesh benchmark, e.g. 3,5,10,25,50 (default 3,5,10)
 * --degree K   the mesh benchmark's nodes each dial K peers (a ring neighbour and K − 1 others)
 *              instead of all of them (default: a full mesh)
 * --routes L   p2p.eagerRoutes in the mesh benchmark: on, off or on,off (default on,off)
 * --rounds R   the mesh benchmark's bursts of 1,000 writes, each timed on its own (default 3)
 * --only NAME  run one benchmark (names: see BENCHES)
 * --base DIR   another checkout of engram, built: the benchmarks that run the built node (startup,
 *              peers) run its build too, interleaved with this one's, as base_… figures (intake
 *              loads its source beside this one's)
 */
import { parseArgs } from 'node:util'
import { benchCodecs } from './codecs.ts'
import { benchDecode } from './decode.ts'
import { benchGossip } from './gossip.ts'
import { benchGuessing } from './guessing.ts'
import { benchElement } from './element.ts'
import { benchIntake } from './intake.ts'
import { benchMailbox } from './mailbox.ts'
import { benchMesh } from './mesh.ts'
import { benchNative } from './native.ts'
import { benchPeers } from './peers.ts'
import { benchProvenance } from './provenance.ts'
import { benchReach } from './reach.ts'
import { benchRecon } from './recon.ts'
import { benchRetrieval } from './retrieval.ts'
import { benchSearch } from './search.ts'
import { benchStore } from './store.ts'
import { benchStartup } from './startup.ts'
import { benchSync } from './sync.ts'
import { benchTransport } from './transport.ts'
import { benchUi } from './ui.ts'

interface MeshArgs { nodes: number[] | undefined, degree: number | undefined, routes: boolean[] | undefined, rounds: number | undefined }
type Bench = (opts: { rows: number, base: string | undefined } & MeshArgs) => Promise<Record<string, number>>

const BENCHES: Record<string, Bench> = {
  store: benchStore,
  // Full-text search: insert with and without the index, latency at 100,000 and --rows (at least 100,000) records.
  search: benchSearch,
  // recall@5 on the labelled set of test/fixtures/retrieval.json.
  retrieval: () => benchRetrieval(),
  // Signing, verification and history: 100,000 triples (or --rows, when smaller).
  provenance: benchProvenance,
  transport: () => benchTransport(),
  gossip: () => benchGossip(),
  // Reconciliation bytes ÷ the floor (the differing records' rows) for d = 1 … 10,000 differences, coded rounds beside bloom rounds.
  recon: () => benchRecon(),
  // Codecs for changes pages on the wire: size ÷ raw and MB/s of one core, zstd / deflate / brotli at low levels.
  codecs: () => benchCodecs(),
  // Decoders against hostile input (the speed half of the fuzz tests).
  decode: () => benchDecode(),
  // A receiver's work on a page before its store write, per step (decode, row checks, signatures); --base runs another checkout's beside it.
  intake: ({ base }) => benchIntake({ base }),
  // The gossip window's element of a record (elementOf): ns and heap bytes per record; --base runs another checkout's beside it.
  element: ({ base }) => benchElement({ base }),
  // Polled REST sync: 100,000 triples (or --rows, when smaller).
  sync: benchSync,
  // Native sync over QUIC: latency on five nodes, idle bytes, bootstrap of 100,000 triples (or --rows, when smaller).
  native: ({ rows }) => benchNative({ rows: Math.min(rows, 100_000) }),
  // Offline guessing of a shared secret, per core: the version 1 checks and what is left.
  guessing: () => benchGuessing(),
  // The dashboard: first view, idle cost of an open page, catch-up of 100,000 triples (or --rows) with the page open ÷ without.
  ui: ({ rows }) => benchUi({ rows: Math.min(rows, 100_000) }),
  // Catch-up of 100,000 triples (or --rows, when smaller) from a mailbox against directly from a peer; bytes held per triple.
  mailbox: ({ rows }) => benchMailbox({ rows: Math.min(rows, 100_000) }),
  // Relayed against direct in network namespaces (needs root; says so and skips elsewhere).
  reach: () => benchReach(),
  // Two peer processes, engram beside Yjs: full copy of 10k / 100k / 1M (up to --rows), live and resume.
  peers: ({ rows, base }) => benchPeers({ rows, base }),
  // The executable as a user runs it: --version, status, daemon start (polled, native), restart and resume holding 100k and 1M records.
  startup: ({ rows, base }) => benchStartup({ rows, base }),
  // Meshes of real daemons: write-to-visible, convergence of 1,000 writes, copies per record per node.
  mesh: ({ nodes, degree, routes, rounds }) => benchMesh({ nodes, degree, routes, ...(rounds !== undefined ? { rounds } : {}) })
}

function usage (message: string): never {
  process.stderr.write(`${message}\nusage: node bench/run.ts [--rows N] [--nodes 3,5,10] [--degree K] [--routes on,off] [--rounds R] [--base DIR] [--only ${Object.keys(BENCHES).join('|')}]\n`)
  process.exit(2)
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, only: { type: 'string' }, nodes: { type: 'string' }, degree: { type: 'string' }, routes: { type: 'string' }, rounds: { type: 'string' }, base: { type: 'string' } } })
  const nodes = values.nodes?.split(',').map(Number)
  if (nodes !== undefined && !nodes.every(n => Number.isSafeInteger(n) && n >= 2 && n <= 64)) usage(`--nodes must list mesh sizes from 2 to 64 (got ${values.nodes})`)
  const degree = values.degree === undefined ? undefined : Number(values.degree)
  if (degree !== undefined && !(Number.isSafeInteger(degree) && degree >= 1 && degree <= 63)) usage(`--degree must be an integer from 1 to 63 (got ${values.degree})`)
  const routeWords = values.routes?.split(',')
  if (routeWords !== undefined && !routeWords.every(w => w === 'on' || w === 'off')) usage(`--routes must list on and/or off (got ${values.routes})`)
  const routes = routeWords?.map(w => w === 'on')
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds)
  if (rounds !== undefined && !(Number.isSafeInteger(rounds) && rounds >= 1 && rounds <= 20)) usage(`--rounds must be an integer from 1 to 20 (got ${values.rounds})`)
  const rows = values.rows === undefined ? 1_000_000 : Number(values.rows.replaceAll('_', ''))
  if (!Number.isSafeInteger(rows) || rows < 1) usage(`--rows must be a positive integer (got ${values.rows})`)
  const names = values.only === undefined ? Object.keys(BENCHES) : [values.only]
  for (const name of names) if (BENCHES[name] === undefined) usage(`unknown benchmark ${name}`)
  const results: Record<string, Record<string, number>> = {}
  for (const name of names) {
    process.stdout.write(`running ${name}…\n`)
    const t0 = performance.now()
    results[name] = await BENCHES[name]!({ rows, nodes, degree, routes, rounds, base: values.base })
    process.stdout.write(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
  }
  const width = Math.max(...Object.values(results).flatMap(r => Object.keys(r).map(k => k.length)))
  for (const [name, figures] of Object.entries(results)) {
    process.stdout.write(`\n${name}\n`)
    for (const [k, v] of Object.entries(figures)) process.stdout.write(`  ${k.padEnd(width)}  ${v.toLocaleString('en')}\n`)
  }
  process.stdout.write(`${JSON.stringify(results)}\n`)
}

await main()
