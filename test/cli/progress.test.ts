/**
 * The progress display: the terminal line (bar, count, total, rate, ETA, fitted to the width),
 * the plain line for logs, and when each is printed, on a clock the test moves.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CliIo } from '../../src/cli/io.ts'
import { clock, Progress, progressLine, progressText } from '../../src/cli/progress.ts'

function io (terminal: boolean): CliIo & { text: () => string } {
  let err = ''
  return {
    env: {},
    cwd: '/',
    out: () => {},
    err: t => { err += t },
    ...(terminal ? { errTerminal: { columns: () => 100 } } : {}),
    text: () => err
  }
}

describe('progress', () => {
  it('formats clock times', () => {
    assert.deepEqual([clock(4), clock(59.6), clock(750), clock(3723)], ['0:04', '1:00', '12:30', '1:02:03'])
  })

  it('the terminal line: a bar, count of total, rate and ETA, never wider than the terminal', () => {
    const line = progressLine({ label: 'export', unit: 'records', done: 52_000, total: 100_000, rate: 12_400 }, 100)
    assert.match(line, /^export {2}\[█+░+\] {2}52,000\/100,000 records {2}12,400\/s {2}ETA 0:04$/)
    assert.equal((line.match(/█/g) ?? []).length / (line.match(/[█░]/g) ?? []).length > 0.45, true)
    for (const width of [40, 60, 80, 200]) assert.ok(progressLine({ label: 'x', unit: 'records', done: 1, total: 10, rate: 1 }, width).length < width)
    assert.equal(progressLine({ label: 'sync laptop', unit: 'records', done: 1234 }, 80), 'sync laptop  1,234 records')
  })

  it('the plain line for logs', () => {
    assert.equal(progressText({ label: 'import', unit: 'records', done: 250, total: 1000, rate: 50 }), 'import: 250 of 1,000 records (25 %), 50/s, about 0:15 left')
    assert.equal(progressText({ label: 'sync', unit: 'records', done: 7 }), 'sync: 7 records')
  })

  it('on a terminal: redraws in place at most ten times a second, with the rate of the last seconds', () => {
    let now = 0
    const term = io(true)
    const p = new Progress(term, 'import', { unit: 'records', total: 1000, now: () => now })
    for (let i = 1; i <= 100; i++) { now += 10; p.update(i * 10) } // 1 s, 100 updates
    p.finish()
    const draws = term.text().split('\r').filter(x => x !== '')
    assert.ok(draws.length >= 9 && draws.length <= 12, `${draws.length} draws`)
    assert.ok(draws.at(-1)!.endsWith('1,000/1,000 records  1,000/s  ETA 0:00\x1b[K\n'), draws.at(-1))
  })

  it('elsewhere: a plain line every few seconds and at the end, none per update', () => {
    let now = 0
    const log = io(false)
    const p = new Progress(log, 'export', { unit: 'records', total: 60_000, now: () => now })
    for (let i = 1; i <= 600; i++) { now += 100; p.update(i * 100) } // 60 s
    p.finish('done')
    const lines = log.text().trim().split('\n')
    assert.ok(lines.length >= 12 && lines.length <= 15, lines.join('\n'))
    assert.equal(lines.at(-2), 'export: 60,000 of 60,000 records (100 %), 1,000/s, about 0:00 left')
    assert.equal(lines.at(-1), 'done')
    assert.ok(!log.text().includes('\r'))
  })
})
