/**
 * The seed handshake of native sync (docs/PROTOCOL.md §1). Both nodes send `hello` (versions
 * spoken, 32 fresh random bytes, feed id, whether they hold a passphrase, their certificate) and
 * then prove the shared secrets in the highest version both speak:
 *
 * **Version 2** — a password-authenticated key exchange (pake.ts, CPace over ristretto255): one
 * run per secret, bound to both proven ids, both nonces, both feeds and the transport session,
 * then key confirmation. The side that opened the session confirms first; the other confirms only
 * once that checked out. Nothing either side sends lets anyone test a guess of a secret offline;
 * whoever runs the exchange without the secrets learns whether one guess was right per session,
 * and only from a node that opened the session to it (a dialled node confirms only after the
 * dialer did). The passphrase has a run of its own; with TLS, `confirm.sig` signs the exchange.
 *
 * **Version 1** — spoken with nodes of an older version. Both nodes derive
 * `K = BLAKE3("engram/p2p-handshake/v1" ‖ 0x00 ‖ seed)`, which never leaves the node; after
 * `hello`, each sends a `proof`: BLAKE3-keyed(K, role ‖ T) over the transcript
 *
 *   T = "engram/p2p-proof/v1" ‖ id_lo ‖ 0x00 ‖ id_hi ‖ 0x00 ‖ nonce_lo ‖ nonce_hi ‖ feed_lo ‖ 0x00 ‖ feed_hi
 *
 * where lo is the node whose id sorts first and the ids are the ones the transport
 * authenticated. Both fresh nonces and both proven ids are in T, so a recorded handshake cannot
 * be replayed, a proof cannot be reflected (the roles differ) and a relay cannot splice two
 * sessions. Proofs are compared in constant time. Every step waits at most `timeoutMs`. A node
 * of this version sends its proof only after the peer's checked out (older nodes send theirs at
 * once, so they still meet): a proof is a keyed MAC of a known transcript, a check of guesses.
 *
 * On top of the seed, two optional layers, each checked on its own so that a refusal says which
 * one failed (as they are in version 1):
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
import { MAX_PROTOCOL_VERSION, MIN_PROTOCOL_VERSION, NATIVE_LIMITS, type ConfirmMessage, type HelloMessage, type NativeMessage, type PakeMessage, type ProofMessage } from './messages.ts'
import { concat } from '../cpace.ts'
import { finishPake, pakeTranscript, startPake, type Role, type TranscriptInput } from './pake.ts'

export const HANDSHAKE_KEY_CONTEXT = 'engram/p2p-handshake/v1'
export const PASSPHRASE_KEY_CONTEXT = 'engram/p2p-passphrase/v1'
export const PROOF_CONTEXT = 'engram/p2p-proof/v1'
export const CERT_SIG_CONTEXT = 'engram/p2p-cert/v1'

export type { Role }

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

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

export type { TranscriptInput }

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
  /** K (deriveHandshakeKey): version 1's seed proof. */
  readonly key: Uint8Array
  /** Kp (derivePassphraseKey) when this node holds sync.passphrase: version 1's passphrase proof. */
  readonly passphraseKey?: Uint8Array
  /**
   * The shared secrets themselves, for version 2 (a CPace run for each, pake.ts). Without them
   * this side speaks version 1 only.
   */
  readonly secrets?: { readonly seed: string, readonly passphrase?: string }
  /** Certificates, when TLS is on here: the peer must prove one too. */
  readonly certificates?: HandshakeCertificates
  readonly self: NodeId
  /** The peer's id as authenticated by the transport. */
  readonly peer: NodeId
  /** This store's feed id. */
  readonly feed: string
  /** The transport's id of the session (both ends see the same), bound into version 2. */
  readonly sessionId?: string
  /**
   * This side opened the session: in version 2 it confirms first, and the other side only after
   * checking that. Default: the side whose id sorts first (both ends must agree).
   */
  readonly initiator?: boolean
  /** Limit of each step (waiting for hello, waiting for proof), ms. */
  readonly timeoutMs: number
  /** Versions spoken (tests). Default [MIN_PROTOCOL_VERSION, MAX_PROTOCOL_VERSION], [1, 1] without `secrets`. */
  readonly versions?: readonly [number, number]
  /** This side's nonce (tests). Default 32 fresh random bytes. */
  readonly nonce?: Uint8Array
  /**
   * Test hook: in version 1, send this side's proof at once, as nodes did before version 2
   * (since then a node proves nothing before it has checked the peer's proof).
   */
  readonly legacyProofOrder?: boolean
  /** This node signs its records (`hello.sg`). */
  readonly signs?: boolean
  /** This node's wall clock: sent in `hello` (`now`), and read when the peer's hello arrives. */
  readonly now?: () => number
  /** The codecs of compressed frames this node reads, listed in its hello (compression.ts); default none. */
  readonly codecs?: readonly number[]
  /** The version of coded gossip rounds this node speaks (recon.ts), listed in its hello (`rc`); default none. */
  readonly coded?: number
}

