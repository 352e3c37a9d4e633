/**
 * When and how the node's gossip window index (LazyWindow.ts) is written where it is saved between
 * starts (WindowSaves.ts; the file: protocol/native/windowFile.ts). It is saved at a clean stop
 * (`save`), once a start has read more than `checkpointEntries` of the feed, and every
 * `checkpointMs` when as many changes were taken in since the last save, so a crash costs at most
 * that much reading at the next start. A save first makes the store's changes up to the index's
 * seq durable: a saved index never reflects a change a power cut could take back. One save at a
 * time; nothing is written while the index is not built, or when it is where the last save left it.
 */
import type { WindowIndex, WindowStart } from '../../protocol/native/WindowIndex.ts'
import { encodeWindowFileSteps } from '../../protocol/native/windowFile.ts'
import type { Store } from '../../store/Store.ts'
import type { WindowSaves } from './WindowSaves.ts'

/** Time between checkpoints of the saved index. */
const CHECKPOINT_MS = 10 * 60_000
/** Changes (or feed entries read at a start) that make a checkpoint worth writing. */
const CHECKPOINT_ENTRIES = 10_000
/** Entries encoded per turn of the event loop when a checkpoint is written (a few ms). */
const SAVE_SLICE = 20_000
/** A checkpoint that waits for the store's changes to be durable looks again after this long, ms. */
const DURABLE_RETRY_MS = 1_000
/** A checkpoint at the end of a start waits this many times DURABLE_RETRY_MS at most. */
const START_TRIES = 60

export interface WindowSaverOptions {
  readonly index: WindowIndex
  readonly store: Store
  readonly saves: WindowSaves
  /** The store's feed id, written in the file (a saved index is read only by the store it was saved for). */
  readonly feedId: string
  /** Time between checkpoints, ms (0: none). Default 10 minutes. */
  readonly checkpointMs?: number | undefined
  /** Changes taken in since the last save (or feed entries a start read) that make a checkpoint worth writing. Default 10,000. */
  readonly checkpointEntries?: number | undefined
  /** Told when the index cannot be written (the index itself goes on). */
  readonly onError?: ((e: unknown) => void) | undefined
  /** Called before the save at a stop, before the index is read: LazyWindow takes its queue in. */
  readonly beforeFinal: () => void
}

export class WindowSaver {
  private readonly opts: WindowSaverOptions
  private readonly index: WindowIndex
  private readonly store: Store
  private checkpointTimer: NodeJS.Timeout | undefined
  /** The seq of the last save (or of the saved index read at start). */
  private savedSeq = 0
  private saving: Promise<void> = Promise.resolve()
  private stopped = false

  constructor (opts: WindowSaverOptions) {
    this.opts = opts
    this.index = opts.index
    this.store = opts.store
  }

  /** Checkpoints from now on, every checkpointMs (a start). */
  startCheckpoints (): void {
    const every = this.opts.checkpointMs ?? CHECKPOINT_MS
    if (every > 0) {
      this.checkpointTimer = setInterval(() => { this.checkpoint() }, every)
      this.checkpointTimer.unref()
    }
  }

  /** A start has ended (WindowIndex.start): the seq of a saved index read back; a checkpoint when it read much of the feed. */
  started (s: WindowStart): void {
    if (s.from === 'file') this.savedSeq = s.seq
    if (s.feedRead >= this.checkpointEntries && !this.stopped) this.checkpointSoon(START_TRIES)
  }

  /**
   * Writes the index as it stands, after making the store's changes up to its seq durable.
   * Nothing while it is not built. One save at a time; resolves when this one is written (or
   * failed: onError). `final` (a stop): beforeFinal first, encoded at once; else (a checkpoint)
   * a slice of entries is encoded per turn of the event loop.
   */
  save (final = true): Promise<void> {
    const { saves, feedId } = this.opts
    this.saving = this.saving.then(async () => {
      if (final) this.opts.beforeFinal()
      const s = this.index.saved(feedId)
      if (s === undefined || s.header.seq === this.savedSeq) return
      try {
        if (this.store.durableSeq() < s.header.seq) this.store.flush()
        const steps = encodeWindowFileSteps(s.header, s.entries, final ? Number.MAX_SAFE_INTEGER : SAVE_SLICE)
        let step = steps.next()
        while (step.done !== true) {
          await new Promise(resolve => setImmediate(resolve))
          step = steps.next()
        }
        const bytes = step.value
        await saves.write(bytes)
        this.savedSeq = s.header.seq
      } catch (e) {
        this.opts.onError?.(e)
      }
    })
    return this.saving
  }

  /** No more checkpoints (the node stops); save() still works. */
  stop (): void {
    this.stopped = true
    if (this.checkpointTimer !== undefined) { clearInterval(this.checkpointTimer); this.checkpointTimer = undefined }
  }

  /**
   * A checkpoint as soon as the store's changes up to the index's seq are durable (native sync
   * makes received pages durable once they pause): a checkpoint does not wait for the disk itself.
   */
  private checkpointSoon (tries: number): void {
    if (this.stopped || tries <= 0) return
    if (this.store.durableSeq() >= this.index.currentTo) { void this.save(false); return }
    setTimeout(() => { this.checkpointSoon(tries - 1) }, DURABLE_RETRY_MS).unref()
  }

  private get checkpointEntries (): number {
    return Math.max(1, this.opts.checkpointEntries ?? CHECKPOINT_ENTRIES)
  }

  /** Saves the index when enough has changed since the last save. */
  private checkpoint (): void {
    if (!this.index.isBuilt || this.stopped) return
    if (this.index.currentTo - this.savedSeq < this.checkpointEntries) return
    this.checkpointSoon(1)
  }
}
