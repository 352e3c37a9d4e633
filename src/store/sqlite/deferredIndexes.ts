/**
 * The secondary indexes of `triples` that a far-behind catch-up leaves out while it writes
 * (Store ApplyOptions.deferIndexes, replication/farBehind.ts) and that are built again once at
 * its end (Store buildDeferredIndexes).
 *
 * Why: a catch-up page inserts its triples at random places of every index of the table, and in
 * a large store each commit writes back most pages of each (writer.ts). Measured in one process,
 * 1,000,000 triples in pages of 10,000: the store's CPU time per page grew from 90 ms to 330 ms
 * along the way with these indexes, to 200–270 ms without them; CREATE INDEX afterwards (a sort)
 * took 1.4–1.7 s for the three. What is left is the table itself and its UNIQUE index of triple ids,
 * which the merge needs on every write.
 *
 * Which indexes are deferred is the file's own schema: an index of DEFERRABLE missing from
 * `sqlite_schema` is waiting to be built. DROP INDEX and CREATE INDEX are part of the
 * transaction they run in, so the state commits with the page that dropped them (or with the
 * build), survives a restart, and is never half-written. Meanwhile every query answers the same:
 * SQLite's planner scans where it would have used a missing index (slower, never wrong).
 *
 * The file's schema is read once and then kept: only this class changes these indexes (the store
 * is its file's one writer), and what it changed is read again after it, or after a rollback
 * (`forget`). Every commit asks whether indexes wait to be built (search/Reindexer.ts), so
 * that question reads no schema.
 *
 * The statements are those of the migrations that made the indexes (schema.ts versions 1 and 2;
 * a test checks that they are the same).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'

/** Index name → the statement that makes it, in the order they are built again. */
export const DEFERRABLE: ReadonlyArray<readonly [string, string]> = [
  ['triples_sp', 'CREATE INDEX triples_sp ON triples (subject, predicate)'],
  ['triples_po', 'CREATE INDEX triples_po ON triples (predicate, okind, ovalue)'],
  ['triples_node_object', 'CREATE INDEX triples_node_object ON triples (ovalue) WHERE okind = 1']
]

export class DeferredIndexes {
  private readonly db: DatabaseSync
  private readonly present: StatementSync
  /** What missing() answered, until this class changes the schema or a transaction rolls back. */
  private known: string[] | undefined

  constructor (db: DatabaseSync) {
    this.db = db
    this.present = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'triples'")
  }

  /** The deferrable indexes the file lacks now (waiting to be built), in build order. */
  missing (): readonly string[] {
    if (this.known === undefined) {
      const present = new Set((this.present.all() as Array<{ name: string }>).map(r => r.name))
      this.known = DEFERRABLE.filter(([name]) => !present.has(name)).map(([name]) => name)
    }
    return this.known
  }

  /** Drops the deferrable indexes still present (inside the caller's transaction). */
  drop (): void {
    if (this.missing().length === DEFERRABLE.length) return
    this.known = undefined
    for (const [name] of DEFERRABLE) this.db.exec(`DROP INDEX IF EXISTS ${name}`)
  }

  /** The transaction that changed the schema rolled back: read it again. */
  forget (): void {
    this.known = undefined
  }

  /** Builds the next missing index (inside the caller's transaction); how many are missing after it. */
  buildNext (): number {
    const missing = this.missing()
    const next = DEFERRABLE.find(([name]) => name === missing[0])
    if (next === undefined) return 0
    this.known = undefined
    this.db.exec(next[1])
    return missing.length - 1
  }
}
