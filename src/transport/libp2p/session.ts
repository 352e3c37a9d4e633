/**
 * One engram session over one libp2p stream: framing, the HELLO/ACCEPT exchange, frame
 * delivery, backpressure and close. Which attempts may become sessions is decided by the
 * transport (`QuicTransport.ts`); this class only carries out the decisions.
 */
import type { Connection as Libp2pConnection, Stream } from '@libp2p/interface'
import { LIMIT_EXCEEDED, PROTOCOL, isEngramError, UNAVAILABLE, CONFLICT } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import type { CloseInfo, Connection } from '../Transport.ts'
import { connectionClosed, errorMessage, internalError, raceAbort } from '../util.ts'
import {
  FrameDecoder, KIND_ACCEPT, KIND_CLOSE, KIND_DATA, KIND_HELLO, KIND_REJECT,
  decodeAccept, decodeHello, decodeReason, encodeAccept, encodeHello, encodeMessage, encodeReason,
  type WireMessage
} from './framing.ts'

/** What the initiator of an attempt heard back. */
export type Reply =
  | { kind: 'accept', voided: Uint8Array[] }
  | { kind: 'reject', reason: string }
  | { kind: 'closed', info: CloseInfo }

export interface SessionInit {
  stream: Stream
  conn: Libp2pConnection
  direction: 'inbound' | 'outbound'
  maxFrameBytes: number
  closeTimeoutMs: number
  /** Responder side: a HELLO arrived (called once). */
  onHello?: (session: Libp2pSession, nonce: Uint8Array) => void
  /** Called once, when the session is closed for any reason. */
  onClosed: (session: Libp2pSession, info: CloseInfo) => void
}

type Phase = 'await-hello' | 'await-reply' | 'open' | 'closing' | 'closed'

/** Above this many bytes of frames nobody has taken (no `onFrame` handler yet), the session closes. */
const MAX_UNCLAIMED_BYTES = 64 * 1024 * 1024

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

export class Libp2pSession implements Connection {
  id = ''
  readonly remoteNode: NodeId
  readonly remoteAddr: string
  readonly direction: 'inbound' | 'outbound'
  readonly closed: Promise<CloseInfo>
  readonly stream: Stream
  readonly conn: Libp2pConnection
  /** The session nonce (set from HELLO, sent or received). */
  nonce: Uint8Array | undefined

  private phase: Phase
  private readonly decoder: FrameDecoder
  private readonly maxFrameBytes: number
  private readonly closeTimeoutMs: number
  private readonly init: SessionInit
  private handler: ((frame: Uint8Array) => void) | undefined
  private unclaimed: Uint8Array[] = []
  private unclaimedBytes = 0
  private closeInfo: CloseInfo | undefined
  private resolveClosed!: (info: CloseInfo) => void
  private replyWaiter: ((r: Reply) => void) | undefined
  private pendingReply: Reply | undefined
  private readonly streamEnded: Promise<void>

  constructor (init: SessionInit) {
    this.init = init
    this.stream = init.stream
    this.conn = init.conn
    this.direction = init.direction
    this.remoteNode = init.conn.remotePeer.toString() as NodeId
    this.remoteAddr = init.conn.remoteAddr.toString()
    this.maxFrameBytes = init.maxFrameBytes
    this.closeTimeoutMs = init.closeTimeoutMs
    this.decoder = new FrameDecoder(init.maxFrameBytes)
    this.phase = init.direction === 'inbound' ? 'await-hello' : 'await-reply'
    this.closed = new Promise(resolve => { this.resolveClosed = resolve })

    // a whole frame may sit in the stream's read buffer while no listener is attached
    this.stream.maxReadBufferLength = Math.max(this.stream.maxReadBufferLength, 2 * (init.maxFrameBytes + 16))
    this.streamEnded = new Promise(resolve => {
      this.stream.addEventListener('close', () => { resolve() }, { once: true })
    })
    this.stream.addEventListener('message', (evt) => {
      const data = evt.data
      try {
        if (data instanceof Uint8Array) {
          this.decoder.push(data, this.onMessage)
        } else {
          for (const chunk of data) this.decoder.push(chunk, this.onMessage)
        }
      } catch (err) {
        this.fail(err)
      }
    })
    this.stream.addEventListener('remoteCloseWrite', () => {
      if (this.isClosed) return
      const why = 'connection lost: peer ended the stream'
      void this.shutdown({ reason: why, error: UNAVAILABLE(why, { connection: this.id, peer: this.remoteNode }) })
    })
    this.stream.addEventListener('close', (evt) => {
      if (this.phase === 'closed') return
      const why = evt.error !== undefined ? `connection lost: ${errorMessage(evt.error)}` : 'connection lost: stream ended'
      this.finish({ reason: why, error: UNAVAILABLE(why, { connection: this.id, peer: this.remoteNode }) })
    })
    this.conn.addEventListener('close', () => {
      if (this.phase === 'closed') return
      const why = 'connection lost: transport connection closed'
      this.finish({ reason: why, error: UNAVAILABLE(why, { connection: this.id, peer: this.remoteNode }) })
    }, { once: true })
  }

