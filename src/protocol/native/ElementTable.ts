/**
 * Where the gossip window index (WindowIndex.ts) keeps its elements and their records: one slot
 * per element, its fields side by side in typed arrays (columns), not an object per element.
 *
 * A slot holds the element (16 bytes), the record's kind, key, stamp wall time and seq, whether
 * its state is a tombstone, and its place in its fine bucket's list (the elements of a bucket are
 * a doubly linked list of slots, so a bucket is read, and an element removed from it, without a
 * Set per bucket). A key of 64 lowercase hex digits (the ids of triples, episodes and traces) is
 * kept as its 32 bytes and found through an open-addressing table over those bytes; any other key
 * (a note's) as a string in a Map of its kind. Measured on 100,000 triples after a copy, an
 * element costs about 100 bytes here against about 270 as an object with its key string, its Map
 * entry and its bucket Set's (ElementSlab before), and none of it is an object the garbage
 * collector walks.
 *
 * A removed slot is reused by a later element: a slot number is valid until the next change.
 * Columns grow by doubling (their untouched part is not resident); clear() gives them back.
 */
import { RECORD_KINDS, type RecordKind } from '../../core/model.ts'
import { HEX_KEY_BYTES as ID_BYTES, hexKeyInto, hexKeyOf } from './hexKey.ts'
import { ELEMENT_BYTES, FINE_BITS, KIND_CODE } from './windowElement.ts'
import type { WindowFileEntry } from './windowFile.ts'

const EB = ELEMENT_BYTES
const FIRST_SLOTS = 1_024
/** Flag bits beside the kind code (the low two bits). */
const DEAD = 0x04
/** The key is kept as 32 bytes (it is 64 lowercase hex digits). */
const HEX = 0x08
const USED = 0x10
/** Fine buckets: the first FINE_BITS bits of an element. */
const BUCKETS = 1 << FINE_BITS
const NONE = -1

export class ElementTable {
  private cap = 0
  private elements = new Uint8Array(0)
  private walls = new Float64Array(0)
  private seqs = new Float64Array(0)
  private flags = new Uint8Array(0)
  /** A slot's neighbours in its bucket's list; a free slot's `next` is the next free slot. */
  private next = new Int32Array(0)
  private prev = new Int32Array(0)
  private ids = new Uint8Array(0)
  /** Slots written at least once; slots below it that are free are on the free list. */
  private top = 0
  private free = NONE
  private live = 0
  private readonly heads = new Int32Array(BUCKETS).fill(NONE)
  private readonly counts = new Uint32Array(BUCKETS)
  /** Open addressing over the hex keys: slot + 1, 0 empty; linear probing, removal by backward shift. */
  private hash = new Int32Array(0)
  private hexCount = 0
  /** Keys that are not 64 hex digits, per kind: key → slot; and slot → key. */
  private readonly named: Array<Map<string, number>> = RECORD_KINDS.map(() => new Map())
  private readonly names = new Map<number, string>()
  /** The bytes of the hex key `find` was last given (`probeKey`), which `add` then takes as they are. */
  private readonly probe = new Uint8Array(ID_BYTES)
  private probeKey: string | undefined

  /** Elements held. */
  get size (): number {
    return this.live
  }

  /** The slot of a record's element, or -1. */
  find (kind: RecordKind, key: string): number {
    const code = KIND_CODE[kind]
    if (key !== this.probeKey) {
      if (!hexKeyInto(key, this.probe, 0)) return this.named[code]!.get(key) ?? NONE
      this.probeKey = key
    }
    if (this.hexCount === 0) return NONE
    const mask = this.hash.length - 1
    for (let h = this.hashOf(this.probe, 0, code) & mask; ; h = (h + 1) & mask) {
      const v = this.hash[h]!
      if (v === 0) return NONE
      if (this.sameId(v - 1, code)) return v - 1
    }
  }

  /** Adds an element (its record not held yet: find first); its slot. */
  add (kind: RecordKind, key: string, wall: number, seq: number, dead: boolean, element: Uint8Array): number {
    const slot = this.take()
    const code = KIND_CODE[kind]
    let hex = key === this.probeKey
    if (hex) this.ids.set(this.probe, slot * ID_BYTES)
    else hex = hexKeyInto(key, this.ids, slot * ID_BYTES)
    const p = slot * EB
    for (let i = 0; i < EB; i++) this.elements[p + i] = element[i]!
    this.walls[slot] = wall
    this.seqs[slot] = seq
    this.flags[slot] = code | (dead ? DEAD : 0) | (hex ? HEX : 0) | USED
    if (hex) this.hashIn(slot, code)
    else { this.named[code]!.set(key, slot); this.names.set(slot, key) }
    const b = this.fine(slot)
    const head = this.heads[b]!
    this.next[slot] = head
    this.prev[slot] = NONE
    if (head !== NONE) this.prev[head] = slot
    this.heads[b] = slot
    this.counts[b]!++
    this.live++
    return slot
  }

