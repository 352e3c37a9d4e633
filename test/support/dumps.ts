/**
 * Comparing what nodes hold: every record of a store (tombstones included) as canonical text, in
 * the store's canonical order, and a comparison that says where two nodes first differ.
 */
import { join } from 'node:path'
import { canonicalRecord } from '../../src/core/records.ts'
import type { MemoryRecord } from '../../src/core/model.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import type { Store } from '../../src/store/Store.ts'

/** Every record of a store, canonical text, in the store's canonical order. */
export function canonicalDump (store: Store, keep: (r: MemoryRecord) => boolean = () => true): string[] {
  return store.dump().filter(keep).map(canonicalRecord)
}

/** The canonical dump of a stopped daemon's store, read from its data directory. */
export function dumpFile (dataDir: string): string[] {
  const store = SqliteStore.open(join(dataDir, 'engram.db'))
  try {
    return canonicalDump(store)
  } finally {
    store.close()
  }
}

/** Whether every store holds exactly the same records (optionally only those `keep` selects). */
export function sameDumps (nodes: readonly { readonly store: Store }[], keep?: (r: MemoryRecord) => boolean): boolean {
  const first = JSON.stringify(canonicalDump(nodes[0]!.store, keep))
  return nodes.every(n => JSON.stringify(canonicalDump(n.store, keep)) === first)
}

/** Where two dumps differ first, for a failure message ('' when they are equal). */
export function dumpDifference (a: readonly string[], b: readonly string[], names: readonly [string, string] = ['a', 'b']): string {
  const bs = new Set(b)
  const as = new Set(a)
  const onlyA = a.filter(x => !bs.has(x))
  const onlyB = b.filter(x => !as.has(x))
  if (onlyA.length === 0 && onlyB.length === 0) return ''
  const show = (xs: string[]): string => xs.slice(0, 3).map(x => x.slice(0, 200)).join('\n    ')
  return `${names[0]} holds ${a.length} records, ${names[1]} ${b.length}; ` +
    `only in ${names[0]} (${onlyA.length}):\n    ${show(onlyA)}\n  only in ${names[1]} (${onlyB.length}):\n    ${show(onlyB)}`
}

/** A failure message comparing every node with the first ('' when all agree). */
export function dumpsDifference (nodes: readonly { readonly id: string, readonly store: Store }[], keep?: (r: MemoryRecord) => boolean): string {
  const first = canonicalDump(nodes[0]!.store, keep)
  return nodes.slice(1).map(n => dumpDifference(first, canonicalDump(n.store, keep), [nodes[0]!.id, n.id])).filter(s => s !== '').join('\n')
}
