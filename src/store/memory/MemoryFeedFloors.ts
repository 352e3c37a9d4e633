/**
 * MemoryStore's feed floors (docs/SYNC.md, "Per-peer feed floors"): per tombstone source (the
 * peer a collected tombstone came from; '' for one written here), the highest seq collection
 * removed. The floor that applies to a peer is the highest of every other source's; the store's
 * feed floor is the highest of all.
 */
import type { NodeId, Seq } from '../../core/ids.ts'

export class MemoryFeedFloors {
  private readonly bySource = new Map<string, number>()

  /** A tombstone of `source` (its `via`; undefined: written here) at `seq` was collected. */
  raise (source: NodeId | undefined, seq: number): void {
    const key = source ?? ''
    if (seq > (this.bySource.get(key) ?? 0)) this.bySource.set(key, seq)
  }

  /** The highest floor of every source but `except` (none: of every source). */
  highest (except?: NodeId): Seq {
    let floor = 0
    for (const [source, seq] of this.bySource) if (source !== except && seq > floor) floor = seq
    return floor as Seq
  }
}
