/**
 * A stopped QuicTransport leaves no timer armed that keeps the process alive. libp2p's address
 * manager writes the node's own addresses through a one-second debounce, armed whenever a
 * transport starts or stops listening, which libp2p's stop does not clear: every stopped node
 * held the event loop for another second (and `engram start`, told to stop, exited only on its
 * one-second bound). node.ts clears it when the node stops.
 *
 * The session runs over QUIC (QUIC alone, and QUIC beside a TCP listener, as a daemon listens):
 * a TCP connection's graceful close may still hold a timer of its own for a moment after stop.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { QuicTransport } from '../../src/transport/libp2p/QuicTransport.ts'
import { Probe, waitFor, within } from './conformance.ts'

/** The ref'd timers of this process (each keeps it alive). */
const timers = (): number => process.getActiveResourcesInfo().filter(r => r === 'Timeout').length

describe('QuicTransport.stop', () => {
  for (const transports of ['quic', 'both'] as const) {
    it(`leaves no timer armed once it has resolved, after a session (transports: ${transports})`, async () => {
      const before = timers()
      const [a, b] = await Promise.all([0, 1].map(async () => {
        const t = await QuicTransport.create({ host: '127.0.0.1', port: 0, transports, handshakeTimeoutMs: 15_000, closeTimeoutMs: 1000 })
        await t.start()
        return t
      })) as [QuicTransport, QuicTransport]
      const pa = new Probe(a)
      const conn = await within(b.dial(a.listenAddrs().find(x => x.includes('/quic-v1'))!), 'a dial over QUIC')
      await conn.send(new Uint8Array([1]))
      const inbound = await pa.the(b.nodeId)
      await waitFor(() => pa.framesOf(inbound).length === 1, 'the frame')
      await Promise.all([a.stop(), b.stop()])
      // a TCP listener may still be closing: waited for
      await waitFor(() => !process.getActiveResourcesInfo().some(r => r.startsWith('TCP')), 'the TCP listener closed')
      assert.equal(timers(), before, `resources after stop: ${JSON.stringify(process.getActiveResourcesInfo())}`)
    })
  }
})
