/**
 * A scripted hostile peer for the hostile tests: it dials a node over any transport (in-memory or
 * QUIC), may run the seed handshake honestly (a compromised peer holds the seed), and then sends
 * whatever the test says — well-formed messages at any rate, or raw frames.
 */
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import { deriveHandshakeKey, derivePassphraseKey, runHandshake } from '../../src/protocol/native/handshake.ts'
import { Inbox } from '../../src/sync/native/Inbox.ts'
import { decodeFrame, encodeMessage, type NativeMessage } from '../../src/protocol/native/messages.ts'
import type { CloseInfo, Connection, Transport } from '../../src/transport/Transport.ts'

export interface HostileSession {
  readonly conn: Connection
  /** Messages received from the node, decoded (frames that do not decode are counted). */
  readonly received: NativeMessage[]
  /** Runs the seed handshake as an honest peer would (version 2; with the passphrase too, when given); resolves with the node's feed id. */
  handshake (seed: string, feed?: string, passphrase?: string): Promise<string>
  /** Sends a message without waiting for anything; false once the session is closed. */
  send (msg: NativeMessage): Promise<boolean>
  /** Sends raw bytes as one frame. */
  sendRaw (frame: Uint8Array): Promise<boolean>
  readonly closed: Promise<CloseInfo>
  readonly isClosed: () => boolean
}

export const ATTACKER_FEED = 'a'.repeat(32)

export async function attack (transport: Transport, target: string, targetNode: NodeId | string): Promise<HostileSession> {
  const conn = await transport.dial(target)
  const inbox = new Inbox<NativeMessage>()
  const received: NativeMessage[] = []
  let closed = false
  void conn.closed.then(info => {
    closed = true
    inbox.fail(new Error(`session closed: ${info.reason ?? 'no reason'}`))
  })
  conn.onFrame(f => {
    try {
      const m = decodeFrame(f)
      received.push(m)
      inbox.push(m)
    } catch { /* the node sent nothing undecodable in any test; ignore */ }
  })
  const sendRaw = async (frame: Uint8Array): Promise<boolean> => {
    if (closed) return false
    try { await conn.send(frame); return true } catch { return false }
  }
  return {
    conn,
    received,
    closed: conn.closed,
    isClosed: () => closed,
    async handshake (seed, feed = ATTACKER_FEED, passphrase) {
      const r = await runHandshake({ send: async m => { await conn.send(encodeMessage(m)) }, next: ms => inbox.next(ms) }, {
        key: deriveHandshakeKey(seed),
        ...(passphrase !== undefined ? { passphraseKey: derivePassphraseKey(passphrase) } : {}),
        secrets: { seed, ...(passphrase !== undefined ? { passphrase } : {}) },
        self: transport.nodeId,
        peer: asNodeId(String(targetNode)),
        feed,
        sessionId: conn.id,
        initiator: true,
        timeoutMs: 5_000
      })
      return r.peerFeed
    },
    send: async (msg) => await sendRaw(encodeMessage(msg)),
    sendRaw
  }
}
