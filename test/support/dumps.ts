/**
 * Comparing what nodes hold: every record of a store (tombstones included) as canonical text, in
 * the store's canonical order, and a comparison that says where two nodes first differ; and
 * convergence as the product defines it (`convergenceDifference`).
 */
import { join } from 'node:path'
import { covers } from '../../src/core/knowledge.ts'
import { canonicalRecord } from '../../src/core/records.ts'
import { recordKey, type MemoryRecord } from '../../src/core/model.ts'
import type { Engine } from '../../src/engine/Engine.ts'
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

/** A node as the convergence check sees it: its store, and its engine (for the knowledge Rule A uses). */
export interface KnowingNode {
  readonly id: string
  readonly store: Store
  readonly engine: Engine
}

/**
 * Where running nodes have not converged ('' when they have), with the definition of docs/SYNC.md
 * ("Deletes that stay deleted"): every node holds exactly the same live records and the same
 * tombstones, except that a node may lack a tombstone — holding no state of its record at all —
 * whose stamp its knowledge vector covers. Rule A drops such a tombstone on arrival: the node
 * already holds the evidence of that deletion (it held the record and collected its tombstone;
 * a last-writer-wins deletion carries the loser's own node, so the same holds for it). Nothing
 * else may differ: a tombstone
 * held with another stamp, or missing where the knowledge does not cover it, is a difference.
 */
export function convergenceDifference (nodes: readonly KnowingNode[], keep: (r: MemoryRecord) => boolean = () => true): string {
  const dumps = nodes.map(n => n.store.dump().filter(keep))
  const text = dumps.map(d => d.map(canonicalRecord))
  const isTombstone = (r: MemoryRecord): boolean => (r.kind === 'triple' || r.kind === 'note') && r.deleted
  const live = dumps.map((d, i) => d.flatMap((r, j) => isTombstone(r) ? [] : [text[i]![j]!]))
  const out: string[] = []
  for (let i = 1; i < nodes.length; i++) {
    const diff = dumpDifference(live[0]!, live[i]!, [nodes[0]!.id, nodes[i]!.id])
    if (diff !== '') out.push(`live records: ${diff}`)
  }
  const tombstones = new Map<string, MemoryRecord>()
  dumps.forEach((d, i) => { d.forEach((r, j) => { if (isTombstone(r)) tombstones.set(text[i]![j]!, r) }) })
  nodes.forEach((n, i) => {
    const held = new Set(text[i])
    const keys = new Set(dumps[i]!.map(r => `${r.kind}:${recordKey(r)}`))
    const known = n.engine.knowledge.known(n.store.clockMark(), [])
    for (const [t, r] of tombstones) {
      if (held.has(t) || (!keys.has(`${r.kind}:${recordKey(r)}`) && covers(known, r.hlc))) continue
      out.push(`${n.id} lacks a tombstone its knowledge does not cover (or holds another state of its record): ${t.slice(0, 300)}`)
    }
  })
  return out.join('\n')
}