  get isOpen (): boolean {
    return this.phase === 'open'
  }

  get isClosed (): boolean {
    return this.phase === 'closing' || this.phase === 'closed'
  }

  // ---- handshake -------------------------------------------------------------------------

  /** Initiator: sends HELLO with this attempt's nonce. */
  sendHello (nonce: Uint8Array): void {
    this.nonce = nonce
    this.id = hex(nonce)
    this.write(encodeHello(nonce))
  }

  /** Initiator: waits for ACCEPT, REJECT or the end of the stream. */
  awaitReply (signal: AbortSignal): Promise<Reply> {
    if (this.pendingReply !== undefined) return Promise.resolve(this.pendingReply)
    if (this.closeInfo !== undefined) return Promise.resolve({ kind: 'closed', info: this.closeInfo })
    return new Promise((resolve, reject) => {
      const onAbort = (): void => { this.replyWaiter = undefined; reject(signal.reason) }
      if (signal.aborted) { onAbort(); return }
      signal.addEventListener('abort', onAbort, { once: true })
      this.replyWaiter = (r) => { signal.removeEventListener('abort', onAbort); this.replyWaiter = undefined; resolve(r) }
    })
  }

  /** Responder: accepts the attempt; the session is open from here on. */
  accept (voided: Uint8Array[]): void {
    this.write(encodeAccept(voided))
    this.phase = 'open'
  }

  /** Refuses the attempt with a reason and ends the stream. */
  reject (reason: string): Promise<void> {
    if (this.isClosed) return this.closed.then(() => undefined)
    this.write(encodeMessage(KIND_REJECT, encodeReason(reason)))
    return this.shutdown({ reason })
  }

  // ---- Connection ------------------------------------------------------------------------

  async send (frame: Uint8Array): Promise<void> {
    if (this.phase !== 'open') throw connectionClosed(this.id, this.closeInfo?.reason ?? (this.isClosed ? undefined : 'not established'))
    if (frame.byteLength > this.maxFrameBytes) throw LIMIT_EXCEEDED('frame size in bytes', this.maxFrameBytes, frame.byteLength)
    let more: boolean
    try {
      more = this.stream.send(encodeMessage(KIND_DATA, frame))
    } catch (err) {
      throw connectionClosed(this.id, this.closeInfo?.reason ?? errorMessage(err))
    }
    if (!more) {
      try {
        await this.stream.onDrain()
      } catch (err) {
        throw connectionClosed(this.id, this.closeInfo?.reason ?? errorMessage(err))
      }
    }
  }

  onFrame (handler: (frame: Uint8Array) => void): void {
    if (this.handler !== undefined) throw CONFLICT(`connection ${this.id} already has a frame handler`)
    this.handler = handler
    const queued = this.unclaimed
    this.unclaimed = []
    this.unclaimedBytes = 0
    for (const f of queued) {
      if (this.phase === 'closed') break
      this.deliver(f)
    }
  }

  close (reason = 'closed'): Promise<void> {
    if (this.isClosed) return this.closed.then(() => undefined)
    this.write(encodeMessage(KIND_CLOSE, encodeReason(reason)))
    return this.shutdown({ reason })
  }

  /** Closes because of an error; tells the peer why when the stream still allows it. */
  fail (err: unknown): void {
    if (this.isClosed) return
    const error = isEngramError(err) ? err : internalError(errorMessage(err), err)
    const reason = error.code === 'PROTOCOL' ? `protocol error: ${error.message}` : error.message
    this.write(encodeMessage(KIND_CLOSE, encodeReason(reason)))
    void this.shutdown({ reason, error })
  }

