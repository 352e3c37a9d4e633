/**
 * A stopped QuicTransport leaves no timer armed that keeps the process alive. libp2p's address
 * manager writes the node's own addresses through a one-second debounce, armed whenever a
 * transport starts or stops listening, which libp2p's stop does not clear: every stopped node
 * held the event loop for another second (and `engram start`, told to stop, exited only on its
 * one-second bound). node.ts clears it when the node stops.
 *
 * The session runs over QUIC (QUIC alone, and QUIC beside a TCP listener, as a daemon listens)
 * and over TCP (TCP alone, and TCP beside QUIC). A connection's close may still be under way for
 * a moment after stop resolves, with timers of its own: bytes that reached a TCP socket before it
 * closed are handed on through a 0 ms timer (libp2p's message streams). So the test does not count
 * timers at one instant: it waits (polled, generous deadline) until every timer armed when stop
 * resolved has been cleared or has run, then asserts that none of them was a timer of a second's
 * kind that ran — a timer left armed by stop that kept the process alive until it fired.
 */
import assert from 'node:assert/strict'
import { createHook } from 'node:async_hooks'
import { describe, it } from 'node:test'
import { QuicTransport } from '../../src/transport/libp2p/QuicTransport.ts'
import { Probe, waitFor, within } from './conformance.ts'

/** The ref'd timers of this process (each keeps it alive). */
const timers = (): number => process.getActiveResourcesInfo().filter(r => r === 'Timeout').length

/** A timer's delay this long or more is not a hand-over to the next turn of the event loop. */
const LONG_MS = 100

/** Node's Timeout, as async_hooks hands it over: its delay and whether it is still armed. */
interface TimeoutResource { readonly _idleTimeout?: number, readonly _destroyed?: boolean, hasRef?: () => boolean }

/**
 * Watches the timers of this process from `mark()` (stop has resolved): which of those armed at
 * that moment are still armed, and which of them ran since, with their delays.
 */
class TimerWatch {
  private readonly live = new Map<number, TimeoutResource>()
  private atMark = new Map<number, TimeoutResource>()
  readonly ranAfterMark: number[] = []
  private readonly hook = createHook({
    init: (id, type, _trigger, resource) => { if (type === 'Timeout') this.live.set(id, resource as TimeoutResource) },
    before: id => {
      const t = this.atMark.get(id)
      if (t !== undefined) this.ranAfterMark.push(t._idleTimeout ?? -1)
    },
    destroy: id => { this.live.delete(id) }
  })

  constructor () {
    this.hook.enable()
  }

  mark (): void {
    this.atMark = new Map([...this.live].filter(([, t]) => armed(t)))
    // Node's Timeout fields this reads: were they renamed, the test would no longer see a timer left armed
    for (const t of this.live.values()) assert.equal(typeof t._idleTimeout, 'number', 'a Timeout has its delay in _idleTimeout')
  }

  /** Timers armed at mark() and armed still. */
  get stillArmed (): number {
    let n = 0
    for (const t of this.atMark.values()) if (armed(t)) n++
    return n
  }

  close (): void {
    this.hook.disable()
  }
}

function armed (t: TimeoutResource): boolean {
  return t._destroyed !== true && (t.hasRef?.() ?? false)
}

describe('QuicTransport.stop', () => {
  for (const [transports, carrier] of [['quic', 'quic'], ['both', 'quic'], ['tcp', 'tcp'], ['both', 'tcp']] as const) {
    it(`leaves no timer armed once it has resolved, after a session over ${carrier.toUpperCase()} (transports: ${transports})`, async () => {
      const watch = new TimerWatch()
      try {
        const before = timers()
        const [a, b] = await Promise.all([0, 1].map(async () => {
          const t = await QuicTransport.create({ host: '127.0.0.1', port: 0, transports, handshakeTimeoutMs: 15_000, closeTimeoutMs: 1000 })
          await t.start()
          return t
        })) as [QuicTransport, QuicTransport]
        const pa = new Probe(a)
        const addr = a.listenAddrs().find(x => carrier === 'quic' ? x.includes('/quic-v1') : x.includes('/tcp/'))!
        const conn = await within(b.dial(addr), `a dial over ${carrier}`)
        await conn.send(new Uint8Array([1]))
        const inbound = await pa.the(b.nodeId)
        await waitFor(() => pa.framesOf(inbound).length === 1, 'the frame')
        await Promise.all([a.stop(), b.stop()])
        watch.mark()
        // a connection may still be closing (its socket, and its timers with it): waited for
        await waitFor(() => !process.getActiveResourcesInfo().some(r => r.startsWith('TCP')) && watch.stillArmed === 0 && timers() === before,
          'the TCP sockets closed and every timer armed at stop cleared or run', 20_000)
        const left = watch.ranAfterMark.filter(ms => ms >= LONG_MS)
        assert.deepEqual(left, [], `timers left armed by stop that ran later, their delays in ms: ${JSON.stringify(watch.ranAfterMark)}`)
      } finally {
        watch.close()
      }
    })
  }
})
