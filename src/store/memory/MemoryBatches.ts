/**
 * The signed batches of a MemoryStore (the `batches` table of the SQLite store): each stored once
 * under its key, with the tree hashes known of it and how many stored states belong to it.
 * Changes are staged by `apply` and take effect only when the whole batch of records succeeded.
 */
import { INVALID_INPUT } from '../../core/errors.ts'
import { KnownHashes } from '../../core/merkle.ts'
import { batchKey, type StoredSeal } from '../../core/seals.ts'
import type { SignedBatch } from '../../core/signing.ts'
import type { ApplySeals } from '../Store.ts'

interface Entry {
  batch: SignedBatch
  refs: number
}

/** The changes one `apply` makes to the batches, committed with it. */
export class BatchStaging {
  private readonly owner: MemoryBatches
  private readonly ids = new Map<SignedBatch, number>()
  readonly added = new Map<number, { key: string, batch: SignedBatch }>()
  readonly merged = new Map<number, KnownHashes>()
  readonly refs = new Map<number, number>()

  constructor (owner: MemoryBatches) {
    this.owner = owner
  }

  resolve (b: SignedBatch): number {
    const staged = this.ids.get(b)
    if (staged !== undefined) return staged
    const id = this.owner.resolveInto(this, b)
    this.ids.set(b, id)
    return id
  }

  count (batch: number | undefined, delta: number): void {
    if (batch !== undefined) this.refs.set(batch, (this.refs.get(batch) ?? 0) + delta)
  }

  /** The stored seal of record `i` of `seals` (ApplyOptions.seals), its batch resolved on first use. */
  sealOf (seals: ApplySeals | undefined, i: number, field = 'seals'): StoredSeal | undefined {
    const ref = seals?.refs[i]
    if (ref === undefined) return undefined
    const batch = seals!.batches[ref.batch]
    if (batch === undefined) throw INVALID_INPUT(`${field}.refs[${i}].batch`, `must be an index into ${field}.batches (0 to ${seals!.batches.length - 1})`)
    return { batch: this.resolve(batch), leaf: ref.leaf }
  }
}

export class MemoryBatches {
  private readonly entries = new Map<number, Entry>()
  private readonly byKey = new Map<string, number>()
  /** The largest id ever given: a new batch gets the next one, ids are never reused (as SQLite's AUTOINCREMENT). */
  private maxId = 0

  stage (): BatchStaging {
    return new BatchStaging(this)
  }

  /** Used by BatchStaging.resolve: the id of `b`, new (staged) or stored (its hashes merged, staged). */
  resolveInto (staging: BatchStaging, b: SignedBatch): number {
    const key = batchKey(b)
    for (const [id, added] of staging.added) if (added.key === key) return id
    const id = this.byKey.get(key)
    if (id === undefined) {
      const fresh = this.maxId + 1 + staging.added.size
      staging.added.set(fresh, { key, batch: b })
      return fresh
    }
    const stored = this.entries.get(id)!.batch
    const known = staging.merged.get(id) ?? new KnownHashes(stored.header.n, stored.known)
    known.merge(b.known)
    staging.merged.set(id, known)
    return id
  }

  commit (staging: BatchStaging): void {
    for (const [id, { key, batch }] of staging.added) {
      // A batch none of whose states was written is not kept (its number is used up, as in SQLite).
      this.maxId = Math.max(this.maxId, id)
      if ((staging.refs.get(id) ?? 0) === 0) continue
      this.entries.set(id, { batch, refs: 0 })
      this.byKey.set(key, id)
    }
    for (const [id, known] of staging.merged) {
      const e = this.entries.get(id)!
      e.batch = { ...e.batch, known }
    }
    this.count(staging.refs)
  }

  count (deltas: ReadonlyMap<number, number>): void {
    for (const [id, delta] of deltas) {
      const e = this.entries.get(id)
      if (e !== undefined) e.refs += delta
    }
  }

  get (id: number): SignedBatch | undefined {
    const b = this.entries.get(id)?.batch
    return b === undefined ? undefined : { header: b.header, sig: b.sig, known: new KnownHashes(b.header.n, b.known) }
  }

  /** Drops the batches no stored state belongs to. */
  collect (): void {
    for (const [id, e] of this.entries) {
      if (e.refs > 0) continue
      this.entries.delete(id)
      this.byKey.delete(batchKey(e.batch))
    }
  }

  get size (): number {
    return this.entries.size
  }
}
