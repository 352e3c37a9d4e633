/**
 * RecentLog and withRecent: warnings and errors (of children too) kept with their fields as
 * text and counted, info and debug not; the oldest lines dropped past the capacity; the lines
 * still written where the logger writes them.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RecentLog, withRecent } from '../../src/telemetry/RecentLog.ts'
import { createLogger } from '../../src/util/log.ts'

describe('RecentLog', () => {
  it('keeps and counts the warnings and errors of a logger and its children', () => {
    const lines: string[] = []
    const recent = new RecentLog({ capacity: 3, now: () => Date.UTC(2026, 0, 1) })
    let rung = 0
    recent.onLine(() => { rung++ })
    const log = withRecent(createLogger({ level: 'info', sink: l => lines.push(l) }), recent)
    log.info('started', { port: 1 })
    log.warn('peer slow', { peer: 'desktop', error: new Error('timed out') })
    log.child({ part: 'p2p' }).error('refused a peer', { node: '12D3KooWX', detail: { a: 1 } })
    assert.equal(lines.length, 3, 'every line is still written')
    assert.deepEqual(recent.entries(), [
      { at: '2026-01-01T00:00:00.000Z', level: 'warn', message: 'peer slow', fields: { peer: 'desktop', error: 'timed out' } },
      { at: '2026-01-01T00:00:00.000Z', level: 'error', message: 'refused a peer', fields: { part: 'p2p', node: '12D3KooWX', detail: '{"a":1}' } }
    ])
    assert.equal(rung, 2)
    for (let i = 0; i < 5; i++) log.warn(`w${i}`)
    assert.deepEqual(recent.entries().map(e => e.message), ['w2', 'w3', 'w4'])
    assert.equal(recent.total('warn'), 6)
    assert.equal(recent.total('error'), 1)
  })

  it('keeps nothing the logger would not write', () => {
    const recent = new RecentLog()
    const log = withRecent(createLogger({ level: 'error', sink: () => {} }), recent)
    log.warn('quiet')
    assert.equal(recent.entries().length, 0)
  })
})
