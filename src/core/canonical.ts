/**
 * Canonical encodings: the exact bytes that identities are hashed from. Specified in
 * docs/DATA-MODEL.md; golden vectors in test/fixtures/canonical-vectors.json pin them, so an id
 * computed on one machine (or by another implementation) is the id computed everywhere.
 *
 *   triple  := 0x01 field(subject) field(predicate) object
 *   field   := uvarint(byte length) UTF-8 bytes
 *   object  := 0x01 field(node) | 0x02 field(string) | 0x03 float64-BE | 0x04 (0x00|0x01)
 *            | 0x05 field(datetime) | 0x06 field(text) field(lang) | 0x07 field(canonical JSON)
 *
 * Canonical JSON follows RFC 8785 (JCS): no whitespace, object keys sorted by UTF-16 code units,
 * numbers in ECMAScript shortest form, strings as JSON.stringify writes them.
 */
import { INVALID_INPUT } from './errors.ts'
import { blake3Hex } from './hash.ts'
import { HEX_VALUE } from './hex.ts'
import { formatHlc, type Hlc } from './hlc.ts'
import { asTripleId, type TripleId } from './ids.ts'
import type { Json, Term, TripleContent } from './model.ts'

export const CANONICAL_VERSION = 0x01

const TAG: Record<Term['kind'], number> = {
  node: 0x01, string: 0x02, number: 0x03, boolean: 0x04, datetime: 0x05, lang: 0x06, json: 0x07
}

/** Lengths up to which Bytes keeps its views (at most this many views of ~100 bytes each). */
const VIEW_LENGTHS = 1024

/**
 * Growable byte buffer used by the encoders. One instance per module is reused for every encoding
 * (they are synchronous and never nested), so hashing a triple allocates no intermediate buffers.
 */
export class Bytes {
  private buf = Buffer.alloc(1024)
  len = 0
  /**
   * Views of the first n bytes of `buf`, made once per length up to VIEW_LENGTHS: a hash of every
   * record received takes a view of its encoding, and a new view per hash is ~100 bytes of garbage.
   */
  private views: Array<Uint8Array | undefined> = []

  reset (): this { this.len = 0; return this }

  private ensure (n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = Buffer.alloc(size)
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
    this.views = []
  }

  byte (b: number): void { this.ensure(1); this.buf[this.len++] = b }

  uvarint (n: number): void {
    while (n >= 0x80) { this.byte((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
    this.byte(n)
  }

  /** uvarint(UTF-8 byte length) then the UTF-8 bytes. */
  field (s: string): void {
    const units = s.length
    if (units < 128) {
      // Copied unit by unit while ASCII: then the length is the unit count, under 128, one byte
      // (node ids, 52 ASCII characters, are in every stamp hashed). Under 43 units the UTF-8
      // form is under 128 bytes whatever it holds (at most 3 bytes per unit), so the rest is
      // written here too; longer non-ASCII strings take the general path below.
      this.ensure(1 + 3 * units)
      const buf = this.buf
      const start = this.len + 1
      let p = start
      let i = 0
      for (; i < units; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) break
        buf[p++] = c
      }
      if (i === units || units < 43) {
        if (i < units) p = start + buf.write(s, start, 'utf8')
        buf[this.len] = p - start
        this.len = p
        return
      }
    }
    const n = Buffer.byteLength(s, 'utf8')
    this.uvarint(n)
    this.ensure(n)
    this.buf.write(s, this.len, 'utf8')
    this.len += n
  }

  /** A string's UTF-8 bytes, no length (a lone surrogate as EF BF BD, as Buffer writes it). */
  utf8 (s: string): void {
    const units = s.length
    this.ensure(3 * units)
    const buf = this.buf
    let p = this.len
    for (let i = 0; i < units; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) { this.len = p + buf.write(s.slice(i), p, 'utf8'); return }
      buf[p++] = c
    }
    this.len = p
  }

  /**
   * A string as JSON.stringify writes it, in UTF-8: quoted; `"`, `\\` and the control characters
   * escaped (\b \t \n \f \r, else \u00xx); a lone surrogate as \udxxx; everything else as is.
   */
  jsonString (s: string): void {
    const units = s.length
    this.ensure(2 + 6 * units)
    const buf = this.buf
    let p = this.len
    buf[p++] = 0x22
    for (let i = 0; i < units; i++) {
      const c = s.charCodeAt(i)
      if (c < 0x80) {
        if (c >= 0x20 && c !== 0x22 && c !== 0x5c) { buf[p++] = c; continue }
        buf[p++] = 0x5c
        const short = c < 0x20 ? SHORT_ESCAPE[c]! : c
        if (short !== 0) { buf[p++] = short; continue }
        buf[p++] = 0x75; buf[p++] = 0x30; buf[p++] = 0x30
        buf[p++] = HEX_DIGIT[c >> 4]!; buf[p++] = HEX_DIGIT[c & 15]!
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6); buf[p++] = 0x80 | (c & 63)
      } else if (c < 0xd800 || c > 0xdfff) {
        buf[p++] = 0xe0 | (c >> 12); buf[p++] = 0x80 | ((c >> 6) & 63); buf[p++] = 0x80 | (c & 63)
      } else {
        const d = c < 0xdc00 && i + 1 < units ? s.charCodeAt(i + 1) : 0
        if (d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
          buf[p++] = 0xf0 | (cp >> 18); buf[p++] = 0x80 | ((cp >> 12) & 63)
          buf[p++] = 0x80 | ((cp >> 6) & 63); buf[p++] = 0x80 | (cp & 63)
          i++
        } else {
          buf[p++] = 0x5c; buf[p++] = 0x75
          buf[p++] = HEX_DIGIT[c >> 12]!; buf[p++] = HEX_DIGIT[(c >> 8) & 15]!
          buf[p++] = HEX_DIGIT[(c >> 4) & 15]!; buf[p++] = HEX_DIGIT[c & 15]!
        }
      }
    }
    buf[p++] = 0x22
    this.len = p
  }

