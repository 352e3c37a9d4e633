/**
 * Where the peers benchmark's receiver had its memory at its highest during a copy
 * (bench/peers/protocol.ts PeakMemory): the highest sample is kept, not the last one, with V8's
 * high-water mark beside it; sampling stops with `stop()`, which keeps the figures.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PEAK_SAMPLE_MS, PeakMemory } from '../../bench/peers/protocol.ts'

const settle = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, PEAK_SAMPLE_MS * 4)) }

describe('the peers benchmark\'s peak memory', () => {
  it('keeps the highest sample after the memory is given back, and stops sampling at stop()', async () => {
    const peak = new PeakMemory()
    assert.equal(peak.stop(), undefined, 'never started')
    const before = process.memoryUsage.rss() / 1e6
    peak.start()
    // 64 MiB outside V8, touched so they are resident, then dropped
    let block: Buffer | undefined = Buffer.alloc(64 * 1024 * 1024).fill(1)
    await settle()
    const held = process.memoryUsage.rss() / 1e6
    assert.ok(block.readUInt8(1) === 1)
    block = undefined
    await settle()
    const figures = peak.stop()
    assert.ok(figures !== undefined)
    assert.ok(held - before >= 50, `the block made the process resident: ${before} → ${held} MB`)
    assert.ok(figures.rssMb >= held - 1, `the highest sample (${figures.rssMb} MB) is the block's (${held} MB)`)
    assert.ok(figures.v8HighWaterMb >= figures.v8Mb && figures.v8Mb > 0)
    if (process.platform === 'linux') assert.ok(figures.anonMb >= 50, `anonymous memory at the peak: ${figures.anonMb} MB`)
    // stopped: the figures stay as they were
    Buffer.alloc(96 * 1024 * 1024).fill(2)
    await settle()
    assert.deepEqual(peak.stop(), figures)
  })
})
