/**
 * An element of the window set (docs/PROTOCOL.md §3) and where it sits: each record whose stamp's
 * wall time is at or after the window start is one 16-byte element,
 *
 *   element = BLAKE3(kind ‖ 0x00 ‖ key ‖ 0x00 ‖ canonical record)[0..16]
 *
 * so a newer state of the same record is a different element; its first 12 bits name its fine
 * bucket. The window start moves by one quantum Q = TTL/8 at a time, the same on every node whose
 * clock is in the same quantum. The index of these elements is WindowIndex.ts.
 */
import { Bytes } from '../../core/canonical.ts'
import { blake3Into } from '../../core/hash.ts'
import { RECORD_KINDS, recordKey, type MemoryRecord, type RecordKind } from '../../core/model.ts'
import { writeCanonicalRecord } from '../../core/records.ts'

/** Bits of an element that name its fine bucket: 2^12 = 4,096 buckets. */
export const FINE_BITS = 12
/** Bytes of a bucket fingerprint: the first 8 bytes of the XOR of the bucket's elements. */
export const FINGERPRINT_BYTES = 8
/** Bytes of one element. */
export const ELEMENT_BYTES = 16
/**
 * A record kind in two bits, as the in-memory index (ElementTable.ts) and its queue
 * (PendingElements.ts) keep it beside an element: its place in RECORD_KINDS, which turns it back.
 */
export const KIND_CODE = Object.fromEntries(RECORD_KINDS.map((k, i) => [k, i])) as Readonly<Record<RecordKind, number>>

/** One element of the window set and the record it stands for. Do not mutate `element`. */
export interface WindowElement {
  readonly kind: RecordKind
  readonly key: string
  readonly element: Uint8Array
}

/**
 * The window start for a clock reading: ⌊(now − ⌊TTL/2⌋) / Q⌋ · Q with Q = max(1, ⌊TTL/8⌋),
 * never below 0. Every node with a clock in the same quantum computes the same value.
 */
export function windowStartFor (now: number, ttlMs: number): number {
  const q = Math.max(1, Math.floor(ttlMs / 8))
  const ws = Math.floor((Math.floor(now) - Math.floor(ttlMs / 2)) / q) * q
  return Math.max(0, ws)
}

/** The 16-byte element of a record: BLAKE3(kind ‖ 0x00 ‖ key ‖ 0x00 ‖ canonical record)[0..16]. */
export function elementOf (record: MemoryRecord): Uint8Array {
  const element = new Uint8Array(ELEMENT_BYTES)
  elementInto(record, element, 0)
  return element
}

/** The element of a record written into `out` at `at` (a queue of elements keeps them side by side: no array per element). */
export function elementInto (record: MemoryRecord, out: Uint8Array, at: number): void {
  // the bytes are written into one reused buffer: no text of the record is built (the key and
  // the canonical record as Buffer would write them in UTF-8, test/native/element-bytes.test.ts)
  const b = scratch.reset()
  b.ascii(record.kind)
  b.byte(0)
  b.utf8(recordKey(record))
  b.byte(0)
  writeCanonicalRecord(b, record)
  blake3Into(b.view(), ELEMENT_BYTES, out, at)
}

const scratch = new Bytes()

/** The fine bucket of an element: its first 12 bits. */
export function fineBucketOf (element: Uint8Array): number {
  return (element[0]! << 4) | (element[1]! >>> 4)
}

/** The bucket of an element at `level` bits (0 … 12): its first `level` bits. */
export function bucketOf (element: Uint8Array, level: number): number {
  return fineBucketOf(element) >>> (FINE_BITS - level)
}
