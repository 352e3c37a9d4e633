/**
 * The Bloom filter announced in gossip rounds (docs/PROTOCOL.md §3).
 *
 * Elements are 16 bytes (the window-set elements of WindowIndex.ts: truncated BLAKE3 output, so
 * already uniformly distributed). Positions come from double hashing over the element's four
 * little-endian 32-bit words mixed with the filter's 32-bit salt through the murmur3 finalizer:
 *
 *   s   = fmix32(salt)
 *   h1  = fmix32(w0 ^ fmix32(w1 ^ s))
 *   h2  = fmix32(w2 ^ fmix32(w3 ^ s ^ 0x9e3779b9)) | 1              ; forced odd
 *   pos_i = ((h1 + i·h2) mod 2^32) mod m,   i = 0 … k−1
 *
 * Bit `p` is bit `p mod 8` (least significant first) of byte `⌊p/8⌋`. A different salt maps an
 * element to independent positions, so an element hidden by a false positive in one round is
 * found in the next (the salt changes every round).
 *
 * Filters from peers are checked by `BloomFilter.decode` before anything is allocated.
 */
import { INVALID_INPUT, PROTOCOL, preview } from '../../core/errors.ts'

/** Size of a filter: `m` bits (a multiple of 8, ≥ 64) and `k` hash functions (1 … 16). */
export interface BloomParams {
  readonly m: number
  readonly k: number
}

/** Bounds every filter respects; `decode` refuses anything outside them before allocating. */
export const BLOOM_LIMITS = {
  /** Fewest bits of a filter. */
  minBits: 64,
  /** Most bits of a filter: 2^26 bits = 8 MiB. */
  maxBits: 2 ** 26,
  /** Most hash functions. */
  maxHashes: 16
} as const

/** Bytes of one element. */
export const BLOOM_ELEMENT_BYTES = 16

/**
 * The optimal size for `n` elements at false-positive rate `fpr` (0 < fpr < 1):
 * m = ⌈−n·ln(fpr) / ln(2)²⌉ rounded up to a multiple of 8 and to at least 64 bits, capped at
 * `maxBits` (default 2^26; beyond ~7 million elements at 1 % the filter saturates and its rate
 * rises above `fpr`); k = round(m/n · ln 2) for that m, clamped to 1 … 16 (k = 1 for an empty set).
 */
export function bloomParams (n: number, fpr: number, maxBits: number = BLOOM_LIMITS.maxBits): BloomParams {
  if (!Number.isSafeInteger(n) || n < 0) throw INVALID_INPUT('n', `must be an integer ≥ 0 (got ${preview(n)})`)
  if (typeof fpr !== 'number' || !(fpr > 0 && fpr < 1)) throw INVALID_INPUT('fpr', `must be a number between 0 and 1, exclusive (got ${preview(fpr)})`)
  if (!Number.isSafeInteger(maxBits) || maxBits < BLOOM_LIMITS.minBits || maxBits > BLOOM_LIMITS.maxBits) {
    throw INVALID_INPUT('maxBits', `must be an integer from ${BLOOM_LIMITS.minBits} to ${BLOOM_LIMITS.maxBits} (got ${preview(maxBits)})`)
  }
  const cap = Math.floor(maxBits / 8) * 8
  const ideal = Math.ceil(-n * Math.log(fpr) / (Math.LN2 * Math.LN2))
  const m = Math.min(cap, Math.max(BLOOM_LIMITS.minBits, Math.ceil(ideal / 8) * 8))
  const k = n === 0 ? 1 : Math.min(BLOOM_LIMITS.maxHashes, Math.max(1, Math.round((m / n) * Math.LN2)))
  return { m, k }
}

/** Limits applied by `BloomFilter.decode`; each may only be lowered below BLOOM_LIMITS. */
export interface BloomDecodeLimits {
  /** Most bits accepted (default and ceiling: BLOOM_LIMITS.maxBits). */
  readonly maxBits?: number
}

