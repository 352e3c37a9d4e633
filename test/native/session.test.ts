import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { randomBytes } from 'node:crypto'
import { decodeFrame, encodeMessage } from '../../src/protocol/native/messages.ts'
import { MemoryNetwork, type MemoryConnection } from '../../src/transport/memory/MemoryTransport.ts'
import { MAX_BUSY_TICKS } from '../../src/sync/native/SessionRounds.ts'
import { eventually, sameDumps, simNode, type SimNode } from './helpers.ts'

const started: SimNode[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map(n => n.sync.stop()))
})

async function start (...nodes: SimNode[]): Promise<void> {
  for (const n of nodes) { started.push(n); await n.sync.start() }
}

const triple = (i: number): { subject: string, predicate: string, object: { kind: 'string', value: string } } =>
  ({ subject: `user:u${i}`, predicate: 'rel:likes', object: { kind: 'string', value: `v${i}` } })

describe('native session', () => {
  it('streams a feed to a new peer and pushes later writes at once', async () => {
    const net = new MemoryNetwork()
    const a = simNode(net, 'node-a')
    const b = simNode(net, 'node-b')
    a.engine.addTriples(Array.from({ length: 250 }, (_, i) => triple(i)))
    await start(a, b)
    b.sync.addPeer('mem:node-a')
    await eventually(() => b.store.stats().triples === 250, 'the first 250 triples on b')
    a.engine.addTriples([triple(1000)])
    b.engine.setNote('note:x', { hello: 1 })
    await eventually(() => b.store.stats().triples === 251 && a.store.stats().notes === 1, 'live push both ways')
    assert.ok(sameDumps([a, b]))
  })
})

/** The in-memory network, noting the type of every frame sent. */
class TappedNetwork extends MemoryNetwork {
  readonly sent: string[] = []
  override sendFrame (from: MemoryConnection, frame: Uint8Array): void {
    this.sent.push(decodeFrame(frame, { deferRecords: true }).t)
    super.sendFrame(from, frame)
  }
}

describe('one stream during catch-up', () => {
  it('runs no gossip round with a peer while a stream with it catches up, and resumes rounds after', async () => {
    const net = new TappedNetwork({ manual: true })
    const settings = { gossipIntervalMs: 5, maxTriplesPerSync: 100 }
    const a = simNode(net, 'node-a', { settings })
    const b = simNode(net, 'node-b', { settings })
    a.engine.addTriples(Array.from({ length: 1_000 }, (_, i) => triple(i)))
    b.engine.addTriples(Array.from({ length: 300 }, (_, i) => triple(5_000 + i)))
    await start(a, b)
    b.sync.addPeer('mem:node-a')
    const round = (n: SimNode): number => n.sync.status().gossip_stats.round
    // frames move one step at a time, with gossip ticks on both nodes between the steps
    for (let i = 0; i < 2_000 && !(a.store.stats().triples === 1_300 && b.store.stats().triples === 1_300); i++) {
      const [ra, rb] = [round(a), round(b)]
      await eventually(() => round(a) > ra && round(b) > rb, 'a gossip tick on both nodes')
      net.step()
    }
    assert.equal(b.store.stats().triples, 1_300)
    // a round may start in the step that ended both catch-ups, after their last page
    const duringCatchUp = net.sent.slice(0, net.sent.lastIndexOf('changes'))
    assert.deepEqual(duringCatchUp.filter(t => ['digest', 'buckets', 'bloom', 'rdigest', 'rsymbols', 'rmore', 'rwant', 'records'].includes(t)), [], 'no gossip while catching up')
    const streamed = (n: SimNode): number => n.sync.sessionInfo().reduce((x, s) => x + s.recordsReceived, 0)
    assert.deepEqual([streamed(a), streamed(b)], [300, 1_000], 'every record went by the streams')
    // both streams caught up: rounds resume (idle rounds: equal digests, coded between these nodes)
    await eventually(() => {
      net.step()
      return net.sent.includes('rdigest') && [a, b].every(n => n.sync.sessionInfo().every(s => !s.catchingUp))
    }, 'gossip rounds again')
    assert.ok(sameDumps([a, b]))
  })
})

/** The in-memory network, noting each gossip digest a node sent (its round starting). */
class DigestTap extends MemoryNetwork {
  readonly digests: string[] = []
  override sendFrame (from: MemoryConnection, frame: Uint8Array): void {
    const t = decodeFrame(frame, { deferRecords: true }).t
    if (t === 'digest' || t === 'rdigest') this.digests.push(from.localNode)
    super.sendFrame(from, frame)
  }
}

