/**
 * The names nodes gave themselves (`node.name`), from their signed name notes
 * `_engram:name:<node>` (core/system.ts): what provenance shows next to a node id.
 */
import type { NodeId } from '../../core/ids.ts'
import { nodeNameOf, parseSystemKey } from '../../core/system.ts'
import type { Store } from '../../store/Store.ts'

const PREFIX = '_engram:name:'
/** Names read at most. */
const MAX_NAMES = 10_000

export class NodeDirectory {
  private readonly store: Store
  private names = new Map<string, string>()

  constructor (store: Store) {
    this.store = store
    this.refresh()
  }

  nameOf (node: NodeId): string | undefined {
    return this.names.get(node)
  }

  all (): ReadonlyMap<string, string> {
    return this.names
  }

  refresh (): void {
    const names = new Map<string, string>()
    for (const n of this.store.listNotes({ prefix: PREFIX, limit: MAX_NAMES, offset: 0 }).notes) {
      const k = parseSystemKey(n.key)
      const name = nodeNameOf(n.value)
      if (k?.kind === 'name' && name !== undefined && n.hlc.node === k.node) names.set(k.node, name)
    }
    this.names = names
  }
}
