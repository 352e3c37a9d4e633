/**
 * A deterministic in-process network for simulation tests.
 *
 * ```ts
 * const net = new MemoryNetwork({ random: mulberry32(seed), manual: true })
 * const a = net.createTransport('node-a'), b = net.createTransport('node-b')
 * await a.start(); await b.start()
 * const conn = await a.dial('mem:node-b')
 * await conn.send(frame)
 * net.runUntilIdle()            // manual mode: the test decides when frames move
 * ```
 *
 * **Time is counted in steps.** Every frame sent is scheduled for delivery at a later step:
 * `now + 1 + delay`, where `delay` is drawn from the link's `maxDelaySteps`. `step()` advances one
 * step and delivers everything due, in (due step, send order) order. Without `reorder`, a frame
 * is never due before an earlier frame of the same connection direction, so frames arrive in
 * order; with `reorder`, delays apply independently. A frame is dropped with the link's
 * `dropRate`, or when the link is partitioned at the moment it is sent or delivered. All
 * randomness comes from the `random` function given to the network, drawn in send order, so a
 * run is reproduced by its seed.
 *
 * With `manual: false` (the default) the network steps itself on the event loop until nothing
 * is due, so it behaves like an ordinary asynchronous transport.
 *
 * **Connections** open at once when `dial` is called (no handshake messages): a dial to a node
 * that is unknown, stopped, partitioned away or full fails immediately with `UNAVAILABLE`, a dial
 * to (or from) a silenced node hangs until its timeout, like a peer that swallows packets. A
 * dial between two nodes that already have a session returns that session, so simultaneous
 * dials yield one session. A session's close reaches the other end after the frames already in
 * flight, and is never dropped (it models the transport eventually noticing);
 * `disconnect(a, b)` instead ends every session between a and b on both ends at once and
 * discards what was in flight.
 *
 * The parts: `DeliveryQueue.ts` (steps and the schedule), `conditions.ts` (link conditions),
 * `MemoryConnection.ts` (one end of a session), `random.ts` (the seeded generator).
 */
import { INVALID_INPUT, LIMIT_EXCEEDED, TIMEOUT, CONFLICT, UNAVAILABLE } from '../../core/errors.ts'
import { asNodeId, isNodeId, type NodeId } from '../../core/ids.ts'
import { DEFAULT_MAX_FRAME_BYTES, type CloseInfo, type Connection, type DialOptions, type Transport } from '../Transport.ts'
import { abortableDelay, errorMessage, notStarted, unreachable } from '../util.ts'
import { checkConditions, mergeConditions, pairKey, type LinkConditions } from './conditions.ts'
import { DeliveryQueue, type Delivery } from './DeliveryQueue.ts'
import { MemoryConnection } from './MemoryConnection.ts'
import { mulberry32 } from '../../util/random.ts'

export { MemoryConnection } from './MemoryConnection.ts'
export { mulberry32 } from '../../util/random.ts'
export type { LinkConditions } from './conditions.ts'

export interface MemoryNetworkOptions extends LinkConditions {
  /** Source of randomness, values in [0, 1). Default `mulberry32(1)`. */
  random?: () => number
  /** When true, frames move only when the test calls `step()` / `runUntilIdle()`. Default false. */
  manual?: boolean
}

export interface MemoryTransportOptions {
  /** Largest frame sent or accepted, bytes. Default 4 MiB. */
  maxFrameBytes?: number
  /** Default limit of a dial, ms (only a dial to or from a silenced node ever waits). Default 10,000. */
  dialTimeoutMs?: number
  /** Most concurrent sessions; dials beyond it are refused. Default 256. */
  maxConnections?: number
}

export interface MemoryNetworkStats {
  sent: number
  delivered: number
  dropped: number
}

export class MemoryNetwork {
  readonly stats: MemoryNetworkStats = { sent: 0, delivered: 0, dropped: 0 }
  private readonly random: () => number
  private readonly defaults: Required<LinkConditions>
  private readonly links = new Map<string, LinkConditions>()
  private readonly partitions = new Set<string>()
  private readonly silenced = new Set<string>()
  private readonly transports = new Map<string, MemoryTransport>()
  private readonly queue: DeliveryQueue
  private nextConnId = 1

  constructor (opts: MemoryNetworkOptions = {}) {
    this.random = opts.random ?? mulberry32(1)
    this.defaults = { dropRate: opts.dropRate ?? 0, maxDelaySteps: opts.maxDelaySteps ?? 0, reorder: opts.reorder ?? false }
    checkConditions(this.defaults)
    this.queue = new DeliveryQueue(opts.manual ?? false, d => { this.deliver(d) })
  }

