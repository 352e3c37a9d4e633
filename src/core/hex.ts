/**
 * Lowercase hex digits and their bytes: a record id (a triple's, a trace's) is 64 of them, and
 * its 32 bytes are what the store's id index, the window index's table and a leaf's state hold.
 */

/** The value of each lowercase hex digit by its char code; -1 for any other code below 128. */
export const HEX_VALUE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1)
  for (let i = 0; i < 16; i++) t['0123456789abcdef'.charCodeAt(i)] = i
  return t
})()

/**
 * The 32 bytes of `hex` into `out` at `at` when it is 64 lowercase hex digits (a triple id);
 * false (nothing written) otherwise. Digits through HEX_VALUE: a third of the time of comparing
 * each against the digit ranges, and a fifth of Buffer's hex write for 32 bytes (a native call).
 */
export function hexBytesInto (hex: string, out: Uint8Array, at: number): boolean {
  if (hex.length !== 64) return false
  let bad = 0
  for (let i = 0; i < 64; i++) bad |= HEX_VALUE[hex.charCodeAt(i)] ?? -1
  if (bad < 0) return false
  for (let i = 0; i < 32; i++) out[at + i] = (HEX_VALUE[hex.charCodeAt(2 * i)]! << 4) | HEX_VALUE[hex.charCodeAt(2 * i + 1)]!
  return true
}
