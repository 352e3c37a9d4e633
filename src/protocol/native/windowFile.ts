/**
 * The saved gossip window index (docs/DATA-MODEL.md, "The saved window index"): what a node
 * writes at a clean stop and at checkpoints so that its next start reads the window set back
 * instead of hashing every record of the store again (WindowIndex.beginLoad).
 *
 * One file, little-endian:
 *
 *   magic "ENGRAMWI" (8) · version u32 · entry count u32 · TTL ms f64 · window start f64 ·
 *   seq f64 (the index holds the store's window set as of this feed position) · feed floor f64
 *   (the store's at the save) · digest XOR (16) · feed id length u8 · feed id (ASCII) ·
 *   entries · CRC-32 u32 of every byte before it
 *
 *   entry = kind u8 (0 triple, 1 note, 2 episode, 3 trace; + 0x40 when the key is ASCII; + 0x80
 *           for a tombstone) · key length u16 · key (UTF-8) · stamp wall f64 · seq f64 · element (16)
 *
 * Pure: bytes in, bytes out. Reading checks the frame (magic, version, length) at once, the CRC
 * as the entries are read (over the bytes read so far: `done` is true only when it matched, so a
 * large file is not checked in one go on the event loop) and each entry's bounds; whether the
 * file belongs to the store and is still usable is WindowLoad.ts's call. A new element
 * definition (windowElement.ts elementOf) or layout needs a new VERSION: a file of another
 * version is not read (the index is rebuilt).
 */
import { crc32 } from 'node:zlib'
import type { RecordKind } from '../../core/model.ts'

export const WINDOW_FILE_MAGIC = 'ENGRAMWI'
export const WINDOW_FILE_VERSION = 1
const HEADER_BYTES = 8 + 4 + 4 + 8 * 4 + 16 + 1
const ENTRY_FIXED = 1 + 2 + 8 + 8 + 16
const TRAILER_BYTES = 4
const KINDS: readonly RecordKind[] = ['triple', 'note', 'episode', 'trace']
const DEAD = 0x80
const ASCII = 0x40
const MAX_KEY_BYTES = 0xffff

/** What the header of a saved index says. */
export interface WindowFileHeader {
  readonly ttlMs: number
  /** The window start when it was saved. */
  readonly ws: number
  /** The feed position the index was current to: every change at or below it is in. */
  readonly seq: number
  /** The store's feed floor (Store.stats().feedFloor) when it was saved. */
  readonly feedFloor: number
  /** The store's feed id (replication/feedId.ts). */
  readonly feedId: string
  readonly count: number
  /** XOR of every element. */
  readonly x: Uint8Array
}

/** One element of a saved index and its record. */
export interface WindowFileEntry {
  readonly kind: RecordKind
  readonly key: string
  readonly wall: number
  readonly seq: number
  /** The record's state is a tombstone. */
  readonly dead: boolean
  readonly element: Uint8Array
}

/** A list of entries read by index (an array, or a window index's copy of its elements). */
export interface WindowFileEntries {
  readonly length: number
  at (i: number): WindowFileEntry | undefined
}

/** Encodes a window index; `entries` must yield exactly `header.count` entries. */
export function encodeWindowFile (header: WindowFileHeader, entries: Iterable<WindowFileEntry>): Uint8Array {
  const steps = encodeWindowFileSteps(header, [...entries], Number.MAX_SAFE_INTEGER)
  for (;;) {
    const r = steps.next()
    if (r.done === true) return r.value
  }
}

/**
 * Encodes as encodeWindowFile does, stopping after every `slice` entries (twice over the
 * entries: their sizes, then their bytes), so a caller can spread the work over turns of the
 * event loop; the last step returns the bytes. `entries` must not change meanwhile.
 */
export function * encodeWindowFileSteps (header: WindowFileHeader, list: WindowFileEntries, slice: number): Generator<void, Uint8Array, void> {
  const feedId = Buffer.from(header.feedId, 'latin1')
  if (feedId.length > 255) throw new RangeError('feed id over 255 bytes')
  if (list.length !== header.count) throw new RangeError(`${list.length} entries for a count of ${header.count}`)
  const lengths = new Array<number>(list.length)
  let size = HEADER_BYTES + feedId.length + TRAILER_BYTES
  for (let i = 0; i < list.length; i++) {
    if (i > 0 && i % slice === 0) yield
    const length = Buffer.byteLength(list.at(i)!.key, 'utf8')
    if (length > MAX_KEY_BYTES) throw new RangeError(`a key of ${length} bytes`)
    lengths[i] = length
    size += ENTRY_FIXED + length
  }
  const buf = Buffer.alloc(size)
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  let p = buf.write(WINDOW_FILE_MAGIC, 0, 'latin1')
  p = buf.writeUInt32LE(WINDOW_FILE_VERSION, p)
  p = buf.writeUInt32LE(header.count, p)
  p = buf.writeDoubleLE(header.ttlMs, p)
  p = buf.writeDoubleLE(header.ws, p)
  p = buf.writeDoubleLE(header.seq, p)
  p = buf.writeDoubleLE(header.feedFloor, p)
  buf.set(header.x.subarray(0, 16), p); p += 16
  p = buf.writeUInt8(feedId.length, p)
  buf.set(feedId, p); p += feedId.length
  for (let i = 0; i < list.length; i++) {
    if (i > 0 && i % slice === 0) yield
    const e = list.at(i)!
    const length = lengths[i]!
    const ascii = length === e.key.length
    buf[p] = KINDS.indexOf(e.kind) | (e.dead ? DEAD : 0) | (ascii ? ASCII : 0)
    view.setUint16(p + 1, length, true)
    p += 3
    p += ascii ? buf.write(e.key, p, length, 'latin1') : buf.write(e.key, p, length, 'utf8')
    view.setFloat64(p, e.wall, true)
    view.setFloat64(p + 8, e.seq, true)
    buf.set(e.element.subarray(0, 16), p + 16)
    p += 32
  }
  buf.writeUInt32LE(crc32(buf.subarray(0, p)), p)
  return buf
}