  /** A transport for `nodeId` on this network (not started). A node id is used by one transport at a time. */
  createTransport (nodeId: string, opts: MemoryTransportOptions = {}): MemoryTransport {
    if (!isNodeId(nodeId)) throw INVALID_INPUT('nodeId', `${JSON.stringify(nodeId)} is not a valid node id`)
    const existing = this.transports.get(nodeId)
    if (existing !== undefined && !existing.isStopped) throw CONFLICT(`node ${nodeId} already has a transport on this network`)
    const t = new MemoryTransport(this, asNodeId(nodeId), opts)
    this.transports.set(nodeId, t)
    return t
  }

  /** Frames between a and b are lost and new dials between them fail, until `heal`. */
  partition (a: string, b: string): void {
    this.partitions.add(pairKey(a, b))
  }

  heal (a: string, b: string): void {
    this.partitions.delete(pairKey(a, b))
  }

  healAll (): void {
    this.partitions.clear()
  }

  isPartitioned (a: string, b: string): boolean {
    return this.partitions.has(pairKey(a, b))
  }

  /** Sets the conditions of the link between a and b (both directions), over the network defaults. */
  setLink (a: string, b: string, conditions: LinkConditions): void {
    checkConditions(conditions)
    this.links.set(pairKey(a, b), { ...conditions })
  }

  /** A silenced node swallows everything: frames to it vanish, dials to or from it hang until they time out. */
  silence (node: string, on = true): void {
    if (on) this.silenced.add(node)
    else this.silenced.delete(node)
  }

  isSilenced (node: string): boolean {
    return this.silenced.has(node)
  }

  /** Ends every session between a and b at once on both ends; frames in flight are discarded. */
  disconnect (a: string, b: string, reason = 'disconnected'): void {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      const t = this.transports.get(x)
      t?.sessionWith(y)?.terminate({ reason, error: UNAVAILABLE(`connection lost: ${reason}`) })
    }
  }

  /** Current step. */
  get currentStep (): number {
    return this.queue.currentStep
  }

  /** Deliveries scheduled and not yet made. */
  get pendingDeliveries (): number {
    return this.queue.pending
  }

  /** Advances one step and makes every delivery due; returns how many were made (drops included). */
  step (): number {
    return this.queue.step()
  }

  /** Steps until nothing is scheduled, at most `maxSteps` steps; returns the steps taken. */
  runUntilIdle (maxSteps = 1_000_000): number {
    return this.queue.runUntilIdle(maxSteps)
  }

  // ---- used by MemoryTransport / MemoryConnection ------------------------------------------

  /** @internal */
  lookup (nodeId: string): MemoryTransport | undefined {
    return this.transports.get(nodeId)
  }

  /** @internal */
  newConnectionId (): string {
    return `mem-${this.nextConnId++}`
  }

  /** @internal Schedules a frame from `from` to its peer endpoint. */
  sendFrame (from: MemoryConnection, frame: Uint8Array): void {
    this.stats.sent++
    const to = from.peer
    if (to === undefined) return
    const link = mergeConditions(this.defaults, this.links.get(pairKey(from.localNode, to.localNode)))
    if (this.isPartitioned(from.localNode, to.localNode) || this.silenced.has(to.localNode) ||
        (link.dropRate > 0 && this.random() < link.dropRate)) {
      this.stats.dropped++
      return
    }
    let due = this.queue.currentStep + 1 + (link.maxDelaySteps > 0 ? Math.floor(this.random() * (link.maxDelaySteps + 1)) : 0)
    if (!link.reorder) due = Math.max(due, from.lastDue)
    from.lastDue = due
    this.queue.schedule(due, { kind: 'frame', to, frame, seq: this.queue.nextSeq() })
  }

  /** @internal Tells `from`'s peer endpoint that the session closed, after what is in flight. */
  sendClose (from: MemoryConnection, info: CloseInfo): void {
    const to = from.peer
    if (to === undefined) return
    const due = Math.max(this.queue.currentStep + 1, from.lastDue)
    from.lastDue = due
    this.queue.schedule(due, { kind: 'close', to, info, seq: this.queue.nextSeq() })
  }

  private deliver (d: Delivery): void {
    if (d.kind === 'close') {
      d.to.terminate(d.info)
      return
    }
    if (d.to.isClosed || this.isPartitioned(d.to.localNode, d.to.remoteNode) || this.silenced.has(d.to.localNode)) {
      this.stats.dropped++
      return
    }
    this.stats.delivered++
    d.to.receive(d.frame)
  }
}