export interface HandshakeResult {
  readonly version: number
  /** The peer's feed id, from its hello (covered by both proofs). */
  readonly peerFeed: string
  readonly role: Role
  /** The peer said it signs its records (`hello.sg`): its unsigned records are to be refused. */
  readonly peerSigns: boolean
  /** What the peer's clock read in its hello, and this node's when it arrived (absent from older peers). */
  readonly peerClock?: { readonly theirs: number, readonly ours: number }
  /** The codecs of compressed frames the peer reads (its hello's `z`; empty from older peers). */
  readonly peerCodecs: readonly number[]
  /** The version of coded gossip rounds the peer speaks (its hello's `rc`; 0 from older peers: bloom rounds only). */
  readonly peerCoded: number
}

type Slots = { hello?: HelloMessage, proof?: ProofMessage, pake?: PakeMessage, confirm?: ConfirmMessage }

/**
 * Runs the handshake over `ch`. Resolves once the peer has proved every secret; rejects with
 * UNAUTHORIZED (`auth failed: …`), PROTOCOL (a message out of place, no common version) or
 * TIMEOUT. Nothing but the handshake's messages is accepted before that.
 *
 * Version 2 (both sides hold the secrets): `pake`, then `confirm` (pake.ts). Version 1 (a peer of
 * an older version): `proof` — and this side sends its own only after it has checked the peer's,
 * so a peer without the seed never gets a proof to test guesses of the seed against.
 */
export async function runHandshake (ch: HandshakeChannel, opts: HandshakeOptions): Promise<HandshakeResult> {
  const versions = opts.versions ?? [MIN_PROTOCOL_VERSION, opts.secrets !== undefined ? MAX_PROTOCOL_VERSION : 1]
  const nonce = opts.nonce ?? new Uint8Array(randomBytes(NATIVE_LIMITS.nonceBytes))
  const role = roleOf(opts.self, opts.peer)
  const certs = opts.certificates
  const pp = opts.passphraseKey !== undefined || opts.secrets?.passphrase !== undefined
  await ch.send({
    t: 'hello', v: versions, nonce, feed: opts.feed, ...(pp ? { pp } : {}), ...(certs !== undefined ? { cert: certs.cert } : {}),
    ...(opts.signs === true ? { sg: true } : {}), ...(opts.now !== undefined ? { now: opts.now() } : {}),
    ...(opts.codecs !== undefined && opts.codecs.length > 0 ? { z: opts.codecs } : {}),
    ...(opts.coded !== undefined && opts.coded > 0 ? { rc: opts.coded } : {})
  })

  const got: Slots = {}
  const wait = async <T extends keyof Slots>(type: T): Promise<NonNullable<Slots[T]>> => {
    while (got[type] === undefined) {
      const msg = await ch.next(opts.timeoutMs)
      if (msg.t !== 'hello' && msg.t !== 'proof' && msg.t !== 'pake' && msg.t !== 'confirm') throw PROTOCOL(`${msg.t} sent before the handshake completed`)
      if (got[msg.t] !== undefined) throw PROTOCOL(`${msg.t} sent twice`)
      ;(got as Record<string, unknown>)[msg.t] = msg
    }
    return got[type]!
  }

  const hello = await wait('hello')
  const helloAt = opts.now?.()
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
  const verifier = peerCert?.ok === true ? peerCert : undefined
  const ctx = { ch, opts, role, nonce, hello, verifier, wait }
  if (version >= 2) await pakeSteps(ctx)
  else await proofSteps(ctx)
  // A message of the other version is out of place.
  const stray = version >= 2 ? got.proof : (got.pake ?? got.confirm)
  if (stray !== undefined) throw PROTOCOL(`${stray.t} sent in a version ${version} handshake`)
  const peerClock = hello.now !== undefined && helloAt !== undefined ? { theirs: hello.now, ours: helloAt } : undefined
  return { version, peerFeed: hello.feed, role, peerSigns: hello.sg === true, peerCodecs: hello.z ?? [], peerCoded: hello.rc ?? 0, ...(peerClock !== undefined ? { peerClock } : {}) }
}

