/**
 * The private network of the TCP path (src/transport/libp2p/privateNetwork.ts): nodes with the
 * same key connect over TCP, large frames included; a node with another key (another seed), or
 * none, cannot complete even the TCP transport handshake, and the listener never reports a
 * session. QUIC is not affected.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { argon2id } from 'hash-wasm'
import { derivePrivateNetworkKey, PRIVATE_NETWORK_CONTEXT, PRIVATE_NETWORK_KDF } from '../../src/transport/libp2p/privateNetwork.ts'
import { QuicTransport, type QuicTransportOptions } from '../../src/transport/libp2p/QuicTransport.ts'
import { blake3 } from '../../src/core/hash.ts'
import { Probe, seqFrame, waitFor, within } from './conformance.ts'

async function node (opts: Partial<QuicTransportOptions>): Promise<{ t: QuicTransport, p: Probe }> {
  const t = await QuicTransport.create({ host: '127.0.0.1', port: 0, handshakeTimeoutMs: 1000, closeTimeoutMs: 1000, ...opts })
  const p = new Probe(t)
  await t.start()
  return { t, p }
}

const addrOf = (t: QuicTransport, proto: 'tcp' | 'quic-v1'): string => {
  const a = t.listenAddrs().find(x => x.includes(`/${proto}`))
  if (a === undefined) throw new Error(`no ${proto} address`)
  return a
}

describe('private network on TCP', () => {
  it('derives a 32-byte key per seed with Argon2id (64 MiB, 3 passes), domain-separated, never the seed itself', async () => {
    const k = await derivePrivateNetworkKey('seed-one')
    assert.equal(k.byteLength, 32)
    assert.deepEqual(await derivePrivateNetworkKey('seed-one'), k)
    assert.notDeepEqual(await derivePrivateNetworkKey('seed-two'), k)
    assert.notDeepEqual(k, blake3(new TextEncoder().encode('seed-one')))
    assert.equal(PRIVATE_NETWORK_CONTEXT, 'engram/p2p-private-network/v2')
    // The same as Argon2id computed directly with the documented parameters.
    const direct = await argon2id({ password: 'seed-one', salt: new TextEncoder().encode(PRIVATE_NETWORK_CONTEXT), memorySize: 65536, iterations: 3, parallelism: 1, hashLength: 32, outputType: 'binary' })
    assert.deepEqual(k, direct)
    assert.deepEqual(PRIVATE_NETWORK_KDF, { memoryKiB: 65536, iterations: 3, parallelism: 1 })
  })

  it('lets nodes with the same key talk over TCP, 1 MiB frames both ways included', async () => {
    const key = await derivePrivateNetworkKey('same-seed')
    const { t: a, p: pa } = await node({ transports: 'tcp', privateNetworkKey: key })
    const { t: b, p: pb } = await node({ transports: 'tcp', privateNetworkKey: key })
    try {
      const conn = await within(a.dial(addrOf(b, 'tcp')), 'dial')
      assert.equal(conn.remoteNode, b.nodeId)
      await conn.send(seqFrame(1))
      const inbound = await pb.the(a.nodeId)
      await waitFor(() => pb.framesOf(inbound).length === 1, 'frame over TCP in the private network')
      // large frames, alternating directions (what broke @libp2p/pnet's cipher): all arrive
      const big = new Uint8Array(1024 * 1024).fill(7)
      for (let i = 0; i < 40; i++) {
        await conn.send(big)
        await inbound.send(big)
      }
      await waitFor(() => pb.framesOf(inbound).length === 41 && pa.framesOf(conn).length === 40, '40 MiB each way')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  for (const [what, otherSeed] of [['another key', 'other-seed'], ['no key', undefined]] as const) {
    it(`refuses a node with ${what} before any session: the TCP transport handshake cannot complete`, async () => {
      const other = otherSeed === undefined ? undefined : await derivePrivateNetworkKey(otherSeed)
      const { t: a } = await node({ transports: 'tcp', ...(other !== undefined ? { privateNetworkKey: other } : {}), dialTimeoutMs: 3000 })
      const { t: b, p: pb } = await node({ transports: 'tcp', privateNetworkKey: await derivePrivateNetworkKey('same-seed') })
      try {
        await assert.rejects(a.dial(addrOf(b, 'tcp')), (e: unknown) => {
          const code = (e as { code?: string }).code
          return code === 'UNAVAILABLE' || code === 'TIMEOUT'
        })
        assert.equal(pb.conns.length, 0, 'the listener reported no session')
        assert.equal(b.connections().length, 0)
      } finally {
        await Promise.all([a.stop(), b.stop()])
      }
    })
  }

  it('does not touch QUIC: nodes with different keys still reach each other over QUIC (the seed handshake decides there)', async () => {
    const { t: a } = await node({ transports: 'both', privateNetworkKey: await derivePrivateNetworkKey('seed-a') })
    const { t: b, p: pb } = await node({ transports: 'both', privateNetworkKey: await derivePrivateNetworkKey('seed-b') })
    try {
      const conn = await within(a.dial(addrOf(b, 'quic-v1')), 'QUIC dial')
      assert.match(conn.remoteAddr, /quic-v1/)
      await conn.send(seqFrame(1))
      const inbound = await pb.the(a.nodeId)
      await waitFor(() => pb.framesOf(inbound).length === 1, 'frame over QUIC')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
