/**
 * The window index (WindowIndex.ts) read back from its saved copy (windowFile.ts, docs/DATA-MODEL.md
 * "The saved window index"): whether a saved copy can be used by this store and index, and the
 * load of one, a slice of entries at a time (WindowIndex.beginLoad … buildStep).
 *
 * A file is used only when its frame checks out and it was saved for this store (feed id), with
 * this TTL, at a feed position the store has reached, with a window start not after this one (the
 * clock went back: rebuild). Its elements are taken in as they are (no hashing), but for those
 * whose stamp the window start has passed since; a tombstone the store may have collected since
 * (at or below the store's feed floor, when the floor rose after the save) is looked up. At its
 * end the elements must add up to the saved digest (when none was left out), no record may
 * appear twice, and LOAD_SAMPLES elements spread over the file are checked against the records
 * they stand for. Anything else makes the index rebuild from the store, told why.
 *
 * Reads the store only.
 */
import { recordKey } from '../../core/model.ts'
import type { Store } from '../../store/Store.ts'
import { elementOf } from './windowElement.ts'
import { WindowFileReader, type WindowFileEntry, type WindowFileHeader } from './windowFile.ts'

/** Elements of a loaded file checked against the store's records before the file is trusted. */
const LOAD_SAMPLES = 16

/** What beginLoad needs to know about the store beside the store itself. */
export interface WindowLoadContext {
  /** The store's feed id: a file saved for another store is not read. */
  readonly feedId: string
}

/** The index a file would be loaded into, as the checks before the load see it. */
export interface WindowLoadIndex {
  readonly store: Store
  /** The tombstone TTL in ms. */
  readonly ttlMs: number
  /** The window start now. */
  readonly windowStart: number
}

/** What a load does to the index it fills (WindowIndex, after beginBuild has cleared it). */
export interface WindowLoadTarget {
  /** The window start the index holds. */
  heldStart (): number
  /** Takes in an element read from the file; false when its record is there already. */
  insert (e: WindowFileEntry): boolean
  /** The element count and the XOR of the elements taken in so far (not copied). */
  digest (): { readonly n: number, readonly x: Uint8Array }
}

export class WindowLoad {
  private readonly reader: WindowFileReader
  private readonly store: Store
  private readonly into: WindowLoadTarget
  /** Elements to check against their records at the end: one every `every` entries. */
  private readonly samples: WindowFileEntry[] = []
  private readonly every: number
  /** Tombstones at or below this seq may have been collected since the save (0: none). */
  private readonly checkFloor: number
  private ended = false

  private constructor (reader: WindowFileReader, store: Store, into: WindowLoadTarget) {
    this.reader = reader
    this.store = store
    this.into = into
    const h = reader.header
    const floor = store.stats().feedFloor
    this.checkFloor = floor > h.feedFloor ? floor : 0
    this.every = Math.max(1, Math.floor(h.count / LOAD_SAMPLES))
  }

  /** A load of `bytes` into `into`, or why the file cannot be used by `index`. */
  static open (bytes: Uint8Array, ctx: WindowLoadContext, index: WindowLoadIndex, into: WindowLoadTarget): WindowLoad | string {
    const reader = WindowFileReader.open(bytes)
    if (typeof reader === 'string') return reader
    return refusal(reader.header, ctx, index) ?? new WindowLoad(reader, index.store, into)
  }

  /** What the file's header says. */
  get header (): WindowFileHeader {
    return this.reader.header
  }

  /** True once the whole file was taken in and checked. */
  get done (): boolean {
    return this.ended
  }

  /** Takes in up to `limit` entries of the file; why it cannot be used, if so. */
  step (limit: number): string | undefined {
    const { reader, checkFloor, samples, every, into } = this
    const ws = into.heldStart()
    try {
      for (let i = 0; i < limit; i++) {
        const e = reader.next()
        if (e === undefined) break
        if (e.wall < ws) continue
        // collected since it was saved (the store's floor rose past it): gone from the store and its feed
        if (e.dead && e.seq <= checkFloor && this.store.get(e.kind, e.key) === undefined) continue
        if (!into.insert(e)) return `entry ${reader.entriesRead - 1}: a record listed twice`
        if ((reader.entriesRead - 1) % every === 0) samples.push(e)
      }
    } catch (err) {
      return (err as Error).message
    }
    const crc = reader.checkRead()
    if (crc === undefined) return undefined
    if (!crc) return 'checksum mismatch'
    if (!reader.done) return 'bytes after the last entry'
    const { n, x } = into.digest()
    if (n === reader.header.count && !equalBytes(x, reader.header.x)) return 'the elements do not add up to the saved digest'
    for (const s of samples) if (!this.matchesStore(s)) return `${s.kind} ${s.key}: its saved element is not the store's record's`
    this.ended = true
    return undefined
  }

  /** Whether a loaded element is that of its record in the store, when the record is still at that seq. */
  private matchesStore (e: WindowFileEntry): boolean {
    const at = this.store.changesSince(e.seq - 1, { limit: 1 }).entries[0]
    if (at === undefined || at.seq !== e.seq) return true // changed since (the feed after the file's seq has it) or collected
    return at.record.kind === e.kind && recordKey(at.record) === e.key && equalBytes(elementOf(at.record), e.element)
  }
}

/** Why a saved index cannot be used by `index`, or undefined when it can. */
function refusal (h: WindowFileHeader, ctx: WindowLoadContext, index: WindowLoadIndex): string | undefined {
  if (h.feedId !== ctx.feedId) return 'saved for another store (feed id)'
  if (h.ttlMs !== index.ttlMs) return `saved with a TTL of ${h.ttlMs} ms, not ${index.ttlMs}`
  const last = index.store.stats().lastSeq
  if (h.seq > last) return `saved at seq ${h.seq}, past the store's last seq ${last}`
  if (h.ws > index.windowStart) return 'saved with a later window start (the clock went back)'
  return undefined
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
