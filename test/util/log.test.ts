/** The leveled logger: one line per event, fields as key=value, levels filtered. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createLogger, formatLine } from '../../src/util/log.ts'
import { editDistance, nearest } from '../../src/util/nearest.ts'

const T = Date.parse('2026-11-20T09:30:00.000Z')

describe('logger', () => {
  it('writes one line: time, padded level, message, fields', () => {
    const lines: string[] = []
    const log = createLogger({ sink: l => lines.push(l), now: () => T })
    log.info('engram node started', { node: 'n1', api: 'http://127.0.0.1:19090', n: 3, ok: true })
    assert.deepEqual(lines, ['2026-11-20T09:30:00.000Z info  engram node started node=n1 api=http://127.0.0.1:19090 n=3 ok=true'])
  })

  it('filters by level', () => {
    const lines: string[] = []
    const log = createLogger({ level: 'warn', sink: l => lines.push(l), now: () => T })
    log.debug('d')
    log.info('i')
    log.warn('w')
    log.error('e')
    assert.deepEqual(lines.map(l => l.split(' ')[1]), ['warn', 'error'])
    assert.equal(log.enabled('info'), false)
    assert.equal(log.enabled('error'), true)
  })

  it('quotes values that would break the line, and keeps it one line', () => {
    const line = formatLine(T, 'error', 'failed\nbadly', { path: '/a b/c', empty: '', q: 'x="y"', err: new Error('boom'), obj: { a: [1] }, skip: undefined })
    assert.equal(line, '2026-11-20T09:30:00.000Z error failed ⏎ badly path="/a b/c" empty="" q="x=\\"y\\"" err=boom obj={"a":[1]}')
    assert.ok(!line.includes('\n'))
  })

  it('child loggers add fields', () => {
    const lines: string[] = []
    const log = createLogger({ sink: l => lines.push(l), now: () => T }).child({ peer: 'p1' })
    log.info('synced', { records: 2 })
    assert.equal(lines[0], '2026-11-20T09:30:00.000Z info  synced peer=p1 records=2')
  })
})

describe('nearest', () => {
  it('suggests the closest candidate or nothing', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3)
    assert.equal(nearest('p2p.enable', ['p2p.enabled', 'p2p.port']), 'p2p.enabled')
    assert.equal(nearest('port', ['api.port', 'dataDir']), 'api.port')
    assert.equal(nearest('completely-different', ['api.port', 'dataDir']), undefined)
  })
})
