/**
 * What a session reads of its peer before the handshake completes (sync/native/HandshakeFrames.ts,
 * docs/LIMITS.md): handshake messages go to the inbox in order; any other message is refused from
 * its type alone; after the peer's proof, frames are kept unread (even ones that would not decode)
 * and handed back once, in order; more than 16 kept frames, more than 16 MiB of them, or more than
 * the inbox holds fail the session with a PROTOCOL error.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import { encodeMessage } from '../../src/protocol/native/messages.ts'
import { HandshakeFrames } from '../../src/sync/native/HandshakeFrames.ts'

const hello = encodeMessage({ t: 'hello', v: [1, 2], nonce: new Uint8Array(32), feed: 'a'.repeat(32) })
const proof = encodeMessage({ t: 'proof', mac: new Uint8Array(32) })
const cursor = encodeMessage({ t: 'cursor', cursor: 0, feed: 'a'.repeat(32) })

/** A HandshakeFrames whose failures are noted. */
function frames (): { hs: HandshakeFrames, failures: unknown[] } {
  const failures: unknown[] = []
  return { hs: new HandshakeFrames(e => { failures.push(e) }), failures }
}

function assertProtocol (err: unknown, mentions: string): void {
  assert.ok(isEngramError(err) && err.code === 'PROTOCOL', `expected a PROTOCOL error, got ${String(err)}`)
  assert.ok(err.message.includes(mentions), `${JSON.stringify(err.message)} should mention ${mentions}`)
}

describe('frames before the handshake completes', () => {
  it('hands handshake messages to the inbox in order, and keeps what follows the proof unread until released', async () => {
    const { hs, failures } = frames()
    hs.onFrame(hello)
    hs.onFrame(proof)
    const junk = Uint8Array.from([0x09, 0xff, 0xff])
    hs.onFrame(cursor)
    hs.onFrame(junk)
    assert.equal((await hs.inbox.next(1_000)).t, 'hello')
    assert.equal((await hs.inbox.next(1_000)).t, 'proof')
    assert.deepEqual(hs.inbox.drain(), [], 'nothing after the proof was read')
    assert.deepEqual(failures, [])
    assert.deepEqual(hs.release(), [cursor, junk], 'kept in order, as they came')
    assert.deepEqual(hs.release(), [], 'handed over once')
  })

  it('refuses any other message before the proof from its type alone', async () => {
    const { hs, failures } = frames()
    hs.onFrame(cursor)
    await assert.rejects(hs.inbox.next(1_000), (e: unknown) => { assertProtocol(e, 'cursor'); return true })
    assert.deepEqual(failures, [], 'the handshake judges it, in order')
  })

  it('fails past 16 frames kept after the proof', () => {
    const { hs, failures } = frames()
    hs.onFrame(proof)
    for (let i = 0; i < 16; i++) hs.onFrame(cursor)
    assert.deepEqual(failures, [], '16 frames are kept')
    hs.onFrame(cursor)
    assert.equal(failures.length, 1)
    assertProtocol(failures[0], 'more than 16 frames')
  })

  it('fails past 16 MiB kept after the proof', () => {
    const { hs, failures } = frames()
    hs.onFrame(proof)
    hs.onFrame(new Uint8Array(8 * 1024 * 1024))
    hs.onFrame(new Uint8Array(8 * 1024 * 1024))
    assert.deepEqual(failures, [], '16 MiB are kept')
    hs.onFrame(Uint8Array.of(1))
    assert.equal(failures.length, 1)
    assertProtocol(failures[0], `${16 * 1024 * 1024} bytes`)
  })

  it('fails when the peer sends more handshake messages than the inbox holds', () => {
    const { hs, failures } = frames()
    for (let i = 0; i < 64; i++) hs.onFrame(hello)
    assert.deepEqual(failures, [], 'the inbox holds 64')
    hs.onFrame(hello)
    assert.equal(failures.length, 1)
    assertProtocol(failures[0], 'too many messages before the handshake completed')
  })
})
