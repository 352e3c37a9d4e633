/** Signed REST sync requests and answers: every signed field matters, replays and stale stamps are refused. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  AUTH_HEADERS, REPLAY_WINDOW_MS, ReplayGuard, deriveRestKey, readClockHint, signRequest, signResponse, verifyRequest, verifyResponse,
  type SignedRequestHeaders
} from '../../src/sync/polled/auth.ts'
import { isEngramError } from '../../src/core/errors.ts'

const KEY = deriveRestKey('correct horse battery staple')
const OTHER = deriveRestKey('another secret')
const PATH = '/api/v1/sync/delta'
const BODY = '{"cursor":0}'
const NOW = 1_763_600_000_000

const signed = (over: { key?: Uint8Array, node?: string, method?: string, path?: string, body?: string, now?: number } = {}): SignedRequestHeaders =>
  signRequest(over.key ?? KEY, over.node ?? 'node-a', over.method ?? 'POST', over.path ?? PATH, over.body ?? BODY, over.now ?? NOW)

function verify (headers: Record<string, string>, over: { method?: string, path?: string, body?: string, now?: number, guard?: ReplayGuard, key?: Uint8Array } = {}) {
  return verifyRequest(over.key ?? KEY, over.guard ?? new ReplayGuard(), headers, over.method ?? 'POST', over.path ?? PATH, over.body ?? BODY, over.now ?? NOW)
}

function refused (outcome: ReturnType<typeof verify>, pattern: RegExp): void {
  assert.equal(outcome.ok, false, 'refused')
  if (!outcome.ok) assert.match(outcome.failure.message, pattern)
}

describe('request signatures', () => {
  it('a correctly signed request passes and names its node and nonce', () => {
    const h = signed()
    const r = verify({ ...h })
    assert.ok(r.ok)
    if (r.ok) assert.deepEqual(r.request, { node: 'node-a', nonce: h[AUTH_HEADERS.nonce] })
  })

  it('tampering with any signed field fails', () => {
    const h = signed()
    refused(verify({ ...h }, { method: 'PUT' }), /bad signature/)
    refused(verify({ ...h }, { path: '/api/v1/sync/other' }), /bad signature/)
    refused(verify({ ...h }, { body: '{"cursor":1}' }), /bad signature/)
    refused(verify({ ...h, [AUTH_HEADERS.ts]: String(NOW + 1) }), /bad signature/)
    refused(verify({ ...h, [AUTH_HEADERS.nonce]: 'f'.repeat(32) }), /bad signature/)
    refused(verify({ ...h, [AUTH_HEADERS.node]: 'node-b' }), /bad signature/)
    const sig = h[AUTH_HEADERS.sig]
    refused(verify({ ...h, [AUTH_HEADERS.sig]: (sig[0] === '0' ? '1' : '0') + sig.slice(1) }), /bad signature/)
    refused(verify({ ...h }, { key: OTHER }), /bad signature/)
    refused(verify({ ...signed({ key: OTHER }) }), /bad signature/)
  })

  it('missing or malformed headers are refused, naming the problem', () => {
    const h = signed()
    for (const name of [AUTH_HEADERS.node, AUTH_HEADERS.ts, AUTH_HEADERS.nonce, AUTH_HEADERS.sig]) {
      const copy: Record<string, string> = { ...h }
      delete copy[name]
      refused(verify(copy), /must be signed/)
    }
    refused(verify({ ...h, [AUTH_HEADERS.nonce]: 'xyz' }), /nonce must be 32 hex digits/)
    refused(verify({ ...h, [AUTH_HEADERS.ts]: '1e12' }), /x-engram-ts must be milliseconds/)
    refused(verify({ ...h, [AUTH_HEADERS.node]: 'bad node\nid' }), /must be a node id/)
  })

  it('a replayed request is refused, within and after the window', () => {
    const guard = new ReplayGuard()
    const h = signed()
    assert.ok(verify({ ...h }, { guard }).ok)
    refused(verify({ ...h }, { guard }), /replayed/)
    refused(verify({ ...h }, { guard, now: NOW + REPLAY_WINDOW_MS - 1 }), /replayed/)
    refused(verify({ ...h }, { guard, now: NOW + REPLAY_WINDOW_MS + 1 }), /outside the 300 s replay window/)
  })

  it('after a restart (a new epoch), a request recorded before it is refused, with the server time for an honest caller', () => {
    const before = new ReplayGuard({ epoch: NOW - 60_000 })
    const h = signed({ now: NOW - 1000 })
    assert.ok(verify({ ...h }, { guard: before }).ok)
    // The node restarts at NOW: its nonces are forgotten, its epoch is NOW.
    const restarted = new ReplayGuard({ epoch: NOW })
    const r = verify({ ...h }, { guard: restarted, now: NOW + 2000 })
    assert.equal(r.ok, false)
    if (r.ok) return
    assert.match(r.failure.message, /stamped before this node started/)
    assert.ok(r.failure.clockHint !== undefined, 'the caller may sign with this node\'s time')
    assert.ok(verify({ ...signed({ now: NOW + 1000 }) }, { guard: restarted, now: NOW + 2000 }).ok, 'a request made after the restart passes')
  })

  it('a nonce is remembered until its own stamp leaves the window, even when the caller is ahead', () => {
    const guard = new ReplayGuard({ windowMs: 1000 })
    const ahead = signed({ now: NOW + 900 })
    assert.ok(verify({ ...ahead }, { guard, now: NOW }).ok)
    // At NOW + 1500 the stamp (NOW + 900) is still inside the window: the nonce must still be known.
    refused(verify({ ...ahead }, { guard, now: NOW + 1500 }), /replayed/)
    assert.equal(guard.admit('a'.repeat(32), NOW, NOW), 'ok')
    assert.equal(guard.admit('a'.repeat(32), NOW, NOW + 500), 'replay')
  })

  it('a full nonce memory refuses new requests instead of forgetting', () => {
    const guard = new ReplayGuard({ windowMs: 60_000, max: 2 })
    assert.equal(guard.admit('1', NOW, NOW), 'ok')
    assert.equal(guard.admit('2', NOW, NOW), 'ok')
    assert.equal(guard.admit('3', NOW, NOW), 'full')
    assert.equal(guard.admit('1', NOW, NOW), 'replay')
    assert.equal(guard.admit('3', NOW + 61_000, NOW + 61_000), 'ok', 'expired nonces make room')
  })

  it('a stale stamp with a valid signature gets the server time, signed for that nonce only', () => {
    const h = signed({ now: NOW - 10 * 60_000 })
    const r = verify({ ...h })
    assert.equal(r.ok, false)
    if (r.ok) return
    assert.match(r.failure.message, /-600 s from this node's clock/)
    const hint = new Headers(r.failure.clockHint)
    assert.equal(readClockHint(KEY, hint, h[AUTH_HEADERS.nonce]), NOW)
    assert.equal(readClockHint(OTHER, hint, h[AUTH_HEADERS.nonce]), undefined, 'another key cannot read it')
    assert.equal(readClockHint(KEY, hint, 'b'.repeat(32)), undefined, 'bound to the nonce')
    const forged = signed({ key: OTHER, now: NOW - 10 * 60_000 })
    const r2 = verify({ ...forged })
    assert.ok(!r2.ok && r2.failure.clockHint === undefined, 'no time for a caller without the secret')
  })
})

describe('response signatures', () => {
  const nonce = 'c'.repeat(32)
  const headers = (over: { node?: string, sig?: string } = {}): Headers => new Headers({
    [AUTH_HEADERS.node]: over.node ?? 'node-b',
    [AUTH_HEADERS.sig]: over.sig ?? signResponse(KEY, 'node-b', 200, nonce, BODY)
  })
  const unauthorized = (e: unknown): boolean => isEngramError(e) && e.code === 'UNAUTHORIZED'

  it('a signed answer verifies and names the answering node', () => {
    assert.equal(verifyResponse(KEY, headers(), 200, nonce, BODY), 'node-b')
  })

  it('tampering with status, nonce, node, body or signature fails; so does another key', () => {
    assert.throws(() => verifyResponse(KEY, headers(), 201, nonce, BODY), unauthorized)
    assert.throws(() => verifyResponse(KEY, headers(), 200, 'd'.repeat(32), BODY), unauthorized)
    assert.throws(() => verifyResponse(KEY, headers({ node: 'node-c' }), 200, nonce, BODY), unauthorized)
    assert.throws(() => verifyResponse(KEY, headers(), 200, nonce, BODY + ' '), unauthorized)
    assert.throws(() => verifyResponse(KEY, headers({ sig: '0'.repeat(64) }), 200, nonce, BODY), unauthorized)
    assert.throws(() => verifyResponse(OTHER, headers(), 200, nonce, BODY), unauthorized)
    assert.throws(() => verifyResponse(KEY, new Headers(), 200, nonce, BODY), /without proof/)
  })

  it('keys differ per secret and never equal the secret', () => {
    assert.notDeepEqual(KEY, OTHER)
    assert.equal(KEY.length, 32)
    assert.deepEqual(deriveRestKey('correct horse battery staple'), KEY)
  })
})
