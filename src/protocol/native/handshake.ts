/**
 * The seed handshake of native sync (docs/PROTOCOL.md §1).
 *
 * Both nodes hold `p2p.seed` and derive `K = BLAKE3("engram/p2p-handshake/v1" ‖ 0x00 ‖ seed)`,
 * which never leaves the node. Each sends `hello` (versions spoken, 32 fresh random bytes, its
 * feed id), then a `proof`: BLAKE3-keyed(K, role ‖ T) over the transcript
 *
 *   T = "engram/p2p-proof/v1" ‖ id_lo ‖ 0x00 ‖ id_hi ‖ 0x00 ‖ nonce_lo ‖ nonce_hi ‖ feed_lo ‖ 0x00 ‖ feed_hi
 *
 * where lo is the node whose id sorts first and the ids are the ones the transport
 * authenticated. Both fresh nonces and both proven ids are in T, so a recorded handshake cannot
 * be replayed, a proof cannot be reflected (the roles differ) and a relay cannot splice two
 * sessions. Proofs are compared in constant time. Every step waits at most `timeoutMs`.
 *
 * On top of the seed, two optional layers, each checked on its own so that a refusal says which
 * one failed:
 * - **passphrase** (sync.passphrase): `hello.pp` says whether a node holds one (a node refuses a
 *   peer whose `pp` differs from its own, before proving anything); the proof then carries
 *   `pmac` = BLAKE3-keyed(Kp, role ‖ T), Kp = BLAKE3("engram/p2p-passphrase/v1" ‖ 0x00 ‖ passphrase).
 * - **certificates** (tls.*): `hello.cert` is the node's certificate; a node with TLS on checks
 *   the peer's (signed by its CA, valid now, binding the transport-proven node id) before
 *   proving anything, and the proof carries `sig`, the certificate key's signature over
 *   "engram/p2p-cert/v1" ‖ role ‖ T.
 *
 * The pure parts (key, roles, transcript, proofs) are exported for tests and other
 * implementations; `runHandshake` drives them over any message channel.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { EngramError, PROTOCOL, UNAUTHORIZED } from '../../core/errors.ts'
import { blake3, blake3Keyed } from '../../core/hash.ts'
import type { NodeId } from '../../core/ids.ts'
import { MAX_PROTOCOL_VERSION, MIN_PROTOCOL_VERSION, NATIVE_LIMITS, type HelloMessage, type NativeMessage, type ProofMessage } from './messages.ts'

export const HANDSHAKE_KEY_CONTEXT = 'engram/p2p-handshake/v1'
export const PASSPHRASE_KEY_CONTEXT = 'engram/p2p-passphrase/v1'
export const PROOF_CONTEXT = 'engram/p2p-proof/v1'
export const CERT_SIG_CONTEXT = 'engram/p2p-cert/v1'

export type Role = 'lo' | 'hi'

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

function concat (parts: readonly Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.byteLength
  const out = new Uint8Array(n)
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.byteLength }
  return out
}

const ZERO = new Uint8Array([0])

/** K: the handshake key, 32 bytes. Never sent, never published. */
export function deriveHandshakeKey (seed: string): Uint8Array {
  return blake3(concat([utf8(HANDSHAKE_KEY_CONTEXT), ZERO, utf8(seed)]))
}

/** Kp: the passphrase key, 32 bytes. Never sent, never published. */
export function derivePassphraseKey (passphrase: string): Uint8Array {
  return blake3(concat([utf8(PASSPHRASE_KEY_CONTEXT), ZERO, utf8(passphrase)]))
}

/** What `role` signs with its certificate's key: "engram/p2p-cert/v1" ‖ role ‖ T. */
export function certSigned (role: Role, t: Uint8Array): Uint8Array {
  return concat([utf8(CERT_SIG_CONTEXT), utf8(role), t])
}

/** This node's role towards `peer`: 'lo' when its id sorts first (code-unit order). */
export function roleOf (self: NodeId, peer: NodeId): Role {
  if (self === peer) throw PROTOCOL('a node cannot hold a session with itself')
  return self < peer ? 'lo' : 'hi'
}

