/**
 * Records on the native wire: rows (docs/PROTOCOL.md "Record rows").
 *
 * A message that carries records (`changes`, gossip `records`) sends them as positional arrays,
 * with the HLC node ids of the message in one table `nodes`, each row naming its node by index:
 *
 *   triple   [0, subject, predicate, object, wall, counter, node, deleted]
 *   note     [1, key, value, wall, counter, node, deleted]
 *   episode  [2, id, data, wall, counter, node]
 *   trace    [3, runId, type, data, wall, counter, node]
 *
 * `object` is the term in its JSON form (DATA-MODEL.md: a string, number or boolean, or
 * `{"node": …}`, `{"datetime": …}`, `{"text": …, "lang": …}`, `{"json": …}`). The ids of triples
 * and traces are content hashes: they are never sent, the receiver computes them. A row is a
 * quarter of the size of the record's plain map (no keys, no id, no repeated node id), which is
 * what a bootstrap of a whole store is made of.
 *
 * `checkRowAt` is the gate: every field goes through the same checks as a plain record
 * (core/records.ts checkRecord); any failure is a PROTOCOL error naming the row.
 *
 * Signatures (docs/PROTOCOL.md "Signatures"): a message with signed records has `batches`, each
 * `[signer, wall, counter, n, sig, proof]` (`signer` an index into `nodes`, or a node id;
 * `proof` the concatenated 32-byte hashes), and a signed record's row has two more fields,
 * `batch` (an index into `batches`) and `leaf`. A node that does not know signatures ignores
 * both (extra row fields and unknown message fields are ignored), and sends rows without them.
 */
import { PROTOCOL, isEngramError, type EngramError } from '../../core/errors.ts'
import { asNodeId, isNodeId, type NodeId } from '../../core/ids.ts'
import type { MemoryRecord } from '../../core/model.ts'
import { isStamp } from '../../core/hlc.ts'
import { LIMITS } from '../../core/limits.ts'
import { checkRecord, tripleRecord } from '../../core/records.ts'
import { batchFromTuple, isSealRef, sealRefFrom, type BatchProof, type PageSeals, type SealRef } from '../../core/seals.ts'
import { fitsString, plainTerm, termToJson } from '../../core/validate.ts'

const KINDS = ['triple', 'note', 'episode', 'trace'] as const
/** Fields of each kind's row, kind code included. */
const ROW_LENGTH = [8, 7, 6, 7] as const

/** Records as rows, with their node table, and the batches of their signatures (when any). */
export interface Rows {
  readonly nodes: string[]
  readonly rows: unknown[][]
  readonly batches?: unknown[][]
}

/**
 * The rows of `records`, in order, and the table of their node ids (in order of first use);
 * with `seals`, the batches and each signed row's [batch, leaf].
 */
export function encodeRows (records: readonly MemoryRecord[], seals?: PageSeals): Rows {
  const index = new Map<string, number>()
  const nodes: string[] = []
  const rows: unknown[][] = new Array<unknown[]>(records.length)
  for (let i = 0; i < records.length; i++) {
    rows[i] = rowOf(records[i]!, nodeIndex(records[i]!.hlc.node, index, nodes))
  }
  if (seals === undefined || seals.batches.length === 0) return { nodes, rows }
  for (let i = 0; i < rows.length; i++) {
    const ref = seals.refs[i]
    if (ref !== undefined) rows[i]!.push(ref.batch, ref.leaf)
  }
  return { nodes, rows, batches: batchRows(seals, index) }
}

/** The index of `node` in a message's node table (`nodes`, by `index`), added when it is not there yet. */
export function nodeIndex (node: string, index: Map<string, number>, nodes: string[]): number {
  let n = index.get(node)
  if (n === undefined) {
    n = nodes.length
    nodes.push(node)
    index.set(node, n)
  }
  return n
}

