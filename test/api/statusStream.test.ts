/**
 * GET /api/v1/status/stream over real HTTP: the first snapshot (the bodies of GET
 * /api/v1/status and /sync/status, activity, log), a delta after a write with only what changed
 * and its activity second, nothing but heartbeats while the node is idle (its clock readings
 * moving at every look), the stream cap, and the counters GET /metrics reports. (When events are
 * sent, on mocked timers: test/telemetry/statusFeed.test.ts.)
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { startApi, type TestApi } from './helpers.ts'
import { sample } from './promtool.ts'
import { openSse, type SseEvent } from './sse.ts'
import { applyChanges } from '../../web/lib/delta.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- snapshots are checked field by field
const data = (e: SseEvent): any => JSON.parse(e.data)

describe('GET /api/v1/status/stream', () => {
  let api: TestApi
  before(async () => { api = await startApi({ clock: true, statusStream: { minIntervalMs: 50, checkMs: 50, refreshMs: 600_000, heartbeatMs: 100, maxSubscribers: 2 } }) })
  after(async () => { await api.close() })

  it('sends a whole snapshot first, then one after a write, and only heartbeats while idle', async () => {
    const s = await openSse(`${api.base}/api/v1/status/stream`)
    try {
      assert.equal(s.status, 200)
      const ready = data(await s.next(e => e.event === 'ready', 10_000))
      const status = (await api.request('GET', '/api/v1/status')).body
      const { clock, ...rest } = ready.node
      const { clock: statusClock, ...statusRest } = status
      assert.deepEqual(rest, statusRest, 'node is the body of GET /api/v1/status')
      assert.deepEqual(Object.keys(clock), Object.keys(statusClock), 'with the clock (its readings taken at another time)')
      assert.equal(ready.sync, null, 'this node runs no sync')
      assert.equal(ready.p2p, null)
      assert.deepEqual(ready.log, [])
      assert.equal(ready.activity.full, true)
      assert.equal(typeof ready.at, 'string')

      const t0 = Date.now()
      await api.request('POST', '/api/v1/triples', { subject: 'live:a', predicate: 'p', object: 'x' })
      const change = data(await s.next(e => e.event === 'delta', 10_000))
      const latency = Date.now() - t0
      assert.ok(change.changes.length > 0 && JSON.stringify(change).length < JSON.stringify(ready).length, 'only what changed')
      const now = applyChanges(ready, change.changes)
      assert.equal(now.node.store.stats.triples, 1)
      assert.equal(now.node.store.stats.lastSeq, (await api.request('GET', '/api/v1/status')).body.store.stats.lastSeq)
      assert.equal(change.activity.full, false)
      assert.equal(change.activity.points.length, 1)
      assert.equal(change.activity.points[0][1], 1, 'one local write in that second')
      process.stdout.write(`# write → delta event: ${latency} ms\n`)

      // idle: over 20 heartbeats (at least as many checks: checkMs ≤ heartbeatMs), each finding
      // the clock's readings moved, nothing is sent
      const count = s.events.length
      const beats = s.comments.length
      for (let i = 0; i < 600 && s.comments.length < beats + 20; i++) await delay(50)
      assert.ok(s.comments.length >= beats + 20, 'heartbeats keep the stream alive')
      assert.equal(s.events.length, count, `idle: nothing sent (${JSON.stringify(s.events.slice(count))})`)
    } finally {
      s.close()
    }
  })

  it('serves at most maxSubscribers streams, counted in the metrics', async () => {
    const a = await openSse(`${api.base}/api/v1/status/stream`)
    const b = await openSse(`${api.base}/api/v1/status/stream`)
    try {
      await a.next(e => e.event === 'ready', 10_000)
      await b.next(e => e.event === 'ready', 10_000)
      const third = await api.request('GET', '/api/v1/status/stream')
      assert.equal(third.status, 503)
      assert.equal(third.body.code, 'UNAVAILABLE')
      assert.equal(third.body.details.limit, 2)
      const m = (await api.request('GET', '/metrics')).text
      assert.equal(sample(m, 'engram_event_streams{route="status"}'), 2)
      assert.ok(sample(m, 'engram_event_stream_sent_bytes_total{route="status"}')! > 0)
    } finally {
      a.close()
      b.close()
    }
    let open = 2
    for (let i = 0; i < 400 && open > 0; i++) {
      open = sample((await api.request('GET', '/metrics')).text, 'engram_event_streams{route="status"}')!
      if (open > 0) await delay(25)
    }
    assert.equal(open, 0, 'closed streams are no longer counted')
  })
})
