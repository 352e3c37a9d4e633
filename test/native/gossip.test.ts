/**
 * Bloom rounds (protocol/native/gossip.ts): the round state machine of one node — an idle round
 * is one digest, small sets exchange whole-window filters, large ones narrow them to the buckets
 * whose fingerprints differ, records go in bounded batches, filters are capped and salted afresh —
 * and two nodes that diverged (10,000 triples, tombstones, notes; random states as a property)
 * reconciled by bloom rounds alone, frames passed as on the wire (test/support/roundPair.ts).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isEngramError } from '../../src/core/errors.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { GossipPeer, type GossipPeerOptions } from '../../src/protocol/native/gossip.ts'
import { decodeGossipFrame, encodeGossipFrame, type BloomMessage, type GossipMessage } from '../../src/protocol/native/gossipMessages.ts'
import { WindowIndex } from '../../src/protocol/native/WindowIndex.ts'
import { RoundPair, TTL, tripleInput } from '../support/roundPair.ts'
import { assertProperty, seedFor } from '../unit/arbitraries.ts'
import { mulberry32 as seeded } from '../../src/util/random.ts'

/** Two nodes reconciled by bloom rounds: in each interval both start one, then the clock moves 5 s. */
function pair (opts: Partial<GossipPeerOptions> = {}, seed = 1): RoundPair<GossipMessage, GossipPeer> {
  return new RoundPair({
    peer: (index, n) => new GossipPeer({ index, fpr: 0.01, random: seeded(seed + n), maxRecordsPerMessage: 500, ...opts }),
    encode: encodeGossipFrame,
    decode: frame => decodeGossipFrame(frame),
    stepMs: 5_000,
    bothStart: true
  })
}

// ---- the round state machine ----

