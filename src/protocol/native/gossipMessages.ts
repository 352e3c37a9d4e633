/**
 * The messages of gossip rounds (docs/PROTOCOL.md §3): their types, validators for decoded
 * msgpack (`unknown` in, typed message out, PROTOCOL error naming the field otherwise), and the
 * frame codec (version byte 0x01, then msgpack standard encoding).
 *
 * | t         | fields                                                                          |
 * |-----------|---------------------------------------------------------------------------------|
 * | `digest`  | round, ws, n, x (16 bytes)                                                      |
 * | `buckets` | round, ws, n, b (level 1…12), idx or sel (the buckets; neither: all), fp        |
 * | `bloom`   | round, ws, salt, k, m, bits, n, reply, and optionally b + idx or sel (the scope) |
 * | `records` | round, nodes, records (rows, rows.ts; at most `maxRecordsPerMessage`)          |
 *
 * Unknown fields are ignored; only own properties are read. Every size is checked before
 * anything is allocated or iterated: a filter's `m`/`k`/`bits` (bloom.ts), the lengths of `idx`,
 * `sel`, `fp`, `nodes` and `records`; each row is then checked like any record from a peer
 * (rows.ts checkRowAt), so a parsed `records` message holds valid records. In memory a bucket selection is a list of indices (`idx`); on the
 * wire it is that list or the bitmap `sel`, whichever is smaller (`toWire`).
 */
import { Packr } from 'msgpackr'
import { PROTOCOL } from '../../core/errors.ts'
import { MAX_WALL } from '../../core/hlc.ts'
import { parseVoids, voidRows, type ClockVoid } from '../../core/knowledge.ts'
import { LIMITS } from '../../core/limits.ts'
import type { MemoryRecord } from '../../core/model.ts'
import type { PageSeals } from '../../core/seals.ts'
import { BLOOM_LIMITS, BloomFilter, wirePreview as preview } from './bloom.ts'
import { batchesOf, checkRows, encodeRows, rowsOf, sealsOf } from './rows.ts'
import { ELEMENT_BYTES, FINE_BITS, FINGERPRINT_BYTES } from './windowElement.ts'
import { asFields, get, integer, type Fields } from './wireFields.ts'

/** The version byte every engram frame starts with. */
export const GOSSIP_FRAME_VERSION = 0x01

/** Limits of gossip messages. */
export interface GossipLimits {
  /** Most records in one `records` message (default LIMITS.batchRecords, 10,000). */
  readonly maxRecordsPerMessage: number
  /** Most bits of an announced filter (default and ceiling 2^26). */
  readonly maxBloomBits: number
}

export const GOSSIP_LIMITS: GossipLimits = {
  maxRecordsPerMessage: LIMITS.batchRecords,
  maxBloomBits: BLOOM_LIMITS.maxBits
}

/** First message of a round: the initiator's window digest. */
export interface DigestMessage {
  readonly t: 'digest'
  /** The initiator's round number (echoed by every message of the round). */
  readonly round: number
  /** Window start (ms). */
  readonly ws: number
  /** Elements in the sender's window set. */
  readonly n: number
  /** XOR of the sender's elements, 16 bytes. */
  readonly x: Uint8Array
  /** The sender's wall clock (ms since the epoch): clock offsets are measured every round. */
  readonly now?: number
}

/** Fingerprints of some buckets of the sender's window set, at level `b` bits. */
export interface BucketsMessage {
  readonly t: 'buckets'
  readonly round: number
  readonly ws: number
  /** Elements in the sender's whole window set. */
  readonly n: number
  /** Bucket level: a bucket is the elements sharing their first `b` bits (1 … 12). */
  readonly b: number
  /** Bucket indices, strictly increasing, each below 2^b (wire: `idx` or the bitmap `sel`; neither for all buckets). */
  readonly idx: readonly number[]
  /** 8 bytes per index, in the order of `idx`: the first 8 bytes of the XOR of the bucket's elements. */
  readonly fp: Uint8Array
}

/** The part of the window set a filter covers: buckets `idx` (increasing) at level `b` (wire: `b` + `idx` or `sel`). */
export interface BloomScope {
  readonly b: number
  readonly idx: readonly number[]
}

