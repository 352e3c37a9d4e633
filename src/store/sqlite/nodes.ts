/**
 * Node ids interned as small integers (`nodes` table): every row names its origin and `via` by
 * number, which keeps rows and indexes small. Names are cached both ways; the cache only ever
 * holds committed names (a transaction that interned a new name and rolled back forgets it).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { STORE_CORRUPT } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'

export class NodeNames {
  private readonly ids = new Map<string, number>()
  private readonly names: (NodeId | undefined)[] = []
  private readonly pending: string[] = []
  private readonly selectAll: StatementSync
  private readonly selectByName: StatementSync
  private readonly insert: StatementSync
  private lastName = ''
  private lastId = -1

  constructor (db: DatabaseSync) {
    this.selectAll = db.prepare('SELECT id, name FROM nodes ORDER BY id')
    this.selectByName = db.prepare('SELECT id FROM nodes WHERE name = ?')
    this.insert = db.prepare('INSERT INTO nodes (name) VALUES (?)')
    this.reload()
  }

  /** The number of a node id, interning it; call inside a write transaction. */
  idOf (name: NodeId): number {
    if (name === this.lastName) return this.lastId
    let id = this.ids.get(name)
    if (id === undefined) {
      const row = this.selectByName.get(name) as { id: number } | undefined
      if (row !== undefined) {
        id = row.id
      } else {
        id = Number(this.insert.run(name).lastInsertRowid)
        this.pending.push(name)
      }
      this.remember(id, name)
    }
    this.lastName = name
    this.lastId = id
    return id
  }

  /** The number of a node id when it is known here, without interning it. */
  find (name: NodeId): number | undefined {
    const id = this.ids.get(name)
    if (id !== undefined) return id
    const row = this.selectByName.get(name) as { id: number } | undefined
    if (row !== undefined) this.remember(row.id, name)
    return row?.id
  }

  nameOf (id: number): NodeId {
    const name = this.names[id]
    if (name !== undefined) return name
    this.reload()
    const again = this.names[id]
    if (again === undefined) throw STORE_CORRUPT(`a record names node number ${id}, which the nodes table lacks`, { id })
    return again
  }

  /** The write transaction committed: the names it interned stay. */
  commit (): void {
    this.pending.length = 0
  }

  /** The write transaction rolled back: forget the names it interned. */
  rollback (): void {
    for (const name of this.pending) {
      const id = this.ids.get(name)
      this.ids.delete(name)
      if (id !== undefined) this.names[id] = undefined
    }
    this.pending.length = 0
    this.lastName = ''
    this.lastId = -1
  }

  private reload (): void {
    for (const row of this.selectAll.all() as { id: number, name: string }[]) this.remember(row.id, row.name as NodeId)
  }

  private remember (id: number, name: string): void {
    this.ids.set(name, id)
    this.names[id] = name as NodeId
  }
}
