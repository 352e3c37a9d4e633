/**
 * The seed's keys (Argon2id, a few hundred milliseconds) are off the start's path: a node answers
 * on its REST API and opens QUIC sessions (which prove the seed itself) before its derivation
 * resolves, while TCP, whose private network needs the derived key, accepts nothing until then
 * and works after it (node/seedKeysPart.ts). The derivation is made slow here by holding it: it
 * resolves only when the test lets it, so every "before" is certain.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { defaultConfig } from '../../src/config/load.ts'
import type { ConfigFlags } from '../../src/config/load.ts'
import { seedKeys, type SeedKeys } from '../../src/core/seedKeys.ts'
import { EngramNode } from '../../src/node/EngramNode.ts'
import { QuicTransport } from '../../src/transport/libp2p/QuicTransport.ts'
import { createLogger } from '../../src/util/log.ts'
import { eventually } from '../support/eventually.ts'
import { freePorts } from '../native/daemons.ts'

const SEED = 'Kq3-later-keys_seed-8Wm2x'

interface Held {
  readonly derive: (seed: string) => Promise<SeedKeys>
  readonly asked: () => boolean
  release: () => void
}

/** A derivation that gives the real keys (or `fails`), only once released. */
function heldDerivation (fails?: Error): Held {
  let open: (() => void) | undefined
  const gate = new Promise<void>(resolve => { open = resolve })
  let asked = false
  return {
    derive: async (seed) => {
      asked = true
      await gate
      if (fails !== undefined) throw fails
      return await seedKeys(seed)
    },
    asked: () => asked,
    release: () => { open?.() }
  }
}

/** Whether a plain TCP connection to the port is accepted (true) or refused (false). */
function tcpAccepts (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = connect({ host: '127.0.0.1', port })
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => { s.destroy(); resolve(false) })
  })
}

interface Status { listen_addrs: string[], carriers?: { quic: string, tcp: string, tcp_error?: string } }
async function p2pStatus (node: EngramNode): Promise<Status> {
  return await (await fetch(`${node.apiUrl}/api/v1/p2p/status`)).json() as Status
}

