/**
 * The messages of native sync (docs/PROTOCOL.md) and their codec.
 *
 *   frame := version:u8 (0x01) msgpack(map)      ; msgpackr standard encoding, one map per frame
 *          | 0x02 codec:u8 compressed(msgpack(map))   ; after the handshake, to a peer that reads it (compression.ts)
 *
 * Every message is a map with a `t` field naming its type. `decodeFrame` is the only way a
 * frame from a peer becomes a message: it checks the version byte, the size caps, the msgpack
 * body and every field, and throws a `PROTOCOL` error naming the offending field for anything
 * else — never another kind of error, whatever the bytes. Unknown fields are ignored. Records in
 * a `changes` (and gossip `records`) message travel as rows (rows.ts) and are checked with
 * `checkRowAt` (shape, limits, content ids computed), so what the session receives is already a
 * list of valid records.
 *
 * Nothing is ever hashed from msgpack bytes: proofs and ids are computed over canonical forms.
 */
import { Packr, Unpackr } from 'msgpackr'
import { PROTOCOL, isEngramError, type EngramError } from '../../core/errors.ts'
import { MAX_WALL } from '../../core/hlc.ts'
import { FEED_ID, type NodeId } from '../../core/ids.ts'
import { knowledgeRows, parseKnowledge, parseVoids, voidRows, type ClockVoid, type KnowledgeEntry, type SentKnowledgeEntry } from '../../core/knowledge.ts'
import type { MemoryRecord } from '../../core/model.ts'
import { DEFAULT_MAX_FRAME_BYTES } from '../../core/limits.ts'
import type { BatchProof, PageSeals } from '../../core/seals.ts'
import { COMPRESSED_FRAME_VERSION, decompressBody } from './compression.ts'
import { GOSSIP_TYPES, decodeGossip, encodeGossip, type GossipMessage } from './gossipWire.ts'
import { parseOrigins } from './gossipRoutes.ts'
import { leftOutRows, parseLeftOutRows, type LeftOutStamps } from './leftOutList.ts'
import { RECON_TYPES, decodeRecon, encodeRecon, encodesAsRecon, type ReconMessage } from './reconWire.ts'
import { packChanges } from './rowPacker.ts'
import { batchesOf, checkRows, rowsOf, sealsOf } from './rows.ts'

/** The frame version this implementation writes, and the range of versions it speaks. */
export const FRAME_VERSION = 0x01
export const MIN_PROTOCOL_VERSION = 1
/** 2: the handshake is a PAKE (pake.ts: `pake`, then `confirm`); 1: `proof` (keyed MACs). */
export const MAX_PROTOCOL_VERSION = 2

/** Most codec ids in a hello's `z`. */
const MAX_CODECS = 8

/** Caps on what a peer may send (docs/PROTOCOL.md). */
export const NATIVE_LIMITS = {
  /** Largest frame, bytes (the transport refuses larger ones before allocating). */
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  /** Most records in one `changes` page (the largest sync.maxTriplesPerSync). */
  maxPageRecords: 50_000,
  /** Target encoded size of a `changes` page, bytes; a page is split when it is larger. */
  pageBytes: 1024 * 1024,
  /** Handshake nonce and proof sizes, bytes. */
  nonceBytes: 32,
  macBytes: 32,
  /** Largest certificate in a `hello` (DER) and certificate signature in a `proof`, bytes. */
  maxCertBytes: 16 * 1024,
  maxSigBytes: 1024,
  /** Version 2: a PAKE share, and a confirmation tag, bytes. */
  shareBytes: 32,
  tagBytes: 64
} as const

/**
 * Both sides send at once: the versions spoken, a fresh nonce, this store's feed id; whether
 * this node holds a passphrase (`pp`, not secret); its certificate (DER) when TLS is on; whether
 * it signs its records (`sg`: its unsigned records are then refused); its wall clock (`now`, ms
 * since the epoch), so each side learns how far apart their clocks are.
 */
export interface HelloMessage {
  readonly t: 'hello'
  readonly v: readonly [number, number]
  readonly nonce: Uint8Array
  readonly feed: string
  readonly pp?: boolean
  readonly cert?: Uint8Array
  readonly sg?: boolean
  readonly now?: number
  /** The codecs of compressed frames this node reads (compression.ts); absent: none. */
  readonly z?: readonly number[]
  /** The version of coded gossip rounds this node speaks (reconWire.ts); absent: none, bloom rounds only. */
  readonly rc?: number
}

