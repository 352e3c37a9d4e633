/**
 * Rateless invertible Bloom lookup tables (RIBLT: Yang, Gilad and Alizadeh, "Practical Rateless
 * Set Reconciliation", SIGCOMM 2024) over 64-bit ids, as a pure codec: no I/O, no clock.
 *
 * A set of ids is coded into an endless sequence of coded symbols; symbol i is, over the ids
 * mapped to it, the XOR of the ids (`sum`, 8 bytes), the XOR of their checksums (`check`,
 * 4 bytes) and their count modulo 256 (`count`, 1 byte): 13 bytes on the wire. Every id maps to
 * symbol 0 and then to a pseudo-random, ever sparser sequence of indices (the chance that id
 * maps to symbol i is about 1 / (1 + i/2)), drawn from a generator seeded by the id itself, so
 * both peers map an id alike without agreeing on anything but the ids.
 *
 * A receiver subtracts the symbols of its own set from the peer's, leaving the symbols of the
 * symmetric difference, and peels them: a symbol whose count is ±1 and whose check is the
 * checksum of its sum holds one id alone (+1: only the peer has it, −1: only we do); removing
 * that id from every symbol it maps to frees others. Decoding has ended when symbol 0 is empty.
 * About 1.35 d to 2 d symbols decode d differences (more per difference when d is small), and
 * the sender need not know d beforehand: it sends more symbols until the receiver has enough.
 *
 * Ids here are the first 8 bytes of 16-byte window elements (`idsOf`), themselves BLAKE3
 * hashes of records, so ids are uniform and the symbol 0 of a window set (every id maps to it)
 * can be kept up to date as the set changes (codedSummary.ts). Two elements of one window
 * sharing an id (chance 10^-9 at 200,000 elements; found on purpose only by the peer that wrote
 * both records, at 2^32 work) look alike to these rounds: the records still travel by the
 * stream, and a decode such ids keep from ending falls back to a bloom round. The count is kept
 * modulo 256: wrapping cannot fake a pure symbol, because the 32-bit check must match too.
 *
 * Limits on what a peer sends (docs/LIMITS.md): at most RIBLT_LIMITS.maxSymbols symbols in one
 * round and RIBLT_LIMITS.maxDecoded ids peeled; symbol batches must be whole symbols. Hostile
 * symbols can only yield ids that are then looked up (and not found) or a decode that does not
 * end before the limit: never unbounded work.
 */
import { INTERNAL, LIMIT_EXCEEDED, PROTOCOL } from '../../core/errors.ts'
import { fmix32 } from './bloom.ts'

/** Bytes of one coded symbol on the wire: sum (8), check (4), count (1). */
export const SYMBOL_BYTES = 13

export const RIBLT_LIMITS = {
  /** Most coded symbols of one round (a decoder refuses more; about 40,000 differences). */
  maxSymbols: 65_536,
  /** Most ids a decoder peels in one round (honest symbols never come near it). */
  maxDecoded: 131_072
} as const

/** The murmur3 finalizer (bloom.ts), the mixing function of ids, checks and mappings. */
export const mix32 = fmix32

/** Bytes of an id: the first 8 bytes of a window element. */
export const ID_BYTES = 8

/**
 * The 64-bit ids of window elements, as pairs (hi, lo) in one array: [hi0, lo0, hi1, …]; an id
 * is the element's first 8 bytes read big-endian (its first 12 bits are its fine bucket).
 */
export function idsOf (elements: Iterable<Uint8Array>, count: number): Uint32Array {
  const out = new Uint32Array(count * 2)
  let i = 0
  for (const e of elements) {
    if (i >= count) break
    out[2 * i] = idHi(e)
    out[2 * i + 1] = idLo(e)
    i++
  }
  if (i !== count) throw INTERNAL(`riblt: ${i} elements where ${count} were expected`)
  return out
}

/** The high 32 bits of an element's id (its bytes 0–3, big-endian). */
export const idHi = (e: Uint8Array): number => (e[0]! << 24 | e[1]! << 16 | e[2]! << 8 | e[3]!) >>> 0

