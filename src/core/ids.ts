/**
 * Branded identifiers. A triple id can never be passed where a node id is meant:
 * the brands exist only for the type checker and cost nothing at run time.
 */

/** A node's identity (its libp2p peer id string, derived from its persistent key). */
export type NodeId = string & { readonly __nodeId: true }

/** A triple's content id: lowercase hex of BLAKE3(canonical triple), 64 characters. */
export type TripleId = string & { readonly __tripleId: true }

/** A position in one node's local changes feed (gap-free, starts at 1). */
export type Seq = number & { readonly __seq: true }

export const asNodeId = (s: string): NodeId => s as NodeId
export const asTripleId = (s: string): TripleId => s as TripleId
export const asSeq = (n: number): Seq => n as Seq

const HEX64 = /^[0-9a-f]{64}$/
export const isTripleId = (s: unknown): s is TripleId => typeof s === 'string' && HEX64.test(s)

/** Node ids are printable ASCII without separators, 1..128 characters. */
const NODE_ID = /^[A-Za-z0-9._-]{1,128}$/
/**
 * The last string found to be a node id: the stamps of a page name a handful of nodes, row after
 * row, so most checks are one comparison with it (equal text, equally valid) instead of the pattern.
 */
let lastNodeId = ''
export const isNodeId = (s: unknown): s is NodeId => {
  if (typeof s !== 'string') return false
  if (s === lastNodeId && s.length > 0) return true
  if (!NODE_ID.test(s)) return false
  lastNodeId = s
  return true
}

/** A store's feed id as written on the wire: 32 lowercase hex digits (replication/feedId.ts makes them). */
export const FEED_ID = /^[0-9a-f]{32}$/
export const isFeedId = (s: unknown): s is string => typeof s === 'string' && FEED_ID.test(s)