/**
 * BLAKE3-keyed(K, role ‖ transcript): proves the seed, bound to this session; `pmac` proves
 * the passphrase the same way, `sig` the certificate's key (handshake.ts).
 */
export interface ProofMessage {
  readonly t: 'proof'
  readonly mac: Uint8Array
  readonly pmac?: Uint8Array
  readonly sig?: Uint8Array
}

/** Version 2: this side's CPace share for the seed (`y`) and, with a passphrase, for it (`yp`). */
export interface PakeMessage {
  readonly t: 'pake'
  readonly y: Uint8Array
  readonly yp?: Uint8Array
}

/**
 * Version 2: key confirmation, one tag per secret (`mac` the seed's, `pmac` the passphrase's),
 * and with TLS on the certificate key's signature over the exchange (`sig`).
 */
export interface ConfirmMessage {
  readonly t: 'confirm'
  readonly mac: Uint8Array
  readonly pmac?: Uint8Array
  readonly sig?: Uint8Array
}

/** How far the sender has applied the receiver's feed (`feed`: the feed id that cursor belongs to). */
export interface CursorMessage {
  readonly t: 'cursor'
  readonly cursor: number
  readonly feed: string
  /**
   * Send everything, as a snapshot from 0: this node's store does not hold its own history yet
   * (a store created empty, engine/NodeKnowledge.ts). Ignored by older peers.
   */
  readonly full?: boolean
  /** This node honours `prune` and `g` on the stream it is sent (gossipRoutes.ts). Ignored by older peers. */
  readonly pr?: boolean
  /** Origins this node pruned that the stream must carry again from `cursor` on (a graft, gossipRoutes.ts). */
  readonly g?: readonly NodeId[]
}

/** One page of the sender's feed after `from`, up to and including seq `to`. */
export interface ChangesMessage {
  readonly t: 'changes'
  readonly from: number
  readonly to: number
  readonly records: readonly MemoryRecord[]
  /** More pages follow right away (false: the sender has caught up for now). */
  readonly more: boolean
  /**
   * The last position of the sender's feed when it read the page (at least `to`): how much is
   * left, for the receiver's progress. Optional (older senders do not send it; older receivers
   * ignore it).
   */
  readonly end?: number
  /** A page of a full snapshot (the receiver's cursor was below the sender's feed floor). */
  readonly snapshot?: boolean
  /** With `snapshot`: how much of the receiver's feed the sender has seen. */
  readonly peerCursor?: number
  /** The signatures of the records (rows.ts; absent: all unsigned). */
  readonly seals?: PageSeals
  /**
   * The sender's knowledge vector (core/knowledge.ts), read with the page's scan; only on a page
   * that reaches the end of the feed (`more` false). Learnt with the cursor `to`.
   */
  readonly k?: readonly SentKnowledgeEntry[]
  /** The clock voids the sender knows, applied before the page's records. */
  readonly vd?: readonly ClockVoid[]
  /** Origins the page left out (pruned: gossipRoutes.ts), each with the highest stamp left out. */
  readonly lz?: readonly KnowledgeEntry[]
  /** The same origins, with every record left out by stamp and print (gossipRoutes.ts). */
  readonly ls?: readonly LeftOutStamps[]
}

/** The receiver's cursor after applying a page. */
export interface AckMessage {
  readonly t: 'ack'
  readonly cursor: number
}

/**
 * A `changes` page whose records were not checked yet (decodeFrame with `deferRecords`): the
 * envelope, the node table and the number of rows are; each row goes through checkRowAt (with
 * `nodes`) before use.
 */
export interface UncheckedChanges extends Omit<ChangesMessage, 'records' | 'seals'> {
  readonly nodes: readonly string[]
  readonly unchecked: readonly unknown[]
  /** The page's batches, checked (each row's place in them is read with its row). */
  readonly batches: readonly BatchProof[]
}

export type SessionMessage = HelloMessage | ProofMessage | PakeMessage | ConfirmMessage | CursorMessage | ChangesMessage | AckMessage
export type NativeMessage = SessionMessage | GossipMessage | ReconMessage
export type MessageType = NativeMessage['t']

const packr = new Packr({ useRecords: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true })

