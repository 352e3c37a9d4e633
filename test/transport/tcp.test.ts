import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { QuicTransport, type QuicTransportOptions } from '../../src/transport/libp2p/QuicTransport.ts'
import { Probe, runTransportTests, seqFrame, waitFor, within } from './conformance.ts'
import { freePort, libp2pHarness, listenPort } from './libp2p-harness.ts'

runTransportTests('TCP + Noise + Yamux (libp2p) on 127.0.0.1', () => libp2pHarness('tcp'))

async function node (opts: Partial<QuicTransportOptions>): Promise<{ t: QuicTransport, p: Probe }> {
  const t = await QuicTransport.create({ host: '127.0.0.1', port: 0, handshakeTimeoutMs: 1000, closeTimeoutMs: 1000, ...opts })
  const p = new Probe(t)
  await t.start()
  return { t, p }
}

const port = listenPort

describe('QuicTransport with TCP', () => {
  it('with both transports and a fixed port, listens on that port over UDP and TCP', async () => {
    const p = await freePort('tcp')
    const { t } = await node({ transports: 'both', port: p })
    try {
      assert.equal(port(t, 'udp'), p)
      assert.equal(port(t, 'tcp'), p)
    } finally {
      await t.stop()
    }
  })

  it('falls back to TCP on the same port number when QUIC gets no answer (UDP blocked)', async () => {
    const { t: a } = await node({ transports: 'both' })
    // b speaks TCP only: nothing answers on the UDP side of its port number
    const { t: b, p: pb } = await node({ transports: 'tcp' })
    try {
      const conn = await within(a.dial(`127.0.0.1:${port(b, 'tcp')}`, { timeoutMs: 8000 }), 'dial with fallback')
      assert.equal(conn.remoteNode, b.nodeId)
      assert.match(conn.remoteAddr, /\/tcp\//)
      await conn.send(seqFrame(1))
      const inbound = await pb.the(a.nodeId)
      await waitFor(() => pb.framesOf(inbound).length === 1, 'frame over TCP')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('prefers QUIC when the peer has both', async () => {
    const p = await freePort('tcp')
    const { t: a } = await node({ transports: 'both' })
    const { t: b } = await node({ transports: 'both', port: p })
    try {
      const conn = await within(a.dial(`127.0.0.1:${p}`), 'dial')
      assert.match(conn.remoteAddr, /\/quic-v1/)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('lets a QUIC-only node and a TCP-only node both reach a node that has both', async () => {
    const { t: hub, p: ph } = await node({ transports: 'both' })
    const { t: q } = await node({ transports: 'quic' })
    const { t: tc } = await node({ transports: 'tcp' })
    try {
      const udp = hub.listenAddrs().find(x => x.includes('/quic-v1')) as string
      const tcpAddr = hub.listenAddrs().find(x => x.includes('/tcp/')) as string
      const [cq, ct] = await within(Promise.all([q.dial(udp), tc.dial(tcpAddr)]), 'dials')
      assert.equal(cq.remoteNode, hub.nodeId)
      assert.equal(ct.remoteNode, hub.nodeId)
      await waitFor(() => ph.conns.length === 2, 'two sessions at the hub')
    } finally {
      await Promise.all([hub.stop(), q.stop(), tc.stop()])
    }
  })
})
