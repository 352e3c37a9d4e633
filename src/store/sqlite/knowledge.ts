/**
 * What the SQLite store knows and holds aside (schema version 3): the knowledge vector
 * (`knowledge`), the clock voids learnt (`voids`) and the records held aside (`held`, with their
 * seals since version 4: a held record's batch counts it among what belongs to it, so it is kept
 * while the record is held), read and written with prepared statements. The writes run inside
 * the writer's transactions (writer.ts), so they commit with the records and the cursor that
 * justify them.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { STORE_CORRUPT } from '../../core/errors.ts'
import { compareMark, type HlcMark } from '../../core/hlc.ts'
import type { NodeId } from '../../core/ids.ts'
import type { ClockVoid, KnowledgeEntry } from '../../core/knowledge.ts'
import type { MemoryRecord } from '../../core/model.ts'
import type { StoredSeal } from '../../core/seals.ts'
import { checkRecord, recordToPlain } from '../../core/records.ts'
import { heldIdent } from '../decide.ts'
import type { HeldOrigin, HeldRecord } from '../Store.ts'
import type { SealWork } from './records.ts'
import { sealOf } from './rows.ts'

interface HeldRow { id: number, via: string | null, arrived: number, record: string, batch: number | null, leaf: number | null }

export class KnowledgeTables {
  private readonly selectKnowledge: StatementSync
  private readonly selectEntry: StatementSync
  private readonly upsertEntry: StatementSync
  private readonly selectVoids: StatementSync
  private readonly selectVoid: StatementSync
  private readonly upsertVoid: StatementSync
  private readonly insertHeld: StatementSync
  private readonly deleteHeld: StatementSync
  private readonly deleteHeldAbove: StatementSync
  private readonly selectHeldSeal: StatementSync
  private readonly selectHeldAboveSeals: StatementSync
  private readonly selectHeld: StatementSync
  private readonly selectHeldUpTo: StatementSync
  private readonly selectOrigins: StatementSync
  private readonly selectCounterLo: StatementSync
  private readonly selectCounterHi: StatementSync

  constructor (db: DatabaseSync) {
    this.selectKnowledge = db.prepare('SELECT node, wall, counter FROM knowledge ORDER BY node')
    this.selectEntry = db.prepare('SELECT wall, counter FROM knowledge WHERE node = ?')
    this.upsertEntry = db.prepare('INSERT INTO knowledge (node, wall, counter) VALUES (?, ?, ?) ON CONFLICT (node) DO UPDATE SET wall = excluded.wall, counter = excluded.counter')
    this.selectVoids = db.prepare('SELECT node, generation, wall, counter FROM voids ORDER BY node')
    this.selectVoid = db.prepare('SELECT generation FROM voids WHERE node = ?')
    this.upsertVoid = db.prepare(`INSERT INTO voids (node, generation, wall, counter) VALUES (?, ?, ?, ?)
      ON CONFLICT (node) DO UPDATE SET generation = excluded.generation, wall = excluded.wall, counter = excluded.counter`)
    this.insertHeld = db.prepare(`INSERT INTO held (ident, hlc_wall, hlc_counter, origin, via, arrived, record, batch, leaf)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ident) DO NOTHING`)
    this.deleteHeld = db.prepare('DELETE FROM held WHERE id = ?')
    const above = 'origin = ? AND (hlc_wall > ? OR (hlc_wall = ? AND hlc_counter > ?))'
    this.deleteHeldAbove = db.prepare(`DELETE FROM held WHERE ${above}`)
    this.selectHeldSeal = db.prepare('SELECT batch, leaf FROM held WHERE id = ?')
    this.selectHeldAboveSeals = db.prepare(`SELECT batch, leaf FROM held WHERE ${above} AND batch IS NOT NULL`)
    const columns = 'id, via, arrived, record, batch, leaf'
    this.selectHeld = db.prepare(`SELECT ${columns} FROM held ORDER BY hlc_wall, hlc_counter, origin, id LIMIT ?`)
    this.selectHeldUpTo = db.prepare(`SELECT ${columns} FROM held WHERE hlc_wall <= ? ORDER BY hlc_wall, hlc_counter, origin, id LIMIT ?`)
    this.selectOrigins = db.prepare('SELECT origin, count(*) AS n, min(hlc_wall) AS lo, max(hlc_wall) AS hi FROM held GROUP BY origin ORDER BY origin')
    this.selectCounterLo = db.prepare('SELECT min(hlc_counter) AS c FROM held WHERE origin = ? AND hlc_wall = ?')
    this.selectCounterHi = db.prepare('SELECT max(hlc_counter) AS c FROM held WHERE origin = ? AND hlc_wall = ?')
  }

  knowledge (): KnowledgeEntry[] {
    return (this.selectKnowledge.all() as Array<{ node: string, wall: number, counter: number }>).map(r => ({ node: r.node as NodeId, wall: r.wall, counter: r.counter }))
  }

  voids (): ClockVoid[] {
    return (this.selectVoids.all() as Array<{ node: string, generation: number, wall: number, counter: number }>)
      .map(r => ({ node: r.node as NodeId, generation: r.generation, wall: r.wall, counter: r.counter }))
  }

  /** Raises `node`'s entry to `m` (never lowers it). Inside a write transaction. */
  learn (node: NodeId, m: HlcMark): void {
    const row = this.selectEntry.get(node) as { wall: number, counter: number } | undefined
    if (row === undefined || compareMark(m, row) > 0) this.upsertEntry.run(node, m.wall, m.counter)
  }

  /** Lowers `node`'s entry to `m` when it is above. Inside a write transaction. */
  lower (node: NodeId, m: HlcMark): void {
    const row = this.selectEntry.get(node) as { wall: number, counter: number } | undefined
    if (row !== undefined && compareMark(row, m) > 0) this.upsertEntry.run(node, m.wall, m.counter)
  }

  /**
   * Records a void newer than the one recorded for its node: drops the held records of that node
   * stamped above it and lowers its knowledge entry. Returns how many held records it dropped,
   * or -1 when the void was not newer; their batches' counts go to `work`. Inside a write transaction.
   */
  applyVoid (v: ClockVoid, work: SealWork): number {
    const row = this.selectVoid.get(v.node) as { generation: number } | undefined
    if (row !== undefined && row.generation >= v.generation) return -1
    this.upsertVoid.run(v.node, v.generation, v.wall, v.counter)
    this.lower(v.node, v)
    for (const r of this.selectHeldAboveSeals.all(v.node, v.wall, v.wall, v.counter) as unknown as SealRow[]) work.count(sealOf(r), -1)
    return Number(this.deleteHeldAbove.run(v.node, v.wall, v.wall, v.counter).changes)
  }

  /** Records this node's own void, whatever was recorded. Inside a write transaction. */
  setVoid (v: ClockVoid): void {
    this.upsertVoid.run(v.node, v.generation, v.wall, v.counter)
  }

  /** Holds a record aside with its seal; false when that very state is held already. Inside a write transaction. */
  hold (r: MemoryRecord, via: NodeId | undefined, at: number, seal: StoredSeal | undefined): boolean {
    const run = this.insertHeld.run(heldIdent(r), r.hlc.wall, r.hlc.counter, r.hlc.node, via ?? null, at, JSON.stringify(recordToPlain(r)),
      seal?.batch ?? null, seal?.leaf ?? null)
    return run.changes !== 0
  }

  /** Lets a held record go (its batch's count to `work`). Inside a write transaction. */
  unhold (id: number, work: SealWork): boolean {
    const row = this.selectHeldSeal.get(id) as SealRow | undefined
    if (row === undefined) return false
    work.count(sealOf(row), -1)
    return this.deleteHeld.run(id).changes !== 0
  }

  held (limit: number, upToWall?: number): HeldRecord[] {
    const rows = (upToWall === undefined ? this.selectHeld.all(limit) : this.selectHeldUpTo.all(upToWall, limit)) as unknown as HeldRow[]
    return rows.map(row => {
      let record: MemoryRecord
      try {
        record = checkRecord(JSON.parse(row.record) as unknown, `held[${row.id}]`)
      } catch (e) {
        throw STORE_CORRUPT(`held record ${row.id} cannot be read: ${e instanceof Error ? e.message : String(e)}`, { id: row.id }, e)
      }
      const seal = sealOf(row)
      return { id: row.id, record, via: (row.via ?? undefined) as NodeId | undefined, arrivedAt: row.arrived, ...(seal !== undefined ? { seal } : {}) }
    })
  }

  origins (): HeldOrigin[] {
    return (this.selectOrigins.all() as Array<{ origin: string, n: number, lo: number, hi: number }>).map(r => ({
      node: r.origin as NodeId,
      count: r.n,
      min: { wall: r.lo, counter: (this.selectCounterLo.get(r.origin, r.lo) as { c: number }).c },
      max: { wall: r.hi, counter: (this.selectCounterHi.get(r.origin, r.hi) as { c: number }).c }
    }))
  }
}

interface SealRow { batch: number | null, leaf: number | null }
