/**
 * A `changes` page as one frame, its record rows (rows.ts) written straight as msgpack: the very
 * bytes messages.ts's Packr (useRecords false, variableMapSize) writes for the map encodeRows'
 * arrays make, without an array per row, a term object per node object, or msgpackr's generic
 * walk over them — what most of a page's encoding cost on the sending side was (a page of 10,000
 * triples held 10,000 row arrays until packed). The rest of the map (the node table, batches,
 * knowledge, …) is packed by msgpackr as before, and a row this writer does not take as it is (a
 * note, episode or trace, a JSON or language-tagged object) is packed by msgpackr into the row's
 * place: the frame is the same either way (test/native/row-packer.test.ts).
 *
 * Each number and string follows msgpackr's choices: a non-negative integer below 2^32 in the
 * fewest bytes (below 0x80 as a fixint), a negative one down to -2^31 likewise, any other number
 * as a float64; a string of fewer than 64 characters encoded here as msgpackr's loop does, a
 * longer one with Buffer's UTF-8 writer, as msgpackr does under Node.js, with the header for its
 * byte length.
 */
import type { Packr } from 'msgpackr'
import type { MemoryRecord, Term, TripleRecord } from '../../core/model.ts'
import type { PageSeals } from '../../core/seals.ts'
import { batchRows, nodeIndex, rowOf } from './rows.ts'

/** The map key `records`, as msgpack (fixstr). */
const RECORDS_KEY = Buffer.from([0xa7, ...Buffer.from('records')])

/** A growing msgpack buffer, reused from page to page (its bytes are copied into each frame). */
class Writer {
  buf = Buffer.allocUnsafe(1 << 16)
  view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)
  pos = 0

  room (n: number): void {
    if (this.pos + n <= this.buf.byteLength) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.byteLength * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength)
  }

  num (v: number): void {
    this.room(9)
    const b = this.buf
    if (v >>> 0 === v) {
      if (v < 0x80) b[this.pos++] = v
      else if (v < 0x100) { b[this.pos++] = 0xcc; b[this.pos++] = v } else if (v < 0x10000) { b[this.pos++] = 0xcd; b[this.pos++] = v >> 8; b[this.pos++] = v & 0xff } else { b[this.pos++] = 0xce; this.view.setUint32(this.pos, v); this.pos += 4 }
    } else if (v >> 0 === v) {
      if (v >= -0x20) b[this.pos++] = 0x100 + v
      else if (v >= -0x80) { b[this.pos++] = 0xd0; b[this.pos++] = v + 0x100 } else if (v >= -0x8000) { b[this.pos++] = 0xd1; this.view.setInt16(this.pos, v); this.pos += 2 } else { b[this.pos++] = 0xd2; this.view.setInt32(this.pos, v); this.pos += 4 }
    } else {
      b[this.pos++] = 0xcb
      this.view.setFloat64(this.pos, v)
      this.pos += 8
    }
  }

  str (s: string): void {
    const chars = s.length
    const header = chars < 0x20 ? 1 : chars < 0x100 ? 2 : chars < 0x10000 ? 3 : 5
    this.room(chars * 3 + 5)
    const b = this.buf
    let at = this.pos + header
    if (chars < 0x40) {
      for (let i = 0; i < chars; i++) {
        let c = s.charCodeAt(i)
        let c2: number
        if (c < 0x80) b[at++] = c
        else if (c < 0x800) { b[at++] = c >> 6 | 0xc0; b[at++] = c & 0x3f | 0x80 } else if ((c & 0xfc00) === 0xd800 && ((c2 = s.charCodeAt(i + 1)) & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c & 0x03ff) << 10) + (c2 & 0x03ff)
          i++
          b[at++] = c >> 18 | 0xf0; b[at++] = c >> 12 & 0x3f | 0x80; b[at++] = c >> 6 & 0x3f | 0x80; b[at++] = c & 0x3f | 0x80
        } else { b[at++] = c >> 12 | 0xe0; b[at++] = c >> 6 & 0x3f | 0x80; b[at++] = c & 0x3f | 0x80 }
      }
    } else {
      at += b.write(s, at, 'utf8')
    }
    const length = at - this.pos - header
    // the header for the byte length; the bytes move when it is longer than the one guessed from the characters
    const need = length < 0x20 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5
    if (need > header) b.copyWithin(this.pos + need, this.pos + header, at)
    let p = this.pos
    if (need === 1) b[p++] = 0xa0 | length
    else if (need === 2) { b[p++] = 0xd9; b[p++] = length } else if (need === 3) { b[p++] = 0xda; b[p++] = length >> 8; b[p++] = length & 0xff } else { b[p++] = 0xdb; this.view.setUint32(p, length); p += 4 }
    this.pos = p + length
  }

  byte (v: number): void {
    this.room(1)
    this.buf[this.pos++] = v
  }

  bytes (v: Uint8Array): void {
    this.room(v.byteLength)
    this.buf.set(v, this.pos)
    this.pos += v.byteLength
  }

  /** An array's header. */
  array (n: number): void {
    if (n < 0x10) this.byte(0x90 | n)
    else if (n < 0x10000) { this.byte(0xdc); this.byte(n >> 8); this.byte(n & 0xff) } else { this.room(5); this.buf[this.pos++] = 0xdd; this.view.setUint32(this.pos, n); this.pos += 4 }
  }
}

