/**
 * When the write-ahead log is copied back into the file (SQLite's checkpoint): while the store is
 * idle, not on the commit of a write.
 *
 * SQLite's own rule checkpoints on the commit that takes the log past 1,000 pages. A write of 100
 * triples at 100,000 records adds ~280 pages, so every fourth local write paid a checkpoint (the
 * pages copied, the file synced: 16–22 ms instead of ~5.5 ms) before it was acknowledged, and so
 * before a peer saw it. Here a commit only checkpoints past `boundPages` (SQLite's automatic
 * checkpoint set to the bound: the log cannot grow past it under a steady write load), and the
 * routine checkpoint runs once no commit came for `idleMs`: a PASSIVE one, which copies what no
 * reader still needs and never waits for anything. Should a reader of another connection have
 * kept it from copying the log while the log is past the bound, a TRUNCATE follows, waiting
 * for that reader at most TRUNCATE_WAIT_MS.
 *
 * A far-behind catch-up that leaves the secondary indexes out (deferredIndexes.ts) holds the
 * routine checkpoint until its indexes are built (`committed(true)`): its pages commit a few
 * hundred milliseconds apart, so the idle timer fired between nearly every two of them, and each
 * time copied into the file the id index pages the page had dirtied — the same pages the next
 * page dirties again. At a million records that was some 3.7 s of the receiver's CPU during the
 * copy (against 65 ms at 100,000). The log stays bounded all the same: a commit past `boundPages`
 * checkpoints itself, which copies each page once however many commits rewrote it.
 *
 * Durability is not the checkpoint's business: a commit that waits for the disk syncs the log
 * itself, and a checkpoint syncs the log before it copies from it. Closing the connection
 * (the last one on the file) checkpoints everything and removes the log, as before.
 *
 * As Litestream does for the databases it follows (automatic checkpoints off; PASSIVE from its own
 * connection at 1,000 pages and every minute; TRUNCATE as an emergency brake at ~500 MB), but the
 * bound stays SQLite's own automatic checkpoint on the commit, so no timer has to run for the log
 * to stay bounded.
 */
import type { DatabaseSync } from 'node:sqlite'

/** Log pages past which a commit checkpoints itself: 64 MiB of 4 KiB pages (the connection's journal_size_limit). */
export const WAL_BOUND_PAGES = 16_384
/** Quiet time after the last commit before the routine checkpoint runs. */
export const IDLE_CHECKPOINT_MS = 250
/** How long a TRUNCATE checkpoint (the store idle, the log past the bound) waits for another connection's readers. */
const TRUNCATE_WAIT_MS = 1_000

export interface CheckpointSettings {
  /** Log pages past which a commit checkpoints itself (the connection's wal_autocheckpoint, schema.ts configure); 0: none at all (only at close). */
  readonly boundPages: number
  /** Quiet time before the routine checkpoint; 0: none. */
  readonly idleMs: number
  /** The connection's busy timeout, restored after a TRUNCATE. */
  readonly busyTimeoutMs: number
}

/** What `PRAGMA wal_checkpoint` answers: busy (it could not finish), pages in the log, pages copied. */
interface CheckpointRow { busy: number, log: number, checkpointed: number }

export class IdleCheckpoints {
  private readonly db: DatabaseSync
  private readonly settings: CheckpointSettings
  private timer: NodeJS.Timeout | undefined
  /** When the last commit was (performance.now()); the timer checks it when it fires rather than being set again at every commit. */
  private lastCommit = 0
  /** A commit came since the last checkpoint. */
  private dirty = false
  /** The last commit was a catch-up's that holds the routine checkpoint. */
  private held = false
  private closed = false

  constructor (db: DatabaseSync, settings: CheckpointSettings) {
    this.db = db
    this.settings = settings
  }

  /** A write transaction committed; `hold`: by a catch-up that holds the routine checkpoint until its next commit that does not. */
  committed (hold = false): void {
    if (this.closed) return
    this.lastCommit = performance.now()
    this.dirty = true
    this.held = hold
    if (!hold && this.timer === undefined && this.settings.idleMs > 0 && this.settings.boundPages > 0) this.arm(this.settings.idleMs)
  }

  /**
   * Runs the routine checkpoint now (PASSIVE; TRUNCATE when readers kept it from copying a log
   * past the bound). Returns SQLite's answer, or undefined when nothing was committed since the
   * last one or a write transaction is open.
   */
  checkpoint (): CheckpointRow | undefined {
    if (this.closed || !this.dirty || this.db.isTransaction) return undefined
    this.dirty = false
    let row = this.run('PASSIVE')
    if (row.log >= this.settings.boundPages && row.checkpointed < row.log) {
      this.db.exec(`PRAGMA busy_timeout = ${TRUNCATE_WAIT_MS}`)
      try {
        row = this.run('TRUNCATE')
      } finally {
        this.db.exec(`PRAGMA busy_timeout = ${this.settings.busyTimeoutMs}`)
      }
    }
    return row
  }

  close (): void {
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private run (mode: 'PASSIVE' | 'TRUNCATE'): CheckpointRow {
    return this.db.prepare(`PRAGMA wal_checkpoint(${mode})`).get() as unknown as CheckpointRow
  }

  private arm (ms: number): void {
    this.timer = setTimeout(() => { this.fire() }, ms)
    // never what keeps a process alive: closing the store checkpoints anyway
    this.timer.unref()
  }

  private fire (): void {
    this.timer = undefined
    // a catch-up committed since: the commit that ends its hold arms the timer again
    if (this.closed || this.held) return
    const quiet = performance.now() - this.lastCommit
    if (quiet < this.settings.idleMs) {
      this.arm(this.settings.idleMs - quiet)
      return
    }
    try {
      this.checkpoint()
    } catch {
      // another process holding the file (SQLITE_BUSY) or a failing disk: the idle moment after the
      // next commit tries again, the bound on the commit still holds, and a failing disk shows on the next write
      this.dirty = true
    }
  }
}
