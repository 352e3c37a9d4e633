/**
 * How a native session's frames go out to its peer (NativeSession.ts): each message encoded
 * (protocol/native/messages.ts), compressed once the handshake agreed on a codec the peer reads
 * (protocol/native/compression.ts; plain frames before that, and to a peer that reads none),
 * counted, and each send bounded by sendTimeoutMs — a peer that reads nothing fails its own
 * session with `TIMEOUT` and stalls no other.
 *
 * The bound costs one timer per wire, not one per frame: the sends in flight are kept with their
 * deadlines, and one unreferenced timer, armed for the earliest of them, fails the ones it finds
 * past due and is armed again for the next. A session sends many small frames that each take no
 * time, so the timer mostly fires after the sends it was armed for are done, and is armed once per
 * sendTimeoutMs while the session sends, never per frame (a timeout signal per frame made a timer,
 * a signal and, once it fired, an exception with its stack for every frame sent).
 */
import { TIMEOUT } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import { codecFor, compressFrame, READ_CODECS } from '../../protocol/native/compression.ts'
import { encodeMessage, type NativeMessage } from '../../protocol/native/messages.ts'
import type { Connection } from '../../transport/Transport.ts'

export interface SessionWireOptions {
  readonly conn: Connection
  /** Compressed frames offered and sent (off: as an older peer). */
  readonly compress: boolean
  /** The longest one send may take, ms (read at each send). */
  readonly sendTimeoutMs: () => number
}

/** A send in flight: when it is past due (performance.now() ms), its bound, and how to fail it. */
interface InFlight {
  readonly due: number
  readonly limit: number
  readonly fail: (e: Error) => void
}

export class SessionWire {
  /** Bytes sent, as on the wire. */
  bytesSent = 0
  private readonly opts: SessionWireOptions
  private readonly peer: NodeId
  /** The codec of compressed frames to the peer (from its hello), or undefined: plain frames. */
  private codec: number | undefined
  /** The sends not settled yet. */
  private readonly inFlight = new Set<InFlight>()
  /** The timer that fails the sends past due, and the time it is armed for; undefined when none is armed. */
  private timer: NodeJS.Timeout | undefined
  private timerDue = 0

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
  sendFrame (plain: Uint8Array): Promise<void> {
    let sent: Promise<void>
    let limit: number
    try {
      const frame = compressFrame(plain, this.codec)
      this.bytesSent += frame.byteLength
      limit = this.opts.sendTimeoutMs()
      sent = this.opts.conn.send(frame)
    } catch (e) {
      return Promise.reject(e as Error)
    }
    const due = performance.now() + limit
    return new Promise<void>((resolve, reject) => {
      const entry: InFlight = { due, limit, fail: reject }
      this.inFlight.add(entry)
      this.arm(due)
      // the send keeps running past its deadline; its result is ignored then
      sent.then(() => { if (this.inFlight.delete(entry)) resolve() },
        (e: unknown) => { if (this.inFlight.delete(entry)) reject(e as Error) })
    })
  }

  /** Makes sure the timer fires by `due`: armed when none is, armed earlier when it is armed for later. */
  private arm (due: number): void {
    if (this.timer !== undefined) {
      if (this.timerDue <= due) return
      clearTimeout(this.timer)
    }
    this.timerDue = due
    this.timer = setTimeout(() => { this.expire() }, Math.max(0, due - performance.now()))
    this.timer.unref()
  }

  /** The timer fired: fails every send due by the time it was armed for, and arms it for the next one due. */
  private expire (): void {
    const reached = this.timerDue
    this.timer = undefined
    let next = Number.POSITIVE_INFINITY
    for (const entry of this.inFlight) {
      if (entry.due <= reached) {
        this.inFlight.delete(entry)
        entry.fail(TIMEOUT(`sending to ${this.peer} (the peer reads nothing)`, entry.limit))
      } else if (entry.due < next) next = entry.due
    }
    if (next !== Number.POSITIVE_INFINITY) this.arm(next)
  }
}
