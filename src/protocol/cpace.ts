/**
 * CPace over ristretto255 with SHA-512 (CPACE-RISTR255-SHA512 of draft-irtf-cfrg-cpace), the
 * balanced password-authenticated key exchange behind both sync handshakes: two nodes that hold
 * the same secret (p2p.seed, sync.passphrase) agree on a strong key, and what either of them, or
 * anyone watching, sees gives nothing to test a guess of the secret against offline. Someone
 * without the secret who runs the exchange can test one guess per run, and only online.
 *
 * Pure: no I/O and no randomness of its own (the caller passes the random bytes a share is made
 * from). The functions follow the draft's names and are checked against its test vectors
 * (test/sync/cpace.test.ts):
 *
 *   g   = element_derivation(SHA-512(generator_string(DSI, PRS, CI, sid)))   (RFC 9496 §4.3.4)
 *   Y   = encode(y · g)                                                        the public share
 *   K   = encode(y · decode(Y_peer)), refused when Y_peer does not decode or K is the identity
 *   ISK = SHA-512(lv_cat(DSI ‖ "_ISK", sid, K) ‖ transcript)
 *
 * with the transcript in initiator/responder order (`ir`, when one side speaks first) or ordered
 * (`oc`, when both send at once). Key confirmation (the draft's §9.6 option): each side sends
 * HMAC-SHA-512(mac_key, lv_cat(Y, AD)) over its own message, mac_key = SHA-512("CPaceMac" ‖ sid ‖ ISK).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js'

export const CPACE_DSI = 'CPaceRistretto255'
/** Input block size of SHA-512, bytes. */
const S_IN_BYTES = 128
/** Bytes of a share, of K, and of the random input of a scalar. */
export const CPACE_POINT_BYTES = 32
export const CPACE_SCALAR_BYTES = 32
/** Bytes of ISK and of a confirmation tag. */
export const CPACE_ISK_BYTES = 64
export const CPACE_TAG_BYTES = 64

/** A ristretto255 element, as this module uses it. */
export interface GroupElement {
  multiply (scalar: bigint): GroupElement
  toBytes (): Uint8Array
  is0 (): boolean
}
const Point = ristretto255.Point
const ORDER = Point.Fn.ORDER

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const bytes = (b: Uint8Array | string): Uint8Array => typeof b === 'string' ? utf8(b) : b

/** The byte strings, one after the other. */
export function concat (parts: readonly Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.byteLength
  const out = new Uint8Array(n)
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.byteLength }
  return out
}

const sha512 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha512').update(data).digest())

