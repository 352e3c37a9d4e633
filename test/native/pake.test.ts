/**
 * The version 2 handshake's PAKE (src/sync/native/pake.ts): two sides with the same secrets
 * agree and confirm, a difference in either secret is named, the exchange is bound to both ids,
 * both feeds, both nonces and the transport session, and invalid shares abort.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { finishPake, startPake, type PakeKeys, type PakeSession, type PakeShares } from '../../src/protocol/native/pake.ts'

const A = asNodeId('12D3KooWAlpha')
const B = asNodeId('12D3KooWBravo')
const random = (): Uint8Array => new Uint8Array(randomBytes(32))

function sessions (over: { a?: Partial<PakeSession>, b?: Partial<PakeSession> } = {}): [PakeSession, PakeSession] {
  const na = randomBytes(32)
  const nb = randomBytes(32)
  const a: PakeSession = { self: A, peer: B, selfNonce: na, peerNonce: nb, selfFeed: 'f'.repeat(32), peerFeed: 'e'.repeat(32), sessionId: 'conn-1', ...over.a }
  const b: PakeSession = { self: B, peer: A, selfNonce: nb, peerNonce: na, selfFeed: 'e'.repeat(32), peerFeed: 'f'.repeat(32), sessionId: 'conn-1', ...over.b }
  return [a, b]
}

const keys = (k: PakeKeys | { invalid: string }): PakeKeys => {
  assert.ok(!('invalid' in k), `invalid share: ${JSON.stringify(k)}`)
  return k
}

/** Runs both sides; answers what each side's check says of the other's tags. */
function exchange (secrets: [{ seed: string, passphrase?: string }, { seed: string, passphrase?: string }], over?: Parameters<typeof sessions>[0]): [string | undefined, string | undefined] {
  const [sa, sb] = sessions(over)
  const a = startPake(sa, secrets[0], random)
  const b = startPake(sb, secrets[1], random)
  const ka = keys(finishPake(a, b.shares))
  const kb = keys(finishPake(b, a.shares))
  return [ka.check(kb.tags), kb.check(ka.tags)]
}

const SEED = 'K7p-seed_for-the-pake-tests'
const PASS = 'a passphrase of several words'

describe('native handshake v2: the PAKE', () => {
  it('the same secrets confirm both ways', () => {
    assert.deepEqual(exchange([{ seed: SEED }, { seed: SEED }]), [undefined, undefined])
    assert.deepEqual(exchange([{ seed: SEED, passphrase: PASS }, { seed: SEED, passphrase: PASS }]), [undefined, undefined])
  })

  it('names the secret that differs', () => {
    assert.deepEqual(exchange([{ seed: SEED }, { seed: SEED + 'x' }]), ['seed', 'seed'])
    assert.deepEqual(exchange([{ seed: SEED, passphrase: PASS }, { seed: SEED, passphrase: PASS + '!' }]), ['passphrase', 'passphrase'])
    assert.deepEqual(exchange([{ seed: 'other-seed-entirely-0', passphrase: PASS }, { seed: SEED, passphrase: PASS }]), ['seed', 'seed'])
  })

  it('is bound to the transport session, both feeds and both ids', () => {
    const same = [{ seed: SEED }, { seed: SEED }] as [{ seed: string }, { seed: string }]
    assert.deepEqual(exchange(same, { b: { sessionId: 'conn-2' } }), ['seed', 'seed'])
    assert.deepEqual(exchange(same, { b: { peerFeed: 'd'.repeat(32) } }), ['seed', 'seed'])
    assert.deepEqual(exchange(same, { b: { peer: asNodeId('12D3KooWCharlie') } }), ['seed', 'seed'])
    assert.deepEqual(exchange(same, { b: { selfNonce: randomBytes(32) } }), ['seed', 'seed'])
  })

  it('a share that is not a group element, or the identity, aborts the run', () => {
    const [sa, sb] = sessions()
    const a = startPake(sa, { seed: SEED, passphrase: PASS }, random)
    const b = startPake(sb, { seed: SEED, passphrase: PASS }, random)
    for (const bad of [new Uint8Array(32), new Uint8Array(32).fill(0xff), new Uint8Array(31), randomBytes(32).fill(0xee, 31)]) {
      assert.deepEqual(finishPake(a, { ...b.shares, y: bad }), { invalid: 'seed' })
      assert.deepEqual(finishPake(a, { ...b.shares, yp: bad }), { invalid: 'passphrase' })
    }
    const noPass: PakeShares = { y: b.shares.y }
    assert.deepEqual(finishPake(a, noPass), { invalid: 'passphrase' })
  })

  it('fresh shares every session: nothing repeats across sessions with the same secrets', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 20; i++) {
      const [sa] = sessions()
      const a = startPake(sa, { seed: SEED }, random)
      const hex = Buffer.from(a.shares.y).toString('hex')
      assert.ok(!seen.has(hex))
      seen.add(hex)
    }
  })
})
