/**
 * The XORs of a window set (docs/PROTOCOL.md §3): the XOR `x` of all elements (the digest's) and
 * the XOR of each of the 2^12 fine buckets, kept as elements come and go, and the fingerprints
 * gossip compares: of buckets at any level from 0 to 12 bits, summed from the fine ones. Also the
 * checks of a level and a bucket index a peer asks for.
 *
 * Used by WindowIndex.ts, which keeps one alongside its ElementTable.ts.
 */
import { INVALID_INPUT } from '../../core/errors.ts'
import type { ElementTable } from './ElementTable.ts'
import { ELEMENT_BYTES, FINE_BITS, FINGERPRINT_BYTES } from './windowElement.ts'

const FINE_BUCKETS = 1 << FINE_BITS

function xorInto (target: Uint8Array, offset: number, el: Uint8Array): void {
  for (let i = 0; i < ELEMENT_BYTES; i++) target[offset + i]! ^= el[i]!
}

export class BucketXors {
  /** XOR of all elements, 16 bytes (the digest's `x`; not a copy). */
  readonly x = new Uint8Array(ELEMENT_BYTES)
  private readonly fineX = new Uint8Array(FINE_BUCKETS * ELEMENT_BYTES)

  /** XORs the element in `slot` of `table` into (or, the same operation, out of) `x` and its fine bucket. */
  account (table: ElementTable, slot: number): void {
    table.xorInto(this.x, 0, slot)
    table.xorInto(this.fineX, table.fine(slot) * ELEMENT_BYTES, slot)
  }

  clear (): void {
    this.x.fill(0)
    this.fineX.fill(0)
  }

  /**
   * Fingerprints of buckets at `level` bits (0 … 12): for each bucket index in `buckets`, the
   * first 8 bytes of the XOR of its elements, concatenated in the order given.
   */
  fingerprints (level: number, buckets: readonly number[]): Uint8Array {
    checkLevel(level)
    const out = new Uint8Array(buckets.length * FINGERPRINT_BYTES)
    const span = 1 << (FINE_BITS - level)
    const acc = new Uint8Array(ELEMENT_BYTES)
    buckets.forEach((j, i) => {
      checkBucket(level, j)
      acc.fill(0)
      for (let f = j * span; f < (j + 1) * span; f++) xorInto(acc, 0, this.fineX.subarray(f * ELEMENT_BYTES, (f + 1) * ELEMENT_BYTES))
      out.set(acc.subarray(0, FINGERPRINT_BYTES), i * FINGERPRINT_BYTES)
    })
    return out
  }
}

export function checkLevel (level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > FINE_BITS) throw INVALID_INPUT('level', `must be an integer from 0 to ${FINE_BITS} (got ${String(level)})`)
}

export function checkBucket (level: number, j: number): void {
  if (!Number.isInteger(j) || j < 0 || j >= 2 ** level) throw INVALID_INPUT('bucket', `must be an integer from 0 to ${2 ** level - 1} at level ${level} (got ${String(j)})`)
}