interface Steps {
  readonly ch: HandshakeChannel
  readonly opts: HandshakeOptions
  readonly role: Role
  readonly nonce: Uint8Array
  readonly hello: HelloMessage
  readonly verifier: { verify (data: Uint8Array, sig: Uint8Array): boolean } | undefined
  wait<T extends keyof Slots> (type: T): Promise<NonNullable<Slots[T]>>
}

const SEED_MISMATCH = 'the peer did not prove p2p.seed: p2p.seed mismatch (the peer holds another p2p.seed), or it replayed or relayed a handshake'
const PASSPHRASE_MISMATCH = 'passphrase mismatch: the peer\'s sync.passphrase differs from this node\'s'
const CERT_UNSIGNED = 'the peer did not sign with the key of its certificate (a copied certificate, or a replayed handshake)'

/** Version 1: keyed MACs over the transcript; this side proves only after checking the peer. */
async function proofSteps ({ ch, opts, role, nonce, hello, verifier, wait }: Steps): Promise<void> {
  const t = transcript({ self: opts.self, peer: opts.peer, selfNonce: nonce, peerNonce: hello.nonce, selfFeed: opts.feed, peerFeed: hello.feed })
  const certs = opts.certificates
  const prove = async (): Promise<void> => {
    await ch.send({
      t: 'proof',
      mac: await computeProof(opts.key, role, t),
      ...(opts.passphraseKey !== undefined ? { pmac: await computeProof(opts.passphraseKey, role, t) } : {}),
      ...(certs !== undefined ? { sig: certs.sign(certSigned(role, t)) } : {})
    })
  }
  if (opts.legacyProofOrder === true) await prove()
  const proof = await wait('proof')
  const peerRole: Role = role === 'lo' ? 'hi' : 'lo'
  if (!await verifyProof(opts.key, peerRole, t, proof.mac)) throw AUTH_FAILED(opts.peer, 'the peer\'s proof is wrong: p2p.seed mismatch (the peer holds another p2p.seed), or it replayed or relayed a handshake')
  if (opts.passphraseKey !== undefined && (proof.pmac === undefined || !await verifyProof(opts.passphraseKey, peerRole, t, proof.pmac))) {
    throw AUTH_FAILED(opts.peer, PASSPHRASE_MISMATCH)
  }
  if (verifier !== undefined && (proof.sig === undefined || !verifier.verify(certSigned(peerRole, t), proof.sig))) throw AUTH_FAILED(opts.peer, CERT_UNSIGNED)
  if (opts.legacyProofOrder !== true) await prove()
}

/** Version 2: a CPace run per secret, then key confirmation, the side that opened the session first. */
async function pakeSteps ({ ch, opts, role, nonce, hello, verifier, wait }: Steps): Promise<void> {
  const secrets = opts.secrets!
  const start = startPake({ self: opts.self, peer: opts.peer, selfNonce: nonce, peerNonce: hello.nonce, selfFeed: opts.feed, peerFeed: hello.feed, sessionId: opts.sessionId ?? '' },
    secrets, () => new Uint8Array(randomBytes(32)))
  await ch.send({ t: 'pake', ...start.shares })
  const pake = await wait('pake')
  const keys = finishPake(start, pake)
  if ('invalid' in keys) throw AUTH_FAILED(opts.peer, `the peer's ${keys.invalid === 'seed' ? 'p2p.seed' : 'sync.passphrase'} share is not a valid group element`)
  const t2 = pakeTranscript(start, pake)
  const certs = opts.certificates
  const confirm = async (): Promise<void> => {
    await ch.send({ t: 'confirm', ...keys.tags, ...(certs !== undefined ? { sig: certs.sign(certSigned(role, t2)) } : {}) })
  }
  const initiator = opts.initiator ?? role === 'lo'
  if (initiator) await confirm()
  const theirs = await wait('confirm')
  const failed = keys.check(theirs)
  if (failed !== undefined) throw AUTH_FAILED(opts.peer, failed === 'seed' ? SEED_MISMATCH : PASSPHRASE_MISMATCH)
  const peerRole: Role = role === 'lo' ? 'hi' : 'lo'
  if (verifier !== undefined && (theirs.sig === undefined || !verifier.verify(certSigned(peerRole, t2), theirs.sig))) throw AUTH_FAILED(opts.peer, CERT_UNSIGNED)
  if (!initiator) await confirm()
}
