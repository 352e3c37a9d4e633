/**
 * Authentication of REST sync calls between nodes: mutual, per request, replay-proof.
 *
 * Both nodes hold the same secrets: sync.passphrase, p2p.seed, or both. Neither a secret nor any
 * fixed derivative of one is ever sent. Each side derives one key per secret it holds,
 * K = BLAKE3("engram/rest-auth/v1" ‖ 0x00 ‖ secret), and signs with HMAC-SHA256(K, …), one MAC
 * per key (passphrase first), comma-separated:
 *
 *   request  headers  x-engram-node, x-engram-ts (ms), x-engram-nonce (16 random bytes, hex),
 *                     x-engram-secrets = "passphrase", "seed" or "passphrase,seed" (which secrets
 *                     the MACs prove; not secret),
 *                     x-engram-sig = HMAC(K, "req\n" method "\n" path "\n" ts "\n" nonce "\n" node "\n" sha256(body)), …
 *   response headers  x-engram-node, x-engram-sig = HMAC(K, "res\n" status "\n" request-nonce "\n" node "\n" sha256(body)), …
 *
 * A node with both secrets checks both: the caller must prove each one this node holds, and no
 * other. `x-engram-secrets` only lets the refusing node say which is missing where; the MACs
 * decide.
 *
 * The server checks, in this order: the headers are there and well-formed, the signature, the
 * stamp (within the replay window of the server's clock, and not before the server started),
 * the nonce (not seen within the window). Any failure is a 401 that changes nothing. Nonces are
 * remembered in memory only; the epoch (the server's start) is what refuses, after a restart, a
 * request recorded before it: its stamp is older than the epoch. The client refuses a response whose
 * signature does not match: it is bound to the client's fresh nonce, so a recorded response
 * cannot be replayed and a node without the secret cannot answer in a peer's place.
 *
 * Clock skew: a correctly signed request whose stamp is outside the window (the caller's clock
 * is off by more than the window) is answered 401 with the server's time, signed and bound to
 * the request's nonce (x-engram-time, x-engram-time-sig = HMAC(K, "time\n" time "\n" nonce)).
 * The caller adopts the offset and signs its next requests with the server's time, so two
 * machines whose clocks disagree by more than the window still sync; the server still checks
 * every stamp against its own clock, so this opens no replay.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { blake3 } from '../../core/hash.ts'
import { isNodeId } from '../../core/ids.ts'
import { UNAUTHORIZED } from '../../core/errors.ts'

export const AUTH_HEADERS = {
  node: 'x-engram-node',
  ts: 'x-engram-ts',
  nonce: 'x-engram-nonce',
  sig: 'x-engram-sig',
  secrets: 'x-engram-secrets',
  time: 'x-engram-time',
  timeSig: 'x-engram-time-sig'
} as const

/** The shared secrets a node may hold. */
export interface SyncSecrets {
  readonly passphrase?: string
  readonly seed?: string
}

export type SecretName = 'passphrase' | 'seed'

/** The keys a node signs with: one per secret, named (passphrase first, then seed). */
export interface RestKeys {
  readonly names: readonly SecretName[]
  readonly keys: readonly Uint8Array[]
}

/** A node's REST auth key: one unnamed key (deriveRestKey), or one key per named secret (deriveRestKeys). */
export type RestKey = Uint8Array | RestKeys

const CONFIG_KEY_OF: Record<SecretName, string> = { passphrase: 'sync.passphrase', seed: 'p2p.seed' }

function keysOf (key: RestKey): RestKeys {
  return key instanceof Uint8Array ? { names: [], keys: [key] } : key
}

/** Requests whose stamp is further than this from the server's clock are refused. */
export const REPLAY_WINDOW_MS = 5 * 60 * 1000
/** Nonces remembered at most; when full (after forgetting expired ones) new requests are refused. */
export const MAX_REMEMBERED_NONCES = 100_000

export function deriveRestKey (secret: string): Uint8Array {
  return blake3(Buffer.concat([Buffer.from('engram/rest-auth/v1\0'), Buffer.from(secret, 'utf8')]))
}

/** One key per secret held (passphrase first), or undefined when there is none. */
export function deriveRestKeys (secrets: SyncSecrets): RestKeys | undefined {
  const names: SecretName[] = []
  const keys: Uint8Array[] = []
  for (const name of ['passphrase', 'seed'] as const) {
    const secret = secrets[name]
    if (secret === undefined || secret === '') continue
    names.push(name)
    keys.push(deriveRestKey(secret))
  }
  return keys.length === 0 ? undefined : { names, keys }
}

const sha256Hex = (body: Uint8Array | string): string => createHash('sha256').update(body).digest('hex')

