/**
 * The `batches` table (provenanceSchema.ts): signed batches, each stored once under its key (the
 * BLAKE3 of its signed message), with the tree hashes this node knows of it and how many stored
 * states belong to it. Receiving more of a batch adds the hashes that came with it.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { KnownHashes } from '../../core/merkle.ts'
import { batchKey } from '../../core/seals.ts'
import type { SignedBatch } from '../../core/signing.ts'
import type { NodeNames } from './nodes.ts'

interface BatchRow {
  signer: number
  at_wall: number
  at_counter: number
  n: number
  root: Uint8Array
  sig: Uint8Array
  known: Uint8Array
}

export class BatchTable {
  private readonly nodes: NodeNames
  private readonly selectByKey: StatementSync
  private readonly insert: StatementSync
  private readonly updateKnown: StatementSync
  private readonly addRefs: StatementSync
  private readonly select: StatementSync
  private readonly dropUnused: StatementSync
  private readonly countAll: StatementSync
  private readonly deleteOne: StatementSync

  constructor (db: DatabaseSync, nodes: NodeNames) {
    this.nodes = nodes
    this.selectByKey = db.prepare('SELECT id, n, known FROM batches WHERE key = ?')
    this.insert = db.prepare(`INSERT INTO batches (key, signer, at_wall, at_counter, n, root, sig, known, refs)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)`)
    this.updateKnown = db.prepare('UPDATE batches SET known = ? WHERE id = ?')
    this.addRefs = db.prepare('UPDATE batches SET refs = refs + ? WHERE id = ?')
    this.select = db.prepare('SELECT signer, at_wall, at_counter, n, root, sig, known FROM batches WHERE id = ?')
    this.dropUnused = db.prepare('DELETE FROM batches WHERE refs <= 0')
    this.countAll = db.prepare('SELECT count(*) AS n FROM batches')
    this.deleteOne = db.prepare('DELETE FROM batches WHERE id = ?')
  }

  /**
   * The local number of `b`, storing it (`created`), or adding the hashes it brings to the stored
   * one. In a write transaction.
   */
  resolve (b: SignedBatch): { id: number, created: boolean } {
    const key = Buffer.from(batchKey(b), 'hex')
    const row = this.selectByKey.get(key) as { id: number, n: number, known: Uint8Array } | undefined
    if (row === undefined) {
      const h = b.header
      const id = Number(this.insert.run(key, this.nodes.idOf(h.signer), h.at.wall, h.at.counter, h.n, h.root, b.sig, b.known.encode()).lastInsertRowid)
      return { id, created: true }
    }
    const known = KnownHashes.decode(row.n, row.known)
    const before = known.size
    known.merge(b.known)
    if (known.size > before) this.updateKnown.run(known.encode(), row.id)
    return { id: row.id, created: false }
  }

  /** Removes a batch (one stored by the current transaction that no state ended up belonging to). */
  drop (id: number): void {
    this.deleteOne.run(id)
  }

  /** Adds `delta` to how many stored states belong to each batch. In a write transaction. */
  count (deltas: ReadonlyMap<number, number>): void {
    for (const [id, delta] of deltas) if (delta !== 0) this.addRefs.run(delta, id)
  }

  get (id: number): SignedBatch | undefined {
    const r = this.select.get(id) as BatchRow | undefined
    if (r === undefined) return undefined
    return {
      header: { signer: this.nodes.nameOf(r.signer), at: { wall: r.at_wall, counter: r.at_counter }, n: r.n, root: r.root },
      sig: r.sig,
      known: KnownHashes.decode(r.n, r.known)
    }
  }

  /** Drops the batches no stored state belongs to (found through their partial index, schema.ts v7). In a write transaction. */
  collect (): void {
    this.dropUnused.run()
  }

  size (): number {
    return (this.countAll.get() as { n: number }).n
  }
}
