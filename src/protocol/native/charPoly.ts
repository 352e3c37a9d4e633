/**
 * Small differences by characteristic polynomials (Minsky, Trachtenberg and Zippel, "Set
 * reconciliation with nearly optimal communication complexity"), pure: the exact code coded rounds
 * version 2 use for an estimated difference of a few ids (recon.ts), where a first batch of
 * coded symbols (riblt.ts, 13 bytes each, a dozen of them for two differences) would cost more
 * than the records themselves.
 *
 * Every element of a set maps to a value x of the field GF(p), p = 2^31 − 1 (valueOf: a hash of
 * its id and the round's salt). The set's characteristic polynomial χ_S(z) = Π (z − x) is sent
 * as its values at m fixed points z_i = p − 1 − i (4 bytes each). For two sets A and B,
 *
 *     χ_A(z) / χ_B(z) = P(z) / Q(z),  P = Π over A \ B of (z − x),  Q = Π over B \ A,
 *
 * since the shared elements cancel. With deg P − deg Q = |A| − |B| known, a difference of D ids
 * is the unique monic pair (P, Q) of total degree D matching D of the ratios (a linear system);
 * `decode` tries D = |Δ|, |Δ| + 2, … and accepts the first solution that matches VERIFY_POINTS
 * more ratios it was not fitted to, then the caller finds P's roots among its own elements
 * (`rootsIn`: all deg P of them, distinct, or the decode is wrong) and sends Q's coefficients
 * (4 bytes each) for the peer to find Q's roots among its own.
 *
 * A wrong answer needs a wrong (P, Q) to match every check point (chance about D / p per point)
 * AND split into deg P distinct roots that are values of the caller's own elements; a difference
 * larger than m − VERIFY_POINTS simply finds no solution. Either way the caller learns it and falls
 * back to coded symbols. One case no check sees: an id only on one side whose value equals that
 * of an id only on the other (chance about D² / 2^32 a round) cancels from both P and Q and is
 * missed by this round; the salt changes every round, so the next one finds it.
 *
 * Arithmetic is exact in doubles: a product of two field elements is split at 16 bits so that no
 * intermediate exceeds 2^32 (mulmod).
 */
import { fmix32 } from './bloom.ts'

/** The field's prime, 2^31 − 1. */
export const FIELD_PRIME = 2_147_483_647
/** Bytes of a field element on the wire (big-endian u32 below FIELD_PRIME). */
export const FIELD_BYTES = 4
/** Ratios a decode must match beyond those it was fitted to. */
export const VERIFY_POINTS = 2

const P = FIELD_PRIME

/**
 * a · b mod p for a, b in [0, p): with a = a1·2^16 + a0 and b likewise, and 2^31 ≡ 1 (so
 * x ≡ (x >>> 31) + (x & (2^31 − 1)) for x < 2^32), a·b ≡ 2·a1·b1 + (a1·b0 + a0·b1)·2^16 + a0·b0,
 * every part folded below 2^32 with 32-bit operations.
 */
export function mulmod (a: number, b: number): number {
  const a1 = a >>> 16
  const a0 = a & 0xffff
  const b1 = b >>> 16
  const b0 = b & 0xffff
  const mid = a1 * b0 + a0 * b1
  const lo = a0 * b0
  const t1 = 2 * a1 * b1 + (mid & 0x7fff) * 65536
  const t2 = (lo >>> 31) + (lo & 0x7fffffff) + (mid >>> 15)
  let r = (t1 >>> 31) + (t1 & 0x7fffffff) + (t2 >>> 31) + (t2 & 0x7fffffff)
  if (r >= P) r -= P
  return r >= P ? r - P : r
}

const sub = (a: number, b: number): number => (a >= b ? a - b : a - b + P)

/** a^e mod p. */
function powmod (a: number, e: number): number {
  let r = 1
  let x = a
  while (e > 0) {
    if (e % 2 === 1) r = mulmod(r, x)
    x = mulmod(x, x)
    e = Math.floor(e / 2)
  }
  return r
}

/** The inverse of a ≠ 0. */
const inv = (a: number): number => powmod(a, P - 2)

/** The evaluation point i. */
export const point = (i: number): number => P - 1 - i

/** The field value of the element with id (hi, lo) in a round salted `salt`. */
export function valueOf (hi: number, lo: number, salt: number): number {
  const v = fmix32(fmix32(lo ^ fmix32(salt ^ 0x5bd1e995)) ^ hi) >>> 1
  return v === P ? 0 : v
}

/** χ_S at points 0 … m − 1 for the set of ids (pairs hi, lo, as idsOf gives them). */
export function evaluations (ids: Uint32Array, salt: number, m: number): Uint32Array {
  const acc = new Float64Array(m).fill(1)
  const z = Float64Array.from({ length: m }, (_, i) => point(i))
  for (let k = 0; k < ids.length; k += 2) {
    const x = valueOf(ids[k]!, ids[k + 1]!, salt)
    for (let i = 0; i < m; i++) acc[i] = mulmod(acc[i]!, sub(z[i]!, x))
  }
  return Uint32Array.from(acc)
}