/** Encodes a message as one frame: the version byte, then the msgpack map. */
export function encodeMessage (msg: NativeMessage): Uint8Array {
  // a page's rows are written straight as msgpack (rowPacker.ts), the same bytes
  if (msg.t === 'changes') return packChanges(packr, FRAME_VERSION, { t: msg.t, from: msg.from, to: msg.to }, msg.records, msg.seals, changesTail(msg))
  const body = packr.pack(toWire(msg))
  const frame = new Uint8Array(1 + body.byteLength)
  frame[0] = FRAME_VERSION
  frame.set(body, 1)
  return frame
}

/** The fields of a `changes` message after its records, in their order (its `batches`, after `more`, come from its seals). */
export function changesTail (msg: ChangesMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { more: msg.more }
  if (msg.end !== undefined) out.end = msg.end
  if (msg.snapshot === true) { out.snapshot = true; out.peerCursor = msg.peerCursor ?? 0 }
  if (msg.k !== undefined) out.k = knowledgeRows(msg.k)
  if (msg.vd !== undefined && msg.vd.length > 0) out.vd = voidRows(msg.vd)
  if (msg.lz !== undefined && msg.lz.length > 0) out.lz = msg.lz.map(e => [e.node, e.wall, e.counter])
  if (msg.ls !== undefined && msg.ls.length > 0) out.ls = leftOutRows(msg.ls)
  return out
}

function toWire (msg: Exclude<NativeMessage, ChangesMessage>): Record<string, unknown> {
  switch (msg.t) {
    case 'hello': return {
      t: msg.t, v: [msg.v[0], msg.v[1]], nonce: msg.nonce, feed: msg.feed,
      ...(msg.pp === true ? { pp: true } : {}), ...(msg.cert !== undefined ? { cert: msg.cert } : {}), ...(msg.sg === true ? { sg: true } : {}),
      ...(msg.now !== undefined ? { now: msg.now } : {}), ...(msg.z !== undefined ? { z: [...msg.z] } : {}), ...(msg.rc !== undefined ? { rc: msg.rc } : {})
    }
    case 'proof': case 'confirm': return { t: msg.t, mac: msg.mac, ...(msg.pmac !== undefined ? { pmac: msg.pmac } : {}), ...(msg.sig !== undefined ? { sig: msg.sig } : {}) }
    case 'pake': return { t: msg.t, y: msg.y, ...(msg.yp !== undefined ? { yp: msg.yp } : {}) }
    case 'cursor': return { t: msg.t, cursor: msg.cursor, feed: msg.feed, ...(msg.full === true ? { full: true } : {}), ...(msg.pr === true ? { pr: true } : {}), ...(msg.g !== undefined && msg.g.length > 0 ? { g: [...msg.g] } : {}) }
    case 'ack': return { t: msg.t, cursor: msg.cursor }
    default: return encodesAsRecon(msg) ? encodeRecon(msg) : encodeGossip(msg)
  }
}

export interface DecodeOptions {
  /** Largest frame accepted, bytes. Default NATIVE_LIMITS.maxFrameBytes. */
  readonly maxFrameBytes?: number
  /** Most records accepted in one page. Default NATIVE_LIMITS.maxPageRecords. */
  readonly maxPageRecords?: number
  /**
   * Leave the records of a `changes` page unchecked (UncheckedChanges), so a large page can be
   * checked in slices without holding the event loop. Default false.
   */
  readonly deferRecords?: boolean
  /**
   * The only message types acceptable now (before the handshake: hello and proof); any other
   * is refused from its `t` alone, before its fields — or records — are read.
   */
  readonly only?: readonly string[]
}

/**
 * Decodes and checks one frame from a peer. Throws only `PROTOCOL` errors, naming the field
 * (`changes.records[3].subject: must be a string …`).
 */