/** The low 32 bits of an element's id (its bytes 4–7, big-endian). */
export const idLo = (e: Uint8Array): number => (e[4]! << 24 | e[5]! << 16 | e[6]! << 8 | e[7]!) >>> 0

/** The 32-bit checksum of an id (nonlinear, so the XOR of several ids does not pass for one). */
export function checksumOf (hi: number, lo: number): number {
  return mix32(mix32(hi ^ 0x27d4eb2f) ^ lo ^ 0x165667b1)
}

/**
 * Where ids map: for each id, its PRNG state (two 32-bit lanes, seeded by the id) and the next
 * symbol index it maps to (starting at 0). Indices past the round's limit are never reached.
 */
class Mappings {
  readonly ids: Uint32Array
  private readonly lanes: Uint32Array
  private readonly next: Float64Array

  constructor (ids: Uint32Array) {
    this.ids = ids
    this.lanes = ids.slice()
    this.next = new Float64Array(ids.length / 2)
  }

  get size (): number {
    return this.next.length
  }

  /** Calls `at(index, i)` for every index in [lo, hi) that id i maps to, and moves past hi. */
  forEachIn (lo: number, hi: number, at: (index: number, i: number) => void): void {
    const next = this.next
    for (let i = 0; i < next.length; i++) {
      while (next[i]! < hi) {
        if (next[i]! >= lo) at(next[i]!, i)
        next[i] = this.step(i)
      }
    }
  }

  /** The index after id i's current one: a gap drawn so that index j is hit with chance ≈ 1/(1 + j/2). */
  private step (i: number): number {
    const a = (this.lanes[2 * i]! + 0x9e3779b9) >>> 0
    const b = (this.lanes[2 * i + 1]! + 0x632be5ab) >>> 0
    this.lanes[2 * i] = a
    this.lanes[2 * i + 1] = b
    // u uniform in (0, 1], from 53 bits of the two lanes
    const u = (mix32(a) * 2 ** 21 + (mix32(b ^ 0x5bd1e995) >>> 11) + 1) / 2 ** 53
    const last = this.next[i]!
    const gap = Math.ceil((last + 1.5) * (1 / Math.sqrt(u) - 1))
    return last + Math.max(1, gap)
  }
}

/** Coded symbols [0, length) in columns; grows as batches arrive. */
class Symbols {
  hi = new Uint32Array(0)
  lo = new Uint32Array(0)
  check = new Uint32Array(0)
  count = new Uint8Array(0)
  length = 0

  grow (length: number): void {
    if (length <= this.hi.length) { this.length = length; return }
    const cap = Math.max(length, this.hi.length * 2, 16)
    const widen = <T extends Uint32Array | Uint8Array>(old: T, make: (n: number) => T): T => { const a = make(cap); a.set(old); return a }
    this.hi = widen(this.hi, n => new Uint32Array(n))
    this.lo = widen(this.lo, n => new Uint32Array(n))
    this.check = widen(this.check, n => new Uint32Array(n))
    this.count = widen(this.count, n => new Uint8Array(n))
    this.length = length
  }

  /** Adds (sign +1) or removes (−1) id (hi, lo) at index j. */
  toggle (j: number, hi: number, lo: number, sign: number): void {
    this.hi[j]! ^= hi
    this.lo[j]! ^= lo
    this.check[j]! ^= checksumOf(hi, lo)
    this.count[j] = (this.count[j]! + sign) & 0xff
  }

  isEmpty (j: number): boolean {
    return this.hi[j] === 0 && this.lo[j] === 0 && this.check[j] === 0 && this.count[j] === 0
  }

  /** +1 or −1 when symbol j holds one id alone, else 0. */
  purity (j: number): number {
    const c = this.count[j]!
    if (c !== 1 && c !== 0xff) return 0
    if (checksumOf(this.hi[j]!, this.lo[j]!) !== this.check[j]) return 0
    return c === 1 ? 1 : -1
  }
}

