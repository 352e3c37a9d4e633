/**
 * The nodes known to sign: this node (when it has a key), every node whose signed batch verified
 * here, and peers that said so when they connected. An unsigned record whose origin is one of
 * them is refused (RecordGate.ts): a node that signs never sends its states unsigned, so such a
 * record was stripped or forged. Kept in the store's local metadata, so a restart forgets none.
 */
import type { NodeId } from '../../core/ids.ts'
import type { Store } from '../../store/Store.ts'

const META_KEY = 'provenance.signers'
/** Signers remembered at most (the oldest are forgotten first). */
const MAX_SIGNERS = 100_000

export class KnownSigners {
  private readonly store: Store
  private readonly nodes: Set<string>

  constructor (store: Store, self: NodeId | undefined) {
    this.store = store
    const raw = store.getMeta(META_KEY)
    this.nodes = new Set(raw === undefined ? [] : JSON.parse(raw) as string[])
    if (self !== undefined) this.learn(self)
  }

  has (node: NodeId): boolean {
    return this.nodes.has(node)
  }

  /** Remembers that `node` signs; returns true when it was not known yet. */
  learn (node: NodeId): boolean {
    if (this.nodes.has(node)) return false
    this.nodes.add(node)
    if (this.nodes.size > MAX_SIGNERS) this.nodes.delete(this.nodes.values().next().value!)
    this.store.setMeta(META_KEY, JSON.stringify([...this.nodes]))
    return true
  }

  get size (): number {
    return this.nodes.size
  }
}