export function decodeFrame (frame: Uint8Array, opts?: DecodeOptions & { deferRecords?: false }): NativeMessage
export function decodeFrame (frame: Uint8Array, opts: DecodeOptions): NativeMessage | UncheckedChanges
export function decodeFrame (frame: Uint8Array, opts: DecodeOptions = {}): NativeMessage | UncheckedChanges {
  const maxFrame = opts.maxFrameBytes ?? NATIVE_LIMITS.maxFrameBytes
  if (!(frame instanceof Uint8Array)) throw PROTOCOL('frame: must be bytes')
  if (frame.byteLength < 2) throw PROTOCOL(`frame: ${frame.byteLength} bytes is too short for a message`, { field: 'frame' })
  if (frame.byteLength > maxFrame + 1) throw PROTOCOL(`frame: ${frame.byteLength} bytes is over the limit of ${maxFrame} bytes`, { field: 'frame' })
  const version = frame[0] as number
  if (version === COMPRESSED_FRAME_VERSION && opts.only !== undefined) throw PROTOCOL('frame: a compressed frame before the handshake completed', { field: 'version', version })
  if (version !== FRAME_VERSION && version !== COMPRESSED_FRAME_VERSION) throw PROTOCOL(`unsupported version ${version}`, { field: 'version', version })
  const packed = version === COMPRESSED_FRAME_VERSION ? decompressBody(frame, maxFrame) : frame.subarray(1)
  let body: unknown
  try {
    body = unpackr.unpack(packed)
  } catch (e) {
    throw PROTOCOL(`frame: body is not one valid msgpack value (${e instanceof Error ? e.message : String(e)})`, { field: 'frame' })
  }
  try {
    return checkMessage(body, opts.maxPageRecords ?? NATIVE_LIMITS.maxPageRecords, opts.deferRecords === true, opts.only)
  } catch (e) {
    if (isEngramError(e) && e.code === 'PROTOCOL') throw e
    // A validator must never fail in another way; if one does, the peer's frame is still the cause.
    throw PROTOCOL(`frame: cannot be read (${e instanceof Error ? e.message : String(e)})`, { field: 'frame' })
  }
}

function checkMessage (body: unknown, maxPageRecords: number, deferRecords: boolean, only: readonly string[] | undefined): NativeMessage | UncheckedChanges {
  const o = mapOf(body, 'message')
  const t = o.t
  if (typeof t !== 'string') throw bad('t', 'must be the message type (a string)')
  if (only !== undefined && !only.includes(t)) throw PROTOCOL(`${JSON.stringify(t.slice(0, 40))} is not expected now (expected ${only.join(' or ')})`, { field: 't' })
  switch (t) {
    case 'hello': {
      const v = o.v
      if (!Array.isArray(v) || v.length !== 2) throw bad('hello.v', 'must be [min, max] protocol versions')
      const min = uint(v[0], 'hello.v[0]', 255)
      const max = uint(v[1], 'hello.v[1]', 255)
      if (min < 1 || min > max) throw bad('hello.v', `must be [min, max] with 1 ≤ min ≤ max (got [${min}, ${max}])`)
      const hello: { -readonly [K in keyof HelloMessage]: HelloMessage[K] } = { t, v: [min, max], nonce: bytes(o.nonce, 'hello.nonce', NATIVE_LIMITS.nonceBytes), feed: feed(o.feed, 'hello.feed') }
      if (o.pp !== undefined && bool(o.pp, 'hello.pp')) hello.pp = true
      if (o.cert !== undefined) hello.cert = bytes(o.cert, 'hello.cert', undefined, NATIVE_LIMITS.maxCertBytes)
      if (o.sg !== undefined && bool(o.sg, 'hello.sg')) hello.sg = true
      if (o.now !== undefined) hello.now = uint(o.now, 'hello.now', MAX_WALL)
      if (o.z !== undefined) {
        if (!Array.isArray(o.z) || o.z.length > MAX_CODECS) throw bad('hello.z', `must be a list of at most ${MAX_CODECS} codec ids`)
        hello.z = o.z.map((c, i) => uint(c, `hello.z[${i}]`, 255))
      }
      if (o.rc !== undefined) hello.rc = uint(o.rc, 'hello.rc', 255)
      return hello
    }
    case 'proof': case 'confirm': {
      // the same fields; a version 1 MAC is 32 bytes, a version 2 confirmation tag 64
      const len = t === 'proof' ? NATIVE_LIMITS.macBytes : NATIVE_LIMITS.tagBytes
      const m: { mac: Uint8Array, pmac?: Uint8Array, sig?: Uint8Array } = { mac: bytes(o.mac, `${t}.mac`, len) }
      if (o.pmac !== undefined) m.pmac = bytes(o.pmac, `${t}.pmac`, len)
      if (o.sig !== undefined) m.sig = bytes(o.sig, `${t}.sig`, undefined, NATIVE_LIMITS.maxSigBytes)
      return { t, ...m }
    }
    case 'pake': {
      const pake: { -readonly [K in keyof PakeMessage]: PakeMessage[K] } = { t, y: bytes(o.y, 'pake.y', NATIVE_LIMITS.shareBytes) }
      if (o.yp !== undefined) pake.yp = bytes(o.yp, 'pake.yp', NATIVE_LIMITS.shareBytes)
      return pake
    }
    case 'cursor':
      return {
        t, cursor: uint(o.cursor, 'cursor.cursor'), feed: feed(o.feed, 'cursor.feed'),
        ...(o.full !== undefined && bool(o.full, 'cursor.full') ? { full: true } : {}), ...(o.pr !== undefined && bool(o.pr, 'cursor.pr') ? { pr: true } : {}),
        ...(o.g !== undefined ? { g: parseOrigins(o.g, 'cursor.g') } : {})
      }
    case 'ack':
      return { t, cursor: uint(o.cursor, 'ack.cursor') }
    case 'changes': {
      const from = uint(o.from, 'changes.from')
      const to = uint(o.to, 'changes.to')
      if (to < from) throw bad('changes.to', `must not be below from (${to} < ${from})`)
      const more = bool(o.more, 'changes.more')
      const snapshot = o.snapshot === undefined ? false : bool(o.snapshot, 'changes.snapshot')
      const end = o.end === undefined ? undefined : uint(o.end, 'changes.end')
      if (end !== undefined && end < to) throw bad('changes.end', `must not be below to (${end} < ${to})`)
      const base = snapshot ? { t, from, to, more, snapshot, peerCursor: uint(o.peerCursor, 'changes.peerCursor') } : { t, from, to, more }
      const envelope = {
        ...base,
        ...(end !== undefined ? { end } : {}),
        ...(o.k !== undefined ? { k: parseKnowledge(o.k, 'changes.k') } : {}),
        ...(o.vd !== undefined ? { vd: parseVoids(o.vd, 'changes.vd') } : {}),
        ...(o.lz !== undefined ? { lz: parseKnowledge(o.lz, 'changes.lz') } : {}),
        ...(o.ls !== undefined ? { ls: parseLeftOutRows(o.ls, 'changes.ls', maxPageRecords) } : {})
      }
      const { nodes, rows } = rowsOf(o.nodes, o.records, 'changes', maxPageRecords)
      const batches = batchesOf(o.batches, nodes, 'changes.batches', Math.max(1, rows.length))
      if (deferRecords) return { ...envelope, nodes, unchecked: rows, batches }
      const seals = sealsOf(batches, rows, 'changes.records')
      return { ...envelope, records: checkRows(nodes, rows, 'changes.records'), ...(seals !== undefined ? { seals } : {}) }
    }
    default:
      if (GOSSIP_TYPES.includes(t)) return decodeGossip(o, maxPageRecords)
      if (RECON_TYPES.includes(t)) return decodeRecon(o, maxPageRecords)
      throw bad('t', `unknown message type ${JSON.stringify(t.slice(0, 40))}`)
  }
}

