/**
 * What guessing a shared secret offline costs an attacker, per core, for each thing engram used
 * to let one check a guess against (docs/SECURITY.md, "Guessing a secret"):
 *
 * - `v1_*`: the version 1 derivations, which gave whoever recorded or provoked a proof a check of
 *   a guess for the price of a hash: the native seed proof (BLAKE3 key, keyed BLAKE3 over the
 *   transcript), a signed REST request (BLAKE3 key, HMAC-SHA256), the TCP private network's key
 *   (BLAKE3; the Noise check adds a little on top).
 * - `v2_tcp_argon2id_guesses_per_s`: the TCP private network now (Argon2id, 64 MiB, 3 passes),
 *   the one place a check of a guess is still possible offline.
 *
 * The handshakes of version 2 (CPace) give no check at all, so they have no figure here.
 */
import { createHmac } from 'node:crypto'
import { blake3, blake3Keyed } from '../src/core/hash.ts'
import { derivePrivateNetworkKey } from '../src/transport/libp2p/privateNetwork.ts'

async function rate (ms: number, one: (i: number) => unknown): Promise<number> {
  const t0 = performance.now()
  let n = 0
  while (performance.now() - t0 < ms) await one(n++)
  return n / ((performance.now() - t0) / 1000)
}

export async function benchGuessing (): Promise<Record<string, number>> {
  const transcript = new Uint8Array(200).fill(7)
  const v1Native = await rate(2000, async i => await blake3Keyed(blake3(`engram/p2p-handshake/v1\0guess-${i}`), transcript))
  const v1Rest = await rate(2000, i => createHmac('sha256', blake3(`engram/rest-auth/v1\0guess-${i}`)).update('req\nPOST\n/api/v1/sync/delta\n1\nn\nnode\nh').digest())
  const v1Tcp = await rate(2000, i => blake3(`engram/p2p-private-network/v1\0guess-${i}`))
  const v2Tcp = await rate(5000, async i => await derivePrivateNetworkKey(`guess-${i}`))
  return {
    v1_native_proof_guesses_per_s: Math.round(v1Native),
    v1_rest_signature_guesses_per_s: Math.round(v1Rest),
    v1_tcp_key_guesses_per_s: Math.round(v1Tcp),
    v2_tcp_argon2id_guesses_per_s: Math.round(v2Tcp * 100) / 100
  }
}

if (import.meta.main) console.log(await benchGuessing())
