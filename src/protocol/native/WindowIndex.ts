/**
 * The window set of gossip rounds (docs/PROTOCOL.md §3), kept in memory.
 *
 * The window set holds every record (all kinds, live and tombstones) whose stamp's wall time is
 * at or after the window start, each as one 16-byte element (windowElement.ts). The index keeps:
 *  - the digest: the element count `n` and the XOR `x` of all elements, updated in O(1) per change;
 *  - 2^12 fine buckets (an element's bucket is the first 12 bits of the element), each with its
 *    own XOR and members, so gossip can compare parts of the set and filter only the parts that
 *    differ (`bucketFingerprints`, `elementsIn`); the XORs are kept in BucketXors.ts.
 *
 * Keeping it current: call `observe` with the entries of every engine 'change' event. The window
 * start moves forward by one quantum Q = TTL/8 at a time; when it does, elements that fell out
 * are dropped (an in-memory pass, no store scan); if it moves back (the wall clock stepped back)
 * the index is rebuilt from the store. The first use rebuilds (or a rebuild spread over turns of
 * the event loop: beginBuild / buildStep, as a starting node does).
 *
 * Saved and read back (windowFile.ts): `saved` gives what a node writes at a stop; `beginLoad`
 * starts from such a file instead of from nothing — its elements are taken as they are (no
 * hashing), then the feed after the file's seq is read as a rebuild reads it — after checking
 * that the file belongs to this store and can still be used (WindowLoad.ts: the checks and the
 * load); otherwise it rebuilds.
 *
 * Reads the store only; the clock is injected.
 */
import { INVALID_INPUT } from '../../core/errors.ts'
import { isTombstone, recordKey, type MemoryRecord, type RecordKind } from '../../core/model.ts'
import type { SignedBatch } from '../../core/signing.ts'
import type { FeedEntry, Store, StoredState } from '../../store/Store.ts'
import { BucketXors, checkBucket, checkLevel } from './BucketXors.ts'
import { CodedSummary } from './codedSummary.ts'
import { ElementTable, slotView, type ElementList } from './ElementTable.ts'
import type { PendingElements } from './PendingElements.ts'
import { elementOf, FINE_BITS, windowStartFor, type WindowElement } from './windowElement.ts'
import type { WindowFileEntry, WindowFileHeader } from './windowFile.ts'
import { WindowLoad, type WindowLoadContext, type WindowLoadTarget } from './WindowLoad.ts'

/** Records read per store page while rebuilding. */
const REBUILD_PAGE = 10_000

export interface WindowIndexOptions {
  readonly store: Store
  /** The tombstone TTL in ms (sync.tombstoneTtlHours × 3,600,000); at least 8. */
  readonly ttlMs: number
  /** Wall clock in ms (default Date.now). */
  readonly now?: () => number
}

/** The digest of a window set. */
export interface WindowDigest {
  /** Window start (ms). */
  readonly ws: number
  /** Element count. */
  readonly n: number
  /** XOR of all elements, 16 bytes (a copy). */
  readonly x: Uint8Array
}

/** How the last start of the index went (beginBuild or beginLoad); `feedRead`: feed entries it read. */
export type WindowStart =
  | { readonly from: 'store', readonly feedRead: number, readonly refused?: string }
  | { readonly from: 'file', readonly feedRead: number, readonly loaded: number, readonly seq: number }

/**
 * What a gossip round reads of the window set (gossip.ts GossipPeer, recon.ts ReconPeer): a
 * WindowIndex itself, or, in a node, its LazyWindow's `reader`, which lets a round read the index
 * only once it is built.
 */
export type WindowReader = Pick<WindowIndex, 'windowStart' | 'digest' | 'codedDigest' | 'size' | 'sizeSoFar' | 'elements' | 'state' | 'batch' | 'bucketFingerprints' | 'elementsIn' | 'countIn'>

export class WindowIndex {
  private readonly store: Store
  private readonly ttlMs: number
  private readonly now: () => number
  /** The elements and their records, found by kind and key, listed by fine bucket (ElementTable.ts). */
  private readonly table = new ElementTable()
  /** The XOR of all elements and of each fine bucket (BucketXors.ts). */
  private readonly xors = new BucketXors()
  /** Symbol 0 and difference sketch of coded rounds (recon.ts), kept with the digest. */
  private readonly coded = new CodedSummary()
  private ws = 0
  private built = false
  /** The store's last seq when the index was rebuilt: older feed entries are already counted. */
  private builtSeq = 0
  /** A rebuild under way (beginBuild): the feed position read up to. */
  private cursor = 0
  private buildingNow = false
  /** Every feed entry up to this seq is reflected (the file's seq, then builtSeq and what was observed). */
  private seenSeq = 0
  /** A load under way (beginLoad): the file's entries not read yet. */
  private loading: WindowLoad | undefined
  private started: WindowStart = { from: 'store', feedRead: 0 }
  /** A saved index being read elsewhere (deferLoad): read at once if the index is needed first. */
  private pendingLoad: (() => void) | undefined