// ---- field validators (shared with gossipMessages.ts) ---------------------------------------

/** A PROTOCOL error naming the field. */
export function bad (field: string, problem: string): EngramError {
  return PROTOCOL(`${field}: ${problem}`, { field })
}

/** A msgpack map decoded as a plain object. */
export function mapOf (v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw bad(field, 'must be a map')
  const proto = Object.getPrototypeOf(v) as unknown
  if (proto !== Object.prototype && proto !== null) throw bad(field, 'must be a map')
  return v as Record<string, unknown>
}

/** A non-negative safe integer, at most `max`. */
export function uint (v: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) throw bad(field, `must be an integer from 0 to ${max}`)
  return v
}

export function bool (v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw bad(field, 'must be a boolean')
  return v
}

/** Bytes of exactly `length` (or at most `max` when length is undefined). */
export function bytes (v: unknown, field: string, length?: number, max = Number.MAX_SAFE_INTEGER): Uint8Array {
  if (!(v instanceof Uint8Array)) throw bad(field, 'must be bytes')
  if (length !== undefined && v.byteLength !== length) throw bad(field, `must be exactly ${length} bytes (got ${v.byteLength})`)
  if (v.byteLength > max) throw bad(field, `must be at most ${max} bytes (got ${v.byteLength})`)
  return v
}

function feed (v: unknown, field: string): string {
  if (typeof v !== 'string' || !FEED_ID.test(v)) throw bad(field, 'must be a feed id (32 lowercase hex digits)')
  return v
}
