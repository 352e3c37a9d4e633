/**
 * A queue of messages with a bounded wait: the handshake reads its messages one by one with
 * `next(timeoutMs)`; whatever arrives meanwhile (a peer that was quicker) stays queued until the
 * session takes it with `drain()`.
 */
import { TIMEOUT } from '../../core/errors.ts'

interface Waiter<T> {
  resolve (item: T): void
  reject (err: unknown): void
  timer: NodeJS.Timeout
}

/** Most items held; a peer that sends more before the handshake ends is cut off. */
const MAX_QUEUED = 64

export class Inbox<T> {
  private readonly queue: T[] = []
  private waiter: Waiter<T> | undefined
  private failure: unknown
  private readonly what: string

  constructor (what = 'the next message') {
    this.what = what
  }

  get size (): number {
    return this.queue.length
  }

  /** Adds an item; returns false (and drops it) when the queue is full or failed. */
  push (item: T): boolean {
    if (this.failure !== undefined) return false
    const w = this.waiter
    if (w !== undefined) {
      this.waiter = undefined
      clearTimeout(w.timer)
      w.resolve(item)
      return true
    }
    if (this.queue.length >= MAX_QUEUED) return false
    this.queue.push(item)
    return true
  }

  /** The next item, waiting at most `timeoutMs`; rejects with TIMEOUT, or with the failure. */
  next (timeoutMs: number): Promise<T> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift() as T)
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.waiter !== undefined) return Promise.reject(new Error('Inbox.next called while another call waits'))
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined
        reject(TIMEOUT(`waiting for ${this.what}`, timeoutMs))
      }, timeoutMs)
      this.waiter = { resolve, reject, timer }
    })
  }

  /** Fails the waiting call and every later one with `err`. */
  fail (err: unknown): void {
    if (this.failure !== undefined) return
    this.failure = err
    const w = this.waiter
    this.waiter = undefined
    if (w !== undefined) { clearTimeout(w.timer); w.reject(err) }
  }

  /** Takes every queued item. */
  drain (): T[] {
    return this.queue.splice(0)
  }
}
