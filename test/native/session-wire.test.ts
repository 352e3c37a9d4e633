/**
 * SessionWire (src/sync/native/SessionWire.ts): each send is bounded by sendTimeoutMs, read at
 * that send. A peer that accepts nothing fails every send in flight with `TIMEOUT`, each by its own
 * bound; a send the transport accepts or refuses in time settles as the transport said.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isEngramError, UNAVAILABLE } from '../../src/core/errors.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { SessionWire } from '../../src/sync/native/SessionWire.ts'
import type { Connection } from '../../src/transport/Transport.ts'

/** A connection whose sends settle only when the test says so, in the order they were made. */
function heldConnection (): { conn: Connection, sends: Array<{ accept: () => void, refuse: (e: Error) => void }> } {
  const sends: Array<{ accept: () => void, refuse: (e: Error) => void }> = []
  const conn: Connection = {
    id: 'wire-test',
    remoteNode: asNodeId('peer-b'),
    remoteAddr: 'mem:peer-b',
    direction: 'outbound',
    send: () => new Promise<void>((resolve, reject) => { sends.push({ accept: resolve, refuse: reject }) }),
    onFrame: () => {},
    closed: new Promise(() => {}),
    close: async () => {}
  }
  return { conn, sends }
}

/** Settles to how `p` ended: 'sent', or the error's code. Never rejects. */
const outcome = (p: Promise<void>): Promise<string> =>
  p.then(() => 'sent', (e: unknown) => (isEngramError(e) ? e.code : String(e)))

const isTimeout = (ms: number) => (e: unknown): boolean =>
  isEngramError(e) && e.code === 'TIMEOUT' && /sending to peer-b \(the peer reads nothing\)/.test(e.message) && e.message.includes(`after ${ms} ms`)

describe('SessionWire', () => {
  it('fails every send in flight to a peer that accepts nothing with TIMEOUT', async () => {
    const { conn } = heldConnection()
    const wire = new SessionWire({ conn, compress: false, sendTimeoutMs: () => 30 })
    const sends = [1, 2, 3].map(n => wire.sendFrame(new Uint8Array([n])))
    for (const s of sends) await assert.rejects(s, isTimeout(30))
    // the wire is usable again: a later send is bounded the same way
    await assert.rejects(wire.sendFrame(new Uint8Array([4])), isTimeout(30))
  })

  it('settles a send as the transport did when it did so in time, and bounds each send by the limit read at that send', async () => {
    const { conn, sends } = heldConnection()
    let limit = 120_000
    const wire = new SessionWire({ conn, compress: false, sendTimeoutMs: () => limit })
    const accepted = outcome(wire.sendFrame(new Uint8Array([1])))
    const refused = outcome(wire.sendFrame(new Uint8Array([2])))
    const long = outcome(wire.sendFrame(new Uint8Array([3])))
    limit = 20
    // made after the long one, with a shorter bound: fails first, by its own bound
    const short = wire.sendFrame(new Uint8Array([4]))
    await assert.rejects(short, isTimeout(20))
    sends[0]!.accept()
    sends[1]!.refuse(UNAVAILABLE('the session closed'))
    assert.equal(await accepted, 'sent')
    assert.equal(await refused, 'UNAVAILABLE')
    // the long send is still within its bound: its result is the transport's
    sends[2]!.accept()
    assert.equal(await long, 'sent')
    // a send that already timed out ignores what the transport says later
    sends[3]!.accept()
    assert.equal(wire.bytesSent, 4)
  })
})