/** A saved index whose frame checked out; its entries are read in order with `next`. */
export class WindowFileReader {
  readonly header: WindowFileHeader
  private readonly buf: Buffer
  private readonly view: DataView
  private pos: number
  /** CRC-32 of the bytes before `crcPos`. */
  private crc = 0
  private crcPos = 0
  private readonly end: number
  private read = 0

  private constructor (buf: Buffer, header: WindowFileHeader, pos: number) {
    this.buf = buf
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    this.header = header
    this.pos = pos
    this.end = buf.length - TRAILER_BYTES
  }

  /** Checks the frame (magic, version, header; the CRC as entries are read); the reader, or why the bytes cannot be read. */
  static open (bytes: Uint8Array): WindowFileReader | string {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    if (buf.length < HEADER_BYTES + TRAILER_BYTES) return `${buf.length} bytes: too short`
    if (buf.toString('latin1', 0, 8) !== WINDOW_FILE_MAGIC) return 'not a saved window index (magic)'
    const version = buf.readUInt32LE(8)
    if (version !== WINDOW_FILE_VERSION) return `version ${version}, not ${WINDOW_FILE_VERSION}`
    const count = buf.readUInt32LE(12)
    const [ttlMs, ws, seq, feedFloor] = [16, 24, 32, 40].map(o => buf.readDoubleLE(o)) as [number, number, number, number]
    const x = Uint8Array.from(buf.subarray(48, 64))
    const idLength = buf.readUInt8(64)
    if (HEADER_BYTES + idLength + TRAILER_BYTES > buf.length) return 'truncated header'
    const feedId = buf.toString('latin1', HEADER_BYTES, HEADER_BYTES + idLength)
    for (const v of [ttlMs, ws, seq, feedFloor]) if (!Number.isSafeInteger(v) || v < 0) return 'a header field out of range'
    return new WindowFileReader(buf, { ttlMs, ws, seq, feedFloor, feedId, count, x }, HEADER_BYTES + idLength)
  }

  /** Entries read so far. */
  get entriesRead (): number {
    return this.read
  }

  /** The next entry; undefined after the last (`done` then says whether the file ended exactly there). Throws RangeError on a malformed entry. */
  next (): WindowFileEntry | undefined {
    if (this.read === this.header.count) return undefined
    const b = this.buf
    let p = this.pos
    if (p + ENTRY_FIXED > this.end) throw new RangeError(`entry ${this.read} past the end`)
    const k = b[p]!
    const kind = KINDS[k & 0x3f]
    if (kind === undefined) throw new RangeError(`entry ${this.read}: kind byte ${k}`)
    const len = this.view.getUint16(p + 1, true)
    p += 3
    if (p + len + ENTRY_FIXED - 3 > this.end) throw new RangeError(`entry ${this.read} past the end`)
    const key = (k & ASCII) !== 0 ? b.toString('latin1', p, p + len) : b.toString('utf8', p, p + len)
    p += len
    const wall = this.view.getFloat64(p, true)
    const seq = this.view.getFloat64(p + 8, true)
    const element = b.subarray(p + 16, p + 32)
    this.pos = p + 32
    this.read++
    if (!Number.isSafeInteger(wall) || !Number.isSafeInteger(seq) || seq < 1 || seq > this.header.seq) throw new RangeError(`entry ${this.read - 1}: stamp or seq out of range`)
    return { kind, key, wall, seq, dead: (k & DEAD) !== 0, element }
  }

  /**
   * Takes the bytes read so far into the CRC (call after a slice of `next`); once every entry was
   * read, whether the file's CRC matches (undefined before).
   */
  checkRead (): boolean | undefined {
    const upTo = this.read === this.header.count ? this.end : this.pos
    if (upTo > this.crcPos) {
      this.crc = crc32(this.buf.subarray(this.crcPos, upTo), this.crc)
      this.crcPos = upTo
    }
    if (this.read < this.header.count) return undefined
    return this.crcPos === this.end && this.crc === this.buf.readUInt32LE(this.end)
  }

  /** Every entry was read, the entries end where the file does, and the CRC matched (checkRead). */
  get done (): boolean {
    return this.read === this.header.count && this.pos === this.end && this.checkRead() === true
  }
}
