/**
 * Native sync against hostile peers, in one process over the in-memory transport: a stranger
 * flooding handshakes, a compromised peer (it holds the seed) flooding messages and requests,
 * inventing deletions, forging stamps ahead and claiming other nodes' writes. Each is held to the
 * documented limit (docs/LIMITS.md) while an honest peer keeps syncing.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { tripleId } from '../../src/core/canonical.ts'
import { asNodeId } from '../../src/core/ids.ts'
import type { MemoryRecord, TripleRecord } from '../../src/core/model.ts'
import { GUARD_DEFAULTS, SessionGuard, type GuardCounts } from '../../src/sync/native/SessionGuard.ts'
import { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { silentLogger } from '../../src/util/log.ts'
import { eventually, sameDumps, simNode, type SimNode } from '../native/helpers.ts'
import { attack, type HostileSession } from './attacker.ts'

const SEED = 'test-seed'
const started: SimNode[] = []
afterEach(async () => { await Promise.all(started.splice(0).map(n => n.sync.stop())) })

async function start (...nodes: SimNode[]): Promise<void> {
  for (const n of nodes) { started.push(n); await n.sync.start() }
}

const refused = (n: SimNode): GuardCounts => (n.sync.status() as { refused: GuardCounts }).refused

function tomb (i: number, wall: number, node = 'node-mallory'): TripleRecord {
  const content = { subject: `ghost:${i}`, predicate: 'p', object: { kind: 'string' as const, value: String(i) } }
  return { kind: 'triple', id: tripleId(content), ...content, hlc: { wall, counter: 0, node: asNodeId(node) }, deleted: true }
}

/** A compromised peer: a node of the network that holds the seed, scripted. */
async function compromised (net: MemoryNetwork, victim: SimNode, name = 'node-mallory'): Promise<HostileSession> {
  const t = net.createTransport(name)
  await t.start()
  const s = await attack(t, `mem:${victim.id}`, victim.id)
  await s.handshake(SEED)
  return s
}