/** A Bloom filter of the sender's window set (or of the buckets in `scope`). */
export interface BloomMessage {
  readonly t: 'bloom'
  readonly round: number
  readonly ws: number
  readonly salt: number
  readonly k: number
  readonly m: number
  readonly bits: Uint8Array
  /** Elements in the filter. */
  readonly n: number
  /** True for the answer to an announced filter: it is not answered with another filter. */
  readonly reply: boolean
  /** Absent: the filter covers the whole window set. */
  readonly scope?: BloomScope
}

/** Records the receiver lacks (rows on the wire, checked records once parsed), with their signatures (rows.ts). */
export interface RecordsMessage {
  readonly t: 'records'
  readonly round: number
  readonly records: readonly MemoryRecord[]
  readonly seals?: PageSeals
  /** The clock voids the sender knows (core/knowledge.ts), applied before the records. */
  readonly vd?: readonly ClockVoid[]
}

export type GossipMessage = DigestMessage | BucketsMessage | BloomMessage | RecordsMessage
export type GossipMessageType = GossipMessage['t']
export const GOSSIP_MESSAGE_TYPES: readonly GossipMessageType[] = ['digest', 'buckets', 'bloom', 'records']

const U32_MAX = 2 ** 32 - 1

function bytes (o: Fields, t: string, name: string, length: number): Uint8Array {
  const v = get(o, name)
  if (!(v instanceof Uint8Array)) throw PROTOCOL(`gossip ${t}.${name}: must be bytes (got ${preview(v)})`, { type: t, field: name })
  if (v.byteLength !== length) throw PROTOCOL(`gossip ${t}.${name}: must be ${length} bytes (got ${v.byteLength})`, { type: t, field: name })
  return v
}

function checkType (o: Fields, t: GossipMessageType): void {
  const v = get(o, 't')
  if (v !== t) throw PROTOCOL(`gossip message: t must be ${JSON.stringify(t)} (got ${preview(v)})`, { field: 't' })
}

/**
 * A bucket selection on the wire, in one of two forms (the sender picks the smaller):
 *  - `idx`: the bucket indices, strictly increasing, each below 2^b (1 … 2^b of them);
 *  - `sel`: a bitmap of ⌈2^b/8⌉ bytes where bit j (bit j mod 8, least significant first, of byte
 *    ⌊j/8⌋) selects bucket j; bits past 2^b must be zero.
 * Exactly one of them; at least one bucket selected. Returns the indices in increasing order.
 */
function selectionOf (o: Fields, t: string, b: number): number[] {
  const count = 2 ** b
  const list = get(o, 'idx')
  if (list !== undefined) {
    if (get(o, 'sel') !== undefined) throw PROTOCOL(`gossip ${t}: idx and sel are exclusive`, { type: t, field: 'sel' })
    return indexList(list, t, count)
  }
  const sel = bytes(o, t, 'sel', Math.ceil(count / 8))
  const idx: number[] = []
  for (let i = 0; i < sel.byteLength; i++) {
    const byte = sel[i]!
    if (byte === 0) continue
    for (let bit = 0; bit < 8; bit++) {
      if ((byte & (1 << bit)) === 0) continue
      const j = i * 8 + bit
      if (j >= count) throw PROTOCOL(`gossip ${t}.sel: selects bucket ${j}, past the ${count} buckets of level ${b}`, { type: t, field: 'sel' })
      idx.push(j)
    }
  }
  if (idx.length === 0) throw PROTOCOL(`gossip ${t}.sel: selects no bucket`, { type: t, field: 'sel' })
  return idx
}

function indexList (list: unknown, t: string, count: number): number[] {
  if (!Array.isArray(list)) throw PROTOCOL(`gossip ${t}.idx: must be an array of bucket indices (got ${preview(list)})`, { type: t, field: 'idx' })
  if (list.length < 1 || list.length > count) {
    throw PROTOCOL(`gossip ${t}.idx: must hold 1 to ${count} bucket indices (got ${list.length})`, { type: t, field: 'idx' })
  }
  let prev = -1
  for (let i = 0; i < list.length; i++) {
    const j: unknown = list[i]
    if (typeof j !== 'number' || !Number.isInteger(j) || j <= prev || j >= count) {
      throw PROTOCOL(`gossip ${t}.idx[${i}]: must be an integer below ${count}, larger than the one before (got ${preview(j)})`, { type: t, field: 'idx' })
    }
    prev = j
  }
  return list as number[]
}

