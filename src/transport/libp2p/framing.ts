/**
 * Wire format of the engram session stream (`/engram/sync/1.0.0`).
 *
 * The stream is a sequence of messages, each `uvarint(n) ‖ kind (1 byte) ‖ body (n - 1 bytes)`,
 * where `n` is an unsigned LEB128 varint of at most 8 bytes:
 *
 * | kind | name   | body                                                            |
 * |------|--------|-----------------------------------------------------------------|
 * | 0    | DATA   | one frame handed to `Connection.onFrame`                         |
 * | 1    | HELLO  | version (1 byte, = 1) ‖ session nonce (16 bytes); initiator, first |
 * | 2    | ACCEPT | count (1 byte) ‖ count × 16-byte nonces the responder abandoned   |
 * | 3    | REJECT | UTF-8 reason; the attempt is refused, the stream then closes      |
 * | 4    | CLOSE  | UTF-8 reason; the session is over, the stream then closes          |
 *
 * The largest acceptable `n` is `maxFrameBytes + 1`. A receiver rejects a larger announced
 * length as soon as the varint shows it, before buffering or allocating anything for the body.
 * Message boundaries are independent of how the bytes are chunked in transit.
 */
import { PROTOCOL } from '../../core/errors.ts'

export const KIND_DATA = 0
export const KIND_HELLO = 1
export const KIND_ACCEPT = 2
export const KIND_REJECT = 3
export const KIND_CLOSE = 4

export const WIRE_VERSION = 1
export const NONCE_BYTES = 16
/** Most nonces an ACCEPT lists. */
export const MAX_VOIDED = 8
/** Longest reason carried by REJECT and CLOSE, in UTF-8 bytes (longer ones are cut). */
export const MAX_REASON_BYTES = 256
/** The varint of a message length never takes more than this many bytes. */
const MAX_VARINT_BYTES = 8

export interface WireMessage {
  kind: number
  body: Uint8Array
}

export function varintLength (n: number): number {
  let len = 1
  while (n >= 0x80) { n = Math.floor(n / 128); len++ }
  return len
}

/** Encodes one message (length prefix, kind, body) into a fresh buffer. */
export function encodeMessage (kind: number, body: Uint8Array): Uint8Array {
  const n = body.byteLength + 1
  const hl = varintLength(n)
  const out = new Uint8Array(hl + n)
  let v = n
  let i = 0
  while (v >= 0x80) { out[i++] = (v % 128) | 0x80; v = Math.floor(v / 128) }
  out[i++] = v
  out[i] = kind
  out.set(body, i + 1)
  return out
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: false })

export function encodeReason (reason: string): Uint8Array {
  const bytes = encoder.encode(reason)
  if (bytes.byteLength <= MAX_REASON_BYTES) return bytes
  // cut on a character boundary
  let end = MAX_REASON_BYTES
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--
  return bytes.subarray(0, end)
}

export function decodeReason (body: Uint8Array): string {
  return decoder.decode(body.subarray(0, MAX_REASON_BYTES))
}

export function encodeHello (nonce: Uint8Array): Uint8Array {
  const body = new Uint8Array(1 + NONCE_BYTES)
  body[0] = WIRE_VERSION
  body.set(nonce, 1)
  return encodeMessage(KIND_HELLO, body)
}

/** Returns the nonce of a HELLO body; throws `PROTOCOL` on a malformed one or another version. */
export function decodeHello (body: Uint8Array): Uint8Array {
  if (body.byteLength !== 1 + NONCE_BYTES) throw PROTOCOL(`HELLO has ${body.byteLength} bytes, expected ${1 + NONCE_BYTES}`)
  if (body[0] !== WIRE_VERSION) throw PROTOCOL(`peer speaks session version ${body[0]}, this node speaks ${WIRE_VERSION}`, { version: body[0] })
  return body.slice(1)
}

export function encodeAccept (voided: Uint8Array[]): Uint8Array {
  const list = voided.slice(0, MAX_VOIDED)
  const body = new Uint8Array(1 + list.length * NONCE_BYTES)
  body[0] = list.length
  list.forEach((n, i) => body.set(n, 1 + i * NONCE_BYTES))
  return encodeMessage(KIND_ACCEPT, body)
}

export function decodeAccept (body: Uint8Array): Uint8Array[] {
  const count = body[0] ?? -1
  if (count < 0 || count > MAX_VOIDED || body.byteLength !== 1 + count * NONCE_BYTES) {
    throw PROTOCOL(`malformed ACCEPT of ${body.byteLength} bytes`)
  }
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) out.push(body.slice(1 + i * NONCE_BYTES, 1 + (i + 1) * NONCE_BYTES))
  return out
}

/**
 * Incremental decoder: feed it chunks as they arrive, it emits whole messages in order.
 * Throws an `EngramError` with code `PROTOCOL` on an oversized or malformed length prefix; the
 * decoder is unusable afterwards.
 */
export class FrameDecoder {
  /** Largest acceptable message length `n` (kind byte included). */
  readonly maxMessageBytes: number
  private need = -1 // body bytes expected, or -1 while reading a length prefix
  private varValue = 0
  private varBytes = 0
  private parts: Uint8Array[] = []
  private partsBytes = 0
  private failed = false

  constructor (maxFrameBytes: number) {
    this.maxMessageBytes = maxFrameBytes + 1
  }

  /** Bytes held for a message not yet complete. */
  get bufferedBytes (): number {
    return this.partsBytes
  }

  push (chunk: Uint8Array, emit: (msg: WireMessage) => void): void {
    if (this.failed) throw PROTOCOL('stream decoder already failed')
    let off = 0
    const len = chunk.byteLength
    while (off < len) {
      if (this.need < 0) {
        const b = chunk[off++] as number
        this.varValue += (b & 0x7f) * 2 ** (7 * this.varBytes)
        this.varBytes++
        if (this.varValue > this.maxMessageBytes) {
          this.failed = true
          throw PROTOCOL(`peer announced a frame of at least ${this.varValue - 1} bytes, over the limit of ${this.maxMessageBytes - 1} bytes`,
            { announced: this.varValue - 1, limit: this.maxMessageBytes - 1 })
        }
        if ((b & 0x80) !== 0) {
          if (this.varBytes >= MAX_VARINT_BYTES) {
            this.failed = true
            throw PROTOCOL('length prefix is too long')
          }
          continue
        }
        if (this.varValue === 0) {
          this.failed = true
          throw PROTOCOL('empty message (no kind byte)')
        }
        this.need = this.varValue
        this.varValue = 0
        this.varBytes = 0
        continue
      }
      const avail = len - off
      if (this.partsBytes === 0 && avail >= this.need) {
        // whole message inside this chunk: one copy, owned by the receiver
        const msg = chunk.slice(off, off + this.need)
        off += this.need
        this.need = -1
        emit({ kind: msg[0] as number, body: msg.subarray(1) })
        continue
      }
      const take = Math.min(avail, this.need - this.partsBytes)
      this.parts.push(chunk.subarray(off, off + take))
      this.partsBytes += take
      off += take
      if (this.partsBytes === this.need) {
        const msg = new Uint8Array(this.need)
        let pos = 0
        for (const p of this.parts) { msg.set(p, pos); pos += p.byteLength }
        this.parts = []
        this.partsBytes = 0
        this.need = -1
        emit({ kind: msg[0] as number, body: msg.subarray(1) })
      }
    }
  }
}
