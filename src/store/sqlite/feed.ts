/**
 * The changes feed: records whose current seq is above `after`, in seq order. Each kind's table
 * is keyed by seq, so each is read as a rowid range (`seq > after`), filtered in SQL (namespace,
 * via), at most `limit` rows. The tables are read one after the other and every table read
 * narrows the range for the next (once one table fills a page, nothing past its last seq can be
 * on this page); the rows are then merged by seq. A page costs O(limit) rows, whatever the size
 * of the store.
 *
 * `lastSeq` is where the next page starts: the seq of the page's last entry when the page is
 * full, otherwise the last seq issued (everything up to it was scanned, even when every entry in
 * between was filtered out), so a cursor always moves past filtered ranges.
 */
import type { SQLInputValue } from 'node:sqlite'
import type { Seq } from '../../core/ids.ts'
import { RECORD_KINDS } from '../../core/model.ts'
import { SYSTEM_NAMESPACE } from '../../core/system.ts'
import { checkChanges } from '../checks.ts'
import type { ChangesOptions, ChangesPage, FeedEntry } from '../Store.ts'
import type { NodeNames } from './nodes.ts'
import type { Reader } from './reader.ts'
import { arraySealOf, KIND_TABLES, type ArrayRow } from './rows.ts'

/** The tables in feed order. */
const TABLES = RECORD_KINDS.map(kind => ({ kind, ...KIND_TABLES[kind] }))

export function changesSince (reader: Reader, nodes: NodeNames, lastIssued: () => number, after: number, opts: ChangesOptions): ChangesPage {
  checkChanges(after, opts)
  const namespaces = opts.namespaces !== undefined && opts.namespaces.length > 0 ? JSON.stringify([...opts.namespaces, SYSTEM_NAMESPACE]) : undefined
  return reader.read(() => {
    const last = lastIssued()
    const viaId = opts.excludeVia === undefined ? undefined : nodes.find(opts.excludeVia)
    let upper = last
    const entries: FeedEntry[] = []
    for (const t of TABLES) {
      if (after >= upper) break
      if (opts.kinds !== undefined && !opts.kinds.includes(t.kind)) continue
      let sql = `SELECT ${t.arrayColumns} FROM ${t.table} WHERE seq > ? AND seq <= ?`
      const params: SQLInputValue[] = [after, upper]
      if (viaId !== undefined) { sql += ' AND via IS NOT ?'; params.push(viaId) }
      if (namespaces !== undefined) {
        sql += ` AND substr(${t.name}, 1, instr(${t.name}, ':') - 1) IN (SELECT value FROM json_each(?))`
        params.push(namespaces)
      }
      sql += ' ORDER BY seq LIMIT ?'
      params.push(opts.limit)
      // rows as arrays: [seq, wall, counter, origin, via, …] (rows.ts ArrayRow)
      const rows = reader.arrays(sql).all(...params) as unknown as ArrayRow[]
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!
        const seq = row[0] as Seq
        const via = row[4] as number | null
        const seal = arraySealOf(t.kind, row)
        const record = t.fromArray(row, nodes)
        const entry: FeedEntry = seal === undefined ? { seq, record } : { seq, record, seal }
        entries.push(opts.withVia === true && via !== null ? { ...entry, via: nodes.nameOf(via) } : entry)
      }
      if (rows.length === opts.limit) upper = rows[rows.length - 1]![0] as number
    }
    entries.sort((a, b) => a.seq - b.seq)
    if (entries.length > opts.limit) entries.length = opts.limit
    const lastSeq = entries.length === opts.limit ? entries[entries.length - 1]!.seq : Math.max(after, last)
    return { entries, lastSeq: lastSeq as Seq, hasMore: lastSeq < last }
  })
}
