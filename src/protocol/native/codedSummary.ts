/**
 * What a coded round needs of a window set before anything differs, kept up to date as the set
 * changes (WindowIndex calls `add` and `remove` for every element in and out): its coded symbol
 * 0 (riblt.ts: every id maps to it) and its difference sketch (diffEstimate.ts). So the first
 * message of a coded round costs O(1), like the digest of a bloom round, however large the set.
 */
import { addSigns, SKETCH_COUNT, sketchBytes } from './diffEstimate.ts'
import { checksumOf, idHi, idLo, symbolBytes } from './riblt.ts'

export class CodedSummary {
  private hi = 0
  private lo = 0
  private check = 0
  private count = 0
  private readonly sums = new Int32Array(SKETCH_COUNT)

  add (element: Uint8Array): void {
    this.toggle(element, 1)
  }

  remove (element: Uint8Array): void {
    this.toggle(element, -1)
  }

  clear (): void {
    this.hi = this.lo = this.check = this.count = 0
    this.sums.fill(0)
  }

  /** Coded symbol 0 of the set, 13 bytes. */
  symbolZero (): Uint8Array {
    return symbolBytes(this.hi, this.lo, this.check, this.count)
  }

  /** The set's difference sketch, 32 bytes. */
  sketch (): Uint8Array {
    return sketchBytes(this.sums)
  }

  private toggle (e: Uint8Array, sign: number): void {
    const hi = idHi(e)
    const lo = idLo(e)
    this.hi = (this.hi ^ hi) >>> 0
    this.lo = (this.lo ^ lo) >>> 0
    this.check = (this.check ^ checksumOf(hi, lo)) >>> 0
    this.count = (this.count + sign) & 0xff
    addSigns(this.sums, hi, lo, sign)
  }
}
