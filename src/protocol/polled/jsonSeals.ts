/**
 * Signatures in REST delta answers (docs/SYNC.md, "Signatures"): the answer's `batches`, each
 * `[signer, wall, counter, n, sig, proof]` with `sig` and `proof` in base64 (`proof` the
 * concatenated 32-byte hashes), and on each signed record `"seal": [batch, leaf]`. Clients that do
 * not know signatures ignore both fields, and servers that do not send them give unsigned records.
 * Mailbox pages (protocol/mailbox/messages.ts) carry their batches in this JSON form too.
 */
import { isNodeId } from '../../core/ids.ts'
import type { Json } from '../../core/model.ts'
import { PROTOCOL } from '../../core/errors.ts'
import { batchFromTuple, sealRefFrom, type PageSeals } from '../../core/seals.ts'

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** The bytes of a base64 string, or undefined for anything else. */
export const bytesOfBase64 = (v: unknown): Uint8Array | undefined => (typeof v === 'string' && BASE64.test(v) ? new Uint8Array(Buffer.from(v, 'base64')) : undefined)

/** The `batches` of an answer. */
export function batchesJson (seals: PageSeals): Json[] {
  return seals.batches.map(b => [b.signer, b.at.wall, b.at.counter, b.n, Buffer.from(b.sig).toString('base64'), Buffer.concat(b.proof).toString('base64')])
}

/** A record's JSON text with its seal (`json` a JSON object's text). */
export function withSealJson (json: string, ref: { batch: number, leaf: number } | undefined): string {
  return ref === undefined ? json : `${json.slice(0, -1)},"seal":[${ref.batch},${ref.leaf}]}`
}

/** The signatures of an answer's records, checked; undefined when it carries none. PROTOCOL naming the field. */
export function sealsFromJson (batches: unknown, records: readonly unknown[]): PageSeals | undefined {
  if (batches === undefined) return undefined
  if (!Array.isArray(batches) || batches.length > Math.max(1, records.length)) throw PROTOCOL('batches: must be an array of at most one batch per record', { field: 'batches' })
  if (batches.length === 0) return undefined
  const proofs = batches.map((b: unknown, i) => batchFromTuple(b, `batches[${i}]`, v => (isNodeId(v) ? v : undefined), bytesOfBase64))
  const refs = records.map((r, i) => {
    const seal = typeof r === 'object' && r !== null ? (r as { seal?: unknown }).seal : undefined
    if (seal === undefined) return undefined
    if (!Array.isArray(seal) || seal.length !== 2) throw PROTOCOL(`records[${i}].seal: must be [batch, leaf]`, { field: `records[${i}].seal` })
    return sealRefFrom(seal[0], seal[1], proofs.length, `records[${i}].seal`)
  })
  return { batches: proofs, refs }
}
