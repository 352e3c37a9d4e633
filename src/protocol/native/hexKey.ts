/**
 * A record key of 64 lowercase hex digits (the id of a triple, an episode or a trace) kept as its
 * 32 bytes, in a typed array beside others, instead of as a string of its own (about 80 bytes of
 * heap, and an object for the garbage collector to walk): the window index's table
 * (ElementTable.ts) and the changes queued for it (PendingElements.ts).
 */
import { hexBytesInto } from '../../core/hex.ts'

/** Bytes of a key kept by hexKeyInto. */
export const HEX_KEY_BYTES = 32

/**
 * The 32 bytes of `key` into `out` at `at` when it is 64 lowercase hex digits; false (nothing
 * written) otherwise (core/hex.ts hexBytesInto: every record queued for the window index
 * comes here).
 */
export const hexKeyInto: (key: string, out: Uint8Array, at: number) => boolean = hexBytesInto

/** The key of 32 bytes kept by hexKeyInto (one flat string, made natively). */
export function hexKeyOf (bytes: Uint8Array, at: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, HEX_KEY_BYTES).toString('hex')
}
