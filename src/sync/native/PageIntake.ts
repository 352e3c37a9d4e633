/**
 * The pages a session received and has not applied yet, in order. Each page's rows are checked
 * (protocol/native/rows.ts checkRowAt) in slices of CHECK_SLICE, letting the event loop run between them — the
 * transport goes on reading the next page meanwhile, and other peers' sessions are not held up —
 * its signatures are checked the same way (`verify`), then the page goes to the session to be
 * applied.
 *
 * A sender keeps two pages unacknowledged, but a stream that restarts (a fresh cursor, a graft,
 * an acknowledgement timeout) sends two more while its earlier pages are still on their way or
 * waiting here; on a receiver short of CPU a few restarts in a row pile them up. At most
 * MAX_QUEUED_PAGES wait here: a page past that is dropped unread (counted in `dropped`), and the
 * session goes on. Nothing is lost: a dropped page never moves this node's cursor, so the pages
 * after it do not apply either (their `from` is not the cursor: FeedReceiver asks for the stream
 * again from the cursor) and the sender sends from there again. Memory stays bounded either way,
 * and a peer that floods frames meets the session's frame budget (PeerBudget.ts).
 */
import type { MemoryRecord } from '../../core/model.ts'
import type { PageSeals } from '../../core/seals.ts'
import type { ChangesMessage, UncheckedChanges } from '../../protocol/native/messages.ts'
import { checkRowAt, sealsOf } from '../../protocol/native/rows.ts'

/** Rows checked between two turns of the event loop. */
export const CHECK_SLICE = 500
/** Pages received and not yet applied; a page past them is dropped. */
export const MAX_QUEUED_PAGES = 8

export interface PageIntakeOptions {
  /** False once the session closed: the pages still queued are dropped. */
  readonly isOpen: () => boolean
  /** A page whose every row passed the checks. */
  readonly apply: (msg: ChangesMessage) => void
  /** Checks the page's signatures ahead of `apply`, letting other work run (Engine.verifyAhead). */
  readonly verify?: (records: readonly MemoryRecord[], seals: PageSeals | undefined) => Promise<void>
  /** A page refused (a bad row) or failing to apply: the session closes. */
  readonly fail: (err: unknown) => Promise<void>
  /** A page dropped because MAX_QUEUED_PAGES were waiting; `dropped`: how many so far. */
  readonly onDrop?: (dropped: number) => void
}

export class PageIntake {
  private readonly opts: PageIntakeOptions
  private tail: Promise<void> = Promise.resolve()
  private queued = 0
  private droppedPages = 0

  constructor (opts: PageIntakeOptions) {
    this.opts = opts
  }

  /** Pages dropped because MAX_QUEUED_PAGES were waiting. */
  get dropped (): number {
    return this.droppedPages
  }

  /** Queues a page behind the ones before it. */
  push (msg: UncheckedChanges): void {
    if (this.queued >= MAX_QUEUED_PAGES) {
      this.opts.onDrop?.(++this.droppedPages)
      return
    }
    this.queued++
    this.tail = this.tail.then(async () => {
      try {
        const records: MemoryRecord[] = new Array<MemoryRecord>(msg.unchecked.length)
        for (let i = 0; i < records.length; i++) {
          records[i] = checkRowAt(msg.unchecked[i], msg.nodes, 'changes.records', i)
          if (i % CHECK_SLICE === CHECK_SLICE - 1) {
            await new Promise(resolve => setImmediate(resolve))
            if (!this.opts.isOpen()) return
          }
        }
        if (!this.opts.isOpen()) return
        const seals = sealsOf(msg.batches, msg.unchecked, 'changes.records')
        await this.opts.verify?.(records, seals)
        if (!this.opts.isOpen()) return
        const { unchecked: _rows, nodes: _nodes, batches: _batches, ...envelope } = msg
        this.opts.apply({ ...envelope, records, ...(seals !== undefined ? { seals } : {}) })
      } catch (e) {
        await this.opts.fail(e)
      } finally {
        this.queued--
      }
    })
  }
}
