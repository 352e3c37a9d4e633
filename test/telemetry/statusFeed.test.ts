/**
 * StatusFeed on mocked timers: what a subscriber is sent and when — the first snapshot whole,
 * then only what changed and only when something did (an announced write within minIntervalMs,
 * bursts coalesced, busyIntervalMs while writes keep coming; a change no event announced at the
 * next check; counters and clock readings that move on their own at most every refreshMs),
 * nothing at all while idle however much the volatile members move, and nothing running once
 * nobody is subscribed.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it, mock } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { StatusFeed, type StatusDelta } from '../../src/api/StatusFeed.ts'
import type { Change } from '../../src/api/statusDelta.ts'
import { createTelemetry, type Telemetry } from '../../src/telemetry/Telemetry.ts'

const T0 = 1_800_000_000_000
const OPTS = { minIntervalMs: 500, busyIntervalMs: 1000, checkMs: 5000, refreshMs: 30_000 }

interface Sent { event: string, body: StatusDelta & Record<string, unknown> }
const parse = (text: string): Sent => {
  const [event, data] = text.split('\n') as [string, string]
  return { event: event.slice('event: '.length), body: JSON.parse(data.slice('data: '.length)) }
}
/** The changes of a delta as JSON carries them. */
const changes = (s: Sent): Change[] => JSON.parse(JSON.stringify(s.body.changes)) as Change[]

describe('StatusFeed', () => {
  let engine: Engine
  let telemetry: Telemetry
  let state: { peers: string, round: number, clock: number }
  let builds: number
  let feed: StatusFeed

  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: T0 })
    engine = new Engine({ store: new MemoryStore(), node: asNodeId('node-a'), maxDriftMs: 60_000, now: Date.now })
    telemetry = createTelemetry(engine, { now: () => Date.now() })
    state = { peers: 'none', round: 0, clock: 0 }
    builds = 0
    feed = new StatusFeed({
      build: () => { builds++; return { peers: state.peers, counters: { round: state.round }, clock: { now: T0 + state.clock, name: 'hlc' } } },
      volatile: new Set(['round', 'now'])
    }, telemetry, { ...OPTS, now: () => Date.now() })
  })
  afterEach(() => {
    feed.close()
    telemetry.close()
    mock.timers.reset()
  })

  it('sends the whole window first, then nothing while the node is idle', () => {
    engine.setNote('before', 1)
    const got: Sent[] = []
    const sub = feed.subscribe(t => got.push(parse(t)))
    const ready = parse(sub.ready)
    assert.equal(ready.event, 'ready')
    assert.equal(ready.body.activity.full, true)
    assert.deepEqual(ready.body.activity.points, [[T0 / 1000, 1, 0]])
    assert.equal(ready.body.at, new Date(T0).toISOString())
    mock.timers.tick(10 * 60_000)
    assert.deepEqual(got, [], 'ten idle minutes: nothing sent')
    assert.equal(feed.sent, 0)
  })

  it('sends nothing over many checks while only volatile members move (gossip rounds, clock readings)', () => {
    const got: Sent[] = []
    feed.subscribe(t => got.push(parse(t)))
    const checks = 5
    for (let i = 1; i <= checks; i++) {
      state.round = i
      state.clock = i * 5000
      mock.timers.tick(OPTS.checkMs)
    }
    assert.equal(feed.checks, checks, 'the feed looked each time')
    assert.deepEqual(got, [], `${checks} checks with only counters and clock readings moving: nothing sent`)
    mock.timers.tick(OPTS.checkMs)
    assert.equal(got.length, 1, 'once refreshMs has passed they are sent')
    assert.deepEqual(changes(got[0]!), [[['counters', 'round'], checks], [['clock', 'now'], T0 + checks * 5000]], 'only what moved')
  })

  it('sends an announced write within minIntervalMs, a burst as one event, and only the new seconds', () => {
    const got: Sent[] = []
    feed.subscribe(t => got.push(parse(t)))
    mock.timers.tick(2000)
    for (let i = 0; i < 20; i++) engine.setNote(`k${i}`, i)
    assert.equal(got.length, 0, 'nothing before the timer fires')
    mock.timers.tick(0)
    assert.equal(got.length, 1, 'the first write after a quiet spell goes out at once')
    assert.equal(got[0]!.event, 'delta')
    engine.setNote('more', 1)
    mock.timers.tick(999)
    assert.equal(got.length, 1, 'writes keep coming: the next waits busyIntervalMs')
    mock.timers.tick(1)
    assert.equal(got.length, 2)
    const s = Math.floor((T0 + 2000) / 1000)
    assert.deepEqual(got[0]!.body.activity, { windowSeconds: 300, points: [[s, 20, 0]], full: false })
    assert.deepEqual(got[1]!.body.activity.points, [[s, 21, 0]], 'the second under way again, grown')
    mock.timers.tick(10_000)
    engine.setNote('later', 1)
    mock.timers.tick(0)
    assert.equal(got.length, 3, 'after a quiet spell, at once again')
    mock.timers.tick(60_000)
    assert.equal(got.length, 3, 'then nothing')
  })

  it('finds a change no event announced at the next check, and sends moving counters at most every refreshMs', () => {
    const got: Sent[] = []
    feed.subscribe(t => got.push(parse(t)))
    state.peers = 'desktop connected'
    mock.timers.tick(5000)
    assert.equal(got.length, 1)
    assert.deepEqual(changes(got[0]!), [[['peers'], 'desktop connected']], 'only what changed')
    state.round = 1
    mock.timers.tick(25_000)
    assert.equal(got.length, 1, 'a counter alone waits for refreshMs')
    state.round = 2
    mock.timers.tick(5000)
    assert.equal(got.length, 2)
    assert.deepEqual(changes(got[1]!), [[['counters', 'round'], 2]])
    mock.timers.tick(120_000)
    assert.equal(got.length, 2, 'nothing moved since: nothing sent')
  })

  it('sends at once when the node says a peer came or went', () => {
    const got: Sent[] = []
    feed.subscribe(t => got.push(parse(t)))
    mock.timers.tick(1000)
    state.peers = 'desktop connected'
    telemetry.peersChanged()
    mock.timers.tick(0)
    assert.equal(got.length, 1, 'not at the next check: now')
    assert.deepEqual(changes(got[0]!), [[['peers'], 'desktop connected']])
  })

  it('brings every subscriber to the same snapshot when another subscribes', () => {
    const first: Sent[] = []
    feed.subscribe(t => first.push(parse(t)))
    state.round = 7
    mock.timers.tick(1000)
    const second = parse(feed.subscribe(() => {}).ready)
    assert.deepEqual(second.body.counters, { round: 7 }, 'the newcomer gets the snapshot of now')
    assert.deepEqual(changes(first.at(-1)!), [[['counters', 'round'], 7]], 'the first subscriber is sent what it lacked')
  })

  it('runs nothing once the last subscriber has gone', () => {
    const a = feed.subscribe(() => {})
    const b = feed.subscribe(() => {})
    a.unsubscribe()
    mock.timers.tick(5000)
    const whileOne = builds
    assert.ok(whileOne > 2, 'checks run while someone is subscribed')
    b.unsubscribe()
    engine.setNote('k', 1)
    mock.timers.tick(60_000)
    assert.equal(builds, whileOne, 'no check, no snapshot')
  })
})
