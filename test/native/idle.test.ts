/**
 * Idle sessions (docs/PROTOCOL.md §3, "Idle sessions"): while a session's streams rest, a node's
 * gossip rounds with the peer back off — each waits twice as many ticks as the last, up to
 * MAX_IDLE_GAP — and so do its knowledge refreshes; a write, a round asked for, or a record the
 * streams missed brings rounds back to every tick.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { decodeFrame } from '../../src/protocol/native/messages.ts'
import { MemoryNetwork, type MemoryConnection } from '../../src/transport/memory/MemoryTransport.ts'
import { knowledgeRefreshMs, MAX_IDLE_GAP } from '../../src/sync/native/SessionRounds.ts'
import { eventually, sameDumps, simNode, type SimNode } from './helpers.ts'

const started: SimNode[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map(n => n.sync.stop()))
})

const triple = (i: number): { subject: string, predicate: string, object: { kind: 'string', value: string } } =>
  ({ subject: `user:u${i}`, predicate: 'rel:likes', object: { kind: 'string', value: `v${i}` } })

/** The in-memory network, noting each round a node started (its digest) and each knowledge refresh it sent (a page with `k` and nothing else). */
class RoundTap extends MemoryNetwork {
  readonly digests: string[] = []
  readonly refreshes: string[] = []
  override sendFrame (from: MemoryConnection, frame: Uint8Array): void {
    const m = decodeFrame(frame, { deferRecords: true })
    if (m.t === 'digest' || m.t === 'rdigest') this.digests.push(from.localNode)
    if ('unchecked' in m && m.unchecked.length === 0 && m.k !== undefined && m.from === m.to) this.refreshes.push(from.localNode)
    super.sendFrame(from, frame)
  }
}

/** Two live nodes, no timed ticks (each tick is the test's); `stream`: false for gossip rounds alone; `now`: their clock. */
async function pair (net: RoundTap, stream = true, now?: () => number): Promise<[SimNode, SimNode]> {
  // a gossip interval of a minute: no timed tick during the test
  const settings = { gossipIntervalMs: 60_000 }
  const a = simNode(net, 'node-a', { settings, stream, push: stream, ...(now !== undefined ? { now } : {}) })
  const b = simNode(net, 'node-b', { settings, stream, push: stream, ...(now !== undefined ? { now } : {}) })
  for (const n of [a, b]) { started.push(n); await n.sync.start() }
  b.sync.addPeer('mem:node-a')
  const live = (n: SimNode): boolean => n.sync.sessionInfo().some(s => s.state === 'open') && n.sync.sessionInfo().every(s => !s.catchingUp)
  await eventually(() => live(a) && live(b), 'a live session')
  return [a, b]
}

/** One tick of `n` as the timer makes it (not forced); whether it started a round. */
async function tick (net: RoundTap, n: SimNode, force = false): Promise<boolean> {
  const before = net.digests.filter(x => x === n.id).length
  n.sync.gossipNow(force)
  // a round starts in the tick (its digest is sent at once); give the frame a turn to go
  await new Promise(resolve => setImmediate(resolve))
  return net.digests.filter(x => x === n.id).length > before
}

/** Ticks until one starts a round (the node's window index is built in the background first). */
async function firstRound (net: RoundTap, n: SimNode): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await tick(net, n, true)) return
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  assert.fail('no round started')
}

/** Where an idle session runs its rounds from a write on: a skip (the stream moved), then after 1, 2, 4 … MAX_IDLE_GAP idle ticks. */
function backoff (ticks: number): boolean[] {
  const out = [false]
  for (let gap = 1; out.length < ticks; gap = Math.min(MAX_IDLE_GAP, gap * 2)) {
    for (let i = 1; i < gap; i++) out.push(false)
    out.push(true)
  }
  return out.slice(0, ticks)
}

