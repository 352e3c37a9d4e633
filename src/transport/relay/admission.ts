/**
 * Relay admission: a member proves the group's relay key (`core/seedKeys.ts`, RELAY) to a relay or mailbox
 * before it gets a reservation, a circuit or a mailbox slot. Pure: messages and proofs only; the
 * libp2p stream that carries them is in `transport/libp2p/relay/` (RelayClient, RelayGate).
 *
 * On `/engram/relay-admission/1.0.0`, opened by the member on its connection to the relay, each
 * message length-prefixed:
 *
 *   member → relay   OFFER   [version 1][member nonce, 32 random bytes]
 *   relay  → member  CHALLENGE [version 1][relay nonce, 32 random bytes]
 *   member → relay   PROOF   MAC(RELAY, "member", …)                       ; 32 bytes
 *   relay  → member  ANSWER  [0 admitted][MAC(RELAY, "relay", …)] | [1 refused]
 *
 *   MAC(K, role, …) = BLAKE3-keyed(K, "engram/relay-admission-proof/v1" ‖ 0x00 ‖ role ‖ 0x00 ‖
 *                     len ‖ relay id ‖ len ‖ member id ‖ member nonce ‖ relay nonce)
 *
 * Both node ids are the ones the connection's TLS 1.3 / Noise handshake authenticated, and the
 * relay's nonce is fresh, so a proof is good for one connection between these two nodes only:
 * it cannot be replayed, forwarded to another relay, or reflected (the roles differ).
 *
 * The member proves first and the relay only after checking that proof, so a node that merely
 * connects to a relay learns nothing about the key. A member sends its proof only to relays it was
 * told about (p2p.relays, or by a member over a seed-authenticated session): that is the relay
 * operator, who holds RELAY already. Nobody else gets a value to test seed guesses against.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { PROTOCOL } from '../../core/errors.ts'
import { blake3Keyed } from '../../core/hash.ts'

export const ADMISSION_PROTOCOL = '/engram/relay-admission/1.0.0'
export const ADMISSION_VERSION = 1
export const NONCE_BYTES = 32
export const PROOF_BYTES = 32
/** The largest admission message (an ANSWER). */
export const MAX_ADMISSION_MESSAGE = 1 + PROOF_BYTES

const PROOF_LABEL = 'engram/relay-admission-proof/v1'

export type Role = 'member' | 'relay'

export function freshNonce (): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES))
}

/** OFFER and CHALLENGE: the version byte and a nonce. */
export function encodeNonceMessage (nonce: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + NONCE_BYTES)
  out[0] = ADMISSION_VERSION
  out.set(nonce, 1)
  return out
}

export function decodeNonceMessage (bytes: Uint8Array, what: string): Uint8Array {
  if (bytes.byteLength !== 1 + NONCE_BYTES) throw PROTOCOL(`${what}: ${bytes.byteLength} bytes, expected ${1 + NONCE_BYTES}`)
  if (bytes[0] !== ADMISSION_VERSION) throw PROTOCOL(`${what}: version ${bytes[0]} is not supported (this node speaks ${ADMISSION_VERSION})`)
  return bytes.slice(1)
}

/** The transcript both proofs are computed over. */
export interface Transcript {
  readonly relayId: string
  readonly memberId: string
  readonly memberNonce: Uint8Array
  readonly relayNonce: Uint8Array
}

function transcriptBytes (role: Role, t: Transcript): Uint8Array {
  const enc = new TextEncoder()
  const parts: Uint8Array[] = [enc.encode(PROOF_LABEL), new Uint8Array([0]), enc.encode(role), new Uint8Array([0])]
  for (const id of [t.relayId, t.memberId]) {
    const b = enc.encode(id)
    parts.push(new Uint8Array([b.byteLength >> 8, b.byteLength & 0xff]), b)
  }
  parts.push(t.memberNonce, t.relayNonce)
  return Buffer.concat(parts)
}

/** The proof of `role` over the transcript with `key`. */
export function proof (key: Uint8Array, role: Role, t: Transcript): Promise<Uint8Array> {
  return blake3Keyed(key, transcriptBytes(role, t))
}

/** The index in `keys` of the key that produced `got` for `role`, or -1 (constant time per key). */
export async function matchingKey (keys: readonly Uint8Array[], role: Role, t: Transcript, got: Uint8Array): Promise<number> {
  if (got.byteLength !== PROOF_BYTES) return -1
  let found = -1
  for (let i = 0; i < keys.length; i++) {
    const want = await proof(keys[i] as Uint8Array, role, t)
    if (timingSafeEqual(want, Buffer.from(got)) && found === -1) found = i
  }
  return found
}

export function encodeAnswer (relayProof: Uint8Array | undefined): Uint8Array {
  if (relayProof === undefined) return new Uint8Array([1])
  const out = new Uint8Array(1 + PROOF_BYTES)
  out.set(relayProof, 1)
  return out
}

/** The relay's proof, or undefined when it refused. */
export function decodeAnswer (bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.byteLength === 1 && bytes[0] === 1) return undefined
  if (bytes.byteLength !== 1 + PROOF_BYTES || bytes[0] !== 0) throw PROTOCOL(`admission answer: ${bytes.byteLength} bytes starting ${bytes[0]}, expected a refusal or an acceptance with a proof`)
  return bytes.slice(1)
}
