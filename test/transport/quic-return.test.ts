/**
 * A session on the TCP fallback moves back to QUIC once QUIC answers (QuicTransport.ts,
 * QuicReturn.ts), over real sockets in one process: b listens TCP on port P and QUIC on another
 * port; in front of it, UDP port P is a gate that drops every datagram until the test opens it
 * and then forwards both ways (UDP blocked, then unblocked). a dials `127.0.0.1:P`: QUIC has no
 * answer, TCP does, and the session runs on TCP. Once the gate opens, a's probe of QUIC connects
 * and the session moves onto the QUIC connection on both ends — the TCP session closes as
 * replaced, frames flow on the new one. While the gate stays shut, the session stays on TCP.
 */
import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import { describe, it } from 'node:test'
import { QuicTransport } from '../../src/transport/libp2p/QuicTransport.ts'
import { carrierOf } from '../../src/transport/path.ts'
import { Probe, seqFrame, waitFor } from './conformance.ts'
import { listenPort as portOf } from './libp2p-harness.ts'

/** A UDP port that drops datagrams until `open()`, then forwards them to `target` and back (one client). */
async function udpGate (port: number, target: number): Promise<{ open (): void, close (): Promise<void> }> {
  const front = dgram.createSocket('udp4')
  const back = dgram.createSocket('udp4')
  let open = false
  let client: { address: string, port: number } | undefined
  front.on('message', (msg, from) => {
    if (!open) return
    client = { address: from.address, port: from.port }
    back.send(msg, target, '127.0.0.1')
  })
  back.on('message', msg => { if (client !== undefined) front.send(msg, client.port, client.address) })
  for (const [s, p] of [[front, port], [back, 0]] as const) {
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(p, '127.0.0.1', () => { resolve() }) })
  }
  const close = (s: dgram.Socket): Promise<void> => new Promise(resolve => { s.close(() => { resolve() }) })
  return { open: () => { open = true }, close: async () => { await Promise.all([close(front), close(back)]) } }
}

describe('QuicTransport: back to QUIC after the TCP fallback', () => {
  it('moves the session to QUIC once QUIC answers, on both ends; stays on TCP while it does not', async () => {
    const opts = { host: '127.0.0.1', port: 0, transports: 'both' as const, handshakeTimeoutMs: 1000, closeTimeoutMs: 1000 }
    const b = await QuicTransport.create({ ...opts, tcpPort: 0 })
    const lines: string[] = []
    const a = await QuicTransport.create({ ...opts, log: (message) => { lines.push(message) }, notice: (_level, message) => { lines.push(message) } })
    const pa = new Probe(a)
    const pb = new Probe(b)
    await b.start()
    await a.start()
    const p = portOf(b, 'tcp')
    const gate = await udpGate(p, portOf(b, 'udp'))
    try {
      const tcp = await a.dial(`127.0.0.1:${p}`, { timeoutMs: 8000 })
      assert.equal(carrierOf(tcp.remoteAddr), 'tcp', `the first session falls back to TCP: ${tcp.remoteAddr}`)
      // a probe or two finds no answer: the session stays where it is
      await waitFor(() => pa.conns.length === 1 && pb.conns.length === 1, 'one session on each end')
      await waitFor(() => lines.some(l => l.startsWith('QUIC still has no answer')), 'a probe of QUIC that found no answer')
      assert.deepEqual([a, b].map(t => t.connections().map(c => carrierOf(c.remoteAddr))), [['tcp'], ['tcp']], 'still on TCP while UDP is dropped')
      gate.open()
      await waitFor(() => [a, b].every(t => t.connections().length === 1 && carrierOf(t.connections()[0]!.remoteAddr) === 'quic'),
        'the session on QUIC on both ends', 60_000)
      assert.ok(lines.some(l => l.includes('runs on the TCP fallback')) && lines.some(l => l.includes('answers again')), lines.join('\n'))
      await waitFor(() => pa.closedInfo.get(tcp) !== undefined, 'the TCP session closed')
      assert.equal(pa.closedInfo.get(tcp)?.reason, 'replaced by a newer session')
      const onQuic = a.connections()[0]!
      await onQuic.send(seqFrame(7))
      const atB = b.connections()[0]!
      await waitFor(() => pb.framesOf(atB).length === 1, 'a frame over the QUIC session')
    } finally {
      await Promise.all([a.stop(), b.stop()])
      await gate.close()
    }
  })
})