/** Every bucket index of level `b`. */
const allBuckets = (b: number): number[] => Array.from({ length: 2 ** b }, (_, j) => j)

/** The bitmap `sel` for increasing bucket indices at level `b` (see selectionOf). */
export function selectionBitmap (b: number, idx: readonly number[]): Uint8Array {
  const sel = new Uint8Array(Math.ceil(2 ** b / 8))
  for (const j of idx) sel[j >>> 3]! |= 1 << (j & 7)
  return sel
}

/** The smaller wire form of a selection: `{idx}` (msgpack integers) or `{sel}` (bitmap). */
function selectionWire (b: number, idx: readonly number[]): { idx: readonly number[] } | { sel: Uint8Array } {
  let listBytes = 3
  for (const j of idx) listBytes += j < 128 ? 1 : j < 256 ? 2 : 3
  return listBytes < Math.ceil(2 ** b / 8) + 2 ? { idx } : { sel: selectionBitmap(b, idx) }
}

export function parseDigest (input: unknown): DigestMessage {
  const o = asFields(input, 'digest')
  checkType(o, 'digest')
  return {
    t: 'digest',
    round: integer(o, 'digest', 'round', 0, U32_MAX),
    ws: integer(o, 'digest', 'ws', 0, MAX_WALL),
    n: integer(o, 'digest', 'n', 0, U32_MAX),
    x: bytes(o, 'digest', 'x', ELEMENT_BYTES),
    ...(get(o, 'now') !== undefined ? { now: integer(o, 'digest', 'now', 0, MAX_WALL) } : {})
  }
}

export function parseBuckets (input: unknown): BucketsMessage {
  const o = asFields(input, 'buckets')
  checkType(o, 'buckets')
  const round = integer(o, 'buckets', 'round', 0, U32_MAX)
  const ws = integer(o, 'buckets', 'ws', 0, MAX_WALL)
  const n = integer(o, 'buckets', 'n', 0, U32_MAX)
  const b = integer(o, 'buckets', 'b', 1, FINE_BITS)
  const idx = get(o, 'sel') === undefined && get(o, 'idx') === undefined ? allBuckets(b) : selectionOf(o, 'buckets', b)
  const fp = bytes(o, 'buckets', 'fp', idx.length * FINGERPRINT_BYTES)
  return { t: 'buckets', round, ws, n, b, idx, fp }
}

export function parseBloom (input: unknown, limits: Pick<GossipLimits, 'maxBloomBits'> = GOSSIP_LIMITS): BloomMessage {
  const o = asFields(input, 'bloom')
  checkType(o, 'bloom')
  const round = integer(o, 'bloom', 'round', 0, U32_MAX)
  const ws = integer(o, 'bloom', 'ws', 0, MAX_WALL)
  const n = integer(o, 'bloom', 'n', 0, U32_MAX)
  const reply = get(o, 'reply')
  if (typeof reply !== 'boolean') throw PROTOCOL(`gossip bloom.reply: must be a boolean (got ${preview(reply)})`, { type: 'bloom', field: 'reply' })
  // m, k, salt and bits are checked (sizes first, nothing allocated) by the filter's own decoder.
  const filter = BloomFilter.decode({ m: get(o, 'm'), k: get(o, 'k'), salt: get(o, 'salt'), bits: get(o, 'bits') }, { maxBits: limits.maxBloomBits })
  const msg: BloomMessage = { t: 'bloom', round, ws, salt: filter.salt, k: filter.k, m: filter.m, bits: filter.bits, n, reply }
  if (get(o, 'b') === undefined && get(o, 'sel') === undefined && get(o, 'idx') === undefined) return msg
  const b = integer(o, 'bloom', 'b', 1, FINE_BITS)
  return { ...msg, scope: { b, idx: selectionOf(o, 'bloom', b) } }
}

export function parseRecords (input: unknown, limits: Pick<GossipLimits, 'maxRecordsPerMessage'> = GOSSIP_LIMITS): RecordsMessage {
  const o = asFields(input, 'records')
  checkType(o, 'records')
  const round = integer(o, 'records', 'round', 0, U32_MAX)
  const { nodes, rows } = rowsOf(get(o, 'nodes'), get(o, 'records'), 'records', limits.maxRecordsPerMessage)
  const seals = sealsOf(batchesOf(get(o, 'batches'), nodes, 'records.batches', Math.max(1, rows.length)), rows, 'records.records')
  const vd = get(o, 'vd')
  return {
    t: 'records',
    round,
    records: checkRows(nodes, rows, 'records.records'),
    ...(seals !== undefined ? { seals } : {}),
    ...(vd !== undefined ? { vd: parseVoids(vd, 'gossip records.vd') } : {})
  }
}