describe('who gets in', () => {
  it('throttles online guessing: a source whose handshakes keep failing is refused before any handshake, and that is logged', () => {
    let now = 0
    const lines: string[] = []
    const log = { ...silentLogger, warn: (m: string) => { lines.push(m) } } as typeof silentLogger
    const guard = new SessionGuard({ log, now: () => now, limits: () => GUARD_DEFAULTS })
    const conn = (ip: string, node: string) => ({ direction: 'inbound' as const, remoteAddr: `/ip4/${ip}/udp/4000/quic-v1/p2p/${node}`, remoteNode: asNodeId(node), close: async () => {} })
    const none = (): boolean => false
    // Ten wrong guesses from one address, each from a new node id: all admitted, all failing.
    for (let i = 0; i < 10; i++) guard.admit(conn('10.9.0.1', `g${i}`), 0, none)!(false)
    assert.equal(guard.admit(conn('10.9.0.1', 'g10'), 0, none), undefined, 'the eleventh guess is refused')
    assert.ok(lines.some(l => /too many failed handshakes from 10\.9\.0\.1/.test(l)), lines.join('\n'))
    assert.ok(guard.admit(conn('10.9.0.2', 'honest'), 0, none) !== undefined, 'another source is not affected')
    assert.deepEqual([guard.counts().handshakes_failed, guard.counts().guesses_refused], [10, 1])
    now += 10_000
    assert.ok(guard.admit(conn('10.9.0.1', 'g11'), 0, none) !== undefined, 'one more guess every 10 s')
    // Completed handshakes cost nothing.
    for (let i = 0; i < 50; i++) guard.admit(conn('10.9.0.3', `ok${i}`), 0, none)!(true)
    assert.ok(guard.admit(conn('10.9.0.3', 'ok'), 0, none) !== undefined)
  })

  it('caps handshakes in progress per source and in all, and lets known manual peers in whatever the counts', () => {
    const guard = new SessionGuard({ log: silentLogger, limits: () => ({ ...GUARD_DEFAULTS, maxHandshakes: 5, maxHandshakesPerSource: 2, maxPeers: 8 }) })
    const closed: string[] = []
    const conn = (ip: string, node: string, direction: 'inbound' | 'outbound' = 'inbound') =>
      ({ direction, remoteAddr: `/ip4/${ip}/udp/4000/quic-v1/p2p/${node}`, remoteNode: asNodeId(node), close: async (r?: string) => { closed.push(r ?? '') } })
    const none = (): boolean => false
    const a1 = guard.admit(conn('10.0.0.1', 'n1'), 0, none)
    const a2 = guard.admit(conn('10.0.0.1', 'n2'), 1, none)
    assert.ok(a1 !== undefined && a2 !== undefined)
    assert.equal(guard.admit(conn('10.0.0.1', 'n3'), 2, none), undefined, 'a third from the same source waits')
    assert.ok(guard.admit(conn('10.0.0.2', 'n4'), 2, none) !== undefined)
    assert.ok(guard.admit(conn('10.0.0.3', 'n5'), 3, none) !== undefined)
    assert.ok(guard.admit(conn('10.0.0.4', 'n6'), 4, none) !== undefined)
    assert.equal(guard.admit(conn('10.0.0.5', 'n7'), 5, none), undefined, 'no more than 5 in all')
    assert.ok(guard.admit(conn('10.0.0.5', 'friend'), 5, n => n === 'friend') !== undefined, 'a known manual peer is let in')
    assert.ok(guard.admit(conn('10.0.0.5', 'mine', 'outbound'), 5, none) !== undefined, 'this node\'s own dials are never refused')
    a1()
    a1() // twice is harmless
    assert.ok(guard.admit(conn('10.0.0.1', 'n8'), 5, none) !== undefined, 'a finished handshake frees its slot')
    assert.equal(guard.admit(conn('10.0.0.9', 'n9'), 8, none), undefined, 'p2p.maxPeers')
    assert.deepEqual(closed.length, 3)
    assert.equal(guard.counts().handshakes_refused, 2)
    assert.equal(guard.counts().peers_refused, 1)
    // IPv6: one /64 is one source
    const g6 = new SessionGuard({ log: silentLogger, limits: () => ({ ...GUARD_DEFAULTS, maxHandshakesPerSource: 1 }) })
    const v6 = (ip: string, node: string) => ({ direction: 'inbound' as const, remoteAddr: `/ip6/${ip}/udp/1/quic-v1`, remoteNode: asNodeId(node), close: async () => {} })
    assert.ok(g6.admit(v6('2001:db8:1:2::1', 'x1'), 0, none) !== undefined)
    assert.equal(g6.admit(v6('2001:db8:1:2:ffff::9', 'x2'), 0, none), undefined)
    assert.ok(g6.admit(v6('2001:db8:1:3::1', 'x3'), 0, none) !== undefined)
  })

  it('a crowd of strangers that never finish their handshake cannot keep an honest peer out', async () => {
    const net = new MemoryNetwork()
    const victim = simNode(net, 'node-victim', { handshakeTimeoutMs: 2_000, settings: { maxPeers: 16 } })
    const honest = simNode(net, 'node-honest')
    await start(victim, honest)
    const strangers = await Promise.all(Array.from({ length: 120 }, async (_, i) => {
      const t = net.createTransport(`node-stranger-${i}`)
      await t.start()
      try { return await t.dial(`mem:${victim.id}`) } catch { return undefined }
    }))
    await eventually(() => refused(victim).peers_refused + refused(victim).handshakes_refused > 0, 'strangers refused')
    // an honest peer this node dials gets in and syncs, whatever the strangers do
    victim.sync.addPeer(`mem:${honest.id}`)
    honest.engine.addTriples([{ subject: 'user:h', predicate: 'p', object: 1 }])
    await eventually(() => victim.store.stats().triples === 1, 'the honest peer\'s write on the victim')
    assert.ok(strangers.filter(c => c !== undefined).length > 0)
    await eventually(() => victim.sync.sessionInfo().filter(s => s.state === 'handshake').length === 0, 'silent handshakes timed out')
  })
})

