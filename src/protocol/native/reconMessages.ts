/**
 * The messages of coded reconciliation rounds (docs/PROTOCOL.md §3, "Coded rounds"): types,
 * validators for decoded msgpack (`unknown` in, typed message out, PROTOCOL error naming the
 * field otherwise) and the frame codec (version byte 0x01, then msgpack, like every gossip frame).
 * Records found missing travel in the gossip `records` message (gossipMessages.ts).
 *
 * | t          | fields                                                                        |
 * |------------|-------------------------------------------------------------------------------|
 * | `rdigest`  | round, ws, s (symbol 0, 13 bytes), e (difference sketch, 32 bytes), now?      |
 * | `rsymbols` | round, from (index of the first symbol), s (13 bytes a symbol, 1 … 16,384)    |
 * | `rmore`    | round, to (send symbols up to this index, at most 65,536)                     |
 * | `rwant`    | round, ids (8 bytes an id, 1 … 16,384)                                        |
 *
 * Version 2 of coded rounds (hello `rc` ≥ 2 on both ends) sends the same messages in a compact
 * form, `v: 2` in memory: short types and one-letter fields, the window start modulo 2^32, a
 * narrow sketch (diffEstimate.ts, 18 bytes), and the records found missing as `rr` (the fields of
 * a gossip `records` message, renamed):
 *
 * | t    | as         | fields                                                                   |
 * |------|------------|--------------------------------------------------------------------------|
 * | `rd` | `rdigest`  | r: round, w: ws mod 2^32, s: symbol 0 (13 bytes) then sketch (18), n?: now |
 * | `rs` | `rsymbols` | r, f: from, s: symbols (13 bytes each)                                   |
 * | `rm` | `rmore`    | r, o: to                                                                 |
 * | `rw` | `rwant`    | r, i: ids' high halves (4 bytes each: every element so starting is sent) |
 * | `rr` | `records`  | n: nodes, w: rows, b?: batches, vd?: voids (no round: none reads it)     |
 * | `rp` | `rpoly`    | r, c: the sender's count byte (symbol 0's), e: χ at points (4 bytes each, 1 … 64) |
 * | `rq` | `rpwant`   | r, q: the peer's Q, lower coefficients (4 bytes each, 1 … 64)            |
 *
 * `rp` answers an `rd` whose estimated difference is small (charPoly.ts) in place of `rs`; `rq`
 * asks for the records of the elements whose values are Q's roots.
 *
 * Unknown fields are ignored; only own properties are read; every size is checked before
 * anything is iterated.
 */
import { PROTOCOL } from '../../core/errors.ts'
import { MAX_WALL } from '../../core/hlc.ts'
import { wirePreview as preview } from './bloom.ts'
import { NARROW_SKETCH_BYTES, SKETCH_BYTES } from './diffEstimate.ts'
import { encodeGossipFrame, GOSSIP_LIMITS, packGossipFrame, parseRecords, toWire as gossipToWire, unpackGossipFrame, type GossipLimits, type RecordsMessage } from './gossipMessages.ts'
import { FIELD_BYTES } from './charPoly.ts'
import { ID_BYTES, RIBLT_LIMITS, SYMBOL_BYTES } from './riblt.ts'
import { asFields, get, integer, type Fields } from './wireFields.ts'

export const RECON_LIMITS = {
  /** Most symbols in one `rsymbols` message (213 KB). */
  maxSymbolsPerMessage: 16_384,
  /** Most ids in one `rwant` message (131 KB). */
  maxIdsPerMessage: 16_384,
  /** Most symbols of a round: `from` + count and `to` stay at or below it. */
  maxSymbols: RIBLT_LIMITS.maxSymbols,
  /** Most field elements in one `rp` (evaluations) or `rq` (coefficients): 256 bytes. */
  maxPolyPoints: 64
} as const

/** The compact wire form of coded rounds version 2 (absent: version 1's). */
interface Compact { readonly v?: 2 }

