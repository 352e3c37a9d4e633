import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { MAX_READ, MIN_READ, nextReadSize, quicReadTuning } from '../../src/transport/libp2p/quicReads.ts'
import { QuicTransport } from '../../src/transport/libp2p/QuicTransport.ts'
import { waitFor, within } from './conformance.ts'

describe('QUIC read sizes', () => {
  it('grow while reads come back full, shrink when they come back less than half full, within bounds', () => {
    assert.equal(nextReadSize(MIN_READ, MIN_READ), 2 * MIN_READ)
    assert.equal(nextReadSize(MAX_READ, MAX_READ), MAX_READ)
    assert.equal(nextReadSize(2 * MIN_READ, MIN_READ), 2 * MIN_READ, 'half full: unchanged')
    assert.equal(nextReadSize(2 * MIN_READ, MIN_READ - 1), MIN_READ)
    assert.equal(nextReadSize(MIN_READ, 10), MIN_READ, 'never below MIN_READ')
  })

  it('are tuned on the installed QUIC library: a 3 MiB frame arrives intact in reads larger than 4 KiB', async () => {
    const a = await QuicTransport.create({ host: '127.0.0.1', port: 0 })
    const b = await QuicTransport.create({ host: '127.0.0.1', port: 0 })
    const got: Uint8Array[] = []
    b.onConnection(c => { c.onFrame(f => { got.push(f) }) })
    a.onConnection(() => {})
    await a.start()
    await b.start()
    try {
      const tuning = quicReadTuning()
      assert.ok(tuning.active, `QUIC reads are not tuned: ${tuning.active ? '' : tuning.reason} (did @chainsafe/libp2p-quic change? see src/transport/libp2p/quicReads.ts)`)
      const conn = await within(a.dial(b.listenAddrs()[0]!), 'dial')
      const frame = randomBytes(3 * 1024 * 1024)
      await within(conn.send(frame), 'sending 3 MiB')
      await waitFor(() => got.length === 1, 'the frame')
      assert.deepEqual(Buffer.from(got[0]!), frame)
      const after = quicReadTuning()
      assert.ok(after.active && after.largestRead > 4096, `largest read ${after.active ? after.largestRead : '-'} bytes: reads were not enlarged`)
      assert.ok(after.largestRead <= MAX_READ)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
