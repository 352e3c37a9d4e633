/**
 * What a dialled session does first once its handshake passed: it sends its cursor (the peer's
 * stream starts from it) before the dial and the open are reported to the node (the peer
 * registry notes both, writes that wait for the disk), so those writes are not on the way of a
 * restarted node's catch-up.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import type { DialerEvent } from '../../src/discovery/PeerDialer.ts'
import { decodeFrame } from '../../src/protocol/native/messages.ts'
import { MemoryNetwork, type MemoryConnection } from '../../src/transport/memory/MemoryTransport.ts'
import { eventually, simNode, type SimNode } from './helpers.ts'

/** The in-memory network, noting the type of every frame each node sent. */
class TappedNetwork extends MemoryNetwork {
  readonly sent = new Map<string, string[]>()
  override sendFrame (from: MemoryConnection, frame: Uint8Array): void {
    const list = this.sent.get(from.localNode) ?? []
    list.push(decodeFrame(frame, { deferRecords: true }).t)
    this.sent.set(from.localNode, list)
    super.sendFrame(from, frame)
  }
}

const started: SimNode[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map(n => n.sync.stop()))
})

describe('a dialled session', () => {
  it('sends its cursor before the dial and the open are reported (and so written to the peer registry)', async () => {
    const net = new TappedNetwork()
    const events: Array<{ readonly type: DialerEvent['type'], readonly sentBefore: readonly string[] }> = []
    const a = simNode(net, 'node-a')
    const b = simNode(net, 'node-b', { onPeerEvent: ev => { events.push({ type: ev.type, sentBefore: [...(net.sent.get('node-b') ?? [])] }) } })
    a.engine.addTriples([{ subject: 'user:u1', predicate: 'rel:likes', object: { kind: 'string', value: 'v1' } }])
    for (const n of [a, b]) { started.push(n); await n.sync.start() }
    b.sync.addPeer('mem:node-a')
    await eventually(() => b.store.stats().triples === 1 && events.some(e => e.type === 'dialled') && events.some(e => e.type === 'session-open'), 'the triple on b, the dial and the open reported')
    for (const type of ['dialled', 'session-open'] as const) {
      const ev = events.find(e => e.type === type)!
      assert.ok(ev.sentBefore.includes('cursor'), `${type} reported after b sent its cursor (b had sent: ${ev.sentBefore.join(', ')})`)
    }
    // the dial is still reported before the session's end, as the peer book expects
    await b.sync.stop()
    started.splice(started.indexOf(b), 1)
    const order = events.map(e => e.type).filter(t => t !== 'session-open')
    assert.deepEqual(order.slice(0, 2), ['dialled', 'session-ended'])
  })
})
