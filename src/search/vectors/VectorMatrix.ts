/**
 * Vectors in one growing Float32Array, rows addressed by (kind, key), searched by brute force:
 * a dot product with every row. Exact, and at the sizes of a personal memory (100,000 records of
 * 384 numbers: 150 MB, tens of milliseconds a query) needs no approximate index. Both vector stores
 * hold their vectors in one.
 */
import { INVALID_INPUT } from '../../core/errors.ts'
import type { RecordKind } from '../../core/model.ts'
import type { VectorHit } from './VectorStore.ts'

const KINDS: readonly RecordKind[] = ['triple', 'note', 'episode', 'trace']

/** The vector scaled to length 1 (a zero vector stays zero). */
export function normalized (v: Float32Array): Float32Array {
  let sum = 0
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!
  const norm = Math.sqrt(sum)
  const out = new Float32Array(v.length)
  if (norm > 0) for (let i = 0; i < v.length; i++) out[i] = v[i]! / norm
  return out
}

export class VectorMatrix {
  dims = 0
  private data = new Float32Array(0)
  private readonly rows = new Map<string, number>()
  private readonly names: Array<{ kind: RecordKind, key: string }> = []

  get size (): number { return this.names.length }

  clear (): void {
    this.dims = 0
    this.data = new Float32Array(0)
    this.rows.clear()
    this.names.length = 0
  }

  /** Sets the (normalized) vector of a record. */
  set (kind: RecordKind, key: string, unit: Float32Array): void {
    if (this.dims === 0) this.dims = unit.length
    if (unit.length !== this.dims) throw INVALID_INPUT('vector', `has ${unit.length} numbers; the vectors here have ${this.dims}`)
    const name = `${KINDS.indexOf(kind)}:${key}`
    let row = this.rows.get(name)
    if (row === undefined) {
      row = this.names.length
      if ((row + 1) * this.dims > this.data.length) {
        const grown = new Float32Array(Math.max(this.dims * 64, this.data.length * 2))
        grown.set(this.data)
        this.data = grown
      }
      this.rows.set(name, row)
      this.names.push({ kind, key })
    }
    this.data.set(unit, row * this.dims)
  }

  delete (kind: RecordKind, key: string): void {
    const name = `${KINDS.indexOf(kind)}:${key}`
    const row = this.rows.get(name)
    if (row === undefined) return
    const last = this.names.length - 1
    if (row !== last) {
      const moved = this.names[last]!
      this.data.copyWithin(row * this.dims, last * this.dims, (last + 1) * this.dims)
      this.names[row] = moved
      this.rows.set(`${KINDS.indexOf(moved.kind)}:${moved.key}`, row)
    }
    this.names.pop()
    this.rows.delete(name)
  }

  keys (): Array<{ kind: RecordKind, key: string }> {
    return this.names.map(n => ({ ...n }))
  }

  nearest (vector: Float32Array, limit: number, kinds?: readonly RecordKind[]): VectorHit[] {
    if (this.size === 0 || limit <= 0) return []
    if (vector.length !== this.dims) throw INVALID_INPUT('vector', `has ${vector.length} numbers; the vectors here have ${this.dims} (another model?)`)
    const q = normalized(vector)
    const only = kinds !== undefined && kinds.length > 0 ? new Set(kinds) : undefined
    const d = this.dims
    const best: VectorHit[] = []
    let floor = -Infinity
    for (let r = 0; r < this.names.length; r++) {
      const name = this.names[r]!
      if (only !== undefined && !only.has(name.kind)) continue
      let s = 0
      const base = r * d
      for (let i = 0; i < d; i++) s += this.data[base + i]! * q[i]!
      if (best.length >= limit && s <= floor) continue
      best.push({ kind: name.kind, key: name.key, similarity: s })
      if (best.length > limit * 2) {
        best.sort((a, b) => b.similarity - a.similarity)
        best.length = limit
        floor = best[limit - 1]!.similarity
      }
    }
    best.sort((a, b) => b.similarity - a.similarity || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    return best.slice(0, limit)
  }
}
