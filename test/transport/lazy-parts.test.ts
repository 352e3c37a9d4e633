/**
 * A node without reach options (no relays: the default) does not load libp2p's packages of the
 * relay parts (circuit relay v2, identify, AutoNAT, DCUtR): `transport/libp2p/node.ts` loads them
 * only for a node that uses relays, so a start does not read and compile them for nothing.
 * Counted in this process through a module-resolution hook, which sees every module this file's
 * imports load: a node on QUIC and TCP (as `engram start` runs one), then one with relays.
 */
import assert from 'node:assert/strict'
import { registerHooks } from 'node:module'
import { describe, it } from 'node:test'

const resolved = new Set<string>()
registerHooks({
  resolve (specifier, context, next) {
    const r = next(specifier, context)
    resolved.add(r.url)
    return r
  }
})

// a node that serves as a relay (for nodes that prove this key) uses every relay part
const REACH = { serve: { keys: [new Uint8Array(32).fill(7)] } }
const RELAY_PARTS = ['@libp2p/circuit-relay-v2', '@libp2p/autonat', '@libp2p/dcutr', '@libp2p/identify']
const loaded = (pkg: string): boolean => [...resolved].some(u => u.includes(`/node_modules/${pkg}/`))

describe('what a node without relays loads of libp2p', () => {
  it('a node without reach options loads none of the relay parts; a node with relays loads them', async () => {
    const { QuicTransport } = await import('../../src/transport/libp2p/QuicTransport.ts')
    const both = await QuicTransport.create({ host: '127.0.0.1', port: 0, handshakeTimeoutMs: 1000, closeTimeoutMs: 1000, transports: 'both' })
    await both.start()
    await both.stop()
    assert.ok(loaded('@chainsafe/libp2p-quic') && loaded('@libp2p/tcp'), 'the hook sees the packages the node loads')
    for (const pkg of RELAY_PARTS) assert.equal(loaded(pkg), false, `${pkg} loaded by a node without reach options`)

    const relayed = await QuicTransport.create({ host: '127.0.0.1', port: 0, handshakeTimeoutMs: 1000, closeTimeoutMs: 1000, transports: 'both', reach: REACH })
    await relayed.start()
    await relayed.stop()
    for (const pkg of RELAY_PARTS) assert.equal(loaded(pkg), true, `${pkg} loaded by a node with relays`)
  })
})
