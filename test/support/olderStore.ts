/**
 * A store file as an older engram wrote it, made from one this build wrote: every table and
 * index that a later migration (src/store/sqlite/schema.ts MIGRATIONS) creates is dropped, and
 * the file's version set back. The records stay as they are, so a test can open it and check
 * what the upgrade does. Read from the migrations themselves, so a new migration is left out of
 * an older file without the tests that make one having to know about it.
 */
import { DatabaseSync } from 'node:sqlite'
import { MIGRATIONS } from '../../src/store/sqlite/schema.ts'

/** Turns the (closed) store file `file` into a file of store schema version `version`. */
export function makeOlderStoreFile (file: string, version: number): void {
  if (!MIGRATIONS.some(m => m.version === version)) throw new Error(`no store schema version ${version}`)
  const drops: string[] = []
  for (const m of MIGRATIONS.filter(x => x.version > version)) {
    for (const [, kind, name] of m.sql.matchAll(/CREATE\s+(?:VIRTUAL\s+)?(TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)/gi)) {
      drops.push(`DROP ${kind!.toUpperCase()} IF EXISTS ${name!};`)
    }
  }
  const db = new DatabaseSync(file)
  try {
    db.exec(`${drops.reverse().join('\n')}\nPRAGMA user_version = ${version}`)
  } finally {
    db.close()
  }
}
