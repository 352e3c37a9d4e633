/**
 * One end of a session on the in-memory network. Frames go through the network (which decides
 * delay, loss and order); a close reaches the other end after the frames already in flight.
 */
import { EngramError, LIMIT_EXCEEDED, PROTOCOL, CONFLICT } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import type { CloseInfo, Connection } from '../Transport.ts'
import { connectionClosed, errorMessage, internalError } from '../util.ts'

/** What a connection needs from the network that carries it. */
export interface FrameCarrier {
  /** Schedules a frame from `from` to its peer endpoint. */
  sendFrame (from: MemoryConnection, frame: Uint8Array): void
  /** Tells `from`'s peer endpoint that the session closed, after what is in flight. */
  sendClose (from: MemoryConnection, info: CloseInfo): void
}

/** What a connection needs from the transport it belongs to. */
export interface ConnectionOwner {
  readonly nodeId: NodeId
  readonly maxFrameBytes: number
  /** The session ended. */
  forget (conn: MemoryConnection): void
}

export class MemoryConnection implements Connection {
  readonly id: string
  readonly remoteNode: NodeId
  readonly remoteAddr: string
  readonly direction: 'inbound' | 'outbound'
  readonly closed: Promise<CloseInfo>
  /** @internal the other end */
  peer: MemoryConnection | undefined
  /** @internal due step of the last frame sent from this end */
  lastDue = 0
  private readonly network: FrameCarrier
  private readonly transport: ConnectionOwner
  private handler: ((frame: Uint8Array) => void) | undefined
  private unclaimed: Uint8Array[] = []
  private closeInfo: CloseInfo | undefined
  private resolveClosed!: (info: CloseInfo) => void

  constructor (network: FrameCarrier, transport: ConnectionOwner, id: string, remote: NodeId, direction: 'inbound' | 'outbound') {
    this.network = network
    this.transport = transport
    this.id = id
    this.remoteNode = remote
    this.remoteAddr = `mem:${remote}`
    this.direction = direction
    this.closed = new Promise(resolve => { this.resolveClosed = resolve })
  }

  /** @internal */
  get localNode (): NodeId {
    return this.transport.nodeId
  }

  get isClosed (): boolean {
    return this.closeInfo !== undefined
  }

  async send (frame: Uint8Array): Promise<void> {
    if (this.closeInfo !== undefined) throw connectionClosed(this.id, this.closeInfo.reason)
    if (frame.byteLength > this.transport.maxFrameBytes) throw LIMIT_EXCEEDED('frame size in bytes', this.transport.maxFrameBytes, frame.byteLength)
    this.network.sendFrame(this, frame.slice())
  }

  onFrame (handler: (frame: Uint8Array) => void): void {
    if (this.handler !== undefined) throw CONFLICT(`connection ${this.id} already has a frame handler`)
    this.handler = handler
    const queued = this.unclaimed
    this.unclaimed = []
    for (const f of queued) {
      if (this.closeInfo !== undefined) break
      this.dispatch(f)
    }
  }

  async close (reason = 'closed'): Promise<void> {
    if (this.closeInfo !== undefined) return
    this.end({ reason })
    this.network.sendClose(this, { reason })
  }

  /** @internal A frame arrives from the network. */
  receive (frame: Uint8Array): void {
    if (this.closeInfo !== undefined) return
    if (frame.byteLength > this.transport.maxFrameBytes) {
      const error = PROTOCOL(`peer sent a frame of ${frame.byteLength} bytes, over the limit of ${this.transport.maxFrameBytes} bytes`,
        { announced: frame.byteLength, limit: this.transport.maxFrameBytes })
      this.fail(`protocol error: ${error.message}`, error)
      return
    }
    if (this.handler === undefined) { this.unclaimed.push(frame); return }
    this.dispatch(frame)
  }

  /** @internal Closed from the network side (peer's close, or disconnect). */
  terminate (info: CloseInfo): void {
    this.end(info)
  }

  private dispatch (frame: Uint8Array): void {
    try {
      (this.handler as (f: Uint8Array) => void)(frame)
    } catch (err) {
      const error = internalError(`connection ${this.id}: frame handler threw: ${errorMessage(err)}`, err)
      this.fail(error.message, error)
    }
  }

  private fail (reason: string, error: EngramError): void {
    if (this.closeInfo !== undefined) return
    this.end({ reason, error })
    this.network.sendClose(this, { reason })
  }

  private end (info: CloseInfo): void {
    if (this.closeInfo !== undefined) return
    this.closeInfo = info
    this.unclaimed = []
    this.transport.forget(this)
    this.resolveClosed(info)
  }
}
