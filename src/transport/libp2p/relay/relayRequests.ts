/**
 * Request and answer over a relay connection, for services a relay offers its admitted members
 * beyond relaying (the mailbox, docs/PROTOCOL.md §6). One stream per exchange: the member writes
 * one length-prefixed request frame, the relay answers with frames until the last one (which the
 * caller's `isLast` recognises) and closes. Only nodes that proved an admission key
 * (`RelayGate`) are answered; others have the stream reset. The bytes are the caller's: this
 * layer knows frames, not what they mean.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { errorMessage } from '../../util.ts'
import type { RelayGate } from './RelayGate.ts'

/** What a relay service answers one request with: its frames, in order. */
export type RelayAnswer = (peer: string, request: Uint8Array) => Promise<Uint8Array[]> | Uint8Array[]

export interface RelayServiceOptions {
  readonly protocol: string
  readonly maxFrame: number
  readonly timeoutMs: number
  readonly log: (level: 'info' | 'warn' | 'debug', message: string, details?: Record<string, unknown>) => void
}

/** Serves `protocol` on `node` to admitted members. */
export async function serveAdmitted (node: Libp2p, gate: RelayGate, o: RelayServiceOptions, answer: RelayAnswer): Promise<void> {
  await node.handle(o.protocol, (stream: Stream, conn) => {
    const peer = conn.remotePeer.toString()
    void (async () => {
      const signal = AbortSignal.timeout(o.timeoutMs)
      try {
        if (!gate.isAdmitted(peer)) {
          o.log('warn', `refused ${o.protocol}: the node has not proven an admission key`, { peer })
          stream.abort(new Error('not admitted'))
          return
        }
        const lp = lpStream(stream, { maxDataLength: o.maxFrame })
        const request = (await lp.read({ signal })).subarray()
        for (const f of await answer(peer, request)) await lp.write(f, { signal })
        await stream.close({ signal })
      } catch (err) {
        o.log('debug', `${o.protocol} exchange failed`, { peer, error: errorMessage(err) })
        stream.abort(err instanceof Error ? err : new Error(String(err)))
      }
    })()
  }, { maxInboundStreams: 4, maxOutboundStreams: 1 })
}

/** Sends `request` to `relay` on `protocol` and reads answer frames up to the last (at most `maxFrames`). */
export async function requestRelay (node: Libp2p, relay: string, o: RelayServiceOptions & { maxFrames: number, isLast: (frame: Uint8Array) => boolean }, request: Uint8Array, stop: AbortSignal): Promise<Uint8Array[]> {
  const signal = AbortSignal.any([stop, AbortSignal.timeout(o.timeoutMs)])
  const stream = await node.dialProtocol(peerIdFromString(relay), o.protocol, { signal })
  try {
    const lp = lpStream(stream, { maxDataLength: o.maxFrame })
    await lp.write(request, { signal })
    const frames: Uint8Array[] = []
    while (frames.length < o.maxFrames) {
      const f = (await lp.read({ signal })).subarray()
      frames.push(f)
      if (o.isLast(f)) break
    }
    await stream.close({ signal }).catch(() => {})
    return frames
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
