/**
 * The clock and the schedule of the in-memory network. Time is counted in steps; every frame
 * or close is due at a step, and `step()` makes everything due at the next step, in (due step,
 * send order) order. In automatic mode the queue steps itself on the event loop until nothing is
 * due, at most `AUTO_STEPS_PER_TURN` steps per turn.
 */
import type { CloseInfo } from '../Transport.ts'
import type { MemoryConnection } from './MemoryConnection.ts'

export type Delivery =
  | { kind: 'frame', to: MemoryConnection, frame: Uint8Array, seq: number }
  | { kind: 'close', to: MemoryConnection, info: CloseInfo, seq: number }

/** Upper bound of steps taken in one turn of the event loop before the network yields. */
const AUTO_STEPS_PER_TURN = 10_000

export class DeliveryQueue {
  private readonly queue = new Map<number, Delivery[]>()
  private readonly manual: boolean
  private readonly deliver: (d: Delivery) => void
  private queued = 0
  private now = 0
  private seq = 0
  private pumpScheduled = false

  constructor (manual: boolean, deliver: (d: Delivery) => void) {
    this.manual = manual
    this.deliver = deliver
  }

  get currentStep (): number { return this.now }
  get pending (): number { return this.queued }

  /** The next send-order number. */
  nextSeq (): number { return this.seq++ }

  schedule (due: number, d: Delivery): void {
    let list = this.queue.get(due)
    if (list === undefined) { list = []; this.queue.set(due, list) }
    list.push(d)
    this.queued++
    if (!this.manual) this.schedulePump()
  }

  /** Advances one step and makes every delivery due; returns how many were made (drops included). */
  step (): number {
    this.now++
    const due = this.queue.get(this.now)
    if (due === undefined) return 0
    this.queue.delete(this.now)
    this.queued -= due.length
    for (const d of due) this.deliver(d)
    return due.length
  }

  /** Steps until nothing is scheduled, at most `maxSteps` steps; returns the steps taken. */
  runUntilIdle (maxSteps: number): number {
    let n = 0
    while (this.queued > 0 && n < maxSteps) { this.step(); n++ }
    return n
  }

  private schedulePump (): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    setImmediate(() => {
      this.pumpScheduled = false
      let n = 0
      while (this.queued > 0 && n < AUTO_STEPS_PER_TURN) { this.step(); n++ }
      if (this.queued > 0) this.schedulePump()
    })
  }
}