/** Writes one symbol at byte `o` of `out`: sum hi, sum lo, check (little-endian), count. */
function putSymbol (out: Uint8Array, o: number, hi: number, lo: number, check: number, count: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  view.setUint32(o, hi, true)
  view.setUint32(o + 4, lo, true)
  view.setUint32(o + 8, check, true)
  out[o + 12] = count & 0xff
}

/** One symbol on the wire (symbol 0 of a set, kept by codedSummary.ts). */
export function symbolBytes (hi: number, lo: number, check: number, count: number): Uint8Array {
  const out = new Uint8Array(SYMBOL_BYTES)
  putSymbol(out, 0, hi, lo, check, count)
  return out
}

/** What the difference of two symbols 0 tells: the sets are equal, differ by one id, or by more. */
export type SymbolZeroDifference =
  | { readonly kind: 'equal' }
  | { readonly kind: 'one', readonly hi: number, readonly lo: number, readonly sign: number }
  | { readonly kind: 'more' }

/**
 * The peer's symbol 0 minus ours (13 bytes each): `one` gives the id alone in the difference and
 * its sign (+1: only the peer has it). O(1): no set is read.
 */
export function compareSymbolZero (remote: Uint8Array, local: Uint8Array): SymbolZeroDifference {
  if (remote.byteLength !== SYMBOL_BYTES || local.byteLength !== SYMBOL_BYTES) throw PROTOCOL(`riblt: symbol 0 must be ${SYMBOL_BYTES} bytes`)
  const r = new DataView(remote.buffer, remote.byteOffset, SYMBOL_BYTES)
  const l = new DataView(local.buffer, local.byteOffset, SYMBOL_BYTES)
  const d = new Symbols()
  d.grow(1)
  d.hi[0] = r.getUint32(0, true) ^ l.getUint32(0, true)
  d.lo[0] = r.getUint32(4, true) ^ l.getUint32(4, true)
  d.check[0] = r.getUint32(8, true) ^ l.getUint32(8, true)
  d.count[0] = (remote[12]! - local[12]!) & 0xff
  if (d.isEmpty(0)) return { kind: 'equal' }
  const sign = d.purity(0)
  return sign === 0 ? { kind: 'more' } : { kind: 'one', hi: d.hi[0]!, lo: d.lo[0]!, sign }
}

/** Packs symbols [from, to) of a table. */
function pack (s: Symbols, from: number, to: number): Uint8Array {
  const out = new Uint8Array((to - from) * SYMBOL_BYTES)
  for (let j = from; j < to; j++) putSymbol(out, (j - from) * SYMBOL_BYTES, s.hi[j]!, s.lo[j]!, s.check[j]!, s.count[j]!)
  return out
}

/**
 * Codes a set of ids into symbols, batch after batch (`next`). One encoder per round and peer.
 *
 *   const enc = new RibltEncoder(idsOf(elements, n))
 *   send(enc.next(1))          // symbol 0; later enc.next(k) gives symbols [sent, k)
 */
export class RibltEncoder {
  private readonly map: Mappings
  private readonly table = new Symbols()

  constructor (ids: Uint32Array) {
    this.map = new Mappings(ids)
  }

  /** Symbols coded so far. */
  get produced (): number {
    return this.table.length
  }

  /** Symbols [produced, upTo), packed (empty when upTo ≤ produced); upTo is capped at maxSymbols. */
  next (upTo: number): Uint8Array {
    const from = this.table.length
    const to = Math.min(Math.max(from, Math.floor(upTo)), RIBLT_LIMITS.maxSymbols)
    if (to === from) return new Uint8Array(0)
    this.table.grow(to)
    const ids = this.map.ids
    this.map.forEachIn(from, to, (j, i) => this.table.toggle(j, ids[2 * i]!, ids[2 * i + 1]!, 1))
    return pack(this.table, from, to)
  }
}

/** What a decoder found: the ids only the peer has and those only we have (pairs hi, lo). */
export interface RibltDifference {
  readonly remote: Uint32Array
  readonly local: Uint32Array
}