/** The row of `r` (without its seal), its node the `n`th of the message's node table. */
export function rowOf (r: MemoryRecord, n: number): unknown[] {
  const h = r.hlc
  switch (r.kind) {
    case 'triple': return [0, r.subject, r.predicate, termToJson(r.object), h.wall, h.counter, n, r.deleted]
    case 'note': return [1, r.key, r.value, h.wall, h.counter, n, r.deleted]
    case 'episode': return [2, r.id, r.data, h.wall, h.counter, n]
    case 'trace': return [3, r.runId, r.type, r.data, h.wall, h.counter, n]
  }
}

/** The `batches` of a message: each signer by its index in the node table (`index`), or its id. */
export function batchRows (seals: PageSeals, index: ReadonlyMap<string, number>): unknown[][] {
  return seals.batches.map(b => [index.get(b.signer) ?? b.signer, b.at.wall, b.at.counter, b.n, b.sig, Buffer.concat(b.proof)])
}

/**
 * The `batches` of a message (absent: none), checked; any failure is a PROTOCOL error naming the
 * field. `bytesOf` reads `sig` and `proof` (default: binary, as the native frame encoding gives them).
 */
export function batchesOf (value: unknown, nodes: readonly string[], field: string, max: number,
  bytesOf: (v: unknown) => Uint8Array | undefined = v => (v instanceof Uint8Array ? v : undefined)): BatchProof[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw bad(field, 'must be an array of batches')
  if (value.length > max) throw bad(field, `holds ${value.length} batches for ${max} records (at most one per record)`)
  const signerOf = (v: unknown): NodeId | undefined =>
    typeof v === 'number' ? (Number.isInteger(v) && v >= 0 && v < nodes.length ? asNodeId(nodes[v]!) : undefined) : isNodeId(v) ? v : undefined
  return value.map((b: unknown, i) => batchFromTuple(b, `${field}[${i}]`, signerOf, bytesOf))
}

/**
 * The [batch, leaf] a row carries after its kind's fields, or undefined (unsigned). PROTOCOL
 * naming the row when malformed: `field`, or `field[index]` for a row of a list.
 */
export function rowSealAt (row: unknown, batches: number, field: string, index?: number): SealRef | undefined {
  if (!Array.isArray(row)) return undefined
  const len = ROW_LENGTH[row[0] as number]
  if (len === undefined || row.length < len + 2) return undefined
  const batch = row[len] as unknown
  const leaf = row[len + 1] as unknown
  // the common case taken as sealRefFrom takes it, without the row's name
  if (isSealRef(batch, leaf, batches)) return { batch, leaf: leaf as number }
  return sealRefFrom(batch, leaf, batches, index === undefined ? field : `${field}[${index}]`)
}

/**
 * The envelope of a message's rows: `rows` an array of at most `max` items and `nodes` an array
 * of at most as many node ids. The rows themselves are checked one by one with checkRowAt.
 */
export function rowsOf (nodes: unknown, rows: unknown, field: string, max: number): { nodes: readonly string[], rows: readonly unknown[] } {
  if (!Array.isArray(rows)) throw bad(`${field}.records`, 'must be an array of record rows')
  if (rows.length > max) throw bad(`${field}.records`, `holds ${rows.length} records, over the limit of ${max}`)
  if (!Array.isArray(nodes)) throw bad(`${field}.nodes`, 'must be an array of node ids')
  if (nodes.length > Math.max(1, rows.length)) throw bad(`${field}.nodes`, `holds ${nodes.length} node ids for ${rows.length} records (at most one per record)`)
  for (let i = 0; i < nodes.length; i++) if (!isNodeId(nodes[i])) throw bad(`${field}.nodes[${i}]`, 'must be a node id (1-128 of A-Z a-z 0-9 . _ -)')
  return { nodes: nodes as string[], rows }
}

/**
 * One row from a peer as a checked record; any failure is a PROTOCOL error naming the row:
 * `field`, or `field[index]` for a row of a list (the name is made only for a row that needs it).
 */
