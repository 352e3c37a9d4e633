/**
 * The redial backoff (Redialer.ts): a session the peer cuts or refuses counts as a failure on the
 * dialling end too, so the delay before the next dial grows on every refusal up to its cap,
 * instead of starting over after each session that opened. Over the in-memory transport, with a
 * peer whose message budget (p2p.maxMessagesPerSecond) cuts every session soon after it opens.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { isFailureReason } from '../../src/sync/native/NativeSession.ts'
import { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { eventually, simNode, type SimNode } from './helpers.ts'

const started: SimNode[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map(n => n.sync.stop()))
})

/** The in-memory network, noting when every connection is made (every dial). */
class DialClock extends MemoryNetwork {
  readonly dials: number[] = []
  override newConnectionId (): string {
    this.dials.push(performance.now())
    return super.newConnectionId()
  }
}

describe('redial backoff', () => {
  it('close reasons: a failure or refusal on either end, not an ordinary close', () => {
    for (const r of ['auth failed', 'protocol error: bad frame', 'timeout: sending to x', 'receive failed: too many messages', 'apply failed: disk full']) {
      assert.equal(isFailureReason(r), true, r)
    }
    for (const r of [undefined, 'closed', 'node stopping', 'peer removed', 'transport stopped', 'duplicate', 'replaced by a newer session', 'disconnected']) {
      assert.equal(isFailureReason(r), false, String(r))
    }
  })

  it('grows on every session the peer cuts, up to its cap', async () => {
    const net = new DialClock()
    const baseMs = 50
    const maxMs = 400
    // a cuts any session after two frames in a burst (budget: one message a second)
    const a = simNode(net, 'node-a', { settings: { maxMessagesPerSecond: 1 } })
    const b = simNode(net, 'node-b', { backoff: { baseMs, maxMs } })
    for (const n of [a, b]) { started.push(n); await n.sync.start() }
    b.sync.addPeer('mem:node-a')
    await eventually(() => net.dials.length >= 8, () => `eight dials of b (${net.dials.length} so far)`)
    assert.ok(a.logs.some(l => l.includes('P2P session with node-b failed')), `a cut b's sessions:\n${a.logs.join('\n')}`)
    // the i-th redial follows i consecutive failures: it waits at least base × 2^(i-1), capped, less the 20 % jitter
    // (a loaded machine only makes the gaps longer)
    const gaps = net.dials.slice(1, 8).map((t, i) => t - net.dials[i]!)
    gaps.forEach((gap, i) => {
      const least = 0.8 * Math.min(maxMs, baseMs * 2 ** i) - 2
      assert.ok(gap >= least, `redial ${i + 1} came ${gap.toFixed(0)} ms after the one before; the backoff is at least ${least.toFixed(0)} ms (gaps: ${gaps.map(g => g.toFixed(0)).join(', ')})`)
    })
  })
})