describe('busy streams', () => {
  it(`skip a node's gossip rounds while they move, at most ${MAX_BUSY_TICKS} ticks in a row, and rounds run again once they rest`, async () => {
    const net = new DigestTap()
    // no timed ticks in the test: each one is gossipNow()
    const settings = { gossipIntervalMs: 60_000 }
    const a = simNode(net, 'node-a', { settings })
    const b = simNode(net, 'node-b', { settings })
    await start(a, b)
    b.sync.addPeer('mem:node-a')
    const live = (n: SimNode): boolean => n.sync.sessionInfo().some(s => s.state === 'open') && n.sync.sessionInfo().every(s => !s.catchingUp)
    await eventually(() => live(a) && live(b), 'a live session')
    const roundsOfA = (): number => net.digests.filter(n => n === 'node-a').length
    /** One tick of a; returns whether it started a round. */
    const tick = async (): Promise<boolean> => {
      const before = roundsOfA()
      a.sync.gossipNow()
      // a round starts at once (its digest is sent in the tick); give the frame a turn to go
      await new Promise(resolve => setImmediate(resolve))
      return roundsOfA() > before
    }
    // an idle session runs its rounds once the node's window index is built (in the background)
    for (let i = 0; i < 1_000 && !await tick(); i++) await new Promise(resolve => setTimeout(resolve, 5))
    assert.equal(await tick(), true, 'an idle session runs its round')
    // a write between every two ticks: the stream moves
    const busy: boolean[] = []
    for (let i = 0; i < 2 * (MAX_BUSY_TICKS + 1); i++) {
      a.engine.addTriples([triple(i)])
      await eventually(() => b.store.stats().triples === i + 1, `write ${i} on b`)
      busy.push(await tick())
    }
    const skipped = Array.from({ length: MAX_BUSY_TICKS }, () => false)
    assert.deepEqual(busy, [...skipped, true, ...skipped, true], `a round every ${MAX_BUSY_TICKS + 1} ticks while the stream moves`)
    // the stream rests: every tick runs its round again
    const rest: boolean[] = []
    for (let i = 0; i < 3; i++) rest.push(await tick())
    assert.deepEqual(rest, [true, true, true])
    assert.ok(sameDumps([a, b]))
  })
})

describe('relay', () => {
  it('relays a change once along a line of nodes, and never echoes it back', async () => {
    const net = new MemoryNetwork()
    const [a, b, c] = ['node-a', 'node-b', 'node-c'].map(n => simNode(net, n))
    await start(a!, b!, c!)
    b!.sync.addPeer('mem:node-a')
    b!.sync.addPeer('mem:node-c')
    await eventually(() => b!.sync.connectedPeers().length === 2, 'b connected to a and c')
    a!.engine.addTriples([triple(1), triple(2)])
    c!.engine.setNote('note:c', 1)
    await eventually(() => c!.store.stats().triples === 2 && a!.store.stats().notes === 1, 'relayed through b')
    await eventually(() => sameDumps([a!, b!, c!]), 'identical dumps')
    const sentBy = (n: SimNode, to: string): number => n.sync.sessionInfo().filter(s => s.nodeId === to).reduce((x, s) => x + s.recordsSent, 0)
    assert.equal(sentBy(b!, 'node-a'), 1, 'b sent a only the note from c')
    assert.equal(sentBy(b!, 'node-c'), 2, 'b sent c only the triples from a')
    assert.equal(sentBy(a!, 'node-b'), 2)
    assert.equal(sentBy(c!, 'node-b'), 1)
  })
})

describe('native sync configuration', () => {
  it('refuses to start without a seed, saying which key to set', () => {
    const net = new MemoryNetwork()
    assert.throws(() => simNode(net, 'node-x', { seed: undefined }), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && /p2p\.seed/.test(e.message))
  })
})

describe('a refused handshake', () => {
  it('is refused for what the peer proved wrong first, even when it pushes records in the same breath', async () => {
    const net = new MemoryNetwork()
    const a = simNode(net, 'node-a', { passphrase: () => 'a passphrase of several words' })
    await start(a)
    const x = net.createTransport('node-x')
    await x.start()
    try {
      const conn = await x.dial('mem:node-a')
      const forger = simNode(net, 'node-f')
      forger.engine.addTriples([triple(1)])
      // a hello without a passphrase, then records at once, before node-a has read the hello
      void conn.send(encodeMessage({ t: 'hello', v: [1, 2], nonce: new Uint8Array(randomBytes(32)), feed: 'f'.repeat(32) }))
      void conn.send(encodeMessage({ t: 'changes', from: 0, to: 1, records: forger.store.dump(), more: false }))
      const info = await conn.closed
      assert.equal(info.reason, 'auth failed')
      assert.ok(a.logs.some(l => /refused P2P peer node-x: auth failed: sync\.passphrase is set on this node but not on the peer/.test(l)), a.logs.join('\n'))
      assert.equal(a.store.stats().triples, 0)
    } finally {
      await x.stop()
    }
  })
})