export function checkRowAt (row: unknown, nodes: readonly string[], list: string, index?: number): MemoryRecord {
  // the common case, a triple whose every field is taken as it is, without its plain form
  if (Array.isArray(row) && row[0] === 0 && row.length >= ROW_LENGTH[0]) {
    const triple = plainTriple(row, nodes)
    if (triple !== undefined) return triple
  }
  const field = index === undefined ? list : `${list}[${index}]`
  if (!Array.isArray(row)) throw bad(field, 'must be a record row [kind, …]')
  const code = row[0] as unknown
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 0 || code >= KINDS.length) {
    throw bad(`${field}[0]`, 'must be the record kind: 0 (triple), 1 (note), 2 (episode) or 3 (trace)')
  }
  const len = ROW_LENGTH[code]!
  if (row.length < len) throw bad(field, `a ${KINDS[code]} row has ${len} fields (got ${row.length})`)
  const at = len - (code === 0 || code === 1 ? 2 : 1)
  const n = row[at] as unknown
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= nodes.length) {
    throw bad(`${field}[${at}]`, `must be an index into nodes (0 to ${nodes.length - 1})`)
  }
  const hlc = { wall: row[at - 2], counter: row[at - 1], node: nodes[n] }
  let plain: Record<string, unknown>
  switch (code) {
    case 0: plain = { kind: 'triple', subject: row[1], predicate: row[2], object: row[3], hlc, deleted: row[7] }; break
    case 1: plain = { kind: 'note', key: row[1], value: row[2], hlc, deleted: row[6] }; break
    case 2: plain = { kind: 'episode', id: row[1], data: row[2], hlc }; break
    default: plain = { kind: 'trace', runId: row[1], type: row[2], data: row[3], hlc }
  }
  try {
    return checkRecord(plain, field, { ids: 'derive' })
  } catch (e) {
    if (isEngramError(e)) throw PROTOCOL(e.message.startsWith(field) ? e.message : `${field}: ${e.message}`, { field, cause: e.code })
    throw bad(field, `is not a valid record (${e instanceof Error ? e.message : String(e)})`)
  }
}

/**
 * A triple row `[0, subject, predicate, object, wall, counter, node, deleted]` whose every field
 * checkRecord takes as it is (fitsString, plainTerm, isStamp): the record checkRecord would make
 * of it. Undefined for any other: checkRowAt then goes the general way, which names what fails.
 */
function plainTriple (row: readonly unknown[], nodes: readonly string[]): MemoryRecord | undefined {
  const subject = row[1]
  const predicate = row[2]
  const n = row[6]
  const wall = row[4]
  const counter = row[5]
  const deleted = row[7]
  if (!fitsString(subject, LIMITS.nameBytes) || !fitsString(predicate, LIMITS.nameBytes) || typeof deleted !== 'boolean') return undefined
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= nodes.length) return undefined
  const node = nodes[n]
  if (!isStamp(wall, counter, node)) return undefined
  const object = plainTerm(row[3])
  if (object === undefined) return undefined
  return tripleRecord(subject, predicate, object, { wall: wall as number, counter: counter as number, node }, deleted)
}

/** Rows (already through rowsOf), each checked with checkRowAt; errors are PROTOCOL errors naming the row. */
export function checkRows (nodes: readonly string[], rows: readonly unknown[], field: string): MemoryRecord[] {
  const out: MemoryRecord[] = new Array<MemoryRecord>(rows.length)
  for (let i = 0; i < rows.length; i++) out[i] = checkRowAt(rows[i], nodes, field, i)
  return out
}

/** The seals of checked rows: the message's batches and each row's [batch, leaf]; undefined when none is signed. */
export function sealsOf (batches: readonly BatchProof[], rows: readonly unknown[], field: string): PageSeals | undefined {
  if (batches.length === 0) return undefined
  const refs: Array<SealRef | undefined> = new Array<SealRef | undefined>(rows.length)
  for (let i = 0; i < rows.length; i++) refs[i] = rowSealAt(rows[i], batches.length, field, i)
  return { batches, refs }
}

function bad (field: string, problem: string): EngramError {
  return PROTOCOL(`${field}: ${problem}`, { field })
}
