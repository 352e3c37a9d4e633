/**
 * The keys a group's seed gives: one memory-hard step, then one-way labelled hashes.
 *
 *   ROOT   = Argon2id(password = UTF-8(seed), salt = "engram/p2p-private-network/v2",
 *                     64 MiB, 3 passes, 1 lane, 32 bytes)                  ; never leaves a member
 *   TCP    = ROOT                                                          ; the TCP private network's key
 *   RELAY  = BLAKE3("engram/relay-admission/v1" ‖ 0x00 ‖ ROOT)             ; given to relay operators
 *   SEAL   = BLAKE3("engram/mailbox-seal/v1"    ‖ 0x00 ‖ ROOT)             ; members only
 *   KEY ID = BLAKE3("engram/mailbox-key-id/v1"  ‖ 0x00 ‖ SEAL)[0..8]       ; sent with every sealed page
 *
 * The composition root derives these once per start (`seedKeys`), without waiting for them
 * (node/seedKeysPart.ts brings up each part that needs one when they come), and hands each part
 * the key it needs: the TCP transport's Noise prologue (`transport/libp2p/privateNetwork.ts`), relay admission
 * (`transport/relay/admission.ts`), mailbox sealing (`protocol/mailbox/seal.ts`). The salt keeps
 * the name of ROOT's first use, the TCP private network, so that key is the one earlier versions
 * derive and TCP between them keeps working. ROOT is only ever hashed (into the Noise handshake,
 * or under a label here), never sent.
 *
 * A relay operator holds RELAY and nothing else: it admits members (they prove RELAY) but cannot
 * compute ROOT, SEAL or the seed from it. Every value a non-member sees that depends on the seed
 * (RELAY itself, a sealed page, a key id, a Noise handshake) lets its holder test guesses of the
 * seed offline; the memory-hard first step makes each guess cost one Argon2id evaluation (64 MiB
 * and a large fraction of a second, docs/SECURITY.md has the measured rates) instead of one
 * hash, but only a high-entropy seed makes guessing hopeless.
 *
 * Rotation: a new seed gives new keys. A relay takes several admission keys
 * (`p2p.relay.admissionKeys`), so its operator adds the new group key before the members switch
 * and removes the old one after; pages sealed under an old seed carry its key id and are skipped,
 * with a log line, by nodes that no longer hold it.
 */
import * as nodeCrypto from 'node:crypto'
import { argon2id } from 'hash-wasm'
import { blake3, bytesToHex, hexToBytes } from './hash.ts'
import { INVALID_INPUT } from './errors.ts'

export const KEY_BYTES = 32
export const KEY_ID_BYTES = 8

/** ROOT's salt: named after its first use (the TCP private network), kept so that key stays the same. */
export const SEED_ROOT_SALT = 'engram/p2p-private-network/v2'
/** The cost of ROOT (Argon2id, RFC 9106's second recommended setting): memory in KiB, passes, lanes. */
export const SEED_ROOT_KDF = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 1 } as const

const RELAY_LABEL = 'engram/relay-admission/v1'
const SEAL_LABEL = 'engram/mailbox-seal/v1'
const KEY_ID_LABEL = 'engram/mailbox-key-id/v1'

/** A key derived from `key` under `label`: BLAKE3(label ‖ 0x00 ‖ key). */
export function deriveLabelled (label: string, key: Uint8Array): Uint8Array {
  const l = new TextEncoder().encode(label)
  const input = new Uint8Array(l.byteLength + 1 + key.byteLength)
  input.set(l, 0)
  input.set(key, l.byteLength + 1)
  return blake3(input)
}

/**
 * Node's own Argon2 (OpenSSL), on Node 24.7 and later: it runs on the thread pool and gives its
 * 64 MiB back when done, where the WebAssembly one keeps them in the process for its whole life
 * (a WebAssembly memory never shrinks). Both give the same key (test/transport/private-network.test.ts).
 */
const nativeArgon2 = (nodeCrypto as Partial<typeof nodeCrypto>).argon2

/** ROOT of a seed: 32 bytes, a few hundred milliseconds and 64 MiB, on purpose. */
export async function deriveSeedRoot (seed: string): Promise<Uint8Array> {
  if (nativeArgon2 !== undefined) {
    const derive = nativeArgon2
    return await new Promise<Uint8Array>((resolve, reject) => {
      derive('argon2id', {
        message: Buffer.from(seed, 'utf8'),
        nonce: Buffer.from(SEED_ROOT_SALT, 'utf8'),
        memory: SEED_ROOT_KDF.memoryKiB,
        passes: SEED_ROOT_KDF.iterations,
        parallelism: SEED_ROOT_KDF.parallelism,
        tagLength: KEY_BYTES
      }, (err, key) => { if (err !== null) reject(err); else resolve(new Uint8Array(key)) })
    })
  }
  return await argon2id({
    password: seed,
    salt: new TextEncoder().encode(SEED_ROOT_SALT),
    memorySize: SEED_ROOT_KDF.memoryKiB,
    iterations: SEED_ROOT_KDF.iterations,
    parallelism: SEED_ROOT_KDF.parallelism,
    hashLength: KEY_BYTES,
    outputType: 'binary'
  })
}

/** The keys of a group. */
export interface SeedKeys {
  /** The TCP private network's key (ROOT itself; see above). */
  readonly privateNetwork: Uint8Array
  /** Proven to relays to be admitted; the only key a relay operator is given. */
  readonly relay: Uint8Array
  /** Seals mailbox pages; never leaves the members. */
  readonly seal: Uint8Array
  /** Names `seal` in sealed pages (8 bytes). */
  readonly keyId: Uint8Array
}

/** The keys below a ROOT (cheap). */
export function seedKeysFromRoot (root: Uint8Array): SeedKeys {
  const seal = deriveLabelled(SEAL_LABEL, root)
  return { privateNetwork: root, relay: deriveLabelled(RELAY_LABEL, root), seal, keyId: deriveLabelled(KEY_ID_LABEL, seal).slice(0, KEY_ID_BYTES) }
}

/** The keys of a seed (one Argon2id evaluation: derive once and pass the result on). */
export async function seedKeys (seed: string): Promise<SeedKeys> {
  return seedKeysFromRoot(await deriveSeedRoot(seed))
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
