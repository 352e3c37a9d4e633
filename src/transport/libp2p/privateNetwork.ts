/**
 * The private network of the TCP path: a key derived from the shared seed, bound into every
 * TCP connection's Noise handshake as its prologue (Noise Protocol Framework §6). Both ends
 * mix the prologue into the handshake hash, which authenticates every handshake message after
 * the first, so nodes with different keys (another seed, or none) fail the Noise handshake
 * itself: a node with another seed never completes the TCP transport handshake, never gets a
 * stream opened, and never reaches the engram protocol. QUIC connections use TLS 1.3, not Noise,
 * and are not affected; on QUIC the seed handshake alone decides (docs/PROTOCOL.md §1).
 *
 *   KEY = BLAKE3("engram/p2p-private-network/v1" ‖ 0x00 ‖ UTF-8(seed))    ; 32 bytes, never sent
 *
 * The key is neither the seed nor the seed handshake's key (another domain), and it is never
 * sent: only a hash that includes it is authenticated. libp2p's own private networks
 * (`@libp2p/pnet`, XSalsa20 over the whole connection) are not used: its cipher (xsalsa20 1.2
 * in WebAssembly) shares one memory between all connections and, once one connection grows it
 * (any chunk over about 600 KiB, such as a 1 MiB sync page), leaks a 64 KiB page on every
 * alternation between two ciphers until its 64 MiB limit, after which every connection using it
 * fails (measured: 491 alternations; docs/DISCOVERY.md).
 */
import { blake3 } from '../../core/hash.ts'

export const PRIVATE_NETWORK_CONTEXT = 'engram/p2p-private-network/v1'
export const PRIVATE_NETWORK_KEY_BYTES = 32

/** The 32-byte private-network key of a seed. */
export function derivePrivateNetworkKey (seed: string): Uint8Array {
  const ctx = new TextEncoder().encode(PRIVATE_NETWORK_CONTEXT)
  const s = new TextEncoder().encode(seed)
  const input = new Uint8Array(ctx.byteLength + 1 + s.byteLength)
  input.set(ctx, 0)
  input.set(s, ctx.byteLength + 1)
  return blake3(input)
}

/** The Noise prologue of a private network: the context and the key. */
export function noisePrologue (key: Uint8Array): Uint8Array {
  const ctx = new TextEncoder().encode(PRIVATE_NETWORK_CONTEXT)
  const out = new Uint8Array(ctx.byteLength + 1 + key.byteLength)
  out.set(ctx, 0)
  out.set(key, ctx.byteLength + 1)
  return out
}
