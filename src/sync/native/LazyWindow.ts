/**
 * The node's gossip window index (protocol/native/WindowIndex.ts), fed lazily. Every committed change is queued
 * (`observe`); the index takes the queue in when it is read (`current()`: gossip rounds, the
 * status), when the queue grows long, or in the background once commits pause. A bulk inflow — a
 * peer's feed streamed in page after page — is then committed and acknowledged without taking
 * each record into the index in between, and the index is exact whenever anyone looks at it.
 * The queue keeps each change as its element, hashed as it is queued, not as its record
 * (PendingElements.ts: about 120 bytes of heap instead of 700).
 *
 * The background take-in starts after `idleMs` without a commit and goes in slices of
 * `sliceEntries`, one turn of the event loop each (a slice of 2,000 entries takes a few
 * milliseconds), so the first gossip round after a bulk inflow finds the index up to date instead
 * of holding the event loop for the whole queue (about 1.5 µs an entry). A commit during the
 * take-in pauses it until commits pause again. While a stream is catching this node up (`busy`)
 * the take-in waits for the catch-up to end — the pages of a catch-up come about every 100 ms,
 * so "commits pause" alone would hash the inflow between them, on the CPU that applies them,
 * for an index nobody reads meanwhile (gossip waits for the catch-up too) — up to BUSY_QUEUED
 * entries, which bounds the memory the queue holds. A queue of MAX_QUEUED entries is taken in at
 * once, a slice per turn, whatever else goes on.
 *
 * A start builds the index in the background too, a slice per turn of the event loop, and its
 * slices — and before them the read of its saved copy — wait in the same way while a session
 * opens or catches this node up: a restarted node's first catch-up (the dial, the handshake, the
 * cursor, the pages) is not slowed by reading and hashing the index that gossip, waiting for that
 * catch-up anyway, does not read before it ends.
 *
 * Saved between starts (`saves`, windowFile.ts): a start reads the saved index back and then
 * only the feed after it (WindowIndex.beginLoad) instead of hashing every record of the store —
 * 20 µs a record, 20 s of CPU for a million — and falls back to the rebuild when the file cannot
 * be used. The index is saved at a clean stop (`save`, the queue taken in first, so the next
 * start does not hash it again) and at checkpoints (WindowSaver.ts: when, and how).
 */
import { INTERNAL } from '../../core/errors.ts'
import type { FeedEntry, Store } from '../../store/Store.ts'
import { PendingElements } from '../../protocol/native/PendingElements.ts'
import { WindowIndex, type WindowReader, type WindowStart } from '../../protocol/native/WindowIndex.ts'
import type { WindowSaves } from './WindowSaves.ts'
import { WindowSaver } from './WindowSaver.ts'

/** Entries queued before they are taken in without waiting for a read. */
const MAX_QUEUED = 250_000
/**
 * Entries that wait for a catch-up to end (`busy`); past them the take-in goes on between pages
 * as when no catch-up runs. The queue holds each as its element, about 120 bytes
 * (PendingElements.ts): this bounds what a long catch-up keeps in memory for the index (about 6 MB).
 */
const BUSY_QUEUED = 50_000
/** A start's build waiting for a catch-up to end looks again after this long, ms. */
const BUSY_RETRY_MS = 20

export interface LazyWindowOptions {
  readonly store: Store
  readonly ttlMs: number
  readonly now: () => number
  /** Time without a commit before the queue is taken in in the background, ms; 0: never. Default 100. */
  readonly idleMs?: number
  /**
   * True while a session is opening or a stream is catching this node up (NativeSession.opening,
   * catchingUp), or the node's first dial of a peer is under way (Redialer.firstDialing): the
   * background take-in, a start's read of the saved index and its build wait for it to end (up
   * to BUSY_QUEUED entries queued), as gossip does. Default: never.
   */
  readonly busy?: () => boolean
  /** Entries that wait for a catch-up to end. Default BUSY_QUEUED. */
  readonly busyQueued?: number
  /** Entries taken in per turn of the event loop in the background. Default 2,000. */
  readonly sliceEntries?: number
  /** Feed entries read and hashed per turn of the event loop while building (start). Default 500 (about 10 ms). */
  readonly buildSliceEntries?: number
  /** Where the index is saved between starts (absent: rebuilt at every start). Needs `feedId`. */
  readonly saves?: WindowSaves
  /** The store's feed id (a saved index is read only by the store it was saved for). */
  readonly feedId?: string
  /** Told once a start has ended: from a saved index or the store, feed entries read, ms. */
  readonly onStarted?: (s: WindowStart, ms: number) => void
  /** Told when the saved index cannot be read or written (the index itself goes on). */
  readonly onSaveError?: (what: 'read' | 'write', e: unknown) => void
  /** Time between checkpoints, ms (0: none). Default 10 minutes. */
  readonly checkpointMs?: number
  /** Changes taken in since the last save (or feed entries a start read) that make a checkpoint worth writing. Default 10,000. */
  readonly checkpointEntries?: number
}

