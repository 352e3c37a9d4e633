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
 */
import { PROTOCOL } from '../../core/errors.ts'
import { mix32 } from './riblt.ts'

/** Sketches in one estimate. */
export const SKETCH_COUNT = 16
/** Bytes of an estimate on the wire. */
export const SKETCH_BYTES = SKETCH_COUNT * 2

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

/** The estimated size of the symmetric difference of the sets two sketches were made of (≥ 0). */
export function estimateDifference (a: Uint8Array, b: Uint8Array): number {
  if (a.byteLength !== SKETCH_BYTES || b.byteLength !== SKETCH_BYTES) {
    throw PROTOCOL(`estimate: a sketch is ${SKETCH_BYTES} bytes (got ${a.byteLength} and ${b.byteLength})`)
  }
  const va = new DataView(a.buffer, a.byteOffset, a.byteLength)
  const vb = new DataView(b.buffer, b.byteOffset, b.byteLength)
  let sum = 0
  for (let s = 0; s < SKETCH_COUNT; s++) {
    // the difference modulo 2^16, read as a signed 16-bit number
    const diff = ((va.getUint16(2 * s, true) - vb.getUint16(2 * s, true)) << 16) >> 16
    sum += diff * diff
  }
  return sum / SKETCH_COUNT
}
