/**
 * Committed changes waiting for the gossip window index (LazyWindow.ts queues them while a
 * catch-up streams in), each kept as what the index needs of it — its kind, key, stamp wall time,
 * seq, whether it is a tombstone, and its 16-byte element (windowElement.ts) — and not as the
 * record itself. A record weighs about 700 bytes of heap; here a change costs 66 bytes in typed
 * arrays, its key of 64 hex digits kept as its 32 bytes (hexKey.ts; any other key as a string),
 * so the 50,000 changes a catch-up may hold for the index take about 3 MB instead of 36 MB, and
 * the records die young instead of filling the old generation.
 *
 * The element is hashed when the change is queued, unless the record's wall time is before the
 * window start the index holds then (WindowIndex.heldStart): that start only moves forward until
 * the index rebuilds, and a rebuild reads every change committed so far from the store and none
 * from the queue, so such a change can only remove the record's older element.
 */
import { isTombstone, RECORD_KINDS, recordKey, type RecordKind } from '../../core/model.ts'
import type { FeedEntry } from '../../store/Store.ts'
import { HEX_KEY_BYTES, hexKeyInto, hexKeyOf } from './hexKey.ts'
import { ELEMENT_BYTES, elementInto, KIND_CODE } from './windowElement.ts'

/** Changes per chunk (about 270 KB of typed arrays). */
const CHUNK = 4_096
/** Flag bits beside the kind code (the low two bits). */
const DEAD = 0x04
const OUTSIDE = 0x08
/** The key is kept as its 32 bytes in `ids`. */
const HEX = 0x10

/**
 * What the index is told of one queued change; `element` is undefined when the record is outside
 * the window. `element` is valid during the call only (one buffer is reused for every change).
 */
export type PendingVisitor = (kind: RecordKind, key: string, wall: number, seq: number, dead: boolean, element: Uint8Array | undefined) => void

/** The element passed to a PendingVisitor. */
const visited = new Uint8Array(ELEMENT_BYTES)

class Chunk {
  readonly seq = new Float64Array(CHUNK)
  readonly wall = new Float64Array(CHUNK)
  readonly flags = new Uint8Array(CHUNK)
  readonly elements = new Uint8Array(CHUNK * ELEMENT_BYTES)
  readonly ids = new Uint8Array(CHUNK * HEX_KEY_BYTES)
  /** Keys that are not 64 hex digits, by slot. */
  readonly keys = new Map<number, string>()
  /** Slots written. */
  end = 0
  /** Slots read (taken out). */
  start = 0
}

export class PendingElements {
  private chunks: Chunk[] = []
  private count = 0

  /** Changes queued. */
  get length (): number {
    return this.count
  }

  /**
   * Queues the entries of a committed change, in order. `windowStart`: a start the index's own
   * will not go below before these changes are taken in (or dropped by a rebuild) — a record
   * stamped before it gets no element.
   */
  push (entries: readonly FeedEntry[], windowStart: number): void {
    // A chunk at a time: the loop over the entries of one chunk has no rare branch (a chunk made
    // every 4,096 entries, taken in the optimized loop, sent it back to the interpreter each time),
    // and is indexed, not for…of (an iterator result per entry until it is optimized).
    let e = 0
    while (e < entries.length) {
      const c = this.open()
      const end = Math.min(entries.length, e + CHUNK - c.end)
      for (; e < end; e++) {
        const { seq, record } = entries[e]!
        const i = c.end++
        const wall = record.hlc.wall
        let flags = KIND_CODE[record.kind] | (isTombstone(record) ? DEAD : 0)
        if (wall >= windowStart) elementInto(record, c.elements, i * ELEMENT_BYTES)
        else flags |= OUTSIDE
        c.seq[i] = seq
        c.wall[i] = wall
        const key = recordKey(record)
        if (hexKeyInto(key, c.ids, i * HEX_KEY_BYTES)) flags |= HEX
        else c.keys.set(i, key)
        c.flags[i] = flags
        this.count++
      }
    }
  }

  /** The chunk the next change goes into: the last one, or a new one when it is full. */
  private open (): Chunk {
    const last = this.chunks[this.chunks.length - 1]
    if (last !== undefined && last.end < CHUNK) return last
    const c = new Chunk()
    this.chunks.push(c)
    return c
  }

  /** Takes the oldest `n` changes out (fewer when fewer are queued), telling `visit` of each in order. */
  take (n: number, visit?: PendingVisitor): void {
    while (n > 0 && this.count > 0) {
      const c = this.chunks[0]!
      const upto = Math.min(c.end, c.start + n)
      for (let i = c.start; i < upto; i++) {
        const f = c.flags[i]!
        if (visit !== undefined) {
          let element: Uint8Array | undefined
          if ((f & OUTSIDE) === 0) {
            // copied into one reused buffer: a view per change would be ~100 bytes of garbage
            element = visited
            for (let j = 0, p = i * ELEMENT_BYTES; j < ELEMENT_BYTES; j++) element[j] = c.elements[p + j]!
          }
          const key = (f & HEX) !== 0 ? hexKeyOf(c.ids, i * HEX_KEY_BYTES) : c.keys.get(i)!
          visit(RECORD_KINDS[f & 3]!, key, c.wall[i]!, c.seq[i]!, (f & DEAD) !== 0, element)
        }
        c.keys.delete(i)
      }
      n -= upto - c.start
      this.count -= upto - c.start
      c.start = upto
      if (c.start === CHUNK) this.chunks.shift()
    }
    if (this.count === 0 && this.chunks.length > 0) {
      // the queue is empty: one chunk is kept for the next changes (a live node queues a few at a time)
      const c = this.chunks[this.chunks.length - 1]!
      c.start = 0
      c.end = 0
      c.keys.clear()
      this.chunks = [c]
    }
  }
}
