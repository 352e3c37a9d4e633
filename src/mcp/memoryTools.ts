/**
 * The nine tools of the knowledge-graph memory server (@modelcontextprotocol/server-memory),
 * with its names, titles, descriptions, input and output schemas and annotations, so that
 * agent prompts and client configurations written for it work unchanged. They act on engram
 * triples (mapping.ts, docs/MCP.md) through GraphStore.
 *
 * Results are the memory server's: the same structured content and text. When and on which
 * machine each returned record was written is added in the result's `_meta`
 * ("engram/provenance"), which the output schemas do not constrain. Where the memory server's
 * releases differ, the tools follow the release `ctx.compat` names (compat.ts).
 */
import type { Compat } from './compat.ts'
import type { DeleteReport } from './GraphStore.ts'
import type { Entity, Relation } from './mapping.ts'
import { arr, defineTool, obj, READ_ONLY, root, str, type JsonSchema, type Tool, type ToolAnnotations } from './tool.ts'

const WRITE: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false }
const DELETE: ToolAnnotations = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false }

const entity = (closed: boolean): JsonSchema => obj({
  name: str('The name of the entity'),
  entityType: str('The type of the entity'),
  observations: arr(str(), 'An array of observation contents associated with the entity')
}, { closed })

const relation = (closed: boolean): JsonSchema => obj({
  from: str('The name of the entity where the relation starts'),
  to: str('The name of the entity where the relation ends'),
  relationType: str('The type of the relation')
}, { closed })

const graphOutput = root(obj({ entities: arr(entity(true)), relations: arr(relation(true)) }, { closed: true }))
const successOutput = root(obj({ success: { type: 'boolean' }, message: str() }, { closed: true }))

const success = (message: string) => ({ structured: { success: true, message }, text: message })

/**
 * The answer of a delete tool: the memory server's fixed message, or, when the release reports
 * what was not found and something was not, "Deleted 1 of 2 entities. Not found: Alise".
 */
function deleted (what: 'Entities' | 'Observations' | 'Relations', r: DeleteReport, compat: Compat) {
  if (!compat.reportMissingDeletes || r.missing.length === 0) return success(`${what} deleted successfully`)
  return success(`Deleted ${r.deleted} of ${r.requested} ${what.toLowerCase()}. Not found: ${r.missing.join(', ')}`)
}

export const createEntities = defineTool<{ entities: Entity[] }>({
  name: 'create_entities',
  title: 'Create Entities',
  description: 'Create multiple new entities in the knowledge graph',
  inputSchema: root(obj({ entities: arr(entity(false)) })),
  outputSchema: root(obj({ entities: arr(entity(true)) }, { closed: true })),
  annotations: WRITE,
  async run ({ entities }, { graph }) {
    const { created, provenance } = await graph.createEntities(entities)
    return { structured: { entities: created }, text: JSON.stringify(created, null, 2), provenance: { entities: provenance } }
  }
})

export const createRelations = defineTool<{ relations: Relation[] }>({
  name: 'create_relations',
  title: 'Create Relations',
  description: 'Create multiple new relations between entities in the knowledge graph. Relations should be in active voice',
  inputSchema: root(obj({ relations: arr(relation(false)) })),
  outputSchema: root(obj({ relations: arr(relation(true)) }, { closed: true })),
  annotations: WRITE,
  async run ({ relations }, { graph, compat }) {
    const { created, provenance } = await graph.createRelations(relations, { refuseDangling: compat.refuseDanglingRelations })
    return { structured: { relations: created }, text: JSON.stringify(created, null, 2), provenance: { relations: provenance } }
  }
})

export const addObservations = defineTool<{ observations: { entityName: string, contents: string[] }[] }>({
  name: 'add_observations',
  title: 'Add Observations',
  description: 'Add new observations to existing entities in the knowledge graph',
  inputSchema: root(obj({
    observations: arr(obj({
      entityName: str('The name of the entity to add the observations to'),
      contents: arr(str(), 'An array of observation contents to add')
    }))
  })),
  outputSchema: root(obj({ results: arr(obj({ entityName: str(), addedObservations: arr(str()) }, { closed: true })) }, { closed: true })),
  annotations: WRITE,
  async run ({ observations }, { graph }) {
    const { results, provenance } = await graph.addObservations(observations)
    return { structured: { results }, text: JSON.stringify(results, null, 2), provenance: { results: provenance } }
  }
})