export interface TranscriptInput {
  readonly self: NodeId
  readonly peer: NodeId
  readonly selfNonce: Uint8Array
  readonly peerNonce: Uint8Array
  readonly selfFeed: string
  readonly peerFeed: string
}

/** T, the same bytes on both ends of a session. */
export function transcript (i: TranscriptInput): Uint8Array {
  const selfLo = roleOf(i.self, i.peer) === 'lo'
  const [idLo, idHi] = selfLo ? [i.self, i.peer] : [i.peer, i.self]
  const [nonceLo, nonceHi] = selfLo ? [i.selfNonce, i.peerNonce] : [i.peerNonce, i.selfNonce]
  const [feedLo, feedHi] = selfLo ? [i.selfFeed, i.peerFeed] : [i.peerFeed, i.selfFeed]
  return concat([utf8(PROOF_CONTEXT), utf8(idLo), ZERO, utf8(idHi), ZERO, nonceLo, nonceHi, utf8(feedLo), ZERO, utf8(feedHi)])
}

/** The proof of `role`: BLAKE3-keyed(K, role ‖ T), 32 bytes. */
export async function computeProof (key: Uint8Array, role: Role, t: Uint8Array): Promise<Uint8Array> {
  return await blake3Keyed(key, concat([utf8(role), t]))
}

/** Whether `mac` is the proof of `role` over `t`, compared in constant time. */
export async function verifyProof (key: Uint8Array, role: Role, t: Uint8Array, mac: Uint8Array): Promise<boolean> {
  const expected = await computeProof(key, role, t)
  return mac.byteLength === expected.byteLength && timingSafeEqual(mac, expected)
}

/** The largest version both ranges hold, or undefined. */
export function commonVersion (a: readonly [number, number], b: readonly [number, number]): number | undefined {
  const hi = Math.min(a[1], b[1])
  return hi >= Math.max(a[0], b[0]) ? hi : undefined
}

/**
 * The certificate layer of the handshake (src/tls/NodeTls.ts builds it from tls.*): this
 * node's certificate, signing with its key, and the check of a peer's certificate.
 */
export interface HandshakeCertificates {
  /** This node's certificate, DER (sent in `hello`). */
  readonly cert: Uint8Array
  /** Signs with the certificate's key. */
  sign (data: Uint8Array): Uint8Array
  /**
   * Checks the certificate a peer sent (undefined: none) for the node the transport proved:
   * a verifier of that certificate's signatures, or why it is refused.
   */
  check (cert: Uint8Array | undefined, peer: NodeId):
    { readonly ok: true, verify (data: Uint8Array, sig: Uint8Array): boolean } | { readonly ok: false, readonly message: string }
}

/** The handshake failed because the peer did not prove the seed. The session closes with `auth failed`. */
export function AUTH_FAILED (peer: string, why: string): EngramError {
  return UNAUTHORIZED(`auth failed: ${why}`, { peer })
}

export interface HandshakeChannel {
  send (msg: NativeMessage): Promise<void>
  /** The next message from the peer, waiting at most `timeoutMs` (rejects with TIMEOUT). */
  next (timeoutMs: number): Promise<NativeMessage>
}

export interface HandshakeOptions {
  readonly key: Uint8Array
  /** Kp (derivePassphraseKey) when this node holds sync.passphrase. */
  readonly passphraseKey?: Uint8Array
  /** Certificates, when TLS is on here: the peer must prove one too. */
  readonly certificates?: HandshakeCertificates
  readonly self: NodeId
  /** The peer's id as authenticated by the transport. */
  readonly peer: NodeId
  /** This store's feed id. */
  readonly feed: string
  /** Limit of each step (waiting for hello, waiting for proof), ms. */
  readonly timeoutMs: number
  /** Versions spoken (tests). Default [MIN_PROTOCOL_VERSION, MAX_PROTOCOL_VERSION]. */
  readonly versions?: readonly [number, number]
  /** This side's nonce (tests). Default 32 fresh random bytes. */
  readonly nonce?: Uint8Array
}

export interface HandshakeResult {
  readonly version: number
  /** The peer's feed id, from its hello (covered by both proofs). */
  readonly peerFeed: string
  readonly role: Role
}

