/**
 * How a native session's frames go out to its peer (NativeSession.ts): each message encoded
 * (protocol/native/messages.ts), compressed once the handshake agreed on a codec the peer reads
 * (protocol/native/compression.ts; plain frames before that, and to a peer that reads none),
 * counted, and each send bounded by sendTimeoutMs — a peer that reads nothing fails its own
 * session with `TIMEOUT` and stalls no other.
 */
import { TIMEOUT } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import { codecFor, compressFrame, READ_CODECS } from '../../protocol/native/compression.ts'
import { encodeMessage, type NativeMessage } from '../../protocol/native/messages.ts'
import type { Connection } from '../../transport/Transport.ts'
import { raceAbort } from '../../transport/util.ts'

export interface SessionWireOptions {
  readonly conn: Connection
  /** Compressed frames offered and sent (off: as an older peer). */
  readonly compress: boolean
  /** The longest one send may take, ms (read at each send). */
  readonly sendTimeoutMs: () => number
}

export class SessionWire {
  /** Bytes sent, as on the wire. */
  bytesSent = 0
  private readonly opts: SessionWireOptions
  private readonly peer: NodeId
  /** The codec of compressed frames to the peer (from its hello), or undefined: plain frames. */
  private codec: number | undefined

  constructor (opts: SessionWireOptions) {
    this.opts = opts
    this.peer = opts.conn.remoteNode
  }

  /** The codecs this node's hello lists. */
  get readCodecs (): readonly number[] {
    return this.opts.compress ? READ_CODECS : []
  }

  /** The handshake is done: frames are compressed from now on with a codec the peer's hello listed, if any. */
  agree (peerCodecs: readonly number[] | undefined): void {
    this.codec = this.opts.compress ? codecFor(peerCodecs) : undefined
  }

  send (msg: NativeMessage): Promise<void> {
    return this.sendFrame(encodeMessage(msg))
  }

  /** Sends an encoded frame, bounded by sendTimeoutMs. */
  async sendFrame (plain: Uint8Array): Promise<void> {
    const frame = compressFrame(plain, this.codec)
    this.bytesSent += frame.byteLength
    const limit = this.opts.sendTimeoutMs()
    const signal = AbortSignal.timeout(limit)
    try {
      await raceAbort(this.opts.conn.send(frame), signal)
    } catch (e) {
      if (signal.aborted) throw TIMEOUT(`sending to ${this.peer} (the peer reads nothing)`, limit)
      throw e
    }
  }
}
