/**
 * PeerClocks (replication/PeerClocks.ts): offsets measured from what peers say their clocks
 * read, news told once when a peer crosses the drift guard and once when it comes back, which
 * clock looks wrong (the majority of the other peers decides), and whether this node's clock
 * agrees with its recent peers (the clock repair's condition) and with one peer.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import { formatOffset, PeerClocks, type ClockNews } from '../../src/replication/PeerClocks.ts'

const A = asNodeId('node-a')
const B = asNodeId('node-b')
const C = asNodeId('node-c')
const D = asNodeId('node-d')
const T0 = 1_763_631_000_000
const DRIFT = 60_000
const HOUR = 3_600_000

function clocks (): { c: PeerClocks, told: Array<[NonNullable<ClockNews>, NodeId]>, setNow: (ms: number) => void } {
  let now = T0
  const told: Array<[NonNullable<ClockNews>, NodeId]> = []
  const c = new PeerClocks({ maxDriftMs: () => DRIFT, now: () => now, report: (n, p) => { told.push([n, p]) } })
  return { c, told, setNow: ms => { now = ms } }
}

describe('PeerClocks', () => {
  test('a peer beyond the drift guard is told once, and once when it comes back', () => {
    const { c, told } = clocks()
    assert.equal(c.observe(B, T0 + 2 * HOUR, T0)?.kind, 'off')
    assert.equal(c.observe(B, T0 + 2 * HOUR + 5, T0 + 5), undefined, 'said once')
    assert.equal(c.observe(B, T0 + 10, T0 + 110)?.kind, 'back')
    assert.deepEqual(told.map(([n]) => n.kind), ['off', 'back'])
    assert.match(told[1]![0].sentence, /within 60000 ms of this node's again/)
    assert.equal(c.offsetOf(B)?.offsetMs, -100)
  })

  test('with one peer both possibilities are said; with more, the majority names the wrong clock', () => {
    const one = clocks()
    one.c.observe(B, T0 + 2 * HOUR, T0)
    assert.match(one.told[0]![0].sentence, /2 h 0 min ahead of this node's.*one of the two clocks is wrong/)

    const them = clocks()
    them.c.observe(C, T0 + 10, T0)
    them.c.observe(D, T0 - 10, T0)
    them.c.observe(B, T0 + 2 * HOUR, T0)
    assert.match(them.told[0]![0].sentence, /2 of 2 other peers agree with this node's clock, so node-b's clock is wrong/)

    const us = clocks()
    us.c.observe(C, T0 + 2 * HOUR, T0)
    us.c.observe(D, T0 + 2 * HOUR + 10, T0)
    const news = us.c.observe(B, T0 + 2 * HOUR - 5, T0)
    assert.match(news!.kind === 'off' ? news!.sentence : '', /agree with node-b, so this node's clock looks wrong/)
  })

  test('agreesWithPeers: the majority of the peers heard of recently; undefined when none was', () => {
    const { c, setNow } = clocks()
    assert.equal(c.agreesWithPeers(), undefined)
    c.observe(B, T0 + 5, T0)
    c.observe(C, T0 + 2 * HOUR, T0)
    assert.equal(c.agreesWithPeers(), false, 'one of two is not a majority')
    c.observe(D, T0 - 20, T0)
    assert.equal(c.agreesWithPeers(), true)
    setNow(T0 + 10 * 60_000)
    assert.equal(c.agreesWithPeers(), undefined, 'old readings do not count')
    assert.deepEqual(c.offsets().map(o => o.peer), [B, C, D])
    assert.equal(c.offsetOf(A), undefined)
  })

  test('agreesWith: a peer measured recently within the drift guard', () => {
    const { c, setNow } = clocks()
    assert.equal(c.agreesWith(B), false, 'never measured')
    c.observe(B, T0 + DRIFT, T0)
    c.observe(C, T0 + DRIFT + 1, T0)
    assert.deepEqual([c.agreesWith(B), c.agreesWith(C)], [true, false])
    setNow(T0 + 120_001)
    assert.equal(c.agreesWith(B), false, 'no longer recent')
  })

  test('a step of this node\'s wall clock shows in every reading taken before it (the monotonic clock tells)', () => {
    let wall = T0
    let mono = 5_000
    const c = new PeerClocks({ maxDriftMs: () => DRIFT, now: () => wall, monotonic: () => mono })
    c.observe(B, T0 + 5, T0)
    c.observe(C, T0 - 20, T0)
    c.observe(D, T0 + 40, T0)
    assert.equal(c.agreesWithPeers(), true)
    // 300 ms later this node's wall clock is stepped three hours back: its peers' clocks did not move.
    mono += 300
    wall = T0 + 300 - 3 * HOUR
    assert.equal(c.agreesWithPeers(), false, 'readings taken before the step no longer say this clock agrees')
    assert.equal(c.agreesWith(B), false)
    assert.ok(Math.abs(c.offsetOf(B)!.offsetMs - (3 * HOUR + 5)) < 1, `B now reads 3 h ahead: ${c.offsetOf(B)!.offsetMs}`)
    assert.match(c.verdict(B), /agree with node-b, so this node's clock looks wrong/)
    // Readings age by the monotonic clock: the step back does not keep them recent for three hours.
    mono += 120_001
    wall += 120_001
    assert.equal(c.agreesWithPeers(), undefined)
    // A step forward neither ages a fresh reading nor hides it: the new offsets say the step.
    c.observe(B, wall + 3 * HOUR, wall)
    mono += 1_000
    wall += 1_000 + 3 * HOUR
    assert.equal(c.agreesWith(B), true, 'stepped forward to the right time: B agrees')
    assert.ok(Math.abs(c.offsetOf(B)!.offsetMs) < 1)
  })

  test('formatOffset', () => {
    assert.equal(formatOffset(12_300), '12.3 s ahead of this node\'s')
    assert.equal(formatOffset(-125_000), '2 min 5 s behind this node\'s')
    assert.equal(formatOffset(7_137_000), '1 h 59 min ahead of this node\'s')
  })
})