const rowWriter = new Writer()

/** A triple whose row this writer takes as it is: its object a string, number, boolean or node. */
const plainTriple = (r: MemoryRecord): r is TripleRecord =>
  r.kind === 'triple' && (r.object.kind === 'string' || r.object.kind === 'number' || r.object.kind === 'boolean' || r.object.kind === 'node')

function writeObject (w: Writer, o: Term): void {
  switch (o.kind) {
    case 'string': w.str(o.value); break
    case 'number': w.num(o.value); break
    case 'boolean': w.byte(o.value ? 0xc3 : 0xc2); break
    default: w.byte(0x81); w.str('node'); w.str(o.value as string)
  }
}

/**
 * The frame of a `changes` message: `version`, then the map { t, from, to, nodes, records, …tail }
 * as messages.ts's Packr writes it, `tail` the fields after the records in their order (`more`
 * first); `batches` (when any record is signed) goes right after `more`.
 */
export function packChanges (packr: Packr, version: number, head: { t: string, from: number, to: number }, records: readonly MemoryRecord[],
  seals: PageSeals | undefined, tail: Record<string, unknown>): Uint8Array {
  const w = rowWriter
  w.pos = 0
  const index = new Map<string, number>()
  const nodes: string[] = []
  const signed = seals !== undefined && seals.batches.length > 0
  w.array(records.length)
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!
    const h = r.hlc
    const n = nodeIndex(h.node, index, nodes)
    const ref = signed ? seals.refs[i] : undefined
    if (plainTriple(r)) {
      w.byte(0x90 | (ref !== undefined ? 10 : 8))
      w.byte(0)
      w.str(r.subject)
      w.str(r.predicate)
      writeObject(w, r.object)
      w.num(h.wall)
      w.num(h.counter)
      w.num(n)
      w.byte(r.deleted ? 0xc3 : 0xc2)
    } else {
      // any other row: as encodeRows makes it, packed by msgpackr
      const row = rowOf(r, n)
      if (ref !== undefined) row.push(ref.batch, ref.leaf)
      w.bytes(packr.pack(row))
      continue
    }
    if (ref !== undefined) { w.num(ref.batch); w.num(ref.leaf) }
  }
  const headBytes = packr.pack({ ...head, nodes }).slice(1)
  const rest: Record<string, unknown> = { more: tail.more }
  if (signed) rest.batches = batchRows(seals, index)
  for (const k in tail) if (k !== 'more') rest[k] = tail[k]
  const tailBytes = packr.pack(rest).subarray(1)
  const keys = 5 + Object.keys(rest).length
  const frame = new Uint8Array(2 + headBytes.byteLength + RECORDS_KEY.byteLength + w.pos + tailBytes.byteLength)
  let p = 0
  frame[p++] = version
  frame[p++] = 0x80 | keys
  frame.set(headBytes, p); p += headBytes.byteLength
  frame.set(RECORDS_KEY, p); p += RECORDS_KEY.byteLength
  frame.set(w.buf.subarray(0, w.pos), p); p += w.pos
  frame.set(tailBytes, p)
  return frame
}
