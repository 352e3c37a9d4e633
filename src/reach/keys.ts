/**
 * The keys of reaching a group through relays and mailboxes, derived one way from the seed:
 *
 *   ROOT   = Argon2id(seed, salt "engram/reach-root/v1", m 19 MiB, t 2, p 1)   ; 32 bytes, once per process
 *   RELAY  = BLAKE3("engram/relay-admission/v1" ‖ 0x00 ‖ ROOT)                 ; given to relay operators
 *   SEAL   = BLAKE3("engram/mailbox-seal/v1"    ‖ 0x00 ‖ ROOT)                 ; members only
 *   KEY ID = BLAKE3("engram/mailbox-key-id/v1"  ‖ 0x00 ‖ SEAL)[0..8]           ; sent with every sealed page
 *
 * A relay operator holds RELAY and nothing else: it admits members (they prove RELAY, see
 * `admission.ts`) but cannot compute ROOT, SEAL or the seed from it. The mailbox stores pages sealed
 * with SEAL, which the relay never holds.
 *
 * Every value a non-member sees that depends on the seed (RELAY itself, a sealed page, a key id)
 * lets its holder test guesses of the seed offline: derive and compare. The memory-hard first step
 * makes each guess cost one Argon2id evaluation (about 0.3 s and 19 MiB) instead of one hash, but
 * only a high-entropy seed makes guessing hopeless (32 random characters: docs/SECURITY.md).
 *
 * Rotation: a new seed gives new keys. A relay takes several admission keys
 * (`p2p.relay.admissionKeys`), so its operator adds the new group key before the members switch
 * and removes the old one after; pages sealed under an old seed carry its key id and are skipped,
 * with a log line, by nodes that no longer hold it.
 */
import { argon2 } from 'node:crypto'
import { blake3, bytesToHex, hexToBytes } from '../core/hash.ts'
import { INVALID_INPUT } from '../core/errors.ts'

export const KEY_BYTES = 32
export const KEY_ID_BYTES = 8

const ROOT_SALT = 'engram/reach-root/v1'
const RELAY_LABEL = 'engram/relay-admission/v1'
const SEAL_LABEL = 'engram/mailbox-seal/v1'
const KEY_ID_LABEL = 'engram/mailbox-key-id/v1'

/** Argon2id parameters of ROOT (RFC 9106; the OWASP minimum for interactive use). */
export const ROOT_KDF = { memoryKiB: 19_456, passes: 2, parallelism: 1 } as const

/** A key derived from `key` under `label`: BLAKE3(label ‖ 0x00 ‖ key). */
export function deriveLabelled (label: string, key: Uint8Array): Uint8Array {
  const l = new TextEncoder().encode(label)
  const input = new Uint8Array(l.byteLength + 1 + key.byteLength)
  input.set(l, 0)
  input.set(key, l.byteLength + 1)
  return blake3(input)
}

/** ROOT of a seed (memory-hard, about 0.3 s). */
export function deriveRoot (seed: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    argon2('argon2id', {
      message: Buffer.from(seed, 'utf8'),
      nonce: Buffer.from(ROOT_SALT, 'utf8'),
      parallelism: ROOT_KDF.parallelism,
      tagLength: KEY_BYTES,
      memory: ROOT_KDF.memoryKiB,
      passes: ROOT_KDF.passes
    }, (err, key) => { if (err !== null) reject(err); else resolve(new Uint8Array(key)) })
  })
}

/** The keys of a group, from its seed. */
export interface GroupKeys {
  /** Proven to relays and mailboxes to be admitted; the only key a relay operator is given. */
  readonly relay: Uint8Array
  /** Seals mailbox pages; never leaves the members. */
  readonly seal: Uint8Array
  /** Names `seal` in sealed pages (8 bytes). */
  readonly keyId: Uint8Array
}

export function groupKeysFromRoot (root: Uint8Array): GroupKeys {
  const seal = deriveLabelled(SEAL_LABEL, root)
  return { relay: deriveLabelled(RELAY_LABEL, root), seal, keyId: deriveLabelled(KEY_ID_LABEL, seal).slice(0, KEY_ID_BYTES) }
}

const cache = new Map<string, Promise<GroupKeys>>()

/** The keys of a seed, computed once per process (ROOT is the slow part). */
export function groupKeys (seed: string): Promise<GroupKeys> {
  let keys = cache.get(seed)
  if (keys === undefined) {
    keys = deriveRoot(seed).then(groupKeysFromRoot)
    cache.set(seed, keys)
  }
  return keys
}

/** The printed form of an admission key: 64 hex digits. */
export function formatAdmissionKey (key: Uint8Array): string {
  return bytesToHex(key)
}

/** An admission key from its printed form; INVALID_INPUT naming `field` when it is not 64 hex digits. */
export function parseAdmissionKey (text: string, field: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw INVALID_INPUT(field, 'must be 64 hexadecimal digits (print it with `engram relay key`)')
  return hexToBytes(text.toLowerCase())
}
