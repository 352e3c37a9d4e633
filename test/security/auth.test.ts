/**
 * REST sync signatures with both secrets: a node holding sync.passphrase and p2p.seed checks
 * both, each failure named, the passphrase never sent.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AUTH_HEADERS, ReplayGuard, deriveRestKey, deriveRestKeys, signRequest, signResponse, verifyRequest, verifyResponse, type RestKey } from '../../src/sync/polled/auth.ts'

const PATH = '/api/v1/sync/delta'
const BODY = '{"cursor":0}'
const NOW = 1_763_600_000_000
const PASS = 'a long shared passphrase'
const SEED = 'shared-seed'
const BOTH = deriveRestKeys({ passphrase: PASS, seed: SEED })!

function outcome (caller: RestKey, server: RestKey): string {
  const h = signRequest(caller, 'node-a', 'POST', PATH, BODY, NOW)
  const r = verifyRequest(server, new ReplayGuard(), { ...h }, 'POST', PATH, BODY, NOW)
  return r.ok ? 'ok' : r.failure.message
}

describe('REST signatures with passphrase and seed', () => {
  it('one MAC per secret; the header names the secrets, never their values', () => {
    const h = signRequest(BOTH, 'node-a', 'POST', PATH, BODY, NOW)
    assert.equal(h[AUTH_HEADERS.secrets], 'passphrase,seed')
    assert.match(h[AUTH_HEADERS.sig], /^[0-9a-f]{64},[0-9a-f]{64}$/)
    assert.ok(!JSON.stringify(h).includes(PASS) && !JSON.stringify(h).includes(SEED))
    assert.equal(outcome(BOTH, BOTH), 'ok')
  })

  it('each secret is checked: a wrong passphrase and a wrong seed are told apart', () => {
    assert.match(outcome(deriveRestKeys({ passphrase: 'wrong', seed: SEED })!, BOTH), /^bad signature: passphrase mismatch/)
    assert.match(outcome(deriveRestKeys({ passphrase: PASS, seed: 'wrong' })!, BOTH), /^bad signature: seed mismatch \(the caller's p2p\.seed differs/)
  })

  it('a secret set on one node only is refused, saying on which', () => {
    assert.match(outcome(deriveRestKeys({ seed: SEED })!, BOTH), /^sync\.passphrase is set on this node but not on the caller/)
    assert.match(outcome(BOTH, deriveRestKeys({ seed: SEED })!), /^sync\.passphrase is set on the caller but not on this node/)
    assert.match(outcome(deriveRestKeys({ passphrase: PASS })!, BOTH), /^p2p\.seed is set on this node but not on the caller/)
  })

  it('a caller that does not name its secrets must still prove every one', () => {
    const h = signRequest(BOTH, 'node-a', 'POST', PATH, BODY, NOW)
    const { [AUTH_HEADERS.secrets]: _named, ...unnamed } = h
    assert.equal(verifyRequest(BOTH, new ReplayGuard(), unnamed, 'POST', PATH, BODY, NOW).ok, true)
    const one = signRequest(deriveRestKey(PASS), 'node-a', 'POST', PATH, BODY, NOW)
    const r = verifyRequest(BOTH, new ReplayGuard(), { ...one }, 'POST', PATH, BODY, NOW)
    assert.equal(r.ok, false)
    if (!r.ok) assert.match(r.failure.message, /proves 1 secret\(s\), this node holds 2/)
  })

  it('one secret alone signs exactly as before (one MAC with that secret\'s key)', () => {
    const h = signRequest(deriveRestKeys({ passphrase: PASS })!, 'node-a', 'POST', PATH, BODY, NOW)
    const r = verifyRequest(deriveRestKey(PASS), new ReplayGuard(), { ...h }, 'POST', PATH, BODY, NOW)
    assert.equal(r.ok, true)
  })

  it('answers are signed with every key, and checked with every key', () => {
    const nonce = 'c'.repeat(32)
    const headers = new Headers({ [AUTH_HEADERS.node]: 'node-b', [AUTH_HEADERS.sig]: signResponse(BOTH, 'node-b', 200, nonce, BODY) })
    assert.equal(verifyResponse(BOTH, headers, 200, nonce, BODY), 'node-b')
    assert.throws(() => verifyResponse(deriveRestKeys({ passphrase: PASS, seed: 'wrong' })!, headers, 200, nonce, BODY), /could not prove the shared secret/)
  })
})
