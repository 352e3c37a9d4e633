/**
 * BLAKE3 through hash-wasm's WebAssembly module. The module is instantiated once, when this
 * module is first imported. Hash a canonical form, never bytes produced by a general-purpose
 * encoder.
 *
 * The hashes of a record received (its content id, its leaf, its window element: three per
 * record, and the tree's inner nodes) are short inputs, for which hash-wasm's hasher object costs
 * about as much as the hashing itself: an init, an update and a digest each cross into the module,
 * and the digest is copied out into a new array. So the module's own one-call export
 * (`Hash_Calculate`: init, update, final) is called directly, on an instance of the same compiled
 * module made here (`Direct`), the input written into its buffer and the digest read from there.
 * hash-wasm does not hand out its module: it is caught as hash-wasm instantiates it for the hasher
 * below, and used only when it hashes the BLAKE3 test vectors as the hasher does; otherwise (and
 * for inputs longer than the buffer) the hasher is used.
 */
import { createBLAKE3, type IHasher } from 'hash-wasm'

/** Bytes of a digest. */
const DIGEST_BYTES = 32
/** hash-wasm's input buffer (its MAX_HEAP): longer inputs go through the hasher, in parts. */
const BUFFER_BYTES = 16 * 1024

/** What the BLAKE3 module exports (hash-wasm's src/blake3.c). */
interface Blake3Exports {
  readonly memory: { readonly buffer: ArrayBuffer }
  Hash_GetBuffer: () => number
  Hash_Calculate: (length: number, keyBytes: number, digestBytes: number) => void
}

/** The part of the WebAssembly API used here (this project's type libraries do not declare it). */
interface Wasm {
  instantiate: (source: unknown, imports?: object) => Promise<unknown>
  readonly Module: new (bytes: Uint8Array) => object
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> }
}
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly

/** The module's one-call hash on an instance of its own: input and digest in the instance's buffer. */
class Direct {
  private readonly exports: Blake3Exports
  private readonly offset: number
  /** The instance's buffer (a Buffer: UTF-8 and hex natively); made again should the memory grow. */
  private buf: Buffer

  constructor (exports: Blake3Exports) {
    this.exports = exports
    this.offset = exports.Hash_GetBuffer()
    this.buf = Buffer.from(exports.memory.buffer, this.offset, BUFFER_BYTES)
  }

  /** Hashes `data` into the buffer's first `digestBytes`; false (nothing hashed) when it does not fit the buffer. */
  hash (data: Uint8Array | string, digestBytes: number): boolean {
    let buf = this.buf
    // a grown memory detaches the old buffer (BLAKE3 never grows it; checked all the same)
    if (buf.byteLength === 0) buf = this.buf = Buffer.from(this.exports.memory.buffer, this.offset, BUFFER_BYTES)
    let length: number
    if (typeof data === 'string') {
      // at most 3 bytes of UTF-8 per UTF-16 unit
      if (data.length * 3 > BUFFER_BYTES) return false
      length = buf.write(data, 0, 'utf8')
    } else {
      if (data.byteLength > BUFFER_BYTES) return false
      buf.set(data)
      length = data.byteLength
    }
    this.exports.Hash_Calculate(length, 0, digestBytes)
    return true
  }

  /** The first `n` bytes of the digest just made, copied. */
  digest (n: number): Uint8Array {
    // (Buffer's slice would be a view of the buffer, not a copy)
    const d = new Uint8Array(n)
    this.copy(d, 0, n)
    return d
  }

  /** The digest just made, as hex. */
  hex (): string {
    return this.buf.toString('hex', 0, DIGEST_BYTES)
  }

  /** Copies the first `n` bytes of the digest just made into `out` at `at`. */
  copy (out: Uint8Array, at: number, n: number): void {
    const buf = this.buf
    for (let i = 0; i < n; i++) out[at + i] = buf[i]!
  }
}

/** Inputs the caught module must hash as the hasher does: empty, short text, bytes over several blocks, text over a chunk. */
const CHECKS: ReadonlyArray<Uint8Array | string> = ['', 'engram', Uint8Array.from({ length: 251 }, (_, i) => i), 'é'.repeat(700)]

/** hash-wasm's hasher for BLAKE3-256, and its module caught as it is instantiated (see the file comment). */
async function load (): Promise<{ hasher: IHasher, direct: Direct | undefined }> {
  const instantiate = wasm.instantiate
  let module: object | undefined
  // hash-wasm instantiates its compiled module (its first BLAKE3 hasher compiles it too)
  wasm.instantiate = async (source, imports) => {
    const made = await instantiate.call(wasm, source, imports)
    module ??= source instanceof wasm.Module ? source : (made as { module?: object }).module
    return made
  }
  let hasher: IHasher
  try {
    hasher = await createBLAKE3(256)
  } finally {
    wasm.instantiate = instantiate
  }
  return { hasher, direct: directOf(module, hasher) }
}

/** An instance of its own of `module`, when it exports BLAKE3's one-call hash and hashes the checks as `hasher` does. */
function directOf (module: object | undefined, hasher: IHasher): Direct | undefined {
  if (module === undefined) return undefined
  try {
    const exports = new wasm.Instance(module, {}).exports as unknown as Blake3Exports
    if (!(exports.memory?.buffer instanceof ArrayBuffer) || typeof exports.Hash_Calculate !== 'function' || typeof exports.Hash_GetBuffer !== 'function') return undefined
    const d = new Direct(exports)
    for (const input of CHECKS) {
      hasher.init()
      hasher.update(input)
      const want = Buffer.from(hasher.digest('binary')).toString('hex')
      if (!d.hash(input, DIGEST_BYTES) || d.hex() !== want) return undefined
    }
    return d
  } catch {
    return undefined
  }
}

const { hasher, direct } = await load()

/** Whether hashing goes through the module's one-call export (false: hash-wasm's hasher; both give the same digests). */
export const directBlake3 = direct !== undefined

export function blake3Hex (data: Uint8Array | string): string {
  if (direct?.hash(data, DIGEST_BYTES) === true) return direct.hex()
  hasher.init()
  hasher.update(data)
  // the digest's bytes turned to hex by Buffer: faster than hash-wasm's own hex digest
  const d = hasher.digest('binary')
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex')
}

export function blake3 (data: Uint8Array | string): Uint8Array {
  if (direct?.hash(data, DIGEST_BYTES) === true) return direct.digest(DIGEST_BYTES)
  hasher.init()
  hasher.update(data)
  return hasher.digest('binary')
}

/** The first `n` bytes (at most 32) of BLAKE3-256(`data`), written into `out` at `at`: no array made for the digest. */
export function blake3Into (data: Uint8Array | string, n: number, out: Uint8Array, at: number): void {
  if (direct?.hash(data, n) === true) { direct.copy(out, at, n); return }
  out.set(blake3(data).subarray(0, n), at)
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
