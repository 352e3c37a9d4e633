/**
 * EventLoopMonitor: nothing sampled until the first read; a stall of the loop shows in the
 * delay figures of the window; sampling stops by itself once nobody reads.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { EventLoopMonitor } from '../../src/telemetry/EventLoopMonitor.ts'

describe('EventLoopMonitor', () => {
  it('samples only while read, and sees a stall of the loop', async () => {
    const m = new EventLoopMonitor({ resolutionMs: 10, idleStopMs: 1500, windowMs: 60_000 })
    assert.equal(m.sampling, false)
    assert.deepEqual(m.read(), { p50: 0, p99: 0, max: 0, utilization: 0 }, 'the first read starts sampling')
    assert.equal(m.sampling, true)
    await delay(300)
    const end = Date.now() + 250
    while (Date.now() < end) { /* a 250 ms stall of the event loop */ }
    await delay(900)
    const f = m.read()
    assert.ok(f.max >= 0.2, `the stall shows: max ${f.max} s`)
    assert.ok(f.utilization > 0 && f.utilization <= 1, `utilization ${f.utilization}`)
    for (let i = 0; i < 100 && m.sampling; i++) await delay(50)
    assert.equal(m.sampling, false, 'stopped once nobody read for idleStopMs')
    m.close()
  })
})
