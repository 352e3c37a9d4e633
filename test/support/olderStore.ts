/**
 * A store file as an older engram wrote it, made from one this build wrote: every table and
 * index that a later migration (src/store/sqlite/schema.ts MIGRATIONS) creates is dropped, every
 * column it adds to an older table is dropped, in reverse order, and the file's version set back.
 * The records stay as they are (the states of a file before signatures are the same, unsigned),
 * so a test can open it and check what the upgrade does. Read from the migrations themselves, so
 * a new migration is left out of an older file without the tests that make one having to know
 * about it.
 */
import { DatabaseSync } from 'node:sqlite'
import { MIGRATIONS } from '../../src/store/sqlite/schema.ts'

const CHANGE = /CREATE\s+(?:VIRTUAL\s+)?(TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)|ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)/gi

/** Turns the (closed) store file `file` into a file of store schema version `version`. */
export function makeOlderStoreFile (file: string, version: number): void {
  if (!MIGRATIONS.some(m => m.version === version)) throw new Error(`no store schema version ${version}`)
  const undo: string[] = []
  for (const m of MIGRATIONS.filter(x => x.version > version)) {
    for (const [, kind, name, table, column] of m.sql.matchAll(CHANGE)) {
      undo.push(kind !== undefined ? `DROP ${kind.toUpperCase()} IF EXISTS ${name!};` : `ALTER TABLE ${table!} DROP COLUMN ${column!};`)
    }
  }
  const db = new DatabaseSync(file)
  try {
    db.exec('BEGIN IMMEDIATE')
    db.exec(undo.reverse().join('\n'))
    db.exec(`PRAGMA user_version = ${version}`)
    db.exec('COMMIT')
  } finally {
    db.close()
  }
}
