/**
 * BLAKE3 through hash-wasm with one reused hasher (about 10x faster than creating one per
 * hash). The WebAssembly module is instantiated once, when this module is first imported.
 * Hash a canonical form, never bytes produced by a general-purpose encoder.
 */
import { createBLAKE3, type IHasher } from 'hash-wasm'

const hasher: IHasher = await createBLAKE3(256)

export function blake3Hex (data: Uint8Array | string): string {
  hasher.init()
  hasher.update(data)
  // the digest's bytes turned to hex by Buffer: faster than hash-wasm's own hex digest
  const d = hasher.digest('binary')
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex')
}

export function blake3 (data: Uint8Array | string): Uint8Array {
  hasher.init()
  hasher.update(data)
  return hasher.digest('binary')
}

/** Keyed BLAKE3 (a MAC / key derivation). `key` must be 32 bytes. Creates a hasher per call. */
export async function blake3Keyed (key: Uint8Array, data: Uint8Array | string, bits = 256): Promise<Uint8Array> {
  const h = await createBLAKE3(bits, key)
  h.update(data)
  return h.digest('binary')
}

export function hexToBytes (hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

export function bytesToHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}
