import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { NATIVE_LIMITS } from '../../src/protocol/native/messages.ts'
import { CATCH_UP_PAGES, pageSize } from '../../src/sync/native/pageSize.ts'

const MiB = 1024 * 1024
const small = (records: number): { records: number, bytes: number } => ({ records, bytes: NATIVE_LIMITS.pageBytes })

describe('pageSize (how large a stream page may be)', () => {
  it('far behind: twice sync.maxTriplesPerSync records and about 2 MiB; within a catch-up page of the end: the usual page', () => {
    assert.deepEqual(pageSize(1_000_000, small(5_000)), { records: 10_000, bytes: 2 * MiB })
    assert.deepEqual(pageSize(10_001, small(5_000)), { records: 10_000, bytes: 2 * MiB })
    assert.deepEqual(pageSize(10_000, small(5_000)), { records: 5_000, bytes: MiB })
    assert.deepEqual(pageSize(100, small(5_000)), { records: 5_000, bytes: MiB })
    assert.deepEqual(pageSize(0, small(5_000)), { records: 5_000, bytes: MiB })
  })

  it('a catch-up page holds at most 10,000 records (the receiver\'s memory); larger usual pages stay as they are', () => {
    assert.equal(CATCH_UP_PAGES.records, 10_000)
    assert.deepEqual(pageSize(1_000_000, small(8_000)), { records: 10_000, bytes: 2 * MiB })
    assert.deepEqual(pageSize(1_000_000, small(10_000)), { records: 10_000, bytes: MiB })
    assert.deepEqual(pageSize(1_000_000, small(20_000)), { records: 20_000, bytes: MiB })
    assert.deepEqual(pageSize(1_000_000, small(50_000)), { records: 50_000, bytes: MiB })
    assert.deepEqual(pageSize(1_000_000, small(100)), { records: 200, bytes: 2 * MiB })
  })

  it('never more records than every version accepts', () => {
    for (const records of [1, 100, 5_000, 16_000, 49_999, 50_000, 80_000]) {
      for (const factor of [1, 2, 4, 100]) {
        const size = pageSize(10_000_000, small(records), { factor, records: 1_000_000, bytes: 2 * MiB })
        assert.ok(size.records <= NATIVE_LIMITS.maxPageRecords && size.records >= 1, `${records} × ${factor}: ${size.records}`)
      }
    }
  })
})