/** The length of `data` in LEB128, then `data`. */
export function prependLen (data: Uint8Array | string): Uint8Array {
  const d = bytes(data)
  const len: number[] = []
  let n = d.byteLength
  do {
    len.push(n < 128 ? n : (n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  } while (n > 0)
  return concat([Uint8Array.from(len), d])
}

/** prepend_len of each argument, concatenated. */
export function lvCat (...parts: ReadonlyArray<Uint8Array | string>): Uint8Array {
  return concat(parts.map(prependLen))
}

/** "oc", then the lexicographically larger string, then the other. */
export function oCat (a: Uint8Array, b: Uint8Array): Uint8Array {
  return concat([utf8('oc'), ...(Buffer.compare(a, b) > 0 ? [a, b] : [b, a])])
}

export function transcriptIr (ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  return concat([lvCat(ya, ada), lvCat(yb, adb)])
}

export function transcriptOc (ya: Uint8Array, ada: Uint8Array, yb: Uint8Array, adb: Uint8Array): Uint8Array {
  return oCat(lvCat(ya, ada), lvCat(yb, adb))
}

/** lv_cat(DSI, PRS, zero padding to fill SHA-512's first block, CI, sid). */
export function generatorString (prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): Uint8Array {
  const zpad = Math.max(0, S_IN_BYTES - 1 - prependLen(prs).byteLength - prependLen(CPACE_DSI).byteLength)
  return lvCat(CPACE_DSI, prs, new Uint8Array(zpad), ci, sid)
}

/** The generator of a session: the password (PRS), channel identifier (CI) and session id mapped onto the group. */
export function calculateGenerator (prs: Uint8Array, ci: Uint8Array, sid: Uint8Array): GroupElement {
  return ristretto255_hasher.deriveToCurve!(sha512(generatorString(prs, ci, sid)))
}

/**
 * The scalar made from 32 random bytes, little-endian, the bits above the group's 252 cleared
 * (so it is below the group order); undefined for zero, which the caller draws again for.
 */
export function scalarFromBytes (random: Uint8Array): bigint | undefined {
  if (random.byteLength !== CPACE_SCALAR_BYTES) throw new RangeError(`a scalar is made from ${CPACE_SCALAR_BYTES} random bytes`)
  let y = 0n
  for (let i = random.byteLength - 1; i >= 0; i--) y = (y << 8n) | BigInt(random[i]!)
  y &= (1n << 252n) - 1n
  return y === 0n ? undefined : y
}

/** encode(y · g). */
export function scalarMult (y: bigint, g: GroupElement): Uint8Array {
  return g.multiply(y).toBytes()
}

/**
 * encode(y · decode(x)), or undefined when `x` is not the canonical encoding of a group element
 * or the result is the identity (the draft's G.I: the protocol must abort).
 */
export function scalarMultVfy (y: bigint, x: Uint8Array): Uint8Array | undefined {
  if (x.byteLength !== CPACE_POINT_BYTES) return undefined
  let p: GroupElement
  try {
    p = Point.fromBytes(x)
  } catch {
    return undefined
  }
  if (p.is0()) return undefined
  const k = p.multiply(y % ORDER)
  return k.is0() ? undefined : k.toBytes()
}

export type TranscriptOrder = 'ir' | 'oc'

/** ISK = SHA-512(lv_cat(DSI ‖ "_ISK", sid, K) ‖ transcript). */
export function intermediateKey (sid: Uint8Array, k: Uint8Array, transcript: Uint8Array): Uint8Array {
  return sha512(concat([lvCat(CPACE_DSI + '_ISK', sid, k), transcript]))
}

/** One side of a CPace run: its scalar and the share it sends. */
export interface CpaceSide {
  readonly scalar: bigint
  readonly share: Uint8Array
}

/** Draws this side's scalar (32 random bytes; `random` is asked again in the negligible case of zero) and computes its share. */
export function cpaceShare (prs: Uint8Array, ci: Uint8Array, sid: Uint8Array, random: () => Uint8Array): CpaceSide {
  let scalar: bigint | undefined
  for (let i = 0; i < 8 && scalar === undefined; i++) scalar = scalarFromBytes(random())
  if (scalar === undefined) throw new RangeError('the random source gave zero eight times')
  return { scalar, share: scalarMult(scalar, calculateGenerator(prs, ci, sid)) }
}

export interface CpaceRun {
  readonly side: CpaceSide
  readonly sid: Uint8Array
  /** This side's associated data (sent with its share). */
  readonly ad: Uint8Array
  readonly peerShare: Uint8Array
  readonly peerAd: Uint8Array
  /** 'ir': this side is the initiator ('a') or responder ('b'); 'oc': both send at once. */
  readonly order: TranscriptOrder
  readonly role?: 'a' | 'b'
}

/** The ISK of a run, or undefined when the peer's share is invalid (abort). */
export function cpaceKey (run: CpaceRun): Uint8Array | undefined {
  const k = scalarMultVfy(run.side.scalar, run.peerShare)
  if (k === undefined) return undefined
  const mine = [run.side.share, run.ad] as const
  const theirs = [run.peerShare, run.peerAd] as const
  const [a, b] = run.order === 'oc' || run.role !== 'b' ? [mine, theirs] : [theirs, mine]
  const t = run.order === 'oc' ? transcriptOc(a[0], a[1], b[0], b[1]) : transcriptIr(a[0], a[1], b[0], b[1])
  return intermediateKey(run.sid, k, t)
}

/** The confirmation tag of the side that sent (`share`, `ad`): HMAC-SHA-512(mac_key, lv_cat(share, ad)). */
export function confirmationTag (isk: Uint8Array, sid: Uint8Array, share: Uint8Array, ad: Uint8Array): Uint8Array {
  const macKey = sha512(concat([utf8('CPaceMac'), sid, isk]))
  return new Uint8Array(createHmac('sha512', macKey).update(lvCat(share, ad)).digest())
}

/** Whether `tag` confirms the peer's message, compared in constant time. */
export function verifyConfirmation (isk: Uint8Array, sid: Uint8Array, peerShare: Uint8Array, peerAd: Uint8Array, tag: Uint8Array): boolean {
  const expected = confirmationTag(isk, sid, peerShare, peerAd)
  return tag.byteLength === expected.byteLength && timingSafeEqual(tag, expected)
}

/** A key for one purpose, derived from ISK: SHA-512(lv_cat("engram/cpace-key", purpose, ISK)), first 32 bytes. */
export function deriveSessionKey (isk: Uint8Array, purpose: string): Uint8Array {
  return sha512(lvCat('engram/cpace-key', purpose, isk)).slice(0, 32)
}
