/** Vectors held in memory only (tests, simulations): the same behaviour as SqliteVectorStore. */
import { INVALID_INPUT } from '../../core/errors.ts'
import type { RecordKind } from '../../core/model.ts'
import { normalized, VectorMatrix } from './VectorMatrix.ts'
import type { VectorHit, VectorMeta, VectorStore, VectorWrite } from './VectorStore.ts'

export class MemoryVectorStore implements VectorStore {
  private readonly matrix = new VectorMatrix()
  private model: string | undefined
  private cursor = 0

  meta (): VectorMeta {
    return { model: this.model, cursor: this.cursor, count: this.matrix.size }
  }

  write (entries: readonly VectorWrite[], cursor: number): void {
    const units = entries.map(e => (e.vector === undefined ? undefined : normalized(e.vector)))
    const dims = units.find(u => u !== undefined)?.length
    if (dims !== undefined) checkDims(this.matrix.size === 0 ? dims : this.matrix.dims, units)
    entries.forEach((e, i) => {
      const u = units[i]
      if (u === undefined) this.matrix.delete(e.kind, e.key)
      else this.matrix.set(e.kind, e.key, u)
    })
    this.cursor = cursor
  }

  reset (model: string): void {
    this.matrix.clear()
    this.model = model
    this.cursor = 0
  }

  nearest (vector: Float32Array, limit: number, kinds?: readonly RecordKind[]): VectorHit[] {
    return this.matrix.nearest(vector, limit, kinds)
  }

  keys (): Array<{ kind: RecordKind, key: string }> { return this.matrix.keys() }

  close (): void {}
}

/** Every vector of a write has the length of the others: checked before anything changes. */
export function checkDims (dims: number, units: ReadonlyArray<Float32Array | undefined>): void {
  for (const u of units) {
    if (u !== undefined && u.length !== dims) throw INVALID_INPUT('vector', `has ${u.length} numbers; the vectors here have ${dims} (another model?)`)
  }
}