/**
 * The window digest in the status (docs/PROTOCOL.md §4): `building` while the index is built;
 * `pending`, in a lazy view, the entries committed and not taken in yet (absent when none).
 */
export interface WindowView {
  readonly start: number
  readonly n: number
  readonly x: string
  readonly building?: { readonly read: number, readonly total: number }
  readonly pending?: number
}

export class LazyWindow {
  /**
   * The index itself, possibly behind the queue and possibly not built yet: read it through
   * current(). Gossip rounds read it through `reader`.
   */
  readonly index: WindowIndex
  /**
   * The index as gossip rounds read it (SessionBuilder.ts gives it to every session's GossipPeer
   * and ReconPeer): each read takes the queue in first, and a read before the index is `ready`
   * — a build or a saved copy's load under way, or not started — is refused (INTERNAL) instead of
   * building the whole index at once on the event loop; the gossip side (GossipSide.ts) waits
   * for `ready` before it reads. The counters (`sizeSoFar`) and the store lookups (`state`,
   * `batch`, `windowStart`) read at any time, building nothing.
   */
  readonly reader: WindowReader
  /** Committed changes not taken in yet, each as its element (not the record: PendingElements.ts). */
  private readonly queue = new PendingElements()
  private readonly idleMs: number
  private readonly slice: number
  private readonly buildSlice: number
  private readonly busy: () => boolean
  private readonly busyQueued: number
  private idleTimer: NodeJS.Timeout | undefined
  private sliceTimer: NodeJS.Immediate | undefined
  private buildTimer: NodeJS.Immediate | undefined
  /** A start's build waiting for a catch-up (`busy`) to end. */
  private buildWait: NodeJS.Timeout | undefined
  /** A start's read of the saved index waiting for a catch-up (`busy`) to end. */
  private loadWait: NodeJS.Timeout | undefined
  private stopped = false
  /** The queue reached MAX_QUEUED: it is being taken in whole, whatever commits come meanwhile. */
  private draining = false
  private readonly opts: LazyWindowOptions
  /** A start whose saved index was not looked at yet (read at its first step). */
  private unread = false
  /** A start under way since (performance.now()), until onStarted is told. */
  private startedAt: number | undefined
  /** Writes the index where it is saved (absent: not saved). */
  private readonly saver: WindowSaver | undefined

  constructor (opts: LazyWindowOptions) {
    this.opts = opts
    this.index = new WindowIndex({ store: opts.store, ttlMs: Math.max(8, opts.ttlMs), now: opts.now })
    this.idleMs = opts.idleMs ?? 100
    this.slice = Math.max(1, opts.sliceEntries ?? 2_000)
    this.buildSlice = Math.max(1, opts.buildSliceEntries ?? 500)
    this.busy = opts.busy ?? (() => false)
    this.busyQueued = Math.max(0, opts.busyQueued ?? BUSY_QUEUED)
    this.saver = opts.saves !== undefined && opts.feedId !== undefined
      ? new WindowSaver({
        index: this.index,
        store: opts.store,
        saves: opts.saves,
        feedId: opts.feedId,
        checkpointMs: opts.checkpointMs,
        checkpointEntries: opts.checkpointEntries,
        onError: e => { opts.onSaveError?.('write', e) },
        beforeFinal: () => { this.takeInForStop() }
      })
      : undefined
    const index = this.index
    const built = (): WindowIndex => {
      if (!this.ready) throw INTERNAL('the gossip window index was read before it was built (gossip waits for LazyWindow.ready)')
      return this.current()
    }
    this.reader = {
      windowStart: now => index.windowStart(now),
      digest: () => built().digest(),
      codedDigest: () => built().codedDigest(),
      get size () { return built().size },
      get sizeSoFar () { return index.sizeSoFar },
      elements: () => built().elements(),
      state: (kind, key) => index.state(kind, key),
      batch: id => index.batch(id),
      bucketFingerprints: (level, buckets) => built().bucketFingerprints(level, buckets),
      elementsIn: (level, buckets) => built().elementsIn(level, buckets),
      countIn: (level, buckets) => built().countIn(level, buckets)
    }
  }

