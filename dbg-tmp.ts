import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { Engine } from './src/engine/Engine.ts'
import { SqliteStore } from './src/store/sqlite/SqliteStore.ts'
import { identitySigner, NodeKeyVerifier } from './src/node/keys.ts'
import { NativeSync } from './src/sync/native/NativeSync.ts'
import { QuicTransport } from './src/transport/libp2p/QuicTransport.ts'
import { createLogger } from './src/util/log.ts'
import { benchInput } from './bench/store.ts'
const SETTINGS = { gossipIntervalMs: 5_000, bloomFpr: 0.01, maxTriplesPerSync: 5_000, syncTimeoutMs: 30_000, tombstoneTtlHours: 24 }
const dir = mkdtempSync(join(tmpdir(), 'dbg-'))
const signed = process.argv[2] !== 'plain'
async function node (name: string) {
  const privateKey = await generateKeyPair('Ed25519')
  const transport = new QuicTransport({ privateKey, host: '127.0.0.1', port: 0 })
  const store = SqliteStore.open(join(dir, `${name}.db`), { synchronous: 'normal' })
  const engine = new Engine({ store, node: transport.nodeId, maxDriftMs: 60_000, ...(signed ? { signer: identitySigner(privateKey, transport.nodeId), verifier: new NodeKeyVerifier() } : {}) })
  const sync = new NativeSync({ engine, transport, seed: 'bench-seed', settings: () => SETTINGS, log: createLogger({ level: 'warn' }) })
  await sync.start()
  return { store, engine, sync, transport }
}
const src = await node('src')
for (let i = 0; i < 100000; i += 10000) src.engine.addTriples(Array.from({ length: 10000 }, (_, j) => benchInput(i + j)))
src.sync.status()
const dst = await node('dst')
const t0 = performance.now()
dst.sync.addPeer(src.transport.listenAddrs()[0]!)
while (dst.store.stats().triples < 100000) await new Promise(r => setTimeout(r, 5))
console.log(signed ? 'signed' : 'plain', 'ms', Math.round(performance.now() - t0))
console.log(JSON.stringify(dst.sync.sessionInfo().map(s => ({ bytes: s.bytesReceived, pages: s.pagesReceived, recs: s.recordsReceived, applied: s.recordsApplied, rounds: s.gossipRounds }))))
console.log(JSON.stringify(src.sync.sessionInfo().map(s => ({ pagesSent: s.pagesSent, recsSent: s.recordsSent }))))
console.log(JSON.stringify(dst.engine.provenance.counters))
await dst.sync.stop(); await src.sync.stop()