/** First message of a coded round: the initiator's symbol 0 and difference sketch. */
export interface ReconDigestMessage extends Compact {
  readonly t: 'rdigest'
  readonly round: number
  /** The window start (version 2: modulo 2^32). */
  readonly ws: number
  /** The sender's coded symbol 0. */
  readonly s: Uint8Array
  /** The sender's difference sketch (diffEstimate.ts; version 2: narrow). */
  readonly e: Uint8Array
  /** The sender's wall clock (ms since the epoch): clock offsets are measured every round, as with `digest`. */
  readonly now?: number
}

/** Coded symbols [from, from + count) of the sender's window set, for the round's salt. */
export interface SymbolsMessage extends Compact {
  readonly t: 'rsymbols'
  readonly round: number
  readonly from: number
  readonly s: Uint8Array
}

/** Asks for the symbols after those sent, up to index `to` (exclusive). */
export interface MoreMessage extends Compact {
  readonly t: 'rmore'
  readonly round: number
  readonly to: number
}

/** Ids whose records the sender lacks: whole (packIds, version 1) or their high halves (packHighs, version 2). */
export interface WantMessage extends Compact {
  readonly t: 'rwant'
  readonly round: number
  readonly ids: Uint8Array
}

/** Bytes of an id's high half, as version 2's `rwant` asks for it. */
export const HIGH_BYTES = 4

/** Version 2: the sender's characteristic polynomial at points 0 … m − 1 (charPoly.ts), for the round's salt. */
export interface PolyMessage {
  readonly t: 'rpoly'
  readonly v: 2
  readonly round: number
  /** The count byte of the sender's symbol 0 (its set's size modulo 256). */
  readonly count: number
  /** The evaluations, FIELD_BYTES each. */
  readonly e: Uint8Array
}

/** Version 2: asks for the records of the elements whose values (the round's salt) are roots of the monic Q. */
export interface PolyWantMessage {
  readonly t: 'rpwant'
  readonly v: 2
  readonly round: number
  /** Q's coefficients below the leading 1, FIELD_BYTES each, lowest first. */
  readonly q: Uint8Array
}

export type ReconMessage = ReconDigestMessage | SymbolsMessage | MoreMessage | WantMessage | PolyMessage | PolyWantMessage
/** The gossip `records` message, as a coded round sends it (version 2: `rr`). */
export type CodedRecordsMessage = RecordsMessage & Compact
/** Every message of a coded round: its own, and the gossip `records` that carry what was found missing. */
export type CodedRoundMessage = ReconMessage | CodedRecordsMessage
export type ReconMessageType = ReconMessage['t']
export const RECON_MESSAGE_TYPES: readonly ReconMessageType[] = ['rdigest', 'rsymbols', 'rmore', 'rwant', 'rpoly', 'rpwant']
/** The types of version 2's compact forms on the wire, records (`rr`) included. */
export const COMPACT_RECON_TYPES: readonly string[] = ['rd', 'rs', 'rm', 'rw', 'rr', 'rp', 'rq']

const U32_MAX = 2 ** 32 - 1

/** Bytes made of `unit`-byte items, `min` to `max` of them. */
function units (o: Fields, t: string, name: string, unit: number, min: number, max: number): Uint8Array {
  const v = get(o, name)
  if (!(v instanceof Uint8Array)) throw PROTOCOL(`gossip ${t}.${name}: must be bytes (got ${preview(v)})`, { type: t, field: name })
  const count = v.byteLength / unit
  if (!Number.isInteger(count) || count < min || count > max) {
    const what = min === max ? `${min * unit} bytes` : `${min} to ${max} items of ${unit} bytes`
    throw PROTOCOL(`gossip ${t}.${name}: must be ${what} (got ${v.byteLength} bytes)`, { type: t, field: name })
  }
  return v
}