/** Validates any gossip message, dispatching on `t`. Throws PROTOCOL naming the field. */
export function parseGossipMessage (input: unknown, limits: GossipLimits = GOSSIP_LIMITS): GossipMessage {
  const o = asFields(input, 'message')
  switch (get(o, 't')) {
    case 'digest': return parseDigest(o)
    case 'buckets': return parseBuckets(o)
    case 'bloom': return parseBloom(o, limits)
    case 'records': return parseRecords(o, limits)
    default: throw PROTOCOL(`gossip message: t must be one of ${GOSSIP_MESSAGE_TYPES.join(', ')} (got ${preview(get(o, 't'))})`, { field: 't' })
  }
}

// maps with their own size (a fixmap for up to 15 fields), as the session codec (messages.ts) writes them
const packr = new Packr({ useRecords: false, variableMapSize: true })

/**
 * The map sent for a message: a bucket selection becomes `idx` or the bitmap `sel`, whichever is
 * smaller (left out of a `buckets` message that covers every bucket of its level); a bloom's
 * scope becomes `b` + `idx`/`sel`.
 */
export function toWire (msg: GossipMessage): Record<string, unknown> {
  switch (msg.t) {
    case 'digest': return { t: msg.t, round: msg.round, ws: msg.ws, n: msg.n, x: msg.x, ...(msg.now !== undefined ? { now: msg.now } : {}) }
    case 'records': {
      const { nodes, rows, batches } = encodeRows(msg.records, msg.seals)
      return {
        t: msg.t,
        round: msg.round,
        nodes,
        records: rows,
        ...(batches !== undefined ? { batches } : {}),
        ...(msg.vd !== undefined && msg.vd.length > 0 ? { vd: voidRows(msg.vd) } : {})
      }
    }
    case 'buckets': {
      const wire = { t: msg.t, round: msg.round, ws: msg.ws, n: msg.n, b: msg.b, fp: msg.fp }
      return msg.idx.length < 2 ** msg.b ? { ...wire, ...selectionWire(msg.b, msg.idx) } : wire
    }
    case 'bloom': {
      const wire = { t: msg.t, round: msg.round, ws: msg.ws, salt: msg.salt, k: msg.k, m: msg.m, bits: msg.bits, n: msg.n, reply: msg.reply }
      return msg.scope === undefined ? wire : { ...wire, b: msg.scope.b, ...selectionWire(msg.scope.b, msg.scope.idx) }
    }
  }
}

/** One gossip frame around a message's wire form: 0x01 ‖ msgpack(wire). Coded-round messages use it too. */
export function packGossipFrame (wire: unknown): Uint8Array {
  const body = packr.pack(wire)
  const frame = new Uint8Array(body.byteLength + 1)
  frame[0] = GOSSIP_FRAME_VERSION
  frame.set(body, 1)
  return frame
}

/** The decoded body of one gossip frame, not yet checked. Throws PROTOCOL for a wrong version or bad msgpack. */
export function unpackGossipFrame (frame: Uint8Array): unknown {
  if (frame.byteLength < 2) throw PROTOCOL('gossip frame: too short')
  if (frame[0] !== GOSSIP_FRAME_VERSION) throw PROTOCOL(`protocol error: unsupported version ${frame[0]}`, { version: frame[0] })
  try {
    return packr.unpack(frame.subarray(1))
  } catch (e) {
    throw PROTOCOL(`gossip frame: not valid msgpack (${e instanceof Error ? e.message : String(e)})`)
  }
}

/** Encodes a message as one frame: 0x01 ‖ msgpack(message). */
export function encodeGossipFrame (msg: GossipMessage): Uint8Array {
  return packGossipFrame(toWire(msg))
}

/** Decodes and validates one frame. Throws PROTOCOL for a wrong version, bad msgpack or a bad message. */
export function decodeGossipFrame (frame: Uint8Array, limits: GossipLimits = GOSSIP_LIMITS): GossipMessage {
  return parseGossipMessage(unpackGossipFrame(frame), limits)
}