/** The fields of an announced filter, as received (not yet checked). */
export interface BloomWire {
  readonly m: unknown
  readonly k: unknown
  readonly salt: unknown
  readonly bits: unknown
  /** Elements the announcer put in (optional; becomes `count`). */
  readonly n?: unknown
}

const U32 = 2 ** 32

/** The murmur3 finalizer: a bijection on 32-bit words with full avalanche (also riblt.ts). */
export function fmix32 (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < U32

export class BloomFilter {
  /** Number of bits. */
  readonly m: number
  /** Number of hash functions. */
  readonly k: number
  /** The 32-bit hash seed; fresh for every filter announced. */
  readonly salt: number
  /** The filter's bytes, m/8 of them (the wire form). */
  readonly bits: Uint8Array
  private added: number
  private readonly saltMix: number
  private h1 = 0
  private h2 = 0

  private constructor (m: number, k: number, salt: number, bits: Uint8Array, count: number) {
    this.m = m
    this.k = k
    this.salt = salt
    this.bits = bits
    this.added = count
    this.saltMix = fmix32(salt)
  }

  /** An empty filter of the given size and salt. Throws INVALID_INPUT on out-of-range values. */
  static create (params: BloomParams, salt: number): BloomFilter {
    const { m, k } = params
    if (!Number.isSafeInteger(m) || m < BLOOM_LIMITS.minBits || m > BLOOM_LIMITS.maxBits || m % 8 !== 0) {
      throw INVALID_INPUT('m', `must be a multiple of 8 from ${BLOOM_LIMITS.minBits} to ${BLOOM_LIMITS.maxBits} (got ${preview(m)})`)
    }
    if (!Number.isSafeInteger(k) || k < 1 || k > BLOOM_LIMITS.maxHashes) {
      throw INVALID_INPUT('k', `must be an integer from 1 to ${BLOOM_LIMITS.maxHashes} (got ${preview(k)})`)
    }
    if (!isU32(salt)) throw INVALID_INPUT('salt', `must be an integer from 0 to ${U32 - 1} (got ${preview(salt)})`)
    return new BloomFilter(m, k, salt, new Uint8Array(m / 8), 0)
  }

  /**
   * A filter announced by a peer. Every field is checked before anything is allocated: `m` a
   * multiple of 8 from 64 to 2^26 (or `limits.maxBits`), `k` from 1 to 16, `salt` a u32, `bits`
   * bytes, exactly m/8 of them, `n` (optional) an integer ≥ 0. Throws PROTOCOL naming the field.
   * The filter reads `bits` in place (no copy).
   */
  static decode (wire: BloomWire, limits: BloomDecodeLimits = {}): BloomFilter {
    if (typeof wire !== 'object' || wire === null) throw PROTOCOL('bloom: must be an object')
    const maxBits = Math.min(limits.maxBits ?? BLOOM_LIMITS.maxBits, BLOOM_LIMITS.maxBits)
    const { m, k, salt, bits, n } = wire
    if (typeof m !== 'number' || !Number.isSafeInteger(m) || m < BLOOM_LIMITS.minBits || m > maxBits || m % 8 !== 0) {
      throw PROTOCOL(`bloom.m: must be a multiple of 8 from ${BLOOM_LIMITS.minBits} to ${maxBits} bits (got ${wirePreview(m)})`, { field: 'm' })
    }
    if (typeof k !== 'number' || !Number.isSafeInteger(k) || k < 1 || k > BLOOM_LIMITS.maxHashes) {
      throw PROTOCOL(`bloom.k: must be an integer from 1 to ${BLOOM_LIMITS.maxHashes} (got ${wirePreview(k)})`, { field: 'k' })
    }
    if (!isU32(salt)) throw PROTOCOL(`bloom.salt: must be an integer from 0 to ${U32 - 1} (got ${wirePreview(salt)})`, { field: 'salt' })
    if (!(bits instanceof Uint8Array)) throw PROTOCOL('bloom.bits: must be bytes', { field: 'bits' })
    if (bits.byteLength !== m / 8) {
      throw PROTOCOL(`bloom.bits: must be exactly m/8 = ${m / 8} bytes (got ${bits.byteLength})`, { field: 'bits' })
    }
    let count = 0
    if (n !== undefined) {
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw PROTOCOL(`bloom.n: must be an integer ≥ 0 (got ${wirePreview(n)})`, { field: 'n' })
      count = n
    }
    const view = bits.constructor === Uint8Array ? bits : new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength)
    return new BloomFilter(m, k, salt, view, count)
  }

  /** Elements added (for a decoded filter: the announced `n`, else 0). */
  get count (): number {
    return this.added
  }

  /** Adds a 16-byte element. */
  add (el: Uint8Array): void {
    this.hash(el)
    const h1 = this.h1
    const h2 = this.h2
    const bits = this.bits
    const m = this.m
    for (let i = 0; i < this.k; i++) {
      const p = ((h1 + Math.imul(i, h2)) >>> 0) % m
      bits[p >>> 3]! |= 1 << (p & 7)
    }
    this.added++
  }

  /** True when the element may be in the set (false positives at about the configured rate); false when it is certainly not. */
  has (el: Uint8Array): boolean {
    this.hash(el)
    const h1 = this.h1
    const h2 = this.h2
    const bits = this.bits
    const m = this.m
    for (let i = 0; i < this.k; i++) {
      const p = ((h1 + Math.imul(i, h2)) >>> 0) % m
      if ((bits[p >>> 3]! & (1 << (p & 7))) === 0) return false
    }
    return true
  }

  /** The k bit positions of an element, in hash order (pos_0 … pos_k−1): the reference for the hashing rule. */
  positions (el: Uint8Array): number[] {
    this.hash(el)
    const out: number[] = []
    for (let i = 0; i < this.k; i++) out.push(((this.h1 + Math.imul(i, this.h2)) >>> 0) % this.m)
    return out
  }

  /** The false-positive rate of this filter as filled: (fraction of bits set)^k. */
  estimatedFpr (): number {
    let ones = 0
    for (const byte of this.bits) ones += POPCOUNT[byte]!
    return (ones / this.m) ** this.k
  }

  /** Sets h1 and h2 for `el` (scratch fields: no allocation per element). */
  private hash (el: Uint8Array): void {
    if (el.byteLength !== BLOOM_ELEMENT_BYTES) throw INVALID_INPUT('element', `must be ${BLOOM_ELEMENT_BYTES} bytes (got ${el.byteLength})`)
    const w0 = word(el, 0)
    const w1 = word(el, 4)
    const w2 = word(el, 8)
    const w3 = word(el, 12)
    const s = this.saltMix
    this.h1 = fmix32((w0 ^ fmix32((w1 ^ s) >>> 0)) >>> 0)
    this.h2 = (fmix32((w2 ^ fmix32((w3 ^ s ^ 0x9e3779b9) >>> 0)) >>> 0) | 1) >>> 0
  }
}

/** Little-endian u32 at offset `o`. */
function word (b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
}

const POPCOUNT = (() => {
  const t = new Uint8Array(256)
  for (let i = 1; i < 256; i++) t[i] = (i & 1) + t[i >>> 1]!
  return t
})()

/**
 * A short rendering of a value received from a peer, for PROTOCOL errors. Bounded work whatever
 * the value (never serializes a large array or map): scalars as themselves, containers by size.
 */
export function wirePreview (v: unknown): string {
  switch (typeof v) {
    case 'number': case 'boolean': case 'undefined': return String(v)
    case 'bigint': return `${v}n`
    case 'string': return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}…` : JSON.stringify(v)
    default:
      if (v === null) return 'null'
      if (ArrayBuffer.isView(v)) return `${v.byteLength} bytes`
      if (Array.isArray(v)) return `an array of ${v.length}`
      return typeof v === 'object' ? 'a map' : typeof v
  }
}
