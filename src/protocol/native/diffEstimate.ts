/**
 * A small estimator of how many ids two sets differ by (tug-of-war sketches: Alon, Matias and
 * Szegedy; as used for set reconciliation by Feigenbaum et al.), pure.
 *
 * Each of SKETCH_COUNT sketches is the sum over the set of a ±1 sign per id (one bit of a hash of
 * the id). Ids both sets hold add the same to both sums, so the difference of two peers' sums is
 * a sum of d random signs, whose square is d on average; the mean of the squares over the
 * sketches estimates d to within about √(2 / SKETCH_COUNT) (35 %). Sums go on the wire modulo
 * 2^16 (2 bytes each, 32 bytes in all): the difference of two peers' sums is far below 2^15 for
 * any difference a round can decode.
 *
 * A reconciliation round sends a sketch with its first message, so that the peer can send about
 * as many coded symbols as the difference needs in one go (recon.ts).
 *
 * Coded rounds version 2 send the sums modulo 2^9 instead (NARROW_SKETCH_BYTES, 18 bytes, each
 * sum's low 9 bits packed one after the other). A difference of sums is then exact while it stays
 * within ±255, which the sum of d random signs does for d up to about 4,000 (four standard
 * deviations); past that some sums wrap and the estimate falls short, but never below about
 * 5,000 on average at d = 10,000, and any estimate above about 5,000 already asks for the
 * largest first batch (reconSizing.ts FIRST_BATCH_MAX): what the estimate decides is unchanged.
 */
import { PROTOCOL } from '../../core/errors.ts'
import { mix32 } from './riblt.ts'

/** Sketches in one estimate. */
export const SKETCH_COUNT = 16
/** Bytes of an estimate on the wire. */
export const SKETCH_BYTES = SKETCH_COUNT * 2

/** Bits of each sum in a narrow sketch (coded rounds version 2). */
export const NARROW_BITS = 9
/** Bytes of a narrow sketch on the wire: 16 sums of 9 bits. */
export const NARROW_SKETCH_BYTES = (SKETCH_COUNT * NARROW_BITS) / 8

/** The 16 sign bits of an id (bit s set: +1 in sketch s, else −1). */
export function signsOf (hi: number, lo: number): number {
  return mix32(mix32(lo ^ 0x3c6ef372) ^ hi)
}

/** Adds (sign +1) or removes (−1) an id's signs to running sums (SKETCH_COUNT of them). */
export function addSigns (sums: Int32Array, hi: number, lo: number, sign: number): void {
  const signs = signsOf(hi, lo)
  for (let s = 0; s < SKETCH_COUNT; s++) sums[s]! += ((signs >>> s) & 1) === 1 ? sign : -sign
}

/** Running sums as a sketch on the wire: each modulo 2^16, little-endian. */
export function sketchBytes (sums: Int32Array): Uint8Array {
  const out = new Uint8Array(SKETCH_BYTES)
  const view = new DataView(out.buffer)
  for (let s = 0; s < SKETCH_COUNT; s++) view.setUint16(2 * s, sums[s]! & 0xffff, true)
  return out
}

/** The sketch of a set of ids (pairs hi, lo, as idsOf gives them). */
export function sketchOf (ids: Uint32Array): Uint8Array {
  const sums = new Int32Array(SKETCH_COUNT)
  for (let i = 0; i < ids.length; i += 2) addSigns(sums, ids[i]!, ids[i + 1]!, 1)
  return sketchBytes(sums)
}

/**
 * A sketch (SKETCH_BYTES) as a narrow one (NARROW_SKETCH_BYTES): each sum's low 9 bits, packed
 * little-endian (sum s takes bits 9s … 9s + 8 of the 144).
 */
export function narrowSketch (sketch: Uint8Array): Uint8Array {
  const wide = sums16(sketch)
  const out = new Uint8Array(NARROW_SKETCH_BYTES)
  for (let s = 0; s < SKETCH_COUNT; s++) {
    const v = wide[s]! & 0x1ff
    for (let b = 0; b < NARROW_BITS; b++) if (((v >>> b) & 1) === 1) out[(s * NARROW_BITS + b) >>> 3]! |= 1 << ((s * NARROW_BITS + b) & 7)
  }
  return out
}

/** The 16 sums of a sketch, each modulo 2^16. */
function sums16 (sketch: Uint8Array): number[] {
  const view = new DataView(sketch.buffer, sketch.byteOffset, sketch.byteLength)
  return Array.from({ length: SKETCH_COUNT }, (_, s) => view.getUint16(2 * s, true))
}

/** The 16 sums of a narrow sketch, each modulo 2^9. */
function sums9 (sketch: Uint8Array): number[] {
  return Array.from({ length: SKETCH_COUNT }, (_, s) => {
    let v = 0
    for (let b = 0; b < NARROW_BITS; b++) v |= ((sketch[(s * NARROW_BITS + b) >>> 3]! >>> ((s * NARROW_BITS + b) & 7)) & 1) << b
    return v
  })
}

/**
 * The estimated size of the symmetric difference of the sets two sketches were made of (≥ 0):
 * two sketches (SKETCH_BYTES) or two narrow ones (NARROW_SKETCH_BYTES).
 */
export function estimateDifference (a: Uint8Array, b: Uint8Array): number {
  const width = a.byteLength === SKETCH_BYTES ? 16 : a.byteLength === NARROW_SKETCH_BYTES ? NARROW_BITS : 0
  if (width === 0 || b.byteLength !== a.byteLength) {
    throw PROTOCOL(`estimate: a sketch is ${SKETCH_BYTES} bytes, or ${NARROW_SKETCH_BYTES} narrow, both alike (got ${a.byteLength} and ${b.byteLength})`)
  }
  const [sa, sb] = width === 16 ? [sums16(a), sums16(b)] : [sums9(a), sums9(b)]
  const shift = 32 - width
  let sum = 0
  for (let s = 0; s < SKETCH_COUNT; s++) {
    // the difference modulo 2^width, read as a signed number of that width
    const diff = ((sa[s]! - sb[s]!) << shift) >> shift
    sum += diff * diff
  }
  return sum / SKETCH_COUNT
}