describe('the seed\'s keys come after the start', () => {
  let root: string
  before(() => { root = mkdtempSync(join(tmpdir(), 'engram-keylater-')) })
  after(() => rmSync(root, { recursive: true, force: true }))

  const config = (name: string, port: number, more: ConfigFlags = {}) => defaultConfig({
    dataDir: join(root, name), 'api.port': 0, 'p2p.enabled': true, 'p2p.seed': SEED, 'p2p.host': '127.0.0.1', 'p2p.port': port, ...more
  })

  it('answers on the API and syncs over QUIC before the keys, accepts TCP only after them', async () => {
    const [portA, portB] = await freePorts(2) as [number, number]
    const held = heldDerivation()
    const lines: string[] = []
    const a = await EngramNode.start(config('a', portA), { log: createLogger({ sink: l => lines.push(l) }), deriveSeedKeys: held.derive })
    const b = await EngramNode.start(config('b', portB), { log: createLogger({ sink: () => {} }) })
    // a transport that speaks TCP only, in the private network of the seed
    const tcpOnly = await QuicTransport.create({ host: '127.0.0.1', transports: 'tcp', privateNetworkKey: (await seedKeys(SEED)).privateNetwork })
    await tcpOnly.start()
    try {
      assert.ok(held.asked(), 'the derivation was started')
      // the API answers while the keys are being derived
      const health = await (await fetch(`${a.apiUrl}/api/v1/health`)).json() as { status: string }
      assert.equal(health.status, 'healthy')
      const before = await p2pStatus(a)
      assert.deepEqual(before.carriers, { quic: 'listening', tcp: 'starting' })
      assert.ok(before.listen_addrs.some(x => x.includes('/quic-v1')), before.listen_addrs.join(' '))
      assert.ok(!before.listen_addrs.some(x => x.includes('/tcp/')), `no TCP address yet: ${before.listen_addrs.join(' ')}`)
      // TCP accepts nothing: no socket, so no handshake of any kind
      assert.equal(await tcpAccepts(portA), false, 'TCP refused before the keys')
      await assert.rejects(tcpOnly.dial(`/ip4/127.0.0.1/tcp/${portA}`, { timeoutMs: 5000 }))
      // a QUIC session opens and carries records, both ways
      b.native!.addPeer(`127.0.0.1:${portA}`)
      b.engine.addTriples([{ subject: 'user:b', predicate: 'wrote', object: 'before the keys' }])
      a.engine.addTriples([{ subject: 'user:a', predicate: 'wrote', object: 'before the keys' }])
      await eventually(() => a.native!.sessionInfo().some(s => s.state === 'open' && s.nodeId === b.nodeId), 'a QUIC session between a and b')
      await eventually(() => a.engine.store.stats().triples === 2 && b.engine.store.stats().triples === 2, 'both records on both nodes')
      assert.ok(a.native!.sessionInfo().every(s => !s.addr.includes('/tcp/')), 'the session runs over QUIC')
      assert.deepEqual((await p2pStatus(a)).carriers, { quic: 'listening', tcp: 'starting' }, 'still no keys')
      assert.equal(await tcpAccepts(portA), false, 'TCP still refused')

      held.release()
      await a.keysReady
      const afterKeys = await p2pStatus(a)
      assert.deepEqual(afterKeys.carriers, { quic: 'listening', tcp: 'listening' })
      assert.ok(afterKeys.listen_addrs.some(x => x.includes(`/tcp/${portA}`)), afterKeys.listen_addrs.join(' '))
      // TCP in the private network works now: the transport's own session handshake completes
      const conn = await tcpOnly.dial(`/ip4/127.0.0.1/tcp/${portA}`, { timeoutMs: 20_000 })
      assert.equal(conn.remoteNode, a.nodeId)
      assert.match(conn.remoteAddr, /\/tcp\//)
      assert.ok(lines.some(l => l.includes('the seed\'s keys are derived')), 'a log line says the keys came')
    } finally {
      held.release()
      await tcpOnly.stop()
      await b.stop()
      await a.stop()
    }
  })

  it('a node stopped before its keys come starts nothing when they come', async () => {
    const [port] = await freePorts(1) as [number]
    const held = heldDerivation()
    const lines: string[] = []
    const node = await EngramNode.start(config('stopped', port), { log: createLogger({ sink: l => lines.push(l) }), deriveSeedKeys: held.derive })
    try {
      assert.deepEqual((await p2pStatus(node)).carriers, { quic: 'listening', tcp: 'starting' })
    } finally {
      await node.stop()
      held.release()
    }
    await node.keysReady
    // the keys came after the stop: nothing listens, nothing was started
    assert.equal(await tcpAccepts(port), false, 'no TCP listener after the stop')
    assert.ok(!lines.some(l => l.includes('the seed\'s keys are derived')), lines.join('\n'))
    assert.ok(!lines.some(l => / ERROR | level=error/i.test(l)), lines.join('\n'))
    // the data directory is free: the same node starts again (its keys derived as usual)
    const again = await EngramNode.start(config('stopped', port), { log: createLogger({ sink: () => {} }) })
    try {
      await again.keysReady
      assert.deepEqual((await p2pStatus(again)).carriers, { quic: 'listening', tcp: 'listening' })
    } finally {
      await again.stop()
    }
  })

  it('a derivation that fails is an error: keysReady rejects with it, TCP stays off and the status says why', async () => {
    const [port] = await freePorts(1) as [number]
    const held = heldDerivation(new Error('out of memory deriving the key'))
    const lines: string[] = []
    const node = await EngramNode.start(config('fails', port), { log: createLogger({ sink: l => lines.push(l) }), deriveSeedKeys: held.derive })
    try {
      held.release()
      await assert.rejects(node.keysReady, /out of memory deriving the key/)
      const st = await p2pStatus(node)
      assert.equal(st.carriers?.tcp, 'failed')
      assert.match(st.carriers?.tcp_error ?? '', /could not be derived: out of memory/)
      assert.equal(await tcpAccepts(port), false)
      assert.ok(lines.some(l => l.includes('could not derive the seed\'s keys') && l.includes('out of memory')), lines.join('\n'))
    } finally {
      await node.stop()
    }
  })
})