  /** Entries queued and not yet taken in. */
  get pending (): number {
    return this.queue.length
  }

  /**
   * True once the index is built: false before start() and while it is built or read back in the
   * background after it (gossip waits). A read through current() makes it true at once.
   */
  get ready (): boolean {
    return this.index.isBuilt
  }

  /**
   * Builds the index in the background, a slice per turn of the event loop — of the saved index
   * and the feed after it, or of the store's whole feed — (the node's start: the index is not read
   * meanwhile unless someone calls current()).
   */
  start (): void {
    if (this.index.building || this.stopped) return
    this.index.beginBuild()
    this.unread = this.saver !== undefined
    this.startedAt = performance.now()
    const step = (): void => {
      this.buildTimer = undefined
      this.buildWait = undefined
      // a session opening or catching this node up goes first (its pages are applied without
      // waiting for slices of the build), up to busyQueued entries queued meanwhile
      if (this.busy() && this.queue.length < this.busyQueued && !this.stopped) {
        this.buildWait = setTimeout(step, BUSY_RETRY_MS)
        return
      }
      if (!this.index.buildStep(this.buildSlice)) {
        if (!this.stopped) this.buildTimer = setImmediate(step)
        return
      }
      this.built()
      if (this.queue.length > 0) this.whenIdle()
    }
    if (!this.unread) { this.buildTimer = setImmediate(step); return }
    // the saved index is read off the event loop; a read of the index meanwhile (current(), or a
    // peer's gossip reaching the index itself) reads it at once
    this.index.deferLoad(() => { this.readSaved() })
    // ... and not while a session opens or catches this node up (`busy`): the file (ten megabytes
    // for 100,000 records) is read in many turns of the event loop, which a restarted node's first
    // catch-up needs — up to busyQueued entries queued meanwhile, as the build's slices wait
    const load = (): void => {
      this.loadWait = undefined
      if (this.stopped || !this.unread) return // stopped, or read meanwhile
      if (this.busy() && this.queue.length < this.busyQueued) {
        this.loadWait = setTimeout(load, BUSY_RETRY_MS)
        return
      }
      this.opts.saves!.load().then(bytes => {
        if (!this.unread) return // read meanwhile
        this.unread = false
        this.index.deferLoad(undefined)
        if (bytes !== undefined) this.index.beginLoad(bytes, { feedId: this.opts.feedId! })
      }, (e: unknown) => {
        if (!this.unread) return
        this.unread = false
        this.index.deferLoad(undefined)
        this.opts.onSaveError?.('read', e)
      }).finally(() => {
        if (this.stopped || this.buildTimer !== undefined || this.buildWait !== undefined) return
        if (this.index.building) this.buildTimer = setImmediate(step)
        else this.built() // ended meanwhile, by a read of the index
      })
    }
    load()
    this.saver!.startCheckpoints()
  }

  /** The saved index read back, at a start's first step (or its first read, whichever comes first). */
  private readSaved (): void {
    if (!this.unread) return
    this.unread = false
    let bytes: Uint8Array | undefined
    try {
      bytes = this.opts.saves!.read()
    } catch (e) {
      this.opts.onSaveError?.('read', e)
    }
    if (bytes !== undefined) this.index.beginLoad(bytes, { feedId: this.opts.feedId! })
  }

  /** A start has ended: told once; a checkpoint when it read much of the feed. */
  private built (): void {
    if (this.startedAt === undefined) return
    const ms = performance.now() - this.startedAt
    this.startedAt = undefined
    const s = this.index.start
    this.opts.onStarted?.(s, ms)
    this.saver?.started(s)
  }

  /**
   * Writes the index as it stands where it is saved (WindowSaver.ts), after making the store's
   * changes up to its seq durable; resolves when it is written (or failed: onSaveError). `final`
   * (a stop): the queue taken in first (takeInForStop), encoded at once; else (a checkpoint)
   * entries still queued are not in it — the next start reads them from the feed.
   */
  save (final = true): Promise<void> {
    return this.saver?.save(final) ?? Promise.resolve()
  }

