/**
 * No offline guessing of the shared secrets from the native handshake (docs/SECURITY.md,
 * "Guessing a secret"). A word list holds the real seed among likely ones; an attacker holding a
 * recorded transcript, or the view of a dialer without the secret, tries every check it can
 * compute against every word:
 *
 * - version 1 (what older nodes still send): the recorded proof is a keyed MAC of a known
 *   transcript, and the word list finds the seed — the attack that version 2 ends;
 * - version 2, a recorded honest session: every check the attacker can compute (MACs keyed from
 *   the word, the word's generator against the shares, keys made of what it has) gives the same
 *   answer for the real seed as for every other word: no check tells them apart;
 * - version 2, a dialer without the secret: the node it dials sends its hello and share and
 *   nothing else — no tag to test any word against;
 * - version 2, a node that dials the attacker: its tag checks exactly the one word the attacker
 *   committed to in that session (an online guess, throttled), and no other word, not even the
 *   real seed.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { calculateGenerator, confirmationTag, intermediateKey, scalarMult, transcriptOc } from '../../src/protocol/cpace.ts'
import { computeProof, deriveHandshakeKey, roleOf, runHandshake, transcript, verifyProof, type HandshakeChannel } from '../../src/protocol/native/handshake.ts'
import { Inbox } from '../../src/sync/native/Inbox.ts'
import { decodeFrame, encodeMessage, type ConfirmMessage, type HelloMessage, type NativeMessage, type PakeMessage, type ProofMessage } from '../../src/protocol/native/messages.ts'
import { channelId, finishPake, sessionSid, startPake, type PakeSession } from '../../src/protocol/native/pake.ts'

const SEED = 'correct-horse-battery-staple'
const WORDS = ['hunter2', 'a-shared-seed', 'password123', 'letmein-please', SEED, 'correct-horse-battery-stapler', 'engram-demo-seed', 'Tr0ub4dor&3']
const VICTIM = asNodeId('12D3KooWVictimVictimVictim')
const OTHER = asNodeId('12D3KooWOtherOtherOther')
const ATTACKER = asNodeId('12D3KooWAttackerAttacker')
const FEED_V = 'a'.repeat(32)
const FEED_O = 'b'.repeat(32)
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Two handshake channels wired together, recording every message in order (the eavesdropper's tape). */
function recordedPair (): { a: HandshakeChannel, b: HandshakeChannel, tape: Array<{ from: 'a' | 'b', msg: NativeMessage }> } {
  const ia = new Inbox<NativeMessage>()
  const ib = new Inbox<NativeMessage>()
  const tape: Array<{ from: 'a' | 'b', msg: NativeMessage }> = []
  const wire = (from: 'a' | 'b', to: Inbox<NativeMessage>) => async (m: NativeMessage): Promise<void> => {
    const back = decodeFrame(encodeMessage(m))
    tape.push({ from, msg: back })
    to.push(back)
  }
  return { a: { send: wire('a', ib), next: ms => ia.next(ms) }, b: { send: wire('b', ia), next: ms => ib.next(ms) }, tape }
}

const of = <T extends NativeMessage['t']>(tape: ReturnType<typeof recordedPair>['tape'], from: 'a' | 'b', t: T): Extract<NativeMessage, { t: T }> =>
  tape.find(x => x.from === from && x.msg.t === t)!.msg as Extract<NativeMessage, { t: T }>