export const deleteEntities = defineTool<{ entityNames: string[] }>({
  name: 'delete_entities',
  title: 'Delete Entities',
  description: 'Delete multiple entities and their associated relations from the knowledge graph',
  inputSchema: root(obj({ entityNames: arr(str(), 'An array of entity names to delete') })),
  outputSchema: successOutput,
  annotations: DELETE,
  async run ({ entityNames }, { graph, compat }) {
    return deleted('Entities', await graph.deleteEntities(entityNames), compat)
  }
})

export const deleteObservations = defineTool<{ deletions: { entityName: string, observations: string[] }[] }>({
  name: 'delete_observations',
  title: 'Delete Observations',
  description: 'Delete specific observations from entities in the knowledge graph',
  inputSchema: root(obj({
    deletions: arr(obj({
      entityName: str('The name of the entity containing the observations'),
      observations: arr(str(), 'An array of observations to delete')
    }))
  })),
  outputSchema: successOutput,
  annotations: DELETE,
  async run ({ deletions }, { graph, compat }) {
    return deleted('Observations', await graph.deleteObservations(deletions), compat)
  }
})

export const deleteRelations = defineTool<{ relations: Relation[] }>({
  name: 'delete_relations',
  title: 'Delete Relations',
  description: 'Delete multiple relations from the knowledge graph',
  inputSchema: root(obj({ relations: arr(relation(false), 'An array of relations to delete') })),
  outputSchema: successOutput,
  annotations: DELETE,
  async run ({ relations }, { graph, compat }) {
    return deleted('Relations', await graph.deleteRelations(relations), compat)
  }
})

export const readGraph = defineTool<Record<string, never>>({
  name: 'read_graph',
  title: 'Read Graph',
  description: 'Read the entire knowledge graph',
  inputSchema: root({ type: 'object', properties: {} }),
  outputSchema: graphOutput,
  annotations: READ_ONLY,
  async run (_args, { graph }) {
    const g = await graph.readGraph()
    return { structured: { ...g.graph }, text: JSON.stringify(g.graph, null, 2), provenance: g.provenance }
  }
})

const SEARCH_QUERY = 'The search query to match against entity names, types, and observation content'

/** search_nodes, whose query is capped in some releases (compat.ts). */
export const searchNodes = (compat: Compat): Tool => defineTool<{ query: string }>({
  name: 'search_nodes',
  title: 'Search Nodes',
  description: 'Search for nodes in the knowledge graph based on a query',
  inputSchema: root(obj({
    query: compat.searchQueryMaxChars === undefined ? str(SEARCH_QUERY) : { ...str(SEARCH_QUERY), maxLength: compat.searchQueryMaxChars }
  })),
  outputSchema: graphOutput,
  annotations: READ_ONLY,
  async run ({ query }, { graph }) {
    const g = await graph.searchNodes(query)
    return { structured: { ...g.graph }, text: JSON.stringify(g.graph, null, 2), provenance: g.provenance }
  }
})

export const openNodes = defineTool<{ names: string[] }>({
  name: 'open_nodes',
  title: 'Open Nodes',
  description: 'Open specific nodes in the knowledge graph by their names',
  inputSchema: root(obj({ names: arr(str(), 'An array of entity names to retrieve') })),
  outputSchema: graphOutput,
  annotations: READ_ONLY,
  async run ({ names }, { graph }) {
    const g = await graph.openNodes(names)
    return { structured: { ...g.graph }, text: JSON.stringify(g.graph, null, 2), provenance: g.provenance }
  }
})

/** The nine tools, in the memory server's order, as the release `compat` lists them. */
export const memoryTools = (compat: Compat): Tool[] => [
  createEntities, createRelations, addObservations, deleteEntities, deleteObservations, deleteRelations, readGraph, searchNodes(compat), openNodes
]