  // ---- internals -------------------------------------------------------------------------

  private readonly onMessage = (msg: WireMessage): void => {
    switch (this.phase) {
      case 'await-hello':
        if (msg.kind === KIND_CLOSE) { this.remoteClose(decodeReason(msg.body)); return }
        if (msg.kind !== KIND_HELLO) throw PROTOCOL(`expected HELLO, got message kind ${msg.kind}`)
        this.nonce = decodeHello(msg.body)
        this.id = hex(this.nonce)
        this.phase = 'await-reply' // until the transport accepts or rejects
        this.init.onHello?.(this, this.nonce)
        return
      case 'await-reply':
        if (this.direction === 'inbound') throw PROTOCOL(`message kind ${msg.kind} before the session was accepted`)
        if (msg.kind === KIND_ACCEPT) {
          // open at once: DATA may follow in the same chunk, before the transport has looked at the reply
          const voided = decodeAccept(msg.body)
          this.phase = 'open'
          this.reply({ kind: 'accept', voided })
          return
        }
        if (msg.kind === KIND_REJECT) {
          const reason = decodeReason(msg.body)
          this.reply({ kind: 'reject', reason })
          void this.shutdown({ reason: `refused by peer: ${reason}` })
          return
        }
        if (msg.kind === KIND_CLOSE) { this.remoteClose(decodeReason(msg.body)); return }
        throw PROTOCOL(`expected ACCEPT or REJECT, got message kind ${msg.kind}`)
      case 'open':
        if (msg.kind === KIND_DATA) { this.deliver(msg.body); return }
        if (msg.kind === KIND_CLOSE) { this.remoteClose(decodeReason(msg.body)); return }
        throw PROTOCOL(`unexpected message kind ${msg.kind} in an open session`)
      default:
        // closing or closed: whatever was in flight is dropped
    }
  }

  private reply (r: Reply): void {
    if (this.replyWaiter !== undefined) this.replyWaiter(r)
    else this.pendingReply = r
  }

  private deliver (frame: Uint8Array): void {
    const h = this.handler
    if (h === undefined) {
      this.unclaimed.push(frame)
      this.unclaimedBytes += frame.byteLength
      if (this.unclaimedBytes > MAX_UNCLAIMED_BYTES) {
        this.fail(internalError(`connection ${this.id}: ${this.unclaimedBytes} bytes of frames and no frame handler`))
      }
      return
    }
    try {
      h(frame)
    } catch (err) {
      this.fail(internalError(`connection ${this.id}: frame handler threw: ${errorMessage(err)}`, err))
    }
  }

  private remoteClose (reason: string): void {
    if (this.phase === 'await-reply') this.reply({ kind: 'closed', info: { reason } })
    void this.shutdown({ reason })
  }

  /** Best-effort write of a control message; a failure shows up as a stream close. */
  private write (bytes: Uint8Array): void {
    try {
      if (this.stream.writeStatus === 'writable') this.stream.send(bytes)
    } catch {
      // the stream is already closing; its close event ends the session
    }
  }

  /**
   * Marks the session closed at once (sends reject from here on), then ends the stream: flush
   * what was written, half-close, and give the peer up to `closeTimeoutMs` to read the last
   * message and end its side before the stream is torn down (tearing it down first could make
   * the peer discard that message).
   */
  private async shutdown (info: CloseInfo): Promise<void> {
    if (this.isClosed) { await this.closed; return }
    this.phase = 'closing'
    this.closeInfo = info
    if (this.replyWaiter !== undefined) this.reply({ kind: 'closed', info })
    const limit = AbortSignal.timeout(this.closeTimeoutMs)
    try {
      await this.stream.close({ signal: limit })
      await raceAbort(this.streamEnded, limit)
    } catch {
      // the peer did not end its side in time: tear the stream down
    }
    if (this.stream.status === 'open' || this.stream.status === 'closing') {
      this.stream.abort(new Error(info.reason ?? 'closed'))
    }
    this.finish(info)
  }

  private finish (info: CloseInfo): void {
    if (this.phase === 'closed') return
    const final = this.closeInfo ?? info
    this.phase = 'closed'
    this.closeInfo = final
    if (this.replyWaiter !== undefined) this.reply({ kind: 'closed', info: final })
    this.unclaimed = []
    this.resolveClosed(final)
    this.init.onClosed(this, final)
  }
}
