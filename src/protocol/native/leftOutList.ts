/**
 * The list of what a pruned page left out (`ls`, docs/PROTOCOL.md "Dissemination"): per origin,
 * each record's stamp and the print of its identity, and its form on the wire. The receiver
 * answers an announcement by holding each listed record (gossipRoutes.ts).
 */
import { PROTOCOL } from '../../core/errors.ts'
import { MAX_COUNTER, MAX_WALL } from '../../core/hlc.ts'
import { isNodeId, type NodeId } from '../../core/ids.ts'
import { MAX_KNOWLEDGE_ENTRIES } from '../../core/knowledge.ts'
import { recordKey, type MemoryRecord } from '../../core/model.ts'

/** Most origins in one `ls` (as in `lz`, `prune` and `g`). */
const MAX_ORIGINS = MAX_KNOWLEDGE_ENTRIES

/** One record a page left out: its stamp and the fingerprint of its identity (`leftOutPrint`). */
export interface LeftOutStamp {
  readonly wall: number
  readonly counter: number
  readonly print: number
}

/** Every record of one origin a page left out (`ls`, beside the origin's `lz` row). */
export interface LeftOutStamps {
  readonly node: NodeId
  readonly stamps: readonly LeftOutStamp[]
}

/**
 * The fingerprint of a record's identity sent with its stamp in `ls`: 32-bit FNV-1a of its kind
 * and key (UTF-16 code units). With the stamp it names one state of one record: an origin issues
 * each stamp once (a clock repair aside, whose reissued stamps would also have to fall on a
 * record of the same print: docs/LIMITS.md).
 */
export function leftOutPrint (r: MemoryRecord): number {
  let h = 0x811c9dc5
  const text = `${r.kind}\u0000${recordKey(r)}`
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

const isInt = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max

/**
 * A page's `ls` as sent: per origin `[node, base, d, counter, print, d, counter, print, …]`, each
 * record's wall `base - d` (base: the highest wall of the row), so most fields are small.
 */
export function leftOutRows (list: readonly LeftOutStamps[]): unknown[] {
  return list.map(l => {
    const base = l.stamps.reduce((m, s) => Math.max(m, s.wall), 0)
    const row: unknown[] = [l.node, base]
    for (const s of l.stamps) row.push(base - s.wall, s.counter, s.print)
    return row
  })
}

/** Checks a page's `ls` (at most MAX_ORIGINS rows, `maxStamps` records in all); throws PROTOCOL naming the field. */
export function parseLeftOutRows (value: unknown, field: string, maxStamps: number): LeftOutStamps[] {
  if (!Array.isArray(value)) throw PROTOCOL(`${field}: must be an array of [node, base, d, counter, print, …]`, { field })
  if (value.length > MAX_ORIGINS) throw PROTOCOL(`${field}: ${value.length} origins; at most ${MAX_ORIGINS}`, { field })
  let total = 0
  return value.map((row: unknown, i) => {
    if (!Array.isArray(row) || row.length < 2 || (row.length - 2) % 3 !== 0) throw PROTOCOL(`${field}[${i}]: must be [node, base, d, counter, print, …]`, { field })
    const [node, base] = row as unknown[]
    if (!isNodeId(node)) throw PROTOCOL(`${field}[${i}][0]: must be a node id`, { field })
    if (!isInt(base, MAX_WALL)) throw PROTOCOL(`${field}[${i}][1]: must be a wall time`, { field })
    total += (row.length - 2) / 3
    if (total > maxStamps) throw PROTOCOL(`${field}: more than ${maxStamps} records`, { field })
    const stamps: LeftOutStamp[] = []
    for (let j = 2; j < row.length; j += 3) {
      const [d, counter, print] = [row[j], row[j + 1], row[j + 2]] as unknown[]
      if (!isInt(d, base) || !isInt(counter, MAX_COUNTER) || !isInt(print, 0xffffffff)) throw PROTOCOL(`${field}[${i}][${j}]: wall offset, counter and print must be integers in range`, { field })
      stamps.push({ wall: base - d, counter, print })
    }
    return { node, stamps }
  })
}