/**
 * Decodes the symmetric difference between the local ids and a peer's, from the peer's symbols
 * given batch after batch (`add`), in order from symbol 0.
 *
 *   const dec = new RibltDecoder(idsOf(mine, n))
 *   dec.add(batch)                     // PROTOCOL / LIMIT_EXCEEDED on hostile input
 *   if (dec.done) use(dec.difference())
 */
export class RibltDecoder {
  private readonly local: Mappings
  private readonly diff = new Symbols()
  /** Ids peeled so far, with their sign, and their mappings (to take them out of later symbols). */
  private readonly peeledIds: number[] = []
  private readonly peeledSign: number[] = []
  private peeled: Mappings[] = []
  private finished = false

  constructor (localIds: Uint32Array) {
    this.local = new Mappings(localIds)
  }

  /** Symbols received so far. */
  get received (): number {
    return this.diff.length
  }

  /** True once the difference is fully decoded (symbol 0 peeled empty). */
  get done (): boolean {
    return this.finished
  }

  /** Ids decoded so far. */
  get decoded (): number {
    return this.peeledSign.length
  }

  /** Takes the peer's next symbols (packed, following those received) and peels what it can. */
  add (packed: Uint8Array): void {
    if (packed.byteLength % SYMBOL_BYTES !== 0) throw PROTOCOL(`riblt: a symbol batch must be a multiple of ${SYMBOL_BYTES} bytes (got ${packed.byteLength})`)
    const from = this.diff.length
    const to = from + packed.byteLength / SYMBOL_BYTES
    if (to > RIBLT_LIMITS.maxSymbols) throw LIMIT_EXCEEDED('riblt symbols in one round', RIBLT_LIMITS.maxSymbols, to)
    if (this.finished || to === from) return
    const d = this.diff
    d.grow(to)
    const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength)
    for (let j = from; j < to; j++) {
      const o = (j - from) * SYMBOL_BYTES
      d.hi[j] = view.getUint32(o, true)
      d.lo[j] = view.getUint32(o + 4, true)
      d.check[j] = view.getUint32(o + 8, true)
      d.count[j] = packed[o + 12]!
    }
    const ids = this.local.ids
    this.local.forEachIn(from, to, (j, i) => d.toggle(j, ids[2 * i]!, ids[2 * i + 1]!, -1))
    this.peeled.forEach((m, p) => {
      m.forEachIn(from, to, j => d.toggle(j, this.peeledIds[2 * p]!, this.peeledIds[2 * p + 1]!, -this.peeledSign[p]!))
    })
    const queue: number[] = []
    for (let j = from; j < to; j++) if (d.purity(j) !== 0) queue.push(j)
    this.peel(queue)
    this.finished = d.isEmpty(0)
  }

  /** The decoded difference (complete once `done`). */
  difference (): RibltDifference {
    const remote: number[] = []
    const local: number[] = []
    this.peeledSign.forEach((s, p) => (s > 0 ? remote : local).push(this.peeledIds[2 * p]!, this.peeledIds[2 * p + 1]!))
    return { remote: Uint32Array.from(remote), local: Uint32Array.from(local) }
  }

  private peel (queue: number[]): void {
    const d = this.diff
    for (let j = queue.pop(); j !== undefined; j = queue.pop()) {
      const sign = d.purity(j)
      if (sign === 0) continue
      if (this.peeledSign.length >= RIBLT_LIMITS.maxDecoded) throw LIMIT_EXCEEDED('riblt ids peeled in one round', RIBLT_LIMITS.maxDecoded, this.peeledSign.length + 1)
      const hi = d.hi[j]!
      const lo = d.lo[j]!
      const m = new Mappings(Uint32Array.of(hi, lo))
      m.forEachIn(0, d.length, k => {
        d.toggle(k, hi, lo, -sign)
        if (d.purity(k) !== 0) queue.push(k)
      })
      this.peeledIds.push(hi, lo)
      this.peeledSign.push(sign)
      this.peeled.push(m)
    }
  }
}
