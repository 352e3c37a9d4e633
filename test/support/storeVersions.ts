/**
 * Store files of older schema versions (src/store/sqlite/schema.ts), made from a file of the
 * current version by undoing the later migrations in reverse: the records stay, the tables and
 * columns those migrations added go, and `user_version` says the older version — what an older
 * engram leaves behind. Version 2 (the full-text index) has no seals, batches or history (its
 * records are the same, unsigned); version 1 has no text index either.
 */
import { DatabaseSync } from 'node:sqlite'

const RECORD_TABLES = ['triples', 'notes', 'episodes', 'traces']

/** Undoes migration 3 (seals of states, signed batches, history). */
const UNDO_3 = [
  'DROP TABLE history',
  'DROP TABLE batches',
  ...RECORD_TABLES.flatMap(t => [`ALTER TABLE ${t} DROP COLUMN batch`, `ALTER TABLE ${t} DROP COLUMN leaf`])
]

/** Undoes migration 2 (the full-text index and the index of node objects). */
const UNDO_2 = ['DROP TABLE text_index', 'DROP TABLE text_index_state', 'DROP INDEX triples_node_object']

/** Turns the closed store file `file`, of the current version, into one of `version`. */
export function downgradeStore (file: string, version: 1 | 2): void {
  const db = new DatabaseSync(file)
  try {
    db.exec('BEGIN IMMEDIATE')
    for (const sql of version === 1 ? [...UNDO_3, ...UNDO_2] : UNDO_3) db.exec(sql)
    db.exec(`PRAGMA user_version = ${version}`)
    db.exec('COMMIT')
  } finally {
    db.close()
  }
}
