/**
 * The mailbox protocol's messages (`/engram/mailbox/1.0.0`, docs/PROTOCOL.md §6), pure: bytes in,
 * values out, every field checked. One stream carries one exchange; each message is one
 * length-prefixed frame.
 *
 *   deposit        [0x01][sealed page]                                  member → mailbox
 *   deposited      [0x81][status u8: 0 stored, 1 refused][mailbox seq u64]
 *   pull           [0x02][key id 8][after u64][most pages u16]          member → mailbox
 *   page           [0x82][mailbox seq u64][sealed page]                 zero or more
 *   end            [0x83][more u8: 1 when pages remain after the last one sent]
 *
 * A page's plaintext (what `seal.ts` seals) is the writer's records as native rows
 * (`protocol/native/rows.ts`): UTF-8 JSON `{"nodes": [...], "rows": [...]}`, at most
 * MAX_PAGE_RECORDS rows. The receiver checks every row (ids recomputed) before anything is
 * applied, exactly as for a native page. Signed records carry their signatures as a native page
 * does (a signed row ends with its `batch, leaf`), the page's `batches` in the JSON form of
 * delta answers (`protocol/polled/jsonSeals.ts`: `sig` and `proof` in base64); the receiver's
 * gate checks them like any peer's (the group's key says a member sealed the page, not who
 * wrote its records).
 */
import { PROTOCOL } from '../../core/errors.ts'
import type { MemoryRecord } from '../../core/model.ts'
import type { PageSeals } from '../../core/seals.ts'
import { KEY_ID_BYTES } from '../../core/seedKeys.ts'
import { batchesOf, checkRows, encodeRows, rowsOf, sealsOf } from '../native/rows.ts'
import { batchesJson, bytesOfBase64 } from '../polled/jsonSeals.ts'
import { MAX_PAGE_PLAINTEXT, MAX_SEALED_PAGE } from './seal.ts'

export const MAILBOX_PROTOCOL = '/engram/mailbox/1.0.0'
/** Most records in one page (docs/LIMITS.md). */
export const MAX_PAGE_RECORDS = 2000
/** Most pages one pull answers (docs/LIMITS.md); the member pulls again while `more` is set. */
export const MAX_PULL_PAGES = 64
/** The largest frame of the protocol. */
export const MAX_MAILBOX_FRAME = 1 + 8 + MAX_SEALED_PAGE

export type MailboxRequest =
  | { readonly op: 'deposit', readonly page: Uint8Array }
  | { readonly op: 'pull', readonly keyId: Uint8Array, readonly after: number, readonly max: number }

export type MailboxAnswer =
  | { readonly op: 'deposited', readonly stored: boolean, readonly seq: number }
  | { readonly op: 'page', readonly seq: number, readonly page: Uint8Array }
  | { readonly op: 'end', readonly more: boolean }

const OP = { deposit: 0x01, pull: 0x02, deposited: 0x81, page: 0x82, end: 0x83 } as const

function u64 (v: DataView, at: number, field: string): number {
  const n = Number(v.getBigUint64(at))
  if (!Number.isSafeInteger(n)) throw PROTOCOL(`mailbox ${field}: ${n} is beyond 2^53`, { field })
  return n
}

function frame (op: number, size: number, fill: (v: DataView, out: Uint8Array) => void): Uint8Array {
  const out = new Uint8Array(1 + size)
  out[0] = op
  fill(new DataView(out.buffer), out)
  return out
}

export function encodeRequest (r: MailboxRequest): Uint8Array {
  if (r.op === 'deposit') {
    if (r.page.byteLength > MAX_SEALED_PAGE) throw PROTOCOL(`mailbox deposit: a page of ${r.page.byteLength} bytes, more than ${MAX_SEALED_PAGE}`)
    return frame(OP.deposit, r.page.byteLength, (_v, out) => { out.set(r.page, 1) })
  }
  if (r.keyId.byteLength !== KEY_ID_BYTES) throw PROTOCOL(`mailbox pull: key id of ${r.keyId.byteLength} bytes (${KEY_ID_BYTES})`)
  return frame(OP.pull, KEY_ID_BYTES + 8 + 2, (v, out) => {
    out.set(r.keyId, 1)
    v.setBigUint64(1 + KEY_ID_BYTES, BigInt(r.after))
    v.setUint16(9 + KEY_ID_BYTES, Math.min(r.max, MAX_PULL_PAGES))
  })
}