describe('what a compromised peer may send', () => {
  it('a peer flooding messages is disconnected; the honest peer beside it is not', async () => {
    const net = new MemoryNetwork()
    const victim = simNode(net, 'node-victim', { settings: { maxMessagesPerSecond: 200 } })
    const honest = simNode(net, 'node-honest')
    await start(victim, honest)
    victim.sync.addPeer(`mem:${honest.id}`)
    await eventually(() => victim.sync.connectedPeers().includes(honest.id), 'honest peer connected')
    const m = await compromised(net, victim)
    for (let i = 0; i < 2_000 && !m.isClosed(); i++) await m.send({ t: 'ack', cursor: i })
    const info = await m.closed
    assert.match(info.reason ?? '', /more than 200 messages per second/)
    assert.equal(refused(victim).floods, 1)
    honest.engine.setNote('note:after', 1)
    await eventually(() => victim.store.stats().notes === 1, 'the honest peer still syncs')
  })

  it('requests sent too fast are ignored, the session and the node go on', async () => {
    const net = new MemoryNetwork()
    const victim = simNode(net, 'node-victim')
    await start(victim)
    victim.engine.addTriples(Array.from({ length: 50 }, (_, i) => ({ subject: `user:${i}`, predicate: 'p', object: i })))
    const m = await compromised(net, victim)
    const ws = (victim.sync.status() as { window: { start: number } }).window.start
    // each empty filter would make the victim send its whole window and a filter back
    for (let i = 0; i < 1_000; i++) {
      await m.send({ t: 'bloom', round: i, ws, salt: i, k: 1, m: 64, bits: new Uint8Array(8), n: 1, reply: false })
      await m.send({ t: 'cursor', cursor: 0, feed: victim.sync.feedId })
    }
    await eventually(() => refused(victim).requests_dropped > 1_000, () => `requests dropped: ${JSON.stringify(refused(victim))}`)
    assert.ok(!m.isClosed(), 'ignored, not disconnected')
    const records = m.received.filter(x => x.t === 'records').length
    assert.ok(records < 300, `the victim answered ${records} filters out of 1000`)
  })

  it('deletions of records never held are slowed to the budget, never lost', async () => {
    let offset = 0
    const now = (): number => Date.now() + offset
    const net = new MemoryNetwork()
    const a = simNode(net, 'node-a', { now })
    const b = simNode(net, 'node-b', { now, unknownTombstonesPerMinute: 100 })
    // a holds 300 tombstones of records b never saw: created and deleted before the two met
    const ids = a.engine.addTriples(Array.from({ length: 300 }, (_, i) => ({ subject: `gone:${i}`, predicate: 'p', object: i }))).map(t => t.id)
    for (const id of ids) a.engine.deleteTriple(id)
    await start(a, b)
    b.sync.addPeer(`mem:${a.id}`)
    // pages of 100: the first spends the budget, the second goes into debt, the third waits
    await eventually(() => b.store.stats().tripleTombstones >= 100, 'the first page')
    const until = Date.now() + 2_500
    for (let i = 0; i < 1_000 && Date.now() < until; i++) {
      assert.ok(b.store.stats().tripleTombstones <= 200, `${b.store.stats().tripleTombstones} tombstones taken within the budget of 100 a minute (and one page of debt)`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    assert.ok(b.logs.some(l => l.includes('deferred a page from P2P peer node-a')), b.logs.join('\n'))
    // two minutes later the budget has room again: the rest arrives, nothing was lost
    offset += 120_000
    await eventually(() => b.store.stats().tripleTombstones === 300, () => `all 300 tombstones (${b.store.stats().tripleTombstones})`)
    await eventually(() => sameDumps([a, b]), 'identical dumps')
  })

  it('a record stamped too far ahead is held aside: not visible, the clock unchanged, the rest of the page applied, the session open', async () => {
    const net = new MemoryNetwork()
    const victim = simNode(net, 'node-victim')
    await start(victim)
    const m = await compromised(net, victim)
    const future = Date.now() + 10 * 60_000
    const page: MemoryRecord[] = [tomb(1, Date.now()), { kind: 'note', key: 'note:future', value: 1, hlc: { wall: future, counter: 0, node: asNodeId('node-mallory') }, deleted: false }]
    await m.send({ t: 'changes', from: 0, to: 2, records: page, more: false })
    await eventually(() => victim.store.stats().tripleTombstones === 1, 'the rest of the page applied')
    assert.equal(victim.store.stats().notes, 0, 'the future note is not visible')
    assert.deepEqual(victim.engine.heldSummary().map(h => [h.node, h.count]), [['node-mallory', 1]], 'held aside')
    assert.ok(victim.engine.clock.last.wall < future, 'the clock was not dragged ahead')
    assert.ok(!m.isClosed())
  })

  it('a record claiming another node\'s authorship is taken as relayed, and remembered as coming from the sender', async () => {
    const net = new MemoryNetwork()
    const victim = simNode(net, 'node-victim')
    await start(victim)
    const m = await compromised(net, victim)
    const forged: MemoryRecord = { kind: 'note', key: 'note:forged', value: 'from honest?', hlc: { wall: Date.now(), counter: 0, node: asNodeId('node-honest') }, deleted: false }
    await m.send({ t: 'changes', from: 0, to: 1, records: [forged], more: false })
    await eventually(() => victim.store.stats().notes === 1, 'the relayed note applied')
    const served = victim.store.changesSince(0, { limit: 10, excludeVia: asNodeId('node-mallory') })
    assert.equal(served.entries.length, 0, 'the note is recorded as coming via the sender')
    assert.ok(!m.isClosed())
  })
})