function mac (key: Uint8Array, parts: readonly string[]): string {
  return createHmac('sha256', key).update(parts.join('\n')).digest('hex')
}

/** One MAC per key, comma-separated. */
function macs (key: RestKey, parts: readonly string[]): string {
  return keysOf(key).keys.map(k => mac(k, parts)).join(',')
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
  [AUTH_HEADERS.secrets]?: string
}

const requestParts = (method: string, path: string, ts: string, nonce: string, node: string, body: Uint8Array | string): string[] =>
  ['req', method.toUpperCase(), path, ts, nonce, node, sha256Hex(body)]

export function signRequest (key: RestKey, node: string, method: string, path: string, body: Uint8Array | string, now = Date.now()): SignedRequestHeaders {
  const ts = String(Math.round(now))
  const nonce = randomBytes(16).toString('hex')
  const { names } = keysOf(key)
  return {
    [AUTH_HEADERS.node]: node,
    [AUTH_HEADERS.ts]: ts,
    [AUTH_HEADERS.nonce]: nonce,
    [AUTH_HEADERS.sig]: macs(key, requestParts(method, path, ts, nonce, node, body)),
    ...(names.length > 0 ? { [AUTH_HEADERS.secrets]: names.join(',') } : {})
  }
}

export function signResponse (key: RestKey, node: string, status: number, requestNonce: string, body: Uint8Array | string): string {
  return macs(key, ['res', String(status), requestNonce, node, sha256Hex(body)])
}

/** Throws UNAUTHORIZED unless the response is signed with K for this request's nonce; returns the answering node. */
export function verifyResponse (key: RestKey, headers: Headers, status: number, requestNonce: string, body: Uint8Array | string): string {
  const node = headers.get(AUTH_HEADERS.node) ?? ''
  const sig = headers.get(AUTH_HEADERS.sig) ?? ''
  if (node === '' || sig === '') throw UNAUTHORIZED('the peer answered without proof of the shared secret: is it an engram node with sync enabled?')
  if (!safeEqualHex(sig, signResponse(key, node, status, requestNonce, body))) {
    throw UNAUTHORIZED('the peer could not prove the shared secret (passphrase or seed mismatch, or another service answered)')
  }
  return node
}

/** The server's time, signed for one request (see "Clock skew" above). */
export function signClockHint (key: RestKey, serverTime: number, requestNonce: string): Record<string, string> {
  const time = String(Math.round(serverTime))
  return { [AUTH_HEADERS.time]: time, [AUTH_HEADERS.timeSig]: macs(key, ['time', time, requestNonce]) }
}

/** The server's time from a 401, when it is signed for our nonce; undefined otherwise. */
export function readClockHint (key: RestKey, headers: Headers, requestNonce: string): number | undefined {
  const time = headers.get(AUTH_HEADERS.time) ?? ''
  const sig = headers.get(AUTH_HEADERS.timeSig) ?? ''
  if (!/^\d{1,16}$/.test(time) || !safeEqualHex(sig, macs(key, ['time', time, requestNonce]))) return undefined
  return Number(time)
}

/**
 * Remembers the nonces of admitted requests until their stamp leaves the window: a request
 * stamped `ts` can pass the stamp check only until ts + window, so remembering each nonce that
 * long refuses every replay. Full (only authenticated callers fill it) → new requests are
 * refused rather than forgetting a nonce early.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>()
  readonly windowMs: number
  /** Requests stamped before this time (the server's start, ms) are refused. */
  readonly epoch: number
  private readonly max: number
  private nextSweep = 0

  constructor (opts: { windowMs?: number, max?: number, epoch?: number } = {}) {
    this.windowMs = opts.windowMs ?? REPLAY_WINDOW_MS
    this.max = opts.max ?? MAX_REMEMBERED_NONCES
    this.epoch = opts.epoch ?? 0
  }

  get size (): number { return this.seen.size }

  /** 'replay' when the nonce was already used, 'full' when no more can be remembered; else records it. */
  admit (nonce: string, ts: number, now: number): 'ok' | 'replay' | 'full' {
    if (now >= this.nextSweep || this.seen.size >= this.max) this.sweep(now)
    if (this.seen.has(nonce)) return 'replay'
    if (this.seen.size >= this.max) return 'full'
    this.seen.set(nonce, ts + this.windowMs)
    return 'ok'
  }

  private sweep (now: number): void {
    for (const [n, expires] of this.seen) if (expires < now) this.seen.delete(n)
    this.nextSweep = now + Math.max(1000, this.windowMs / 10)
  }
}

export interface VerifiedRequest {
  readonly node: string
  readonly nonce: string
}

/** A refused request; `clockHint` is set when the caller proved the secret but its clock is off. */
export interface AuthFailure {
  readonly message: string
  readonly node: string
  readonly clockHint?: Record<string, string>
}