export class MemoryTransport implements Transport {
  readonly nodeId: NodeId
  readonly maxFrameBytes: number
  readonly dialTimeoutMs: number
  readonly maxConnections: number
  private readonly network: MemoryNetwork
  private state: 'new' | 'started' | 'stopped' = 'new'
  private readonly handlers: Array<(conn: Connection) => void> = []
  private readonly sessions = new Map<string, MemoryConnection>()
  private readonly stopController = new AbortController()

  constructor (network: MemoryNetwork, nodeId: NodeId, opts: MemoryTransportOptions) {
    this.network = network
    this.nodeId = nodeId
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
    this.dialTimeoutMs = opts.dialTimeoutMs ?? 10_000
    this.maxConnections = opts.maxConnections ?? 256
    if (!Number.isInteger(this.maxFrameBytes) || this.maxFrameBytes < 1) throw INVALID_INPUT('maxFrameBytes', `${this.maxFrameBytes} is not a positive integer`)
  }

  get isStarted (): boolean { return this.state === 'started' }
  get isStopped (): boolean { return this.state === 'stopped' }

  async start (): Promise<void> {
    if (this.state !== 'new') throw CONFLICT(`transport cannot be started when ${this.state}`)
    this.state = 'started'
  }

  async stop (): Promise<void> {
    if (this.state === 'stopped') return
    this.state = 'stopped'
    this.stopController.abort(notStarted('continue: the transport was stopped'))
    await Promise.all([...this.sessions.values()].map(s => s.close('transport stopped')))
  }

  listenAddrs (): string[] {
    return this.state === 'started' ? [`mem:${this.nodeId}`] : []
  }

  onConnection (handler: (conn: Connection) => void): void {
    this.handlers.push(handler)
  }

  /** Open sessions, one per peer. */
  connections (): Connection[] {
    return [...this.sessions.values()]
  }

  /** @internal */
  sessionWith (peer: string): MemoryConnection | undefined {
    return this.sessions.get(peer)
  }

  async dial (addr: string, opts: DialOptions = {}): Promise<Connection> {
    if (this.state !== 'started') throw notStarted(`dial ${addr}`)
    const id = addr.startsWith('mem:') ? addr.slice(4) : addr
    if (!isNodeId(id)) throw INVALID_INPUT('address', `${JSON.stringify(addr)} is not a memory address (mem:<node id>)`)
    if (id === this.nodeId) throw INVALID_INPUT('address', `${addr} is this node's own address`)
    opts.signal?.throwIfAborted()
    const timeoutMs = opts.timeoutMs ?? this.dialTimeoutMs
    if (this.network.isSilenced(id) || this.network.isSilenced(this.nodeId)) {
      // a peer that swallows packets: nothing comes back until the dial gives up
      const signal = AbortSignal.any([this.stopController.signal, ...(opts.signal !== undefined ? [opts.signal] : [])])
      try {
        await abortableDelay(timeoutMs, signal)
      } catch (err) {
        if (opts.signal?.aborted === true) throw opts.signal.reason
        throw notStarted(`dial ${addr}: ${errorMessage(err)}`)
      }
      throw TIMEOUT(`dial ${addr}`, timeoutMs)
    }
    const target = this.network.lookup(id)
    if (target === undefined || !target.isStarted) throw unreachable(addr, 'connection refused (no node listening there)')
    if (this.network.isPartitioned(this.nodeId, id)) throw unreachable(addr, 'no route to the peer (network partition)')
    if (opts.expectedNode !== undefined && opts.expectedNode !== target.nodeId) {
      throw unreachable(addr, `the node there is ${target.nodeId}, not the expected ${opts.expectedNode}`)
    }
    const existing = this.sessions.get(id)
    if (existing !== undefined) return existing
    if (this.sessions.size >= this.maxConnections) throw LIMIT_EXCEEDED('open sessions', this.maxConnections, this.sessions.size)
    if (target.sessions.size >= target.maxConnections) throw unreachable(addr, 'peer refused the session: too many connections')
    const connId = this.network.newConnectionId()
    const local = new MemoryConnection(this.network, this, connId, target.nodeId, 'outbound')
    const remote = new MemoryConnection(this.network, target, connId, this.nodeId, 'inbound')
    local.peer = remote
    remote.peer = local
    target.register(remote)
    this.register(local)
    return local
  }

  /** @internal A session ended. */
  forget (conn: MemoryConnection): void {
    if (this.sessions.get(conn.remoteNode) === conn) this.sessions.delete(conn.remoteNode)
  }

  private register (conn: MemoryConnection): void {
    this.sessions.set(conn.remoteNode, conn)
    for (const h of this.handlers) {
      try {
        h(conn)
      } catch {
        // a failing handler must not keep the session from the others
      }
    }
  }
}