/**
 * Runs the handshake over `ch`. Resolves once the peer's proof is verified; rejects with
 * UNAUTHORIZED (`auth failed: …`), PROTOCOL (a message out of place, no common version) or
 * TIMEOUT. Nothing but `hello` and `proof` is accepted before the proof is verified.
 */
export async function runHandshake (ch: HandshakeChannel, opts: HandshakeOptions): Promise<HandshakeResult> {
  const versions = opts.versions ?? [MIN_PROTOCOL_VERSION, MAX_PROTOCOL_VERSION]
  const nonce = opts.nonce ?? new Uint8Array(randomBytes(NATIVE_LIMITS.nonceBytes))
  const role = roleOf(opts.self, opts.peer)
  const certs = opts.certificates
  const pp = opts.passphraseKey !== undefined
  await ch.send({ t: 'hello', v: versions, nonce, feed: opts.feed, ...(pp ? { pp } : {}), ...(certs !== undefined ? { cert: certs.cert } : {}) })

  let hello: HelloMessage | undefined
  let proof: ProofMessage | undefined
  const take = async (): Promise<void> => {
    const msg = await ch.next(opts.timeoutMs)
    if (msg.t === 'hello') {
      if (hello !== undefined) throw PROTOCOL('hello sent twice')
      hello = msg
    } else if (msg.t === 'proof') {
      if (proof !== undefined) throw PROTOCOL('proof sent twice')
      proof = msg
    } else {
      throw PROTOCOL(`${msg.t} sent before the handshake completed`)
    }
  }

  while (hello === undefined) await take()
  const version = commonVersion(versions, hello.v)
  if (version === undefined) {
    throw PROTOCOL(`no common protocol version: this node speaks ${versions[0]}-${versions[1]}, the peer ${hello.v[0]}-${hello.v[1]}`)
  }
  if (timingSafeEqual(hello.nonce, nonce)) throw AUTH_FAILED(opts.peer, 'the peer echoed this node\'s nonce (a reflected handshake)')
  // What this node requires is checked before it proves anything.
  const peerCert = certs?.check(hello.cert, opts.peer)
  if (peerCert !== undefined && !peerCert.ok) throw AUTH_FAILED(opts.peer, peerCert.message)
  if ((hello.pp === true) !== pp) {
    throw AUTH_FAILED(opts.peer, pp
      ? 'sync.passphrase is set on this node but not on the peer: set the same sync.passphrase on every node'
      : 'sync.passphrase is set on the peer but not on this node: set the same sync.passphrase on every node')
  }
  const t = transcript({ self: opts.self, peer: opts.peer, selfNonce: nonce, peerNonce: hello.nonce, selfFeed: opts.feed, peerFeed: hello.feed })
  await ch.send({
    t: 'proof',
    mac: await computeProof(opts.key, role, t),
    ...(opts.passphraseKey !== undefined ? { pmac: await computeProof(opts.passphraseKey, role, t) } : {}),
    ...(certs !== undefined ? { sig: certs.sign(certSigned(role, t)) } : {})
  })

  while (proof === undefined) await take()
  const peerRole: Role = role === 'lo' ? 'hi' : 'lo'
  if (!await verifyProof(opts.key, peerRole, t, proof.mac)) {
    throw AUTH_FAILED(opts.peer, 'the peer\'s proof is wrong: p2p.seed mismatch (the peer holds another p2p.seed), or it replayed or relayed a handshake')
  }
  if (opts.passphraseKey !== undefined && (proof.pmac === undefined || !await verifyProof(opts.passphraseKey, peerRole, t, proof.pmac))) {
    throw AUTH_FAILED(opts.peer, 'passphrase mismatch: the peer\'s sync.passphrase differs from this node\'s')
  }
  if (peerCert?.ok === true && (proof.sig === undefined || !peerCert.verify(certSigned(peerRole, t), proof.sig))) {
    throw AUTH_FAILED(opts.peer, 'the peer did not sign with the key of its certificate (a copied certificate, or a replayed handshake)')
  }
  return { version, peerFeed: hello.feed, role }
}
