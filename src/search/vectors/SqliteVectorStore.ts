/**
 * Vectors in their own SQLite file (`vectors.db` in the data dir, beside the store: derived,
 * local, deleting it only costs re-embedding). Every vector is also held in memory
 * (VectorMatrix.ts), loaded at open, where searches run; writes go to the file first, in one
 * transaction with the cursor, then to memory.
 *
 * Layout: `vectors (kind, key, vec)` with vec the little-endian float32 bytes of the normalized
 * vector; `vector_state`: one row with the model and the cursor.
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { STORE_UNAVAILABLE } from '../../core/errors.ts'
import type { RecordKind } from '../../core/model.ts'
import { checkDims } from './MemoryVectorStore.ts'
import { normalized, VectorMatrix } from './VectorMatrix.ts'
import type { VectorHit, VectorMeta, VectorStore, VectorWrite } from './VectorStore.ts'

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS vectors (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    vec BLOB NOT NULL,
    PRIMARY KEY (kind, key)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS vector_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    model TEXT,
    cursor INTEGER NOT NULL
  ) STRICT;
  INSERT OR IGNORE INTO vector_state VALUES (1, NULL, 0);
`

export class SqliteVectorStore implements VectorStore {
  readonly file: string
  private readonly db: DatabaseSync
  private readonly matrix = new VectorMatrix()
  private readonly put: StatementSync
  private readonly drop: StatementSync
  private readonly saveState: StatementSync
  private state: { model: string | undefined, cursor: number }

  private constructor (file: string, db: DatabaseSync) {
    this.file = file
    this.db = db
    this.put = db.prepare('INSERT INTO vectors (kind, key, vec) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET vec = excluded.vec')
    this.drop = db.prepare('DELETE FROM vectors WHERE kind = ? AND key = ?')
    this.saveState = db.prepare('UPDATE vector_state SET model = ?, cursor = ? WHERE id = 1')
    const row = db.prepare('SELECT model, cursor FROM vector_state WHERE id = 1').get() as { model: string | null, cursor: number }
    this.state = { model: row.model ?? undefined, cursor: row.cursor }
    for (const r of db.prepare('SELECT kind, key, vec FROM vectors').iterate() as Iterable<{ kind: RecordKind, key: string, vec: Uint8Array }>) {
      this.matrix.set(r.kind, r.key, new Float32Array(r.vec.buffer.slice(r.vec.byteOffset, r.vec.byteOffset + r.vec.byteLength)))
    }
  }

  static open (file: string): SqliteVectorStore {
    let db: DatabaseSync | undefined
    try {
      mkdirSync(dirname(file), { recursive: true })
      db = new DatabaseSync(file, { timeout: 5000 })
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL')
      db.exec(SCHEMA)
      return new SqliteVectorStore(file, db)
    } catch (e) {
      try { db?.close() } catch { /* already failing */ }
      throw STORE_UNAVAILABLE(`cannot open the vector file ${file}: ${e instanceof Error ? e.message : String(e)}; it holds only derived data: delete it to start over`, { file }, e)
    }
  }

  meta (): VectorMeta {
    return { model: this.state.model, cursor: this.state.cursor, count: this.matrix.size }
  }

  write (entries: readonly VectorWrite[], cursor: number): void {
    const units = entries.map(e => (e.vector === undefined ? undefined : normalized(e.vector)))
    const dims = units.find(u => u !== undefined)?.length
    if (dims !== undefined) checkDims(this.matrix.size === 0 ? dims : this.matrix.dims, units)
    this.db.exec('BEGIN IMMEDIATE')
    try {
      entries.forEach((e, i) => {
        const u = units[i]
        if (u === undefined) this.drop.run(e.kind, e.key)
        else this.put.run(e.kind, e.key, new Uint8Array(u.buffer, u.byteOffset, u.byteLength))
      })
      this.saveState.run(this.state.model ?? null, cursor)
      this.db.exec('COMMIT')
    } catch (e) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      throw e
    }
    entries.forEach((e, i) => {
      const u = units[i]
      if (u === undefined) this.matrix.delete(e.kind, e.key)
      else this.matrix.set(e.kind, e.key, u)
    })
    this.state.cursor = cursor
  }

  reset (model: string): void {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      this.db.exec('DELETE FROM vectors')
      this.saveState.run(model, 0)
      this.db.exec('COMMIT')
    } catch (e) {
      if (this.db.isTransaction) this.db.exec('ROLLBACK')
      throw e
    }
    this.matrix.clear()
    this.state = { model, cursor: 0 }
  }

  nearest (vector: Float32Array, limit: number, kinds?: readonly RecordKind[]): VectorHit[] {
    return this.matrix.nearest(vector, limit, kinds)
  }

  keys (): Array<{ kind: RecordKind, key: string }> { return this.matrix.keys() }

  close (): void {
    this.db.close()
  }
}