/** A decoded difference: the monic polynomials P (own side) and Q (the peer's), coefficients low to high without the leading 1. */
export interface PolyDifference {
  readonly own: Uint32Array
  readonly theirs: Uint32Array
}

/** The value of the monic polynomial with lower coefficients c at x. */
export function monicAt (c: Uint32Array, x: number): number {
  let r = 1
  for (let j = c.length - 1; j >= 0; j--) r = (mulmod(r, x) + c[j]!) % P
  return r
}

/**
 * P and Q from χ_own and χ_theirs at the same points (a zero on either side drops the point),
 * `delta` = |own| − |theirs|; undefined when no total degree up to usable points − VERIFY_POINTS
 * fits (the difference is larger, or the values are not of two such sets). D = 0 is not tried:
 * the caller knows the sets differ.
 */
export function decode (own: Uint32Array, theirs: Uint32Array, delta: number): PolyDifference | undefined {
  const zs: number[] = []
  const rs: number[] = []
  for (let i = 0; i < Math.min(own.length, theirs.length); i++) {
    if (own[i] === 0 || theirs[i] === 0 || own[i]! >= P || theirs[i]! >= P) continue
    zs.push(point(i))
    rs.push(mulmod(own[i]!, inv(theirs[i]!)))
  }
  for (let d = delta === 0 ? 2 : Math.abs(delta); d + VERIFY_POINTS <= zs.length; d += 2) {
    const a = (d + delta) / 2
    const b = (d - delta) / 2
    const solved = solve(zs, rs, a, b)
    if (solved === undefined) continue
    let ok = true
    for (let i = d; i < zs.length && ok; i++) ok = monicAt(solved.own, zs[i]!) === mulmod(rs[i]!, monicAt(solved.theirs, zs[i]!))
    if (ok) return solved
  }
  return undefined
}

/**
 * The monic P (degree a) and Q (degree b) with P(z_i) = r_i · Q(z_i) at the first a + b points:
 * Σ_{j<a} p_j z^j − r Σ_{j<b} q_j z^j = r z^b − z^a. Undefined when the system is singular.
 */
function solve (zs: number[], rs: number[], a: number, b: number): PolyDifference | undefined {
  const n = a + b
  const rows: number[][] = []
  for (let i = 0; i < n; i++) {
    const z = zs[i]!
    const r = rs[i]!
    const row = new Array<number>(n + 1)
    let zj = 1
    for (let j = 0; j < Math.max(a, b) + 1; j++) {
      if (j < a) row[j] = zj
      if (j < b) row[a + j] = sub(0, mulmod(r, zj))
      if (j === a) row[n] = sub(row[n] ?? 0, zj)
      if (j === b) row[n] = ((row[n] ?? 0) + mulmod(r, zj)) % P
      zj = mulmod(zj, z)
    }
    rows.push(row)
  }
  for (let c = 0; c < n; c++) {
    let pivot = c
    while (pivot < n && rows[pivot]![c] === 0) pivot++
    if (pivot === n) return undefined
    ;[rows[c], rows[pivot]] = [rows[pivot]!, rows[c]!]
    const pr = rows[c]!
    const k = inv(pr[c]!)
    for (let j = c; j <= n; j++) pr[j] = mulmod(pr[j]!, k)
    for (let i = 0; i < n; i++) {
      const row = rows[i]!
      const f = row[c]!
      if (i === c || f === 0) continue
      for (let j = c; j <= n; j++) row[j] = sub(row[j]!, mulmod(f, pr[j]!))
    }
  }
  const x = rows.map(row => row[n]!)
  return { own: Uint32Array.from(x.slice(0, a)), theirs: Uint32Array.from(x.slice(a)) }
}

/**
 * The indices (into pairs of ids) of the elements whose values are roots of the monic polynomial
 * c, and how many distinct values those are: a decode is right only if that is deg c, every root
 * an element's value. (Several elements sharing a root's value are all returned.)
 */
export function rootsIn (ids: Uint32Array, salt: number, c: Uint32Array): { indices: number[], distinct: number } {
  const indices: number[] = []
  const values = new Set<number>()
  if (c.length === 0) return { indices, distinct: 0 }
  for (let k = 0; k < ids.length; k += 2) {
    const x = valueOf(ids[k]!, ids[k + 1]!, salt)
    if (monicAt(c, x) !== 0) continue
    indices.push(k / 2)
    values.add(x)
  }
  return { indices, distinct: values.size }
}

/** Field elements packed 4 bytes each, big-endian. */
export function packField (xs: Uint32Array): Uint8Array {
  const out = new Uint8Array(xs.length * FIELD_BYTES)
  const view = new DataView(out.buffer)
  for (let i = 0; i < xs.length; i++) view.setUint32(i * FIELD_BYTES, xs[i]!, false)
  return out
}

/** The field elements of packField (values ≥ p are kept: decode and monicAt treat them as no match). */
export function unpackField (bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return Uint32Array.from({ length: bytes.byteLength / FIELD_BYTES }, (_, i) => view.getUint32(i * FIELD_BYTES, false))
}
