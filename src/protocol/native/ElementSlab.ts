/**
 * Where the gossip window index (WindowIndex.ts) keeps its elements: 16 bytes each, side by side
 * in one buffer. An element in a buffer of its own costs about 240 bytes of heap (the typed array,
 * its ArrayBuffer and the backing store); here it costs its 16 bytes and a slot number. Measured
 * on 100,000 triples, the index holds 25 MB instead of 45 MB (about 200 MB less at 1,000,000).
 *
 * Each element has a holder that knows its buffer and slot. A slot is written once and never
 * reused, and a buffer is never written again once the live elements moved on, so a holder's
 * element never changes under anyone who still reads it — a holder removed from the index keeps
 * its old buffer (alive only while someone holds it). When the buffer is full, the live elements
 * move to a new one twice their number (more room when most are live, less when most were
 * freed), and their holders are renumbered.
 */

/** Bytes of one element. */
export const SLAB_ELEMENT_BYTES = 16
const BYTES = SLAB_ELEMENT_BYTES
/** Slots of the first buffer, and the fewest of any. */
const FIRST_SLOTS = 1_024

/** What knows where an element is. */
export interface SlabHolder {
  buf: Uint8Array
  slot: number
}

export class ElementSlab {
  private buf = new Uint8Array(FIRST_SLOTS * BYTES)
  /** Slots written in `buf`. */
  private used = 0
  /** Slots in use (written and not freed). */
  private live = 0

  /**
   * Stores `element` (its first 16 bytes) for `holder`, setting its buffer and slot. `holders`
   * gives every holder in use (not `holder`), for when the buffer is full and they move.
   */
  put (holder: SlabHolder, element: Uint8Array, holders: () => Iterable<SlabHolder>): void {
    if (this.used * BYTES === this.buf.length) this.move(holders())
    copyElement(element, 0, this.buf, this.used * BYTES)
    holder.buf = this.buf
    holder.slot = this.used++
    this.live++
  }

  /** An element is no longer in use (its bytes stay, for whoever still holds it). */
  free (): void {
    this.live--
  }

  /** Room for `slots` elements before the next move, when nothing is stored yet (a saved index read back). */
  reserve (slots: number): void {
    if (this.used === 0 && slots * BYTES > this.buf.length) this.buf = new Uint8Array(slots * BYTES)
  }

  /** Forgets every element. */
  clear (): void {
    this.buf = new Uint8Array(FIRST_SLOTS * BYTES)
    this.used = 0
    this.live = 0
  }

  private move (holders: Iterable<SlabHolder>): void {
    const next = new Uint8Array(Math.max(FIRST_SLOTS, this.live * 2) * BYTES)
    let used = 0
    for (const h of holders) {
      copyElement(h.buf, h.slot * BYTES, next, used * BYTES)
      h.buf = next
      h.slot = used++
    }
    this.buf = next
    this.used = used
    this.live = used
  }
}

/** Copies one element byte by byte: no view made per element, as `set(subarray(…))` would. */
function copyElement (from: Uint8Array, at: number, to: Uint8Array, offset: number): void {
  for (let i = 0; i < BYTES; i++) to[offset + i] = from[at + i]!
}

/** A holder's element (a view: do not mutate). */
export function slabView (h: SlabHolder): Uint8Array {
  return h.buf.subarray(h.slot * BYTES, (h.slot + 1) * BYTES)
}

/** XORs a holder's element into `target` at `offset`. */
export function slabXorInto (target: Uint8Array, offset: number, h: SlabHolder): void {
  const b = h.buf
  const p = h.slot * BYTES
  for (let i = 0; i < BYTES; i++) target[offset + i]! ^= b[p + i]!
}
