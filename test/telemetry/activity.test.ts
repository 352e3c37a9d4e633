/**
 * Activity counts from a real engine over MemoryStore on a manual clock: totals by kind and by
 * peer, the per-second window (slots reused as the clock moves on, nothing older than the
 * window), `series(after)`, the listener doorbell, and the cap on peers counted.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { makeTriple } from '../../src/core/records.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { Activity, MAX_PEERS_COUNTED } from '../../src/telemetry/Activity.ts'

const T0 = 1_800_000_000_000
const A = asNodeId('node-a')

function setup (windowSeconds = 10): { engine: Engine, activity: Activity, clock: { ms: number } } {
  const clock = { ms: T0 }
  const engine = new Engine({ store: new MemoryStore(), node: A, maxDriftMs: 60_000, now: () => clock.ms })
  return { engine, activity: new Activity(engine, { windowSeconds, now: () => clock.ms }), clock }
}

const remote = (i: number, node = 'node-b'): ReturnType<typeof makeTriple> =>
  makeTriple({ subject: `kg:r${i}`, predicate: 'p', object: { kind: 'number', value: i } }, { wall: T0 - 1000, counter: i, node: asNodeId(node) })

describe('Activity', () => {
  it('counts local writes and received changes by kind, and received ones by peer', () => {
    const { engine, activity } = setup()
    engine.addTriples([{ subject: 'a:x', predicate: 'p', object: 1 }, { subject: 'a:y', predicate: 'p', object: 2 }])
    engine.setNote('n', 'v')
    engine.addTriples([{ subject: 'a:x', predicate: 'p', object: 1 }]) // already there: asserted again with a new stamp, a write
    engine.applyChecked([remote(1), remote(2), remote(3)], { via: asNodeId('node-b') })
    engine.applyChecked([remote(1)], { via: asNodeId('node-b') }) // known: changes nothing
    const t = activity.totals()
    assert.deepEqual(t.writes, { triple: 3, note: 1, episode: 0, trace: 0 })
    assert.deepEqual(t.received, { triple: 3, note: 0, episode: 0, trace: 0 })
    assert.deepEqual([...activity.receivedByPeer()], [['node-b', 3]])
  })

  it('keeps one slot per second over the window, and forgets what is older', () => {
    const { engine, activity, clock } = setup(10)
    const s0 = Math.floor(T0 / 1000)
    engine.addTriples([{ subject: 'a:1', predicate: 'p', object: 1 }])
    clock.ms += 400
    engine.addTriples([{ subject: 'a:2', predicate: 'p', object: 1 }])
    clock.ms += 1000
    engine.applyChecked([remote(1), remote(2)], { via: asNodeId('node-b') })
    assert.deepEqual(activity.series(), [[s0, 2, 0], [s0 + 1, 0, 2]])
    assert.deepEqual(activity.series(s0), [[s0 + 1, 0, 2]])
    // 10 s later the slot of s0 is reused for s0 + 10: s0 is gone, not added to
    clock.ms = T0 + 10_000
    engine.addTriples([{ subject: 'a:3', predicate: 'p', object: 1 }])
    assert.deepEqual(activity.series(), [[s0 + 1, 0, 2], [s0 + 10, 1, 0]])
    clock.ms = T0 + 11_000
    assert.deepEqual(activity.series(), [[s0 + 10, 1, 0]], 'a second older than the window is left out')
    clock.ms = T0 + 60_000
    assert.deepEqual(activity.series(), [])
  })

  it('rings its listeners after each counted batch, and stops counting once closed', () => {
    const { engine, activity } = setup()
    let rung = 0
    const off = activity.onActivity(() => { rung++ })
    engine.addTriples([{ subject: 'a:1', predicate: 'p', object: 1 }])
    engine.setNote('k', 1)
    assert.equal(rung, 2)
    off()
    engine.setNote('k', 2)
    assert.equal(rung, 2)
    activity.close()
    engine.setNote('k', 3)
    assert.equal(activity.totals().writes.note, 2)
    assert.equal(engine.listenerCount('change'), 0)
  })

  it(`counts at most ${MAX_PEERS_COUNTED} peers, forgetting the first seen`, () => {
    const { engine, activity } = setup()
    for (let i = 0; i <= MAX_PEERS_COUNTED; i++) engine.applyChecked([remote(i, `peer-${i}`)], { via: asNodeId(`peer-${i}`) })
    const peers = activity.receivedByPeer()
    assert.equal(peers.size, MAX_PEERS_COUNTED)
    assert.equal(peers.has(asNodeId('peer-0')), false)
    assert.equal(peers.get(asNodeId(`peer-${MAX_PEERS_COUNTED}`)), 1)
    assert.equal(activity.totals().received.triple, MAX_PEERS_COUNTED + 1, 'the totals still count every record')
  })
})