describe('offline guessing from the native handshake', () => {
  it('version 1: a recorded proof lets a word list find the seed (what older nodes still send)', async () => {
    const { a, b, tape } = recordedPair()
    const old = { versions: [1, 1] as [number, number], legacyProofOrder: true, timeoutMs: 2000 }
    await Promise.all([
      runHandshake(a, { key: deriveHandshakeKey(SEED), self: VICTIM, peer: OTHER, feed: FEED_V, ...old }),
      runHandshake(b, { key: deriveHandshakeKey(SEED), self: OTHER, peer: VICTIM, feed: FEED_O, ...old })
    ])
    const [ha, hb] = [of(tape, 'a', 'hello') as HelloMessage, of(tape, 'b', 'hello') as HelloMessage]
    const proof = of(tape, 'a', 'proof') as ProofMessage
    const t = transcript({ self: VICTIM, peer: OTHER, selfNonce: ha.nonce, peerNonce: hb.nonce, selfFeed: ha.feed, peerFeed: hb.feed })
    const found: string[] = []
    for (const w of WORDS) if (await verifyProof(deriveHandshakeKey(w), roleOf(VICTIM, OTHER), t, proof.mac)) found.push(w)
    assert.deepEqual(found, [SEED], 'the offline check works on version 1')
  })

  it('version 2, a recorded session: no check the attacker can compute tells the seed from any other word', async () => {
    const { a, b, tape } = recordedPair()
    await Promise.all([
      runHandshake(a, { key: deriveHandshakeKey(SEED), secrets: { seed: SEED }, self: VICTIM, peer: OTHER, feed: FEED_V, sessionId: 's-1', initiator: true, timeoutMs: 2000 }),
      runHandshake(b, { key: deriveHandshakeKey(SEED), secrets: { seed: SEED }, self: OTHER, peer: VICTIM, feed: FEED_O, sessionId: 's-1', initiator: false, timeoutMs: 2000 })
    ])
    assert.deepEqual(tape.map(x => x.msg.t).sort(), ['confirm', 'confirm', 'hello', 'hello', 'pake', 'pake'], 'the full transcript')
    const [ha, hb] = [of(tape, 'a', 'hello') as HelloMessage, of(tape, 'b', 'hello') as HelloMessage]
    const [pa, pb] = [of(tape, 'a', 'pake') as PakeMessage, of(tape, 'b', 'pake') as PakeMessage]
    const [ca, cb] = [of(tape, 'a', 'confirm') as ConfirmMessage, of(tape, 'b', 'confirm') as ConfirmMessage]
    const session: PakeSession = { self: VICTIM, peer: OTHER, selfNonce: ha.nonce, peerNonce: hb.nonce, selfFeed: ha.feed, peerFeed: hb.feed, sessionId: 's-1' }
    const sid = sessionSid(session)
    const ci = channelId(session, 'seed')
    const t1 = transcript({ self: VICTIM, peer: OTHER, selfNonce: ha.nonce, peerNonce: hb.nonce, selfFeed: ha.feed, peerFeed: hb.feed })
    const eq = (x: Uint8Array, y: Uint8Array): boolean => Buffer.compare(x, y) === 0

    /** Every check of a word the attacker can compute from the tape; true when one says "this is it". */
    const checks = async (w: string): Promise<boolean[]> => {
      const out: boolean[] = []
      // MACs keyed from the word, over everything recorded
      for (const tag of [ca.mac, cb.mac]) {
        out.push(eq((await computeProof(deriveHandshakeKey(w), 'lo', t1)).subarray(0, 32), tag.subarray(0, 32)))
      }
      // the word's generator against the shares, and small multiples of it
      const g = calculateGenerator(utf8(w), ci, sid)
      for (let k = 1n; k <= 64n; k++) {
        const gk = scalarMult(k, g)
        out.push(eq(gk, pa.y), eq(gk, pb.y))
      }
      // keys made of what the attacker has (the shares, the generator), and the tags they would give
      const order = transcriptOc(pa.y, utf8(roleOf(VICTIM, OTHER)), pb.y, utf8(roleOf(OTHER, VICTIM)))
      for (const k of [pa.y, pb.y, g.toBytes(), scalarMult(2n, g)]) {
        const isk = intermediateKey(sid, k, order)
        out.push(eq(confirmationTag(isk, sid, pa.y, utf8(roleOf(VICTIM, OTHER))), ca.mac), eq(confirmationTag(isk, sid, pb.y, utf8(roleOf(OTHER, VICTIM))), cb.mac))
      }
      return out
    }
    const right = await checks(SEED)
    assert.ok(right.every(x => !x), 'no check says yes for the real seed')
    for (const w of WORDS) assert.deepEqual(await checks(w), right, `${w} and the real seed give the same answers`)
  })

  it('version 2, a dialer without the secret: the node it dials sends its hello and its share, nothing else', async () => {
    const { a, b, tape } = recordedPair()
    const [attacker, victim] = await Promise.allSettled([
      runHandshake(a, { key: deriveHandshakeKey('hunter2'), secrets: { seed: 'hunter2' }, self: ATTACKER, peer: VICTIM, feed: FEED_O, sessionId: 's-2', initiator: true, timeoutMs: 500 }),
      runHandshake(b, { key: deriveHandshakeKey(SEED), secrets: { seed: SEED }, self: VICTIM, peer: ATTACKER, feed: FEED_V, sessionId: 's-2', initiator: false, timeoutMs: 500 })
    ])
    assert.equal(victim.status, 'rejected')
    assert.match(String((victim as PromiseRejectedResult).reason.message), /did not prove p2p\.seed/)
    assert.equal(attacker.status, 'rejected')
    assert.deepEqual(tape.filter(x => x.from === 'b').map(x => x.msg.t), ['hello', 'pake'], 'no confirmation, no proof: nothing to test a word against')
  })

  it('version 2, a node that dials the attacker: its tag checks the one word the attacker committed to, and no other', async () => {
    const rnd = (): Uint8Array => new Uint8Array(randomBytes(32))
    for (const committed of ['hunter2', SEED]) {
      const nv = randomBytes(32)
      const na = randomBytes(32)
      const victimSide: PakeSession = { self: VICTIM, peer: ATTACKER, selfNonce: nv, peerNonce: na, selfFeed: FEED_V, peerFeed: FEED_O, sessionId: 's-3' }
      const attackerSide: PakeSession = { self: ATTACKER, peer: VICTIM, selfNonce: na, peerNonce: nv, selfFeed: FEED_O, peerFeed: FEED_V, sessionId: 's-3' }
      const v = startPake(victimSide, { seed: SEED }, rnd)
      const x = startPake(attackerSide, { seed: committed }, rnd)
      const vk = finishPake(v, x.shares)
      assert.ok(!('invalid' in vk))
      const victimTag = { mac: vk.tags.mac } // the victim opened the session: it confirms first
      // The committed word: the attacker holds its scalar, so it can check it — one guess, online.
      const own = finishPake(x, v.shares)
      assert.ok(!('invalid' in own))
      assert.equal(own.check(victimTag) === undefined, committed === SEED)
      // Any other word: the victim's key was made with the attacker's committed share, so no
      // scalar the attacker picks for another word's generator gives the victim's tag.
      for (const w of WORDS.filter(w => w !== committed)) {
        const other = startPake(attackerSide, { seed: w }, rnd)
        const k = finishPake({ ...other, shares: x.shares }, v.shares)
        assert.ok(!('invalid' in k))
        assert.notEqual(k.check(victimTag), undefined, `${w} cannot be checked in a session committed to ${committed}`)
      }
    }
  })
})