  constructor (opts: WindowIndexOptions) {
    if (typeof opts.ttlMs !== 'number' || !Number.isFinite(opts.ttlMs) || opts.ttlMs < 8) {
      throw INVALID_INPUT('ttlMs', `must be a number of milliseconds ≥ 8 (got ${String(opts.ttlMs)})`)
    }
    this.store = opts.store
    this.ttlMs = opts.ttlMs
    this.now = opts.now ?? Date.now
  }

  /** The window start at `now` (default: the injected clock), quantized as in PROTOCOL.md §3. */
  windowStart (now: number = this.now()): number {
    return windowStartFor(now, this.ttlMs)
  }

  /**
   * The window start the index holds now, without bringing it up to date: until the index
   * rebuilds (which reads every change committed so far from the store) it only moves forward.
   */
  get heldStart (): number {
    return this.ws
  }

  /** Recomputes the whole window set from the store (pages of its changes feed, every kind). */
  rebuild (): void {
    this.beginBuild()
    while (!this.buildStep(REBUILD_PAGE));
  }

  /**
   * Starts a rebuild that goes page by page (`buildStep`), so a caller can spread it over turns
   * of the event loop. Until it ends the index holds only what was read so far (`building` is
   * true, `partial()` tells how far); a read that needs the whole set (digest, fingerprints,
   * elements) finishes it first. Commits made meanwhile are taken in as usual with `observe`
   * once it has ended (the feed entries up to the store's last seq at the start are read here;
   * a record changed later is read here or observed, whichever is newer).
   */
  beginBuild (refused?: string): void {
    this.clear()
    this.loading = undefined
    this.ws = this.windowStart()
    this.builtSeq = this.store.stats().lastSeq
    this.seenSeq = this.builtSeq
    this.cursor = 0
    this.built = false
    this.buildingNow = true
    this.started = { from: 'store', feedRead: 0, ...(refused !== undefined ? { refused } : {}) }
  }

  /**
   * Starts from a saved index (windowFile.ts) instead of from nothing, spread over buildStep as
   * beginBuild is: the file's elements are taken in as they are (those the window start has
   * passed since are left out), then the store's feed after the file's seq is read as a rebuild
   * reads it. The file is used only when it checks out (WindowLoad.ts: saved for this store and
   * TTL, not ahead of the store or of the clock, sound, its elements the records'); anything else
   * makes it rebuild from the store (`started` tells why). Returns whether the file is being read.
   */
  beginLoad (bytes: Uint8Array, ctx: WindowLoadContext): boolean {
    const load = WindowLoad.open(bytes, ctx, { store: this.store, ttlMs: this.ttlMs, windowStart: this.windowStart() }, this.loadTarget)
    if (typeof load === 'string') { this.beginBuild(load); return false }
    this.beginBuild()
    const h = load.header
    this.cursor = h.seq
    this.seenSeq = Math.max(h.seq, this.builtSeq)
    this.table.reserve(h.count)
    this.loading = load
    this.started = { from: 'file', feedRead: 0, loaded: 0, seq: h.seq }
    return true
  }

  /** What a load of a saved index (WindowLoad) does to this one. */
  private readonly loadTarget: WindowLoadTarget = {
    heldStart: () => this.ws,
    insert: e => this.insertElement(e),
    digest: () => ({ n: this.table.size, x: this.xors.x })
  }

  /**
   * A build under way (beginBuild) waits for a saved index that is being read elsewhere: its
   * first step — or any read that needs the whole set, such as a peer's gossip — calls `read`
   * first, which is to read the saved index at once and call beginLoad (or leave the build as it
   * is). `undefined`: no longer waiting (the caller called beginLoad itself).
   */
  deferLoad (read: (() => void) | undefined): void {
    this.pendingLoad = read
  }