  /** Removes the element in `slot`; the slot may be reused by the next add. */
  remove (slot: number): void {
    const f = this.flags[slot]!
    const code = f & 3
    if ((f & HEX) !== 0) this.hashOut(slot, code)
    else { this.named[code]!.delete(this.names.get(slot)!); this.names.delete(slot) }
    const b = this.fine(slot)
    const n = this.next[slot]!
    const p = this.prev[slot]!
    if (p === NONE) this.heads[b] = n
    else this.next[p] = n
    if (n !== NONE) this.prev[n] = p
    this.counts[b]!--
    this.flags[slot] = 0
    this.next[slot] = this.free
    this.free = slot
    this.live--
  }

  kind (slot: number): RecordKind { return RECORD_KINDS[this.flags[slot]! & 3]! }
  key (slot: number): string { return (this.flags[slot]! & HEX) !== 0 ? hexKeyOf(this.ids, slot * ID_BYTES) : this.names.get(slot)! }
  wall (slot: number): number { return this.walls[slot]! }
  seq (slot: number): number { return this.seqs[slot]! }
  dead (slot: number): boolean { return (this.flags[slot]! & DEAD) !== 0 }

  /** The element in `slot`: a view, valid until the next change (do not mutate). */
  element (slot: number): Uint8Array {
    return this.elements.subarray(slot * EB, (slot + 1) * EB)
  }

  /** The element's fine bucket: windowElement.ts fineBucketOf(element(slot)), without making a view. */
  fine (slot: number): number {
    return (this.elements[slot * EB]! << 4) | (this.elements[slot * EB + 1]! >>> 4)
  }

  /** XORs the element in `slot` into `target` at `offset`. */
  xorInto (target: Uint8Array, offset: number, slot: number): void {
    const e = this.elements
    const p = slot * EB
    for (let i = 0; i < EB; i++) target[offset + i]! ^= e[p + i]!
  }

  /** The first slot of a fine bucket's list, or -1; `after` gives the next. */
  first (bucket: number): number {
    return this.heads[bucket]!
  }

  /** The slot after `slot` in its bucket's list, or -1. */
  after (slot: number): number {
    return this.next[slot]!
  }

  /** Elements in a fine bucket. */
  countIn (bucket: number): number {
    return this.counts[bucket]!
  }

  /** Every slot in use (do not change the table meanwhile). */
  * slots (): IterableIterator<number> {
    for (let s = 0; s < this.top; s++) if ((this.flags[s]! & USED) !== 0) yield s
  }

  /**
   * A copy of the elements as they are now, which the table's later changes leave as it is (a
   * saved index is encoded from it over several turns of the event loop): its columns copied, in
   * slot order.
   */
  frozen (): ElementList {
    const copy = new ElementTable()
    copy.grow(this.top)
    copy.elements.set(this.elements.subarray(0, this.top * EB))
    copy.walls.set(this.walls.subarray(0, this.top))
    copy.seqs.set(this.seqs.subarray(0, this.top))
    copy.flags.set(this.flags.subarray(0, this.top))
    copy.ids.set(this.ids.subarray(0, this.top * ID_BYTES))
    for (const [slot, key] of this.names) copy.names.set(slot, key)
    copy.top = this.top
    const order = new Int32Array(this.live)
    let i = 0
    for (const s of this.slots()) order[i++] = s
    return { length: order.length, at: i => slotView(copy, order[i]!) }
  }

  /** Room for `n` elements before the columns grow (a saved index read back). */
  reserve (n: number): void {
    if (n > this.cap) this.grow(n)
  }

  /** Forgets every element and gives the columns back. */
  clear (): void {
    this.cap = 0
    this.elements = new Uint8Array(0)
    this.walls = new Float64Array(0)
    this.seqs = new Float64Array(0)
    this.flags = new Uint8Array(0)
    this.next = new Int32Array(0)
    this.prev = new Int32Array(0)
    this.ids = new Uint8Array(0)
    this.hash = new Int32Array(0)
    this.top = 0
    this.free = NONE
    this.live = 0
    this.hexCount = 0
    this.heads.fill(NONE)
    this.counts.fill(0)
    for (const m of this.named) m.clear()
    this.names.clear()
  }

