/**
 * What a native session (NativeSession.ts) reads of its peer before the handshake completes
 * (docs/PROTOCOL.md §1): until the peer's proof arrived, only `hello`, `proof`, `pake` and
 * `confirm` are read at all — any other frame is refused from its type alone — and go to the
 * inbox the handshake reads one by one (Inbox.ts). Once the proof arrived, the peer may go on as
 * soon as it verified this node's proof: what it sends is kept, unread, until the session verified
 * the peer's, then handed back to be read in order — at most MAX_BACKLOG_FRAMES frames and
 * MAX_BACKLOG_BYTES bytes (docs/LIMITS.md), past which the session fails.
 */
import { PROTOCOL } from '../../core/errors.ts'
import { decodeFrame, type NativeMessage } from '../../protocol/native/messages.ts'
import { Inbox } from './Inbox.ts'

const HANDSHAKE_TYPES: readonly string[] = ['hello', 'proof', 'pake', 'confirm']
/** Frames kept, unread, between the peer's proof and its verification here. */
const MAX_BACKLOG_FRAMES = 16
const MAX_BACKLOG_BYTES = 16 * 1024 * 1024

export class HandshakeFrames {
  /** The peer's handshake messages, as the handshake reads them. */
  readonly inbox = new Inbox<NativeMessage>('the peer\'s handshake message')
  /** Fails the session (during the handshake). */
  private readonly fail: (err: unknown) => void
  /** Set once the peer's proof arrived: what follows it is kept, unread, until the proof is verified. */
  private proofReceived = false
  private backlog: Uint8Array[] = []
  private backlogBytes = 0

  constructor (fail: (err: unknown) => void) {
    this.fail = fail
  }

  /** A frame of the peer while the handshake runs. */
  onFrame (frame: Uint8Array): void {
    if (this.proofReceived) {
      this.backlog.push(frame)
      this.backlogBytes += frame.byteLength
      if (this.backlog.length > MAX_BACKLOG_FRAMES || this.backlogBytes > MAX_BACKLOG_BYTES) {
        this.fail(PROTOCOL(`more than ${MAX_BACKLOG_FRAMES} frames or ${MAX_BACKLOG_BYTES} bytes sent before the handshake completed`))
      }
      return
    }
    let msg: NativeMessage
    try {
      msg = decodeFrame(frame, { only: HANDSHAKE_TYPES })
    } catch (e) {
      // what the peer sent before this frame is judged first (a peer whose hello already fails
      // authentication is refused for that, not for what it pushed after)
      this.inbox.fail(e)
      return
    }
    // the peer's last handshake message: its proof (version 1) or its confirmation (version 2)
    if (msg.t === 'proof' || msg.t === 'confirm') this.proofReceived = true
    if (!this.inbox.push(msg)) this.fail(PROTOCOL('too many messages before the handshake completed'))
  }

  /** What the peer sent after its proof, handed over once (the proof is verified). */
  release (): Uint8Array[] {
    const backlog = this.backlog
    this.backlog = []
    return backlog
  }
}
