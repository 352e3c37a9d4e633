/**
 * Authentication of REST sync calls between nodes: mutual, per request, replay-proof.
 *
 * Both nodes hold the same secret (sync.passphrase, else p2p.seed). Neither the secret nor any
 * fixed derivative of it is ever sent. Each side derives K = BLAKE3("engram/rest-auth/v1" ‖ 0x00 ‖
 * secret) and signs with HMAC-SHA256(K, …):
 *
 *   request  headers  x-engram-node, x-engram-ts (ms), x-engram-nonce (16 random bytes, hex),
 *                     x-engram-sig = HMAC(K, "req\n" method "\n" path "\n" ts "\n" nonce "\n" node "\n" sha256(body))
 *   response headers  x-engram-node, x-engram-sig = HMAC(K, "res\n" status "\n" request-nonce "\n" node "\n" sha256(body))
 *
 * The server refuses (401, nothing changed) a request whose stamp is outside the replay window
 * or whose nonce it has seen within the window. The client refuses a response whose signature
 * does not match: it is bound to the client's fresh nonce, so a recorded response cannot be
 * replayed and a node without the secret cannot answer in a peer's place.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { blake3 } from '../core/hash.ts'
import { UNAUTHORIZED } from '../core/errors.ts'

export const AUTH_HEADERS = {
  node: 'x-engram-node',
  ts: 'x-engram-ts',
  nonce: 'x-engram-nonce',
  sig: 'x-engram-sig'
} as const

/** Requests whose stamp is further than this from the server's clock are refused. */
export const REPLAY_WINDOW_MS = 5 * 60 * 1000
/** Nonces remembered per window, at most (oldest forgotten first; the window still bounds replay). */
export const MAX_REMEMBERED_NONCES = 100_000

export function deriveRestKey (secret: string): Uint8Array {
  return blake3(Buffer.concat([Buffer.from('engram/rest-auth/v1\0'), Buffer.from(secret, 'utf8')]))
}

const sha256Hex = (body: Uint8Array | string): string => createHash('sha256').update(body).digest('hex')

function mac (key: Uint8Array, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex')
}

function safeEqualHex (a: string, b: string): boolean {
  if (a.length !== b.length || a.length === 0) return false
  return timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

export interface SignedRequestHeaders {
  [AUTH_HEADERS.node]: string
  [AUTH_HEADERS.ts]: string
  [AUTH_HEADERS.nonce]: string
  [AUTH_HEADERS.sig]: string
}

export function signRequest (key: Uint8Array, node: string, method: string, path: string, body: Uint8Array | string, now = Date.now()): SignedRequestHeaders {
  const ts = String(now)
  const nonce = randomBytes(16).toString('hex')
  const sig = mac(key, ['req', method.toUpperCase(), path, ts, nonce, node, sha256Hex(body)].join('\n'))
  return { [AUTH_HEADERS.node]: node, [AUTH_HEADERS.ts]: ts, [AUTH_HEADERS.nonce]: nonce, [AUTH_HEADERS.sig]: sig }
}

export function signResponse (key: Uint8Array, node: string, status: number, requestNonce: string, body: Uint8Array | string): string {
  return mac(key, ['res', String(status), requestNonce, node, sha256Hex(body)].join('\n'))
}

/** Throws UNAUTHORIZED unless the response is signed with K for this request's nonce. */
export function verifyResponse (key: Uint8Array, headers: Headers, status: number, requestNonce: string, body: Uint8Array | string): string {
  const node = headers.get(AUTH_HEADERS.node) ?? ''
  const sig = headers.get(AUTH_HEADERS.sig) ?? ''
  if (node === '' || sig === '') throw UNAUTHORIZED('the peer answered without proof of the shared secret: is it an engram node with sync enabled?')
  if (!safeEqualHex(sig, signResponse(key, node, status, requestNonce, body))) {
    throw UNAUTHORIZED('the peer could not prove the shared secret (passphrase or seed mismatch, or another service answered)')
  }
  return node
}

/** Remembers recent nonces to refuse replays within the window. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>()
  private readonly windowMs: number
  private readonly max: number

  constructor (windowMs = REPLAY_WINDOW_MS, max = MAX_REMEMBERED_NONCES) {
    this.windowMs = windowMs
    this.max = max
  }

  windowMsValue (): number { return this.windowMs }

  /** False when the nonce was already used within the window. Records it otherwise. */
  admit (nonce: string, now: number): boolean {
    this.expire(now)
    if (this.seen.has(nonce)) return false
    this.seen.set(nonce, now)
    if (this.seen.size > this.max) {
      const oldest = this.seen.keys().next().value
      if (oldest !== undefined) this.seen.delete(oldest)
    }
    return true
  }

  private expire (now: number): void {
    for (const [n, t] of this.seen) {
      if (now - t <= this.windowMs) break
      this.seen.delete(n)
    }
  }
}

export interface VerifiedRequest {
  readonly node: string
  readonly nonce: string
}

/**
 * Checks a signed request. Throws UNAUTHORIZED naming what is wrong (missing headers, stale
 * stamp, replayed nonce, bad signature); returns the claimed node and the nonce to sign the
 * response with.
 */
export function verifyRequest (
  key: Uint8Array, guard: ReplayGuard, headers: Record<string, string | string[] | undefined>,
  method: string, path: string, body: Uint8Array | string, now = Date.now()
): VerifiedRequest {
  const get = (h: string): string => { const v = headers[h]; return Array.isArray(v) ? (v[0] ?? '') : (v ?? '') }
  const node = get(AUTH_HEADERS.node)
  const ts = get(AUTH_HEADERS.ts)
  const nonce = get(AUTH_HEADERS.nonce)
  const sig = get(AUTH_HEADERS.sig)
  if (node === '' || ts === '' || nonce === '' || sig === '') {
    throw UNAUTHORIZED(`sync requests must be signed (headers ${Object.values(AUTH_HEADERS).join(', ')}); set the same p2p.seed or sync.passphrase on both nodes`)
  }
  if (!/^[0-9a-f]{32}$/.test(nonce)) throw UNAUTHORIZED('x-engram-nonce must be 32 hex digits')
  const t = Number(ts)
  if (!Number.isSafeInteger(t) || Math.abs(now - t) > guard.windowMsValue()) {
    throw UNAUTHORIZED(`request stamp is outside the ${guard.windowMsValue() / 1000} s replay window: check both machines' clocks`)
  }
  const expected = mac(key, ['req', method.toUpperCase(), path, ts, nonce, node, sha256Hex(body)].join('\n'))
  if (!safeEqualHex(sig, expected)) throw UNAUTHORIZED('bad signature: the caller does not hold this node\'s passphrase/seed')
  if (!guard.admit(nonce, now)) throw UNAUTHORIZED('replayed request refused (nonce already used)')
  return { node, nonce }
}