/** Validates a coded-round message, dispatching on `t`. Throws PROTOCOL naming the field. */
export function parseReconMessage (input: unknown): ReconMessage {
  const o = asFields(input, 'message')
  const t = get(o, 't')
  switch (t) {
    case 'rdigest': return {
      t,
      round: integer(o, t, 'round', 0, U32_MAX),
      ws: integer(o, t, 'ws', 0, MAX_WALL),
      s: units(o, t, 's', SYMBOL_BYTES, 1, 1),
      e: units(o, t, 'e', SKETCH_BYTES, 1, 1),
      ...(get(o, 'now') !== undefined ? { now: integer(o, t, 'now', 0, MAX_WALL) } : {})
    }
    case 'rsymbols': {
      const round = integer(o, t, 'round', 0, U32_MAX)
      const from = integer(o, t, 'from', 0, RECON_LIMITS.maxSymbols - 1)
      const s = units(o, t, 's', SYMBOL_BYTES, 1, Math.min(RECON_LIMITS.maxSymbolsPerMessage, RECON_LIMITS.maxSymbols - from))
      return { t, round, from, s }
    }
    case 'rmore': return { t, round: integer(o, t, 'round', 0, U32_MAX), to: integer(o, t, 'to', 1, RECON_LIMITS.maxSymbols) }
    case 'rwant': return {
      t,
      round: integer(o, t, 'round', 0, U32_MAX),
      ids: units(o, t, 'ids', ID_BYTES, 1, RECON_LIMITS.maxIdsPerMessage)
    }
    case 'rd': {
      const se = units(o, t, 's', SYMBOL_BYTES + NARROW_SKETCH_BYTES, 1, 1)
      return {
        t: 'rdigest',
        v: 2,
        round: integer(o, t, 'r', 0, U32_MAX),
        ws: integer(o, t, 'w', 0, U32_MAX),
        s: se.subarray(0, SYMBOL_BYTES),
        e: se.subarray(SYMBOL_BYTES),
        ...(get(o, 'n') !== undefined ? { now: integer(o, t, 'n', 0, MAX_WALL) } : {})
      }
    }
    case 'rs': {
      const round = integer(o, t, 'r', 0, U32_MAX)
      const from = integer(o, t, 'f', 0, RECON_LIMITS.maxSymbols - 1)
      const s = units(o, t, 's', SYMBOL_BYTES, 1, Math.min(RECON_LIMITS.maxSymbolsPerMessage, RECON_LIMITS.maxSymbols - from))
      return { t: 'rsymbols', v: 2, round, from, s }
    }
    case 'rm': return { t: 'rmore', v: 2, round: integer(o, t, 'r', 0, U32_MAX), to: integer(o, t, 'o', 1, RECON_LIMITS.maxSymbols) }
    case 'rw': return { t: 'rwant', v: 2, round: integer(o, t, 'r', 0, U32_MAX), ids: units(o, t, 'i', HIGH_BYTES, 1, RECON_LIMITS.maxIdsPerMessage) }
    case 'rp': return {
      t: 'rpoly',
      v: 2,
      round: integer(o, t, 'r', 0, U32_MAX),
      count: integer(o, t, 'c', 0, 255),
      e: units(o, t, 'e', FIELD_BYTES, 1, RECON_LIMITS.maxPolyPoints)
    }
    case 'rq': return { t: 'rpwant', v: 2, round: integer(o, t, 'r', 0, U32_MAX), q: units(o, t, 'q', FIELD_BYTES, 1, RECON_LIMITS.maxPolyPoints) }
    default: throw PROTOCOL(`gossip message: t must be one of ${[...RECON_MESSAGE_TYPES.filter(x => x !== 'rpoly' && x !== 'rpwant'), ...COMPACT_RECON_TYPES.filter(x => x !== 'rr')].join(', ')} (got ${preview(t)})`, { field: 't' })
  }
}

/** The map sent for a message: its fields as they are (version 1), or its compact form (version 2). */
export function reconToWire (msg: ReconMessage): Record<string, unknown> {
  if (msg.v !== 2) return { ...msg }
  switch (msg.t) {
    case 'rdigest': {
      const se = new Uint8Array(msg.s.byteLength + msg.e.byteLength)
      se.set(msg.s)
      se.set(msg.e, msg.s.byteLength)
      return { t: 'rd', r: msg.round, w: msg.ws, s: se, ...(msg.now !== undefined ? { n: msg.now } : {}) }
    }
    case 'rsymbols': return { t: 'rs', r: msg.round, f: msg.from, s: msg.s }
    case 'rmore': return { t: 'rm', r: msg.round, o: msg.to }
    case 'rwant': return { t: 'rw', r: msg.round, i: msg.ids }
    case 'rpoly': return { t: 'rp', r: msg.round, c: msg.count, e: msg.e }
    case 'rpwant': return { t: 'rq', r: msg.round, q: msg.q }
  }
}

