/**
 * The private network of the TCP path: a key derived from the shared seed, bound into every
 * TCP connection's Noise handshake as its prologue (Noise Protocol Framework §6). Both ends
 * mix the prologue into the handshake hash, which authenticates every handshake message after
 * the first, so nodes with different keys (another seed, or none) fail the Noise handshake
 * itself: a node with another seed never completes the TCP transport handshake, never gets a
 * stream opened, and never reaches the engram protocol. QUIC connections use TLS 1.3, not Noise,
 * and are not affected; on QUIC the seed handshake alone decides (docs/PROTOCOL.md §1).
 *
 *   KEY = ROOT of the seed (core/seedKeys.ts: Argon2id, 64 MiB, 3 passes)   ; never sent
 *
 * The key is neither the seed nor the seed handshake's key (another domain), and it is never
 * sent: only a hash that includes it is authenticated. But whoever completes the first half of a
 * Noise handshake with a node can check a guess of the key against the node's answer offline
 * (its tag covers the prologue), and no password-authenticated exchange fits in front of Noise:
 * so the key is derived with a memory-hard function (RFC 9106's second recommended setting),
 * which makes each guess cost 64 MiB and a few hundred milliseconds of a core instead of a
 * microsecond (docs/SECURITY.md has the measured rates). A node derives it once per start, and
 * its TCP neither listens nor dials until it has it (`QuicTransport` `keysPending`).
 * Version 1 (BLAKE3 of the seed) is not spoken: TCP between a node of this version and an
 * older one fails (their QUIC sessions are not affected), until both are upgraded. libp2p's own private networks
 * (`@libp2p/pnet`, XSalsa20 over the whole connection) are not used: its cipher (xsalsa20 1.2
 * in WebAssembly) shares one memory between all connections and, once one connection grows it
 * (any chunk over about 600 KiB, such as a 1 MiB sync page), leaks a 64 KiB page on every
 * alternation between two ciphers until its 64 MiB limit, after which every connection using it
 * fails (measured: 491 alternations; docs/DISCOVERY.md).
 */
import { deriveSeedRoot, KEY_BYTES, SEED_ROOT_KDF, SEED_ROOT_SALT } from '../../core/seedKeys.ts'

export const PRIVATE_NETWORK_CONTEXT = SEED_ROOT_SALT
export const PRIVATE_NETWORK_KEY_BYTES = KEY_BYTES
/** The cost of the key derivation (Argon2id): memory in KiB, passes, lanes. */
export const PRIVATE_NETWORK_KDF = SEED_ROOT_KDF

/**
 * The 32-byte private-network key of a seed: its ROOT (takes a few hundred milliseconds and 64 MiB,
 * on purpose). A node takes it from `seedKeys`, derived once with the seed's other keys.
 */
export async function derivePrivateNetworkKey (seed: string): Promise<Uint8Array> {
  return await deriveSeedRoot(seed)
}

/** The Noise prologue of a private network: the context and the key. */
export function noisePrologue (key: Uint8Array): Uint8Array {
  const ctx = new TextEncoder().encode(PRIVATE_NETWORK_CONTEXT)
  const out = new Uint8Array(ctx.byteLength + 1 + key.byteLength)
  out.set(ctx, 0)
  out.set(key, ctx.byteLength + 1)
  return out
}
