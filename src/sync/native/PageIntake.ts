/**
 * The pages a session received and has not applied yet, in order. Each page's rows are checked
 * (protocol/native/rows.ts checkRowAt) in slices of CHECK_SLICE, letting the event loop run between them — the
 * transport goes on reading the next page meanwhile, and other peers' sessions are not held up —
 * its signatures are checked the same way (`verify`), then the page goes to the session to be
 * applied. A peer keeps at most two pages
 * unacknowledged, so more than MAX_QUEUED_PAGES waiting here is a protocol error.
 */
import { PROTOCOL } from '../../core/errors.ts'
import type { MemoryRecord } from '../../core/model.ts'
import type { PageSeals } from '../../core/seals.ts'
import type { ChangesMessage, UncheckedChanges } from '../../protocol/native/messages.ts'
import { checkRowAt, sealsOf } from '../../protocol/native/rows.ts'

/** Rows checked between two turns of the event loop. */
export const CHECK_SLICE = 500
/** Pages received and not yet applied before the peer is cut off. */
export const MAX_QUEUED_PAGES = 8

export interface PageIntakeOptions {
  /** False once the session closed: the pages still queued are dropped. */
  readonly isOpen: () => boolean
  /** A page whose every row passed the checks. */
  readonly apply: (msg: ChangesMessage) => void
  /** Checks the page's signatures ahead of `apply`, letting other work run (Engine.verifyAhead). */
  readonly verify?: (records: readonly MemoryRecord[], seals: PageSeals | undefined) => Promise<void>
  /** A page refused (a bad row, a queue too long) or failing to apply: the session closes. */
  readonly fail: (err: unknown) => Promise<void>
}

export class PageIntake {
  private readonly opts: PageIntakeOptions
  private tail: Promise<void> = Promise.resolve()
  private queued = 0

  constructor (opts: PageIntakeOptions) {
    this.opts = opts
  }

  /** Queues a page behind the ones before it. */
  push (msg: UncheckedChanges): void {
    if (++this.queued > MAX_QUEUED_PAGES) {
      void this.opts.fail(PROTOCOL(`more than ${MAX_QUEUED_PAGES} pages sent without waiting for acknowledgements`))
      return
    }
    this.tail = this.tail.then(async () => {
      try {
        const records: MemoryRecord[] = new Array<MemoryRecord>(msg.unchecked.length)
        for (let i = 0; i < records.length; i++) {
          records[i] = checkRowAt(msg.unchecked[i], msg.nodes, `changes.records[${i}]`)
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
