/**
 * The whole-store dump (`engram export`, `engram import`, GET /api/v1/export): newline-delimited
 * JSON, one header line, then one record per line in the plain form sync sends
 * (records.ts recordToPlain: kind, content, stamp, tombstone flag), tombstones included, so that
 * importing a dump merges it by the usual rules (a newer state wins, a deletion stays deleted)
 * and every record keeps its stamp and the node that wrote it.
 *
 *   {"format": "engram-dump", "version": 1, "nodeId": "12D3KooW…", "exportedAt": "…", "records": 1544}
 *   {"kind": "triple", "id": "…", "subject": "user:alice", …, "hlc": {…}, "deleted": false}
 *   …
 *   {"format": "engram-dump", "end": true, "records": 1544}
 *
 * The header's `records` is the number of records the store held when the export began: a
 * count for progress (records written during the export may be in it too). The last line says
 * the dump is whole and how many record lines it has: a dump without it was cut short. Pure.
 */
import { INVALID_INPUT } from './errors.ts'

export const DUMP_FORMAT = 'engram-dump'
export const DUMP_VERSION = 1

export interface DumpHeader {
  readonly format: typeof DUMP_FORMAT
  readonly version: number
  /** The node the dump was taken from. */
  readonly nodeId: string
  readonly exportedAt: string
  /** Records in the store when the export began (for progress). */
  readonly records: number
}

export function dumpHeader (nodeId: string, records: number, now: Date): DumpHeader {
  return { format: DUMP_FORMAT, version: DUMP_VERSION, nodeId, exportedAt: now.toISOString(), records }
}

export interface DumpEnd {
  readonly format: typeof DUMP_FORMAT
  readonly end: true
  /** Record lines in the dump. */
  readonly records: number
}

export const dumpEnd = (records: number): DumpEnd => ({ format: DUMP_FORMAT, end: true, records })

/** Whether a parsed line is the end line. */
export const isDumpEnd = (v: unknown): v is DumpEnd =>
  typeof v === 'object' && v !== null && (v as Partial<DumpEnd>).format === DUMP_FORMAT && (v as Partial<DumpEnd>).end === true

/** The header of a dump from its first line; INVALID_INPUT when it is not one this version reads. */
export function parseDumpHeader (line: string, where: string): DumpHeader {
  let v: unknown
  try {
    v = JSON.parse(line)
  } catch {
    throw INVALID_INPUT(where, 'is not an engram dump: its first line is not JSON (engram export writes dumps; import-memory reads memory-server files)')
  }
  const h = v as Partial<DumpHeader> | null
  if (h === null || typeof h !== 'object' || h.format !== DUMP_FORMAT) {
    throw INVALID_INPUT(where, `is not an engram dump: its first line has no "format": "${DUMP_FORMAT}" (engram export writes dumps; import-memory reads memory-server files)`)
  }
  if (h.version !== DUMP_VERSION) {
    throw INVALID_INPUT(where, `is a dump of version ${String(h.version)}; this engram reads version ${DUMP_VERSION}: import it with the engram that exported it, or a newer one`)
  }
  return {
    format: DUMP_FORMAT,
    version: DUMP_VERSION,
    nodeId: String(h.nodeId ?? ''),
    exportedAt: String(h.exportedAt ?? ''),
    records: typeof h.records === 'number' && Number.isSafeInteger(h.records) && h.records >= 0 ? h.records : 0
  }
}
