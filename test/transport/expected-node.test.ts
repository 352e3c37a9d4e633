/** `DialOptions.expectedNode`: a node with another id at the address is refused before any session. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { QuicTransport } from '../../src/transport/libp2p/QuicTransport.ts'
import { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { Probe, within } from './conformance.ts'

describe('dial with an expected node id', () => {
  it('QUIC: dials the expected node, refuses another', async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => QuicTransport.create({ host: '127.0.0.1', port: 0, handshakeTimeoutMs: 1000, closeTimeoutMs: 1000 })))
    const pb = new Probe(b!)
    await Promise.all([a!.start(), b!.start(), c!.start()])
    try {
      const addr = b!.listenAddrs()[0]!
      await assert.rejects(a!.dial(addr, { expectedNode: c!.nodeId }), (e: unknown) =>
        (e as { code?: string }).code === 'UNAVAILABLE' && /not the expected/.test((e as Error).message))
      assert.equal(pb.conns.length, 0)
      const conn = await within(a!.dial(addr, { expectedNode: b!.nodeId }), 'dial')
      assert.equal(conn.remoteNode, b!.nodeId)
    } finally {
      await Promise.all([a!.stop(), b!.stop(), c!.stop()])
    }
  })

  it('memory: dials the expected node, refuses another', async () => {
    const net = new MemoryNetwork()
    const a = net.createTransport('a')
    const b = net.createTransport('b')
    await a.start()
    await b.start()
    await assert.rejects(a.dial('mem:b', { expectedNode: asNodeId('c') }), { code: 'UNAVAILABLE' })
    assert.equal(b.connections().length, 0)
    assert.equal((await a.dial('mem:b', { expectedNode: asNodeId('b') })).remoteNode, 'b')
    await Promise.all([a.stop(), b.stop()])
  })
})