describe('GossipPeer', () => {
  test('an idle round is one digest, not answered', () => {
    const p = pair()
    p.a.engine.addTriples(Array.from({ length: 200 }, (_, i) => tripleInput('s', i)))
    p.share(p.a)
    const digest = p.a.peer.startRound()
    assert.deepEqual(digest, { t: 'digest', round: 1, ...p.a.index.digest() })
    assert.ok(encodeGossipFrame(digest).byteLength <= 64, `${encodeGossipFrame(digest).byteLength} bytes`)
    assert.deepEqual(p.b.peer.onMessage(digest), { send: [], apply: [] })
    assert.equal(p.a.peer.startRound().round, 2)
  })

  test('a digest for another window start is ignored (the next round will agree)', () => {
    const p = pair()
    p.a.engine.setNote('k', 1)
    const digest = p.a.peer.startRound()
    assert.deepEqual(p.b.peer.onMessage({ ...digest, ws: digest.ws - TTL / 8 }), { send: [], apply: [] })
    const out = p.b.peer.onMessage(digest)
    assert.equal(out.send.length, 1)
  })

  test('small sets: whole-window filters both ways, the reply is never answered with a filter', () => {
    const p = pair()
    p.a.engine.addTriples(Array.from({ length: 20 }, (_, i) => tripleInput('a', i)))
    p.b.engine.addTriples(Array.from({ length: 10 }, (_, i) => tripleInput('b', i)))
    p.deliver(p.a, [p.a.peer.startRound()])
    const kinds = p.messages.map(m => `${m.from}:${m.msg.t}${m.msg.t === 'bloom' ? `(${m.msg.reply ? 'reply' : 'announce'})` : ''}`)
    assert.deepEqual(kinds, ['node-a:digest', 'node-b:bloom(announce)', 'node-a:bloom(reply)', 'node-a:records', 'node-b:records'])
    assert.equal((p.messages[1]!.msg as BloomMessage).scope, undefined)
    const sent = p.a.peer.stats().sent
    assert.ok(sent >= 18 && sent <= 20, 'what the filter lacks (a false positive may hide one for this round)')
    assert.deepEqual({ ...p.a.peer.stats(), bloomFpr: 0, sent: 0 }, { round: 1, pendingAnnouncements: 0, knownIds: 30, bloomItems: 20, bloomFpr: 0, sent: 0, received: 10 })
    assert.equal(p.b.peer.stats().pendingAnnouncements, 0, 'the announcement was answered')
    assert.ok(p.b.peer.stats().bloomFpr > 0 && p.b.peer.stats().bloomFpr < 0.02)
    assert.ok(p.run(5) <= 5)
    p.assertSameDumps()
  })

  test('large sets: bucket fingerprints narrow the filters to the buckets that differ', () => {
    const p = pair()
    p.a.engine.addTriples(Array.from({ length: 5_000 }, (_, i) => tripleInput('s', i)))
    p.share(p.a)
    p.a.engine.addTriples([tripleInput('only-a', 1)])
    p.b.engine.setNote('only-b', true)
    p.deliver(p.a, [p.a.peer.startRound()])
    assert.ok(p.converged())
    p.assertSameDumps()
    const types = p.messages.map(m => m.msg.t)
    assert.deepEqual(types.slice(0, 3), ['digest', 'buckets', 'buckets'])
    const blooms = p.messages.map(m => m.msg).filter((m): m is BloomMessage => m.t === 'bloom')
    assert.equal(blooms.length, 2)
    for (const b of blooms) {
      assert.ok(b.scope !== undefined && b.scope.idx.length <= 2, 'scoped to the differing buckets')
      assert.ok(b.n < 50, `${b.n} elements filtered, not 5,000`)
    }
    assert.ok(p.bytes < 2_000, `${p.bytes} bytes`)
  })

  test('a filter of an empty set is not answered with a filter; records go in bounded batches', () => {
    const p = pair({ maxRecordsPerMessage: 7 })
    p.a.engine.addTriples(Array.from({ length: 50 }, (_, i) => tripleInput('s', i)))
    const out = p.a.peer.onMessage({ ...p.b.peer.onMessage(p.a.peer.startRound()).send[0] as BloomMessage })
    assert.deepEqual(out.send.map(m => m.t), new Array(8).fill('records'))
    for (const m of out.send) assert.ok(m.t === 'records' && m.records.length <= 7)
    const bytes = pair({ maxRecordsBytes: 1 })
    bytes.a.engine.addTriples(Array.from({ length: 5 }, (_, i) => tripleInput('s', i)))
    const one = bytes.a.peer.onMessage(bytes.b.peer.onMessage(bytes.a.peer.startRound()).send[0]!)
    assert.deepEqual(one.send.map(m => m.t === 'records' ? m.records.length : -1), [1, 1, 1, 1, 1], 'a record over the byte budget goes alone')
    const capped = pair({ maxRecordsPerRound: 30 })
    capped.a.engine.addTriples(Array.from({ length: 50 }, (_, i) => tripleInput('s', i)))
    const answer = capped.a.peer.onMessage(capped.b.peer.onMessage(capped.a.peer.startRound()).send[0]!)
    assert.equal(answer.send.reduce((n, m) => n + (m.t === 'records' ? m.records.length : 0), 0), 30, 'at most maxRecordsPerRound per filter')
    assert.ok(capped.run(5) <= 5, 'the rest follows in later rounds')
    capped.assertSameDumps()
    const big = pair({ maxRecordsPerMessage: 50_000, maxRecordsPerRound: 20_000, maxRecordsBytes: 2 ** 30 })
    big.a.engine.addTriples(Array.from({ length: 10_000 }, (_, i) => tripleInput('s', i)))
    big.a.engine.addTriples(Array.from({ length: 500 }, (_, i) => tripleInput('t', i)))
    const sizes = big.a.peer.onMessage(big.b.peer.onMessage(big.a.peer.startRound()).send[0]!).send.map(m => m.t === 'records' ? m.records.length : -1)
    assert.deepEqual(sizes, [10_000, 500], 'never more than the protocol\'s 10,000 records per message')
  })

  test('announced filters are capped at maxBloomBits', () => {
    const p = pair({ maxBloomBits: 1024 })
    p.a.engine.addTriples(Array.from({ length: 2_000 }, (_, i) => tripleInput('s', i)))
    p.b.engine.setNote('k', 1)
    const announce = p.b.peer.onMessage(p.a.peer.startRound()).send[0]!
    const reply = p.a.peer.onMessage(announce).send[0]
    assert.ok(reply?.t === 'bloom' && reply.m === 1024 && reply.n === 2_000)
  })

  test('every filter gets a fresh salt; the same seeds give the same messages', () => {
    const run = (): { salts: number[], frames: string[] } => {
      const p = pair({}, 42)
      p.a.engine.addTriples(Array.from({ length: 300 }, (_, i) => tripleInput('s', i)))
      p.share(p.a)
      p.a.engine.addTriples(Array.from({ length: 5 }, (_, i) => tripleInput('x', i)))
      p.b.engine.addTriples(Array.from({ length: 5 }, (_, i) => tripleInput('y', i)))
      for (let r = 0; r < 3; r++) { p.deliver(p.a, [p.a.peer.startRound()]); p.deliver(p.b, [p.b.peer.startRound()]) }
      return {
        salts: p.messages.flatMap(m => m.msg.t === 'bloom' ? [m.msg.salt] : []),
        frames: p.messages.map(m => Buffer.from(encodeGossipFrame(m.msg)).toString('hex'))
      }
    }
    const first = run()
    assert.ok(first.salts.length >= 2)
    assert.equal(new Set(first.salts).size, first.salts.length, 'no salt repeats')
    assert.deepEqual(run(), first, 'deterministic')
  })

  test('unanswered announcements are counted as pending, then forgotten after two rounds', () => {
    const p = pair()
    p.a.engine.setNote('k', 1)
    const announce = p.b.peer.onMessage(p.a.peer.startRound()).send[0]
    assert.equal(announce?.t, 'bloom')
    assert.equal(p.b.peer.stats().pendingAnnouncements, 1)
    p.b.peer.startRound(); p.b.peer.startRound()
    assert.equal(p.b.peer.stats().pendingAnnouncements, 1)
    p.b.peer.startRound()
    assert.equal(p.b.peer.stats().pendingAnnouncements, 0)
  })

  test('refuses bad options', () => {
    const index = new WindowIndex({ store: new MemoryStore(), ttlMs: TTL })
    for (const opts of [{ fpr: 0 }, { fpr: 1 }, { maxRecordsPerMessage: 0 }, { maxRecordsPerRound: 1.5 }, { maxBloomBits: 2 ** 27 }]) {
      assert.throws(() => new GossipPeer({ index, fpr: 0.01, random: Math.random, maxRecordsPerMessage: 10, ...opts }),
        (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT')
    }
  })
})

// ---- two nodes reconciled by gossip alone ----

describe('two-node simulation', () => {
  test('10,000 differing triples, tombstones and updated notes converge by bloom rounds alone at a 10 % false-positive rate', (t) => {
    const p = pair({ fpr: 0.1 }, 7)
    const { a, b } = p
    a.engine.addTriples(Array.from({ length: 2_000 }, (_, i) => tripleInput('shared', i)))
    for (let i = 0; i < 400; i++) a.engine.setNote(`note:${i}`, { v: 0 })
    a.engine.putEpisode({ id: 'ep:1', data: { summary: 'shared' } })
    p.share(a)
    for (let i = 0; i < 5_000; i += 1_000) {
      a.engine.addTriples(Array.from({ length: 1_000 }, (_, j) => tripleInput('a', i + j)))
      b.engine.addTriples(Array.from({ length: 1_000 }, (_, j) => tripleInput('b', i + j)))
    }
    for (let i = 0; i < 300; i++) a.engine.deleteTriples({ subject: `user:shared${i}` })
    for (let i = 300; i < 600; i++) b.engine.deleteTriples({ subject: `user:shared${i}` })
    for (let i = 0; i < 500; i++) b.engine.deleteTriples({ subject: `user:b${i}` })
    for (let i = 0; i < 150; i++) a.engine.setNote(`note:${i}`, { v: 'a' })
    for (let i = 100; i < 250; i++) b.engine.setNote(`note:${i}`, { v: 'b' }) // 100 … 149 changed on both
    for (let i = 250; i < 300; i++) b.engine.deleteNote(`note:${i}`)
    a.engine.putEpisode({ id: 'ep:1', data: { summary: 'edited on a' } })
    b.engine.appendTraces([{ runId: 'run:1', type: 'step', data: { n: 1 } }])
    const differing = a.index.size + b.index.size
    t.diagnostic(`window sets: a ${a.index.size}, b ${b.index.size} elements`)

    const t0 = performance.now()
    const intervals = p.run(12)
    t.diagnostic(`converged in ${intervals} gossip intervals (${a.peer.stats().round + b.peer.stats().round} rounds: each node starts one per interval), ` +
      `${p.messages.length} messages, ${(p.bytes / 1024).toFixed(0)} KiB, ${(performance.now() - t0).toFixed(0)} ms`)
    assert.ok(intervals <= 8, `converged within 8 intervals (took ${intervals})`)
    p.assertSameDumps()
    assert.ok(differing > 10_000)
    assert.equal(a.store.stats().tripleTombstones, 1_100)
  })

  test(`random divergent states converge within a bounded number of rounds (property) (seed ${seedFor(0x5e1)})`, () => {
    const seed = seedFor(0x5e1)
    const side = fc.record({
      triples: fc.uniqueArray(fc.nat(60), { maxLength: 40 }),
      deletes: fc.uniqueArray(fc.nat(60), { maxLength: 15 }),
      notes: fc.array(fc.tuple(fc.nat(15), fc.nat(3)), { maxLength: 15 }),
      noteDeletes: fc.uniqueArray(fc.nat(15), { maxLength: 5 }),
      episodes: fc.array(fc.tuple(fc.nat(4), fc.nat(3)), { maxLength: 4 }),
      traces: fc.nat(3)
    })
    assertProperty(fc.property(
      fc.nat(400), side, side, fc.constantFrom(0.01, 0.1, 0.3), fc.boolean(), fc.integer({ min: 1, max: 50 }), fc.nat(),
      (shared, x, y, fpr, buckets, perMessage, salt) => {
        const p = pair({ fpr, buckets, maxRecordsPerMessage: perMessage }, salt)
        if (shared > 0) p.a.engine.addTriples(Array.from({ length: shared }, (_, i) => tripleInput('shared', i)))
        p.share(p.a)
        for (const [n, s] of [[p.a, x], [p.b, y]] as const) {
          if (s.triples.length > 0) n.engine.addTriples(s.triples.map(i => tripleInput('t', i)))
          for (const i of s.deletes) { try { n.engine.deleteTriples({ subject: `user:t${i}` }) } catch { /* absent */ } }
          for (const [k, v] of s.notes) n.engine.setNote(`note:${k}`, v)
          for (const k of s.noteDeletes) { try { n.engine.deleteNote(`note:${k}`) } catch { /* absent */ } }
          for (const [id, v] of s.episodes) n.engine.putEpisode({ id: `ep:${id}`, data: { v } })
          if (s.traces > 0) n.engine.appendTraces(Array.from({ length: s.traces }, (_, i) => ({ runId: 'r', type: 't', data: i })))
        }
        const intervals = p.run(20)
        assert.ok(intervals <= 20, `converged (took ${intervals})`)
        p.assertSameDumps()
      }), seed, 150)
  })
})