  /**
   * Before the save at a stop, the queue is taken in — a node stopped right after a catch-up holds
   * it whole (up to busyQueued entries). Its elements are hashed already: taking one in costs
   * about 1.5 µs, while left out it would be read from the feed and hashed again at the next
   * start (about ten times as much). The file is then current to the last change observed.
   * Not while the index is not built, nor when the clock went back since it was: either would
   * build the index at the stop, and the next start builds it anyway.
   */
  private takeInForStop (): void {
    if (this.queue.length === 0 || !this.index.isBuilt || this.index.windowStart() < this.index.heldStart) return
    this.index.observePending(this.queue, this.queue.length)
  }

  /** Queues the entries of a committed change (an engine 'change' event). */
  observe (entries: readonly FeedEntry[]): void {
    // a record before the start the index holds stays out of it until it rebuilds (which reads
    // the store, not the queue): no element is hashed for it
    this.queue.push(entries, this.index.heldStart)
    if (!this.ready) return // taken in once the index is built
    if (this.queue.length < MAX_QUEUED) { if (!this.draining) this.whenIdle() }
    // a long inflow: the whole queue taken in now, a slice per turn of the event loop (not all
    // at once), commits or not
    else if (this.stopped) this.current()
    else if (!this.draining) { this.cancel(); this.draining = true; this.takeSlice() }
  }

  /** Elements of the window set, without waiting for a build under way (then: those read so far). */
  get size (): number {
    return this.ready ? this.current().size : this.index.sizeSoFar
  }

  /**
   * Elements of the window set taken in so far, without taking in the queue (the status a live
   * dashboard reads while a catch-up streams in: it must not make the node hash the inflow on
   * its way).
   */
  get sizeTakenIn (): number {
    return this.index.sizeSoFar
  }

  /** The index with every queued entry taken in, in commit order (a build under way is finished first; one not started is built at once). */
  current (): WindowIndex {
    this.cancel()
    this.cancelBuild()
    if (this.index.building) {
      this.readSaved()
      while (!this.index.buildStep());
      this.built()
    } else if (!this.index.isBuilt) {
      this.index.rebuild() // never started: built here, at once
    }
    if (this.queue.length > 0) this.index.observePending(this.queue, this.queue.length)
    return this.index
  }

  /**
   * The digest of the window set, in the status form; while the index is being built (or before
   * it started), of the part built so far, with `building`: feed positions read and to read. `lazy`: of the entries
   * taken in so far, with `pending`: those queued and not taken in (nothing is hashed for it).
   */
  view (lazy = false): WindowView {
    if (!this.ready) {
      const p = this.index.partial()
      return { start: p.ws, n: p.n, x: Buffer.from(p.x).toString('hex'), building: { read: p.read, total: p.total } }
    }
    const d = (lazy ? this.index : this.current()).digest()
    return { start: d.ws, n: d.n, x: Buffer.from(d.x).toString('hex'), ...(this.queue.length > 0 ? { pending: this.queue.length } : {}) }
  }

  /** No more background work (the node stops); current() still works. */
  stop (): void {
    this.stopped = true
    this.cancel()
    this.cancelBuild()
    this.saver?.stop()
  }

  /** (Re)starts the wait for a pause in commits; a take-in under way pauses. */
  private whenIdle (): void {
    this.cancel()
    if (this.idleMs <= 0 || this.stopped || !this.ready) return
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined
      // a catch-up streaming in: its pages are committed and acknowledged first, the take-in after
      if (this.busy() && this.queue.length < this.busyQueued) this.whenIdle()
      else this.takeSlice()
    }, this.idleMs)
    this.idleTimer.unref()
  }

  /** Takes in about one slice of the queue, oldest first, and schedules the next. */
  private takeSlice (): void {
    this.sliceTimer = undefined
    // oldest first; a large change is taken in part by part, in order
    if (this.queue.length > 0) this.index.observePending(this.queue, this.slice)
    if (this.queue.length > 0 && !this.stopped) this.sliceTimer = setImmediate(() => { this.takeSlice() })
    else this.draining = false
  }

  /** No more slices of a start's build (it is finished at once, or the node stops). */
  private cancelBuild (): void {
    if (this.buildTimer !== undefined) { clearImmediate(this.buildTimer); this.buildTimer = undefined }
    if (this.buildWait !== undefined) { clearTimeout(this.buildWait); this.buildWait = undefined }
    if (this.loadWait !== undefined) { clearTimeout(this.loadWait); this.loadWait = undefined }
  }

  private cancel (): void {
    this.draining = false
    if (this.idleTimer !== undefined) { clearTimeout(this.idleTimer); this.idleTimer = undefined }
    if (this.sliceTimer !== undefined) { clearImmediate(this.sliceTimer); this.sliceTimer = undefined }
  }
}
