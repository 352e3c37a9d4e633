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
 * Unknown fields are ignored; only own properties are read; every size is checked before
 * anything is iterated.
 */
import { PROTOCOL } from '../../core/errors.ts'
import { MAX_WALL } from '../../core/hlc.ts'
import { wirePreview as preview } from './bloom.ts'
import { SKETCH_BYTES } from './diffEstimate.ts'
import { encodeGossipFrame, GOSSIP_LIMITS, packGossipFrame, parseRecords, unpackGossipFrame, type GossipLimits, type RecordsMessage } from './gossipMessages.ts'
import { ID_BYTES, RIBLT_LIMITS, SYMBOL_BYTES } from './riblt.ts'
import { asFields, get, integer, type Fields } from './wireFields.ts'

export const RECON_LIMITS = {
  /** Most symbols in one `rsymbols` message (213 KB). */
  maxSymbolsPerMessage: 16_384,
  /** Most ids in one `rwant` message (131 KB). */
  maxIdsPerMessage: 16_384,
  /** Most symbols of a round: `from` + count and `to` stay at or below it. */
  maxSymbols: RIBLT_LIMITS.maxSymbols
} as const

/** First message of a coded round: the initiator's symbol 0 and difference sketch. */
export interface ReconDigestMessage {
  readonly t: 'rdigest'
  readonly round: number
  readonly ws: number
  /** The sender's coded symbol 0. */
  readonly s: Uint8Array
  /** The sender's difference sketch (diffEstimate.ts). */
  readonly e: Uint8Array
  /** The sender's wall clock (ms since the epoch): clock offsets are measured every round, as with `digest`. */
  readonly now?: number
}

/** Coded symbols [from, from + count) of the sender's window set, for the round's salt. */
export interface SymbolsMessage {
  readonly t: 'rsymbols'
  readonly round: number
  readonly from: number
  readonly s: Uint8Array
}

/** Asks for the symbols after those sent, up to index `to` (exclusive). */
export interface MoreMessage {
  readonly t: 'rmore'
  readonly round: number
  readonly to: number
}

/** Ids whose records the sender lacks. */
export interface WantMessage {
  readonly t: 'rwant'
  readonly round: number
  readonly ids: Uint8Array
}

export type ReconMessage = ReconDigestMessage | SymbolsMessage | MoreMessage | WantMessage
/** Every message of a coded round: its own, and the gossip `records` that carry what was found missing. */
export type CodedRoundMessage = ReconMessage | RecordsMessage
export type ReconMessageType = ReconMessage['t']
export const RECON_MESSAGE_TYPES: readonly ReconMessageType[] = ['rdigest', 'rsymbols', 'rmore', 'rwant']

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
    default: throw PROTOCOL(`gossip message: t must be one of ${RECON_MESSAGE_TYPES.join(', ')} (got ${preview(t)})`, { field: 't' })
  }
}

/** The map sent for a message (its fields as they are). */
export function reconToWire (msg: ReconMessage): Record<string, unknown> {
  return { ...msg }
}

/** A decoded coded-round message or gossip `records` (checked as gossip checks it). */
export function parseCodedRoundMessage (input: unknown, limits: Pick<GossipLimits, 'maxRecordsPerMessage'> = GOSSIP_LIMITS): CodedRoundMessage {
  const isRecords = typeof input === 'object' && input !== null && Object.hasOwn(input, 't') && (input as Fields).t === 'records'
  return isRecords ? parseRecords(input, limits) : parseReconMessage(input)
}

/** Encodes a message as one frame: 0x01 ‖ msgpack(message). */
export function encodeReconFrame (msg: CodedRoundMessage): Uint8Array {
  return msg.t === 'records' ? encodeGossipFrame(msg) : packGossipFrame(reconToWire(msg))
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