  private take (): number {
    if (this.free !== NONE) {
      const s = this.free
      this.free = this.next[s]!
      return s
    }
    if (this.top === this.cap) this.grow(Math.max(FIRST_SLOTS, this.cap * 2))
    return this.top++
  }

  private grow (cap: number): void {
    const widen = <T extends Uint8Array | Float64Array | Int32Array>(a: T, make: (n: number) => T, per: number): T => {
      const b = make(cap * per)
      b.set(a)
      return b
    }
    this.elements = widen(this.elements, n => new Uint8Array(n), EB)
    this.walls = widen(this.walls, n => new Float64Array(n), 1)
    this.seqs = widen(this.seqs, n => new Float64Array(n), 1)
    this.flags = widen(this.flags, n => new Uint8Array(n), 1)
    this.next = widen(this.next, n => new Int32Array(n), 1)
    this.prev = widen(this.prev, n => new Int32Array(n), 1)
    this.ids = widen(this.ids, n => new Uint8Array(n), ID_BYTES)
    this.cap = cap
  }

  private hashOf (bytes: Uint8Array, at: number, code: number): number {
    // the ids are hashes already: their first bytes spread evenly
    return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) ^ code
  }

  private sameId (slot: number, code: number): boolean {
    if ((this.flags[slot]! & 3) !== code) return false
    const p = slot * ID_BYTES
    for (let i = 0; i < ID_BYTES; i++) if (this.ids[p + i] !== this.probe[i]) return false
    return true
  }

  private hashIn (slot: number, code: number): void {
    // at most half full
    if ((this.hexCount + 1) * 2 > this.hash.length) this.rehash(Math.max(FIRST_SLOTS * 2, this.hash.length * 2))
    const mask = this.hash.length - 1
    let h = this.hashOf(this.ids, slot * ID_BYTES, code) & mask
    while (this.hash[h] !== 0) h = (h + 1) & mask
    this.hash[h] = slot + 1
    this.hexCount++
  }

  private hashOut (slot: number, code: number): void {
    const mask = this.hash.length - 1
    let h = this.hashOf(this.ids, slot * ID_BYTES, code) & mask
    while (this.hash[h] !== slot + 1) h = (h + 1) & mask
    // backward shift: the entries after the hole that may move into it do
    let hole = h
    for (let j = (hole + 1) & mask; this.hash[j] !== 0; j = (j + 1) & mask) {
      const s = this.hash[j]! - 1
      const home = this.hashOf(this.ids, s * ID_BYTES, this.flags[s]! & 3) & mask
      // j's home is cyclically outside (hole, j]: it may fill the hole
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        this.hash[hole] = this.hash[j]!
        hole = j
      }
    }
    this.hash[hole] = 0
    this.hexCount--
  }

  private rehash (size: number): void {
    const old = this.hash
    this.hash = new Int32Array(size)
    const mask = size - 1
    for (const v of old) {
      if (v === 0) continue
      const s = v - 1
      let h = this.hashOf(this.ids, s * ID_BYTES, this.flags[s]! & 3) & mask
      while (this.hash[h] !== 0) h = (h + 1) & mask
      this.hash[h] = v
    }
  }
}

/** A list of elements read by index. */
export interface ElementList {
  readonly length: number
  at (i: number): TableElement
}

/** One element of a table and its record, as the table's readers see it (valid until the table's next change): what a saved index holds of each. */
export type TableElement = WindowFileEntry

/** The element in a slot of a table, read through it. */
class SlotView implements TableElement {
  private readonly t: ElementTable
  private readonly s: number
  constructor (t: ElementTable, s: number) {
    this.t = t
    this.s = s
  }

  get kind (): RecordKind { return this.t.kind(this.s) }
  get key (): string { return this.t.key(this.s) }
  get wall (): number { return this.t.wall(this.s) }
  get seq (): number { return this.t.seq(this.s) }
  get dead (): boolean { return this.t.dead(this.s) }
  get element (): Uint8Array { return this.t.element(this.s) }
}

/** A view of the element in `slot` of `table`. */
export function slotView (table: ElementTable, slot: number): TableElement {
  return new SlotView(table, slot)
}