  /** Reads up to `limit` more entries (of a file being loaded, else of the feed) of a start under way; true once it has ended. */
  buildStep (limit: number = REBUILD_PAGE): boolean {
    if (this.pendingLoad !== undefined) {
      const read = this.pendingLoad
      this.pendingLoad = undefined
      read()
    }
    if (!this.building) return this.built
    if (this.loading !== undefined) {
      const refused = this.loadStep(Math.max(1, limit))
      if (refused !== undefined) this.beginBuild(refused)
      return false
    }
    const page = this.store.changesSince(this.cursor, { limit: Math.max(1, limit) })
    // a record changed since the build began may be read twice (its old and its new position)
    for (const e of page.entries) this.put(e.record, e.seq)
    this.started = { ...this.started, feedRead: this.started.feedRead + page.entries.length }
    this.cursor = page.lastSeq
    if (!page.hasMore || this.cursor >= this.builtSeq) {
      this.buildingNow = false
      this.built = true
    }
    return this.built
  }

  /** Takes in up to `limit` entries of the file being loaded; why it cannot be used, if so. */
  private loadStep (limit: number): string | undefined {
    const load = this.loading!
    const refused = load.step(limit)
    if (refused === undefined && load.done) {
      this.loading = undefined
      this.started = { from: 'file', feedRead: 0, loaded: this.table.size, seq: load.header.seq }
    }
    return refused
  }

  /**
   * What a node saves (windowFile.ts), or undefined while the index is not built: the header and
   * a list of the elements, which stays as it is while the index changes. The index is current to `seq` (changes observed since a build); changes still
   * queued by a caller are not in it and are read from the feed at the next load.
   */
  saved (feedId: string): { readonly header: WindowFileHeader, readonly entries: ElementList } | undefined {
    if (!this.built || this.buildingNow) return undefined
    const header: WindowFileHeader = { ttlMs: this.ttlMs, ws: this.ws, seq: this.seenSeq, feedFloor: this.store.stats().feedFloor, feedId, count: this.table.size, x: this.xors.x.slice() }
    // the entries as they are now, copied: the index's slots change and are reused, and the list is encoded later
    return { header, entries: this.table.frozen() }
  }

  /** Every feed entry up to this seq is reflected in the index (once built). */
  get currentTo (): number {
    return this.seenSeq
  }

  /** How the last start went: from the store or a saved file, and the feed entries it read. */
  get start (): WindowStart {
    return this.started
  }

  /** True while a rebuild started by beginBuild has not ended. */
  get building (): boolean {
    return this.buildingNow
  }

  /** True once a build (or a load) has ended: the index can be read without building anything first. */
  get isBuilt (): boolean {
    return this.built && !this.buildingNow
  }

  /**
   * The digest and progress as they stand, without building or refreshing anything: during a
   * rebuild, of the part read so far (`read` of about `total` feed positions).
   */
  partial (): WindowDigest & { readonly read: number, readonly total: number } {
    return { ws: this.ws, n: this.table.size, x: this.xors.x.slice(), read: this.building ? this.cursor : this.builtSeq, total: this.builtSeq }
  }

  /**
   * Takes in committed changes (the entries of an engine 'change' event, in order): each
   * record's previous element is replaced by its new one, or dropped when the new state is
   * outside the window. Entries the index already reflects (seq not newer) are ignored.
   */
  observe (entries: readonly FeedEntry[]): void {
    if (!this.refresh()) return
    for (const { seq, record } of entries) {
      if (seq > this.builtSeq) this.put(record, seq)
      if (seq > this.seenSeq) this.seenSeq = seq
    }
  }

  /**
   * Takes in the oldest `n` changes of `pending` (committed changes queued as their elements,
   * PendingElements.ts), as `observe` takes in their entries.
   */
  observePending (pending: PendingElements, n: number): void {
    if (!this.refresh()) { pending.take(n); return }
    pending.take(n, this.putPending)
  }

  private readonly putPending = (kind: RecordKind, key: string, wall: number, seq: number, dead: boolean, element: Uint8Array | undefined): void => {
    if (seq > this.builtSeq) {
      const old = this.table.find(kind, key)
      if (old < 0 || this.table.seq(old) < seq) {
        if (old >= 0) this.remove(old)
        if (element !== undefined && wall >= this.ws) this.add(kind, key, wall, seq, dead, element)
      }
    }
    if (seq > this.seenSeq) this.seenSeq = seq
  }

  /** A record's state at `seq`: replaces an older element of the record, dropped outside the window. */
  private put (record: MemoryRecord, seq: number): void {
    const old = this.table.find(record.kind, recordKey(record))
    if (old >= 0) {
      if (this.table.seq(old) >= seq) return
      this.remove(old)
    }
    if (record.hlc.wall >= this.ws) this.insert(record, seq)
  }

  /** The digest {ws, n, x} of the current window set. */
  digest (): WindowDigest {
    this.refresh()
    return { ws: this.ws, n: this.table.size, x: this.xors.x.slice() }
  }

