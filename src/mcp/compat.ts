/**
 * Which release of the knowledge-graph memory server (@modelcontextprotocol/server-memory) the
 * nine memory tools follow where its releases differ. `released` is the published release
 * (0.6.3), the default, so that agents written for it see what they expect. `next` is the
 * behaviour merged for its next release:
 *
 *   - create_relations refuses a relation whose `from` or `to` entity does not exist
 *     ("Entity with name X not found"), writing nothing of the call;
 *   - the three delete tools say what they did not find: the message stays
 *     "Entities deleted successfully" (…) when everything was found, and becomes
 *     "Deleted 1 of 2 entities. Not found: Alise" otherwise (`success` stays true, nothing throws);
 *   - search_nodes takes a query of at most 2,048 characters (its input schema's maxLength).
 *
 * `engram mcp --compat next` selects it; docs/MCP.md lists every difference.
 */
export type MemoryServerRelease = 'released' | 'next'
export const MEMORY_SERVER_RELEASES: readonly MemoryServerRelease[] = ['released', 'next']

export interface Compat {
  readonly release: MemoryServerRelease
  /** create_relations refuses relations to or from entities that do not exist. */
  readonly refuseDanglingRelations: boolean
  /** The delete tools name what they did not find. */
  readonly reportMissingDeletes: boolean
  /**
   * Longest search_nodes query (its input schema's maxLength, counted in code points as JSON
   * Schema counts); undefined: no limit.
   */
  readonly searchQueryMaxChars?: number
}

export const COMPAT: { readonly [R in MemoryServerRelease]: Compat } = {
  released: { release: 'released', refuseDanglingRelations: false, reportMissingDeletes: false },
  next: { release: 'next', refuseDanglingRelations: true, reportMissingDeletes: true, searchQueryMaxChars: 2048 }
}