/** The map sent for a coded round's `records`: the gossip one (version 1), or `rr` with its fields renamed (version 2). */
export function recordsToWire (msg: CodedRecordsMessage): Record<string, unknown> {
  const wire = gossipToWire(msg)
  if (msg.v !== 2) return wire
  const { nodes, records, batches, vd } = wire
  return { t: 'rr', n: nodes, w: records, ...(batches !== undefined ? { b: batches } : {}), ...(vd !== undefined ? { vd } : {}) }
}

/** True for a message a coded round sends in its own forms: its messages, and `records` of version 2 (`rr`). */
export function sentAsCoded (msg: { readonly t: string, readonly v?: number }): msg is CodedRoundMessage {
  return (RECON_MESSAGE_TYPES as readonly string[]).includes(msg.t) || (msg.t === 'records' && msg.v === 2)
}

/** A decoded coded-round message or gossip `records` (checked as gossip checks it; `rr` too, its fields named as in `records`). */
export function parseCodedRoundMessage (input: unknown, limits: Pick<GossipLimits, 'maxRecordsPerMessage'> = GOSSIP_LIMITS): CodedRoundMessage {
  const t = typeof input === 'object' && input !== null && Object.hasOwn(input, 't') ? (input as Fields).t : undefined
  if (t === 'records') return parseRecords(input, limits)
  if (t === 'rr') {
    const o = asFields(input, 'rr')
    // no round: a coded round's records are not matched to it (round 0 in memory)
    const records = parseRecords({ t: 'records', round: 0, nodes: get(o, 'n'), records: get(o, 'w'), batches: get(o, 'b'), vd: get(o, 'vd') }, limits)
    return { ...records, v: 2 }
  }
  return parseReconMessage(input)
}

/** Encodes a message as one frame: 0x01 ‖ msgpack(message). */
export function encodeReconFrame (msg: CodedRoundMessage): Uint8Array {
  return msg.t === 'records' ? (msg.v === 2 ? packGossipFrame(recordsToWire(msg)) : encodeGossipFrame(msg)) : packGossipFrame(reconToWire(msg))
}

/** Decodes and validates one frame. Throws PROTOCOL for a wrong version, bad msgpack or a bad message. */
export function decodeReconFrame (frame: Uint8Array): CodedRoundMessage {
  return parseCodedRoundMessage(unpackGossipFrame(frame))
}

/** Ids (pairs hi, lo) packed 8 bytes each, big-endian hi then lo. */
export function packIds (ids: Uint32Array, from = 0, to = ids.length / 2): Uint8Array {
  const out = new Uint8Array((to - from) * ID_BYTES)
  const view = new DataView(out.buffer)
  for (let i = from; i < to; i++) {
    view.setUint32((i - from) * ID_BYTES, ids[2 * i]!, false)
    view.setUint32((i - from) * ID_BYTES + 4, ids[2 * i + 1]!, false)
  }
  return out
}

/** The high halves of ids (pairs hi, lo), 4 bytes each, big-endian: version 2's `rwant`. */
export function packHighs (ids: Uint32Array, from = 0, to = ids.length / 2): Uint8Array {
  const out = new Uint8Array((to - from) * HIGH_BYTES)
  const view = new DataView(out.buffer)
  for (let i = from; i < to; i++) view.setUint32((i - from) * HIGH_BYTES, ids[2 * i]!, false)
  return out
}

/** The high halves of packHighs. */
export function unpackHighs (bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return Uint32Array.from({ length: bytes.byteLength / HIGH_BYTES }, (_, i) => view.getUint32(i * HIGH_BYTES, false))
}

/** The ids of packIds, as pairs (hi, lo). */
export function unpackIds (bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Uint32Array((bytes.byteLength / ID_BYTES) * 2)
  for (let i = 0; i < out.length / 2; i++) {
    out[2 * i] = view.getUint32(i * ID_BYTES, false)
    out[2 * i + 1] = view.getUint32(i * ID_BYTES + 4, false)
  }
  return out
}