export type VerifyOutcome = { readonly ok: true, readonly request: VerifiedRequest } | { readonly ok: false, readonly failure: AuthFailure }

/**
 * Checks a signed request. Returns the claimed node and the nonce to sign the response with, or
 * why it is refused (missing headers, bad signature, stale stamp, replayed nonce).
 */
export function verifyRequest (
  key: RestKey, guard: ReplayGuard, headers: Record<string, string | string[] | undefined>,
  method: string, path: string, body: Uint8Array | string, now = Date.now()
): VerifyOutcome {
  const get = (h: string): string => { const v = headers[h]; return Array.isArray(v) ? (v[0] ?? '') : (v ?? '') }
  const node = get(AUTH_HEADERS.node)
  const ts = get(AUTH_HEADERS.ts)
  const nonce = get(AUTH_HEADERS.nonce)
  const sig = get(AUTH_HEADERS.sig)
  const refuse = (message: string, clockHint?: Record<string, string>): VerifyOutcome =>
    ({ ok: false, failure: { message, node: node.slice(0, 128), ...(clockHint !== undefined ? { clockHint } : {}) } })
  if (node === '' || ts === '' || nonce === '' || sig === '') {
    return refuse(`sync requests must be signed (headers ${[AUTH_HEADERS.node, AUTH_HEADERS.ts, AUTH_HEADERS.nonce, AUTH_HEADERS.sig].join(', ')}); set the same p2p.seed or sync.passphrase on both nodes`)
  }
  if (!isNodeId(node)) return refuse('x-engram-node must be a node id')
  if (!/^[0-9a-f]{32}$/.test(nonce)) return refuse('x-engram-nonce must be 32 hex digits')
  if (!/^\d{1,16}$/.test(ts)) return refuse('x-engram-ts must be milliseconds since the epoch')
  const own = keysOf(key)
  const declared = get(AUTH_HEADERS.secrets)
  if (declared !== '' && own.names.length > 0) {
    const missing = secretsMismatch(own.names, declared)
    if (missing !== undefined) return refuse(missing)
  }
  const sigs = sig.split(',')
  if (sigs.length !== own.keys.length) {
    return refuse(`bad signature: the caller proves ${sigs.length} secret(s), this node holds ${own.keys.length} (sync.passphrase and p2p.seed must be set alike on both nodes)`)
  }
  const parts = requestParts(method, path, ts, nonce, node, body)
  for (let i = 0; i < own.keys.length; i++) {
    if (!safeEqualHex(sigs[i]!, mac(own.keys[i]!, parts))) {
      const name = own.names[i]
      return refuse(name === undefined
        ? 'bad signature: the caller does not hold this node\'s passphrase/seed (sync.passphrase, else p2p.seed)'
        : `bad signature: ${name} mismatch (the caller's ${CONFIG_KEY_OF[name]} differs from this node's, or the request was altered)`)
    }
  }
  const t = Number(ts)
  if (Math.abs(now - t) > guard.windowMs) {
    return refuse(`request stamp is ${Math.round((t - now) / 1000)} s from this node's clock, outside the ${guard.windowMs / 1000} s replay window`,
      signClockHint(key, now, nonce))
  }
  if (t < guard.epoch) {
    // A request made before this node started (a replay across a restart), or a caller whose
    // clock is a little behind: the signed hint lets an honest caller sign with this node's time.
    return refuse('request stamped before this node started: replayed requests are refused across restarts', signClockHint(key, now, nonce))
  }
  const admitted = guard.admit(nonce, t, now)
  if (admitted === 'replay') return refuse('replayed request refused (nonce already used)')
  if (admitted === 'full') return refuse('too many sync requests within the replay window; retry later')
  return { ok: true, request: { node, nonce } }
}

/** Why the secrets a caller declares are not the ones this node holds, or undefined when they are. */
function secretsMismatch (own: readonly SecretName[], declared: string): string | undefined {
  const theirs = declared.split(',')
  if (theirs.length > 2 || theirs.some(n => n !== 'passphrase' && n !== 'seed') || new Set(theirs).size !== theirs.length) {
    return `${AUTH_HEADERS.secrets} must list passphrase and/or seed`
  }
  for (const name of own) {
    if (!theirs.includes(name)) return `${CONFIG_KEY_OF[name]} is set on this node but not on the caller: set the same ${CONFIG_KEY_OF[name]} on every node`
  }
  for (const name of theirs as SecretName[]) {
    if (!own.includes(name)) return `${CONFIG_KEY_OF[name]} is set on the caller but not on this node: set the same ${CONFIG_KEY_OF[name]} on every node`
  }
  return undefined
}