  /** The first message of a coded round, as it stands: window start, coded symbol 0, difference sketch. */
  codedDigest (): { readonly ws: number, readonly s: Uint8Array, readonly e: Uint8Array } {
    this.refresh()
    return { ws: this.ws, s: this.coded.symbolZero(), e: this.coded.sketch() }
  }

  /** Elements in the window set. */
  get size (): number {
    this.refresh()
    return this.table.size
  }

  /**
   * Elements in the window set as it stands, for counters: during a build under way, those read
   * so far; before any build, 0 — nothing is built for it (`size` builds or finishes the build
   * first, holding the event loop for as long as a start's whole background build: seconds at a
   * million records).
   */
  get sizeSoFar (): number {
    return this.isBuilt ? this.size : this.table.size
  }

  /** Every element of the window set (in no particular order). */
  * elements (): IterableIterator<WindowElement> {
    this.refresh()
    for (const s of this.table.slots()) yield slotView(this.table, s)
  }

  /** The current state of a record with its seal, read from the store. */
  state (kind: RecordKind, key: string): StoredState | undefined {
    return this.store.getState(kind, key)
  }

  /** A stored batch (for the signatures of records sent). */
  batch (id: number): SignedBatch | undefined {
    return this.store.getBatch(id)
  }

  /**
   * Fingerprints of buckets at `level` bits (0 … 12): for each bucket index in `buckets`, the
   * first 8 bytes of the XOR of its elements, concatenated in the order given.
   */
  bucketFingerprints (level: number, buckets: readonly number[]): Uint8Array {
    this.refresh()
    return this.xors.fingerprints(level, buckets)
  }

  /** The elements in the given buckets at `level` bits (every element when `buckets` is undefined). */
  * elementsIn (level: number, buckets: readonly number[] | undefined): IterableIterator<WindowElement> {
    if (buckets === undefined) { yield * this.elements(); return }
    this.refresh()
    checkLevel(level)
    const span = 1 << (FINE_BITS - level)
    for (const j of buckets) {
      checkBucket(level, j)
      for (let f = j * span; f < (j + 1) * span; f++) {
        for (let s = this.table.first(f); s >= 0; s = this.table.after(s)) yield slotView(this.table, s)
      }
    }
  }

  /** How many elements the given buckets at `level` bits hold (all when `buckets` is undefined). */
  countIn (level: number, buckets: readonly number[] | undefined): number {
    this.refresh()
    if (buckets === undefined) return this.table.size
    checkLevel(level)
    const span = 1 << (FINE_BITS - level)
    let n = 0
    for (const j of buckets) {
      checkBucket(level, j)
      for (let f = j * span; f < (j + 1) * span; f++) n += this.table.countIn(f)
    }
    return n
  }

  /**
   * Brings the window start up to date: builds on first use (or finishes a rebuild under way),
   * drops elements that fell out when the start moved forward, rebuilds when it moved back.
   * Returns false when it just rebuilt at once (the store already holds everything a caller
   * might want to observe).
   */
  private refresh (): boolean {
    // a rebuild under way is finished; the changes since its start are then observed as usual
    if (this.buildingNow) while (!this.buildStep(REBUILD_PAGE));
    else if (!this.built) { this.rebuild(); return false }
    const ws = this.windowStart()
    if (ws === this.ws) return true
    if (ws < this.ws) { this.rebuild(); return false }
    this.ws = ws
    // removing a slot while the slots are walked is safe: the walk reads each slot's flags as it comes to it
    for (const s of this.table.slots()) if (this.table.wall(s) < ws) this.remove(s)
    return true
  }

  private insert (record: MemoryRecord, seq: number): void {
    this.add(record.kind, recordKey(record), record.hlc.wall, seq, isTombstone(record), elementOf(record))
  }

  /** An element read from a saved index; false when its record is there already. */
  private insertElement (e: WindowFileEntry): boolean {
    if (this.table.find(e.kind, e.key) >= 0) return false
    this.add(e.kind, e.key, e.wall, e.seq, e.dead, e.element)
    return true
  }

  private add (kind: RecordKind, key: string, wall: number, seq: number, dead: boolean, element: Uint8Array): void {
    const slot = this.table.add(kind, key, wall, seq, dead, element)
    this.account(slot)
    this.coded.add(element)
  }

  private remove (slot: number): void {
    this.account(slot)
    this.coded.remove(this.table.element(slot))
    this.table.remove(slot)
  }

  /** XORs an element into (or, the same operation, out of) the digest and its fine bucket. */
  private account (slot: number): void {
    this.xors.account(this.table, slot)
  }

  private clear (): void {
    this.table.clear()
    this.xors.clear()
    this.coded.clear()
  }
}