describe('idle sessions', () => {
  it(`back off their rounds to one every ${MAX_IDLE_GAP} ticks; a write on either node or a round asked for brings them back`, async () => {
    const net = new RoundTap()
    const [a, b] = await pair(net)
    await firstRound(net, a)
    const ticks = 1 + 1 + 2 + 4 + 3 * MAX_IDLE_GAP
    const rounds = async (): Promise<boolean[]> => { const r: boolean[] = []; for (let i = 0; i < ticks; i++) r.push(await tick(net, a)); return r }
    a.engine.addTriples([triple(1)])
    await eventually(() => b.store.stats().triples === 1, 'the write on b')
    assert.deepEqual(await rounds(), backoff(ticks), 'rounds after 1, 2, 4, then every 8 idle ticks')
    // a write on either node: rounds every tick again
    b.engine.addTriples([triple(2)])
    await eventually(() => a.store.stats().triples === 2, 'the write on a')
    assert.deepEqual(await rounds(), backoff(ticks), 'backed off again from the write on')
    // a round asked for (sync now) runs at once, mid-gap, and the gap starts again from 1
    assert.equal(await tick(net, a), false)
    assert.equal(await tick(net, a, true), true)
    assert.deepEqual([await tick(net, a), await tick(net, a), await tick(net, a)], [true, false, true])
    assert.ok(sameDumps([a, b]))
  })

  it(`heal a write the rounds lost while both nodes backed off, within ${MAX_IDLE_GAP} ticks of the link healing`, async () => {
    // gossip rounds alone: no stream carries the write, the rounds must
    const net = new RoundTap()
    const [a, b] = await pair(net, false)
    await firstRound(net, a)
    await firstRound(net, b)
    // whether each tick started a round on a / on b
    const seen: string[] = []
    const both = async (): Promise<void> => { seen.push(`${String(await tick(net, a))}/${String(await tick(net, b))}`); await new Promise(resolve => setTimeout(resolve, 5)) }
    const longest = 1 + 2 + 4 + MAX_IDLE_GAP
    for (let i = 0; i < longest; i++) await both()
    // the link drops every frame (the session stays open): b's rounds after its write are lost, and b backs off again
    net.partition('node-a', 'node-b')
    b.engine.addTriples([triple(7)])
    // long enough for b to reach its longest gap again, and to heal the link mid-gap of both nodes
    for (let i = 0; i < longest + 3; i++) await both()
    assert.equal(a.store.stats().triples, 0, 'nothing crossed the cut link')
    net.heal('node-a', 'node-b')
    let ticks = 0
    for (; ticks < 4 * MAX_IDLE_GAP && a.store.stats().triples === 0; ticks++) {
      await both()
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    assert.equal(a.store.stats().triples, 1, 'the write healed')
    assert.ok(ticks <= MAX_IDLE_GAP, `healed after ${ticks} ticks of each node (rounds of a/b by tick: ${seen.join(' ')})`)
    assert.ok(sameDumps([a, b]))
  })

  it('space their knowledge refreshes by the idle gap, at most a quarter of the TTL and of sync.memberGoneDays', () => {
    const at = (gossipIntervalMs: number, gap: number, idleRefreshMaxMs?: number): number =>
      knowledgeRefreshMs({ gossipIntervalMs, ...(idleRefreshMaxMs !== undefined ? { idleRefreshMaxMs } : {}) }, gap)
    assert.deepEqual([1, 2, 4, MAX_IDLE_GAP].map(g => at(5_000, g)), [5_000, 10_000, 20_000, 40_000])
    // at least a second apart, whatever the interval
    assert.deepEqual([at(50, 1), at(50, MAX_IDLE_GAP)], [1_000, 8_000])
    // the bound (ten seconds of sync.memberGoneDays: 2.5 s), never below one interval
    assert.deepEqual([at(500, MAX_IDLE_GAP, 2_500), at(5_000, MAX_IDLE_GAP, 2_500)], [2_500, 5_000])
  })

  it(`send their knowledge as seldom as they run rounds: once every ${MAX_IDLE_GAP} intervals once backed off`, async () => {
    const net = new RoundTap()
    // the nodes' clock moves a gossip interval (a minute) before each tick
    let t = Date.now()
    const [a, b] = await pair(net, true, () => t)
    await firstRound(net, a)
    a.engine.addTriples([triple(1)])
    await eventually(() => b.store.stats().triples === 1, 'the write on b')
    const ticks = async (n: number): Promise<number> => {
      const before = net.refreshes.filter(x => x === a.id).length
      for (let i = 0; i < n; i++) { t += 60_000; await tick(net, a); await new Promise(resolve => setTimeout(resolve, 2)) }
      return net.refreshes.filter(x => x === a.id).length - before
    }
    // backing off: 1, 2, 4, 8 intervals apart
    await ticks(1 + 2 + 4 + MAX_IDLE_GAP)
    const refreshes = await ticks(4 * MAX_IDLE_GAP)
    assert.ok(refreshes >= 3 && refreshes <= 5, `${refreshes} knowledge refreshes in ${4 * MAX_IDLE_GAP} idle intervals (about 4)`)
    // and each still teaches the peer this node's entry
    assert.ok(sameDumps([a, b]))
  })
})