export function decodeRequest (b: Uint8Array): MailboxRequest {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  if (b[0] === OP.deposit) {
    if (b.byteLength < 2 || b.byteLength > 1 + MAX_SEALED_PAGE) throw PROTOCOL(`mailbox deposit: ${b.byteLength} bytes (2-${1 + MAX_SEALED_PAGE})`)
    return { op: 'deposit', page: b.slice(1) }
  }
  if (b[0] === OP.pull) {
    if (b.byteLength !== 1 + KEY_ID_BYTES + 10) throw PROTOCOL(`mailbox pull: ${b.byteLength} bytes (${1 + KEY_ID_BYTES + 10})`)
    const max = v.getUint16(9 + KEY_ID_BYTES)
    if (max < 1 || max > MAX_PULL_PAGES) throw PROTOCOL(`mailbox pull: ${max} pages asked (1-${MAX_PULL_PAGES})`)
    return { op: 'pull', keyId: b.slice(1, 1 + KEY_ID_BYTES), after: u64(v, 1 + KEY_ID_BYTES, 'pull.after'), max }
  }
  throw PROTOCOL(`mailbox request: unknown operation ${b[0] ?? 'none'}`)
}

export function encodeAnswer (a: MailboxAnswer): Uint8Array {
  switch (a.op) {
    case 'deposited': return frame(OP.deposited, 9, (v) => { v.setUint8(1, a.stored ? 0 : 1); v.setBigUint64(2, BigInt(a.seq)) })
    case 'page': return frame(OP.page, 8 + a.page.byteLength, (v, out) => { v.setBigUint64(1, BigInt(a.seq)); out.set(a.page, 9) })
    case 'end': return frame(OP.end, 1, (v) => { v.setUint8(1, a.more ? 1 : 0) })
  }
}

export function decodeAnswer (b: Uint8Array): MailboxAnswer {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  if (b[0] === OP.deposited && b.byteLength === 10) {
    const status = v.getUint8(1)
    if (status > 1) throw PROTOCOL(`mailbox deposited: unknown status ${status}`)
    return { op: 'deposited', stored: status === 0, seq: u64(v, 2, 'deposited.seq') }
  }
  if (b[0] === OP.page && b.byteLength > 9 && b.byteLength <= MAX_MAILBOX_FRAME) return { op: 'page', seq: u64(v, 1, 'page.seq'), page: b.slice(9) }
  if (b[0] === OP.end && b.byteLength === 2 && (b[1] ?? 2) <= 1) return { op: 'end', more: b[1] === 1 }
  throw PROTOCOL(`mailbox answer: malformed (operation ${b[0] ?? 'none'}, ${b.byteLength} bytes)`)
}

/** The plaintext of a page: `records` as rows, with their signatures when `seals` has any. PROTOCOL when too many or too large. */
export function encodePagePlaintext (records: readonly MemoryRecord[], seals?: PageSeals): Uint8Array {
  if (records.length < 1 || records.length > MAX_PAGE_RECORDS) throw PROTOCOL(`mailbox page: ${records.length} records (1-${MAX_PAGE_RECORDS})`)
  const { nodes, rows } = encodeRows(records, seals)
  const body = seals === undefined || seals.batches.length === 0 ? { nodes, rows } : { nodes, rows, batches: batchesJson(seals) }
  const out = new TextEncoder().encode(JSON.stringify(body))
  if (out.byteLength > MAX_PAGE_PLAINTEXT) throw PROTOCOL(`mailbox page: ${out.byteLength} bytes of records, more than ${MAX_PAGE_PLAINTEXT}`)
  return out
}

/** An opened page: its records, and their signatures when it carries any. */
export interface PagePlaintext {
  readonly records: MemoryRecord[]
  readonly seals?: PageSeals
}

/** The records of an opened page, every one checked (`checkRecord`), and their signatures; PROTOCOL naming the field otherwise. */
export function decodePagePlaintext (plaintext: Uint8Array): PagePlaintext {
  let body: unknown
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext))
  } catch {
    throw PROTOCOL('mailbox page: the plaintext is not JSON')
  }
  if (typeof body !== 'object' || body === null) throw PROTOCOL('mailbox page: the plaintext is not an object')
  const { nodes, rows } = rowsOf((body as { nodes?: unknown }).nodes, (body as { rows?: unknown }).rows, 'mailbox page', MAX_PAGE_RECORDS)
  const batches = batchesOf((body as { batches?: unknown }).batches, nodes, 'mailbox page.batches', Math.max(1, rows.length), bytesOfBase64)
  const seals = sealsOf(batches, rows, 'mailbox page.rows')
  const records = checkRows(nodes, rows, 'mailbox page.rows')
  return seals === undefined ? { records } : { records, seals }
}

/**
 * Cuts `records` (a run of a writer's feed, in seq order) into pages of at most `perPage`
 * records, each with its seq range. `seqOf` gives a record's seq in the writer's feed.
 */
export function cutPages<T> (records: readonly T[], perPage: number, seqOf: (r: T) => number): Array<{ from: number, to: number, records: T[] }> {
  const size = Math.max(1, Math.min(perPage, MAX_PAGE_RECORDS))
  const out: Array<{ from: number, to: number, records: T[] }> = []
  for (let i = 0; i < records.length; i += size) {
    const chunk = records.slice(i, i + size)
    out.push({ from: seqOf(chunk[0] as T), to: seqOf(chunk[chunk.length - 1] as T), records: chunk })
  }
  return out
}