  /** ASCII text (a literal of the encoder): one byte per unit. */
  ascii (s: string): void {
    const units = s.length
    this.ensure(units)
    const buf = this.buf
    const p = this.len
    for (let i = 0; i < units; i++) buf[p + i] = s.charCodeAt(i)
    this.len = p + units
  }

  /**
   * A finite number as JSON.stringify writes it (ECMAScript shortest form), −0 as 0. Safe
   * integers (stamps, counters) are written digit by digit, other numbers through their text.
   */
  jsonNumber (x: number): void {
    if (!Number.isSafeInteger(x)) { this.ascii(JSON.stringify(x)); return }
    this.ensure(17)
    const buf = this.buf
    let p = this.len
    let n = x
    if (n < 0) { buf[p++] = 0x2d; n = -n }
    // in two parts of at most 8 digits, each small enough for 32-bit integer arithmetic
    const hi = Math.floor(n / 1e8)
    let lo = n - hi * 1e8
    let digits = 1
    if (hi > 0) {
      digits = 9
      for (let m = hi; m >= 10; m = (m / 10) | 0) digits++
    } else {
      for (let m = lo; m >= 10; m = (m / 10) | 0) digits++
    }
    let q = p + digits - 1
    if (hi > 0) {
      for (let k = 0; k < 8; k++) { const d = (lo / 10) | 0; buf[q--] = 0x30 + lo - d * 10; lo = d }
      lo = hi
    }
    while (q >= p) { const d = (lo / 10) | 0; buf[q--] = 0x30 + lo - d * 10; lo = d }
    this.len = p + digits
  }

  /** Big-endian unsigned integer of `size` bytes (at most 6). */
  uint (n: number, size: number): void {
    this.ensure(size)
    this.buf.writeUIntBE(n, this.len, size)
    this.len += size
  }

  raw (bytes: Uint8Array): void {
    this.ensure(bytes.length)
    this.buf.set(bytes, this.len)
    this.len += bytes.length
  }

  /** 64 lowercase hex digits as their 32 bytes. */
  hex32 (hex: string): void {
    this.ensure(32)
    // Digit by digit through a table (a record id in every leaf state hashed): Buffer's hex
    // write costs more than the loop for 32 bytes. Anything else than 64 lowercase hex digits
    // is written as Buffer writes it.
    const buf = this.buf
    let negative = 0
    for (let i = 0, p = this.len; i < 32; i++, p++) {
      const hi = HEX_VALUE[hex.charCodeAt(2 * i)] ?? -1
      const lo = HEX_VALUE[hex.charCodeAt(2 * i + 1)] ?? -1
      negative |= hi | lo
      buf[p] = (hi << 4) | lo
    }
    if (negative < 0 || hex.length !== 64) buf.write(hex, this.len, 32, 'hex')
    this.len += 32
  }

  float64 (x: number): void {
    this.ensure(8)
    this.buf.writeDoubleBE(Object.is(x, -0) ? 0 : x, this.len)
    this.len += 8
  }

  /** The bytes written so far, as a view (valid until the next encoding). */
  view (): Uint8Array {
    const n = this.len
    if (n > VIEW_LENGTHS) return new Uint8Array(this.buf.buffer, this.buf.byteOffset, n)
    let v = this.views[n]
    if (v === undefined) { v = new Uint8Array(this.buf.buffer, this.buf.byteOffset, n); this.views[n] = v }
    return v
  }

  /** The bytes written so far decoded as UTF-8 text. */
  text (): string { return this.buf.toString('utf8', 0, this.len) }

  /** A copy of the bytes written so far. */
  result (): Uint8Array { return this.view().slice() }
}

/** JSON.stringify's two-character escapes by control character code (0: written as \u00xx). */
const SHORT_ESCAPE: Uint8Array = (() => {
  const t = new Uint8Array(0x20)
  t[0x08] = 0x62; t[0x09] = 0x74; t[0x0a] = 0x6e; t[0x0c] = 0x66; t[0x0d] = 0x72
  return t
})()

