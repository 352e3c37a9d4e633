/**
 * The password-authenticated part of the native handshake, version 2 (docs/PROTOCOL.md §1):
 * one CPace run (sync/cpace.ts) per shared secret — p2p.seed, and sync.passphrase when set — so
 * that neither a peer nor anyone watching learns anything to test a guess of a secret against
 * offline, and a refusal still says which secret differs. Pure: values in, values out.
 *
 * Each run is bound to the session:
 *
 *   sid = nonce_lo ‖ nonce_hi                                     (both hellos' fresh nonces)
 *   CI  = lv_cat("engram/p2p-pake/v2", secret name, session id, id_lo, id_hi, feed_lo, feed_hi)
 *   AD  = "lo" or "hi" (each side's role), transcript in order (`oc`: both send at once)
 *
 * where lo is the node whose id sorts first, the ids are those the transport proved, and the
 * session id is the transport's (both ends see the same). Both sides send `pake` (their shares)
 * at once; then each proves it derived the same key with a confirmation tag per secret (the
 * draft's key confirmation). The side that opened the session confirms first; the other one
 * checks that before it confirms in turn, so whoever connects to a node learns nothing from it
 * — not even a tag to check one guess against — unless it proved every secret first.
 */
import {
  CPACE_POINT_BYTES, CPACE_TAG_BYTES, confirmationTag, cpaceKey, cpaceShare, lvCat, verifyConfirmation, type CpaceSide
} from '../cpace.ts'
import type { NodeId } from '../../core/ids.ts'

export const PAKE_CONTEXT = 'engram/p2p-pake/v2'
export { CPACE_POINT_BYTES as PAKE_SHARE_BYTES, CPACE_TAG_BYTES as PAKE_TAG_BYTES }

export type SecretName = 'seed' | 'passphrase'
export type Role = 'lo' | 'hi'

/** Both ids (as the transport proved them), both hellos' nonces and both feeds: what both versions bind. */
export interface TranscriptInput {
  readonly self: NodeId
  readonly peer: NodeId
  readonly selfNonce: Uint8Array
  readonly peerNonce: Uint8Array
  readonly selfFeed: string
  readonly peerFeed: string
}

/** What both ends of a session know before the exchange. */
export interface PakeSession extends TranscriptInput {
  /** The transport's session id (Connection.id). */
  readonly sessionId: string
}

/** The shares a side sends (`pake` message): the seed's, and the passphrase's when one is held. */
export interface PakeShares {
  readonly y: Uint8Array
  readonly yp?: Uint8Array
}

/** The confirmation tags a side sends (`confirm` message). */
export interface PakeTags {
  readonly mac: Uint8Array
  readonly pmac?: Uint8Array
}

interface Run {
  readonly name: SecretName
  readonly ci: Uint8Array
  readonly side: CpaceSide
}

/** A side's state between sending its shares and receiving the peer's. */
export interface PakeStart {
  readonly shares: PakeShares
  readonly role: Role
  readonly sid: Uint8Array
  readonly runs: readonly Run[]
}

/** The keys of a finished exchange: this side's tags, and the check of the peer's. */
export interface PakeKeys {
  readonly tags: PakeTags
  /** Undefined when the peer proved every secret; else the first secret it did not prove. */
  check (peer: PakeTags): SecretName | undefined
}

const roleOf = (self: NodeId, peer: NodeId): Role => self < peer ? 'lo' : 'hi'

/** sid = nonce_lo ‖ nonce_hi. */
export function sessionSid (s: PakeSession): Uint8Array {
  const [a, b] = roleOf(s.self, s.peer) === 'lo' ? [s.selfNonce, s.peerNonce] : [s.peerNonce, s.selfNonce]
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a, 0)
  out.set(b, a.byteLength)
  return out
}

/** CI of one secret's run: the context, the secret's name, the transport session, both ids and feeds. */
export function channelId (s: PakeSession, name: SecretName): Uint8Array {
  const lo = roleOf(s.self, s.peer) === 'lo'
  const [idLo, idHi] = lo ? [s.self, s.peer] : [s.peer, s.self]
  const [feedLo, feedHi] = lo ? [s.selfFeed, s.peerFeed] : [s.peerFeed, s.selfFeed]
  return lvCat(PAKE_CONTEXT, name, s.sessionId, idLo, idHi, feedLo, feedHi)
}

const utf8 = (t: string): Uint8Array => new TextEncoder().encode(t)

/** Starts the exchange: this side's share for each secret it holds (`random` gives 32 fresh random bytes a call). */
export function startPake (s: PakeSession, secrets: { readonly seed: string, readonly passphrase?: string }, random: () => Uint8Array): PakeStart {
  const sid = sessionSid(s)
  const held: Array<[SecretName, string]> = [['seed', secrets.seed]]
  if (secrets.passphrase !== undefined) held.push(['passphrase', secrets.passphrase])
  const runs = held.map(([name, secret]): Run => {
    const ci = channelId(s, name)
    return { name, ci, side: cpaceShare(utf8(secret), ci, sid, random) }
  })
  const [seed, pass] = runs
  return { shares: { y: seed!.side.share, ...(pass !== undefined ? { yp: pass.side.share } : {}) }, role: roleOf(s.self, s.peer), sid, runs }
}

/**
 * What the certificate layer signs in version 2 (with the role in front, as in version 1): the
 * seed run's CI and sid and both sides' shares, lo first — the same bytes on both ends.
 */
export function pakeTranscript (start: PakeStart, peer: PakeShares): Uint8Array {
  const lo = start.role === 'lo'
  const [a, b] = lo ? [start.shares, peer] : [peer, start.shares]
  return lvCat(PAKE_CONTEXT, start.runs[0]!.ci, start.sid, a.y, b.y, a.yp ?? new Uint8Array(), b.yp ?? new Uint8Array())
}

/**
 * Finishes the exchange with the peer's shares: this side's tags and the check of the peer's, or
 * the secret whose share is invalid (not a group element, or the identity: the draft's abort).
 */
export function finishPake (start: PakeStart, peer: PakeShares): PakeKeys | { readonly invalid: SecretName } {
  const peerRole: Role = start.role === 'lo' ? 'hi' : 'lo'
  const ad = utf8(start.role)
  const peerAd = utf8(peerRole)
  const keys: Array<{ name: SecretName, isk: Uint8Array, peerShare: Uint8Array }> = []
  for (const run of start.runs) {
    const peerShare = run.name === 'seed' ? peer.y : peer.yp
    if (peerShare === undefined) return { invalid: run.name }
    const isk = cpaceKey({ side: run.side, sid: start.sid, ad, peerShare, peerAd, order: 'oc' })
    if (isk === undefined) return { invalid: run.name }
    keys.push({ name: run.name, isk, peerShare })
  }
  const tagOf = (i: number): Uint8Array => confirmationTag(keys[i]!.isk, start.sid, start.runs[i]!.side.share, ad)
  return {
    tags: { mac: tagOf(0), ...(keys.length > 1 ? { pmac: tagOf(1) } : {}) },
    check (tags) {
      for (const [i, k] of keys.entries()) {
        const tag = i === 0 ? tags.mac : tags.pmac
        if (tag === undefined || !verifyConfirmation(k.isk, start.sid, k.peerShare, peerAd, tag)) return k.name
      }
      return undefined
    }
  }
}