const HEX_DIGIT: Uint8Array = Uint8Array.from('0123456789abcdef', ch => ch.charCodeAt(0))

const scratch = new Bytes()

/** RFC 8785 canonical JSON text. Throws INVALID_INPUT on non-finite numbers or non-JSON values. */
export function canonicalJson (value: Json, field = 'value'): string {
  switch (typeof value) {
    case 'string': return JSON.stringify(value)
    case 'boolean': return value ? 'true' : 'false'
    case 'number':
      if (!Number.isFinite(value)) throw INVALID_INPUT(field, 'numbers must be finite (no NaN or Infinity)')
      return JSON.stringify(Object.is(value, -0) ? 0 : value)
    case 'object': {
      if (value === null) return 'null'
      if (Array.isArray(value)) return `[${value.map((v, i) => canonicalJson(v, `${field}[${i}]`)).join(',')}]`
      const keys = Object.keys(value).sort()
      const parts: string[] = []
      for (const k of keys) {
        const v = (value as Record<string, Json | undefined>)[k]
        if (v === undefined) continue
        parts.push(`${JSON.stringify(k)}:${canonicalJson(v, `${field}.${k}`)}`)
      }
      return `{${parts.join(',')}}`
    }
    default:
      throw INVALID_INPUT(field, `is not a JSON value (got ${typeof value})`)
  }
}

/**
 * `canonicalJson(value)` written into `out` as UTF-8, with no intermediate text (the same bytes:
 * test/unit/canonicalBytes.test.ts). Throws as canonicalJson does.
 */
export function writeCanonicalJson (out: Bytes, value: Json, field = 'value'): void {
  if (writeJson(out, value)) return
  canonicalJson(value, field) // names the offending field in the error it throws
  throw INVALID_INPUT(field, 'is not a JSON value')
}

/** The body of writeCanonicalJson: false, with part of the value written, on a non-JSON value. */
function writeJson (out: Bytes, value: Json): boolean {
  switch (typeof value) {
    case 'string': out.jsonString(value); return true
    case 'boolean': out.ascii(value ? 'true' : 'false'); return true
    case 'number':
      if (!Number.isFinite(value)) return false
      out.jsonNumber(value)
      return true
    case 'object': {
      if (value === null) { out.ascii('null'); return true }
      if (Array.isArray(value)) {
        out.byte(0x5b)
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.byte(0x2c)
          if (i in value && !writeJson(out, value[i]!)) return false // a hole is written as nothing, as join does
        }
        out.byte(0x5d)
        return true
      }
      const keys = Object.keys(value).sort()
      out.byte(0x7b)
      let first = true
      for (const k of keys) {
        const v = (value as Record<string, Json | undefined>)[k]
        if (v === undefined) continue
        if (!first) out.byte(0x2c)
        first = false
        out.jsonString(k)
        out.byte(0x3a)
        if (!writeJson(out, v)) return false
      }
      out.byte(0x7d)
      return true
    }
    default:
      return false
  }
}

function writeTerm (out: Bytes, t: Term): void {
  out.byte(TAG[t.kind])
  switch (t.kind) {
    case 'node': case 'string': case 'datetime': out.field(t.value); break
    case 'lang': out.field(t.value); out.field(t.lang); break
    case 'number': out.float64(t.value); break
    case 'boolean': out.byte(t.value ? 1 : 0); break
    case 'json': out.field(canonicalJson(t.value, 'object.json')); break
  }
}

/** Canonical bytes of a triple. The input must already be normalized (see validate.ts). */
export function canonicalTriple (t: TripleContent): Uint8Array {
  return encodeTriple(t).result()
}

function encodeTriple (t: TripleContent): Bytes {
  return encodeTripleOf(t.subject, t.predicate, t.object)
}

function encodeTripleOf (subject: string, predicate: string, object: Term): Bytes {
  const out = scratch.reset()
  out.byte(CANONICAL_VERSION)
  out.field(subject)
  out.field(predicate)
  writeTerm(out, object)
  return out
}

/** A triple's content id: lowercase hex BLAKE3-256 of its canonical bytes. */
export function tripleId (t: TripleContent): TripleId {
  return tripleIdOf(t.subject, t.predicate, t.object)
}

/** tripleId of the content's three parts (no content object made). */
export function tripleIdOf (subject: string, predicate: string, object: Term): TripleId {
  return asTripleId(blake3Hex(encodeTripleOf(subject, predicate, object).view()))
}

/** A trace entry's id: BLAKE3 of (version, runId, type, canonical data, stamp text). */
export function traceId (runId: string, type: string, data: Json, hlc: Hlc): string {
  const out = scratch.reset()
  out.byte(CANONICAL_VERSION)
  out.field(runId)
  out.field(type)
  out.field(canonicalJson(data, 'data'))
  out.field(formatHlc(hlc))
  return blake3Hex(out.view())
}

/** Hash of a JSON value's canonical text: the final tie-break between equal stamps. */
export function jsonHash (value: Json): string {
  return blake3Hex(canonicalJson(value))
}
