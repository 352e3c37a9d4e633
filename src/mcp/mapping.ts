/**
 * The knowledge graph of the MCP memory tools, as engram triples (docs/MCP.md). Pure.
 *
 * In the graph's namespace (default `kg`), an entity named N is the subject `kg:N`:
 *
 *   kg:N  kg:entityType   "T"          its type (a string literal)
 *   kg:N  kg:observation  "O"          one triple per observation (a string literal)
 *   kg:N  R               {node: kg:M}  a relation of type R from N to M (a node object)
 *
 * An entity exists while it has a live `kg:entityType` triple whose object is a string: a
 * relation whose type happens to be `kg:entityType` (a node object) is a relation, never a type.
 * Order is the order of writing:
 * entities by the stamp of their type, observations and relations by their own stamps (stamps
 * are one total order on every machine). When two machines gave one entity different types,
 * the later write is its type. Other triples in the namespace (a number, a node elsewhere) are
 * left out of the graph.
 */
import type { TripleDto } from '../api/dto.ts'
import type { Json } from '../core/model.ts'
import type { BodyPattern, TripleInput } from '../client/RestApi.ts'

export interface Entity { name: string, entityType: string, observations: string[] }
export interface Relation { from: string, to: string, relationType: string }
export interface KnowledgeGraph { entities: Entity[], relations: Relation[] }

/** When and on which machine a record was written. */
export interface Stamp {
  /** The triple's content id (GET /api/v1/triples/<id>). */
  readonly id: string
  /** The stamp in text form: sortable, unique per write. */
  readonly hlc: string
  /** The node (machine) that wrote it. */
  readonly origin: string
  /** The stamp's wall time. */
  readonly created_at: string
  /** The name that node gave itself (node.name), null when unknown. */
  readonly origin_name?: string | null
  /** The peer the record arrived through; null when it was written on this node. */
  readonly via?: string | null
  /** Whether it carries a verified signature of its origin (docs/DATA-MODEL.md, "Signed records"). */
  readonly signed?: boolean
}

export interface EntityProvenance { readonly name: string, readonly entityType: Stamp, readonly observations: Stamp[] }
export interface GraphProvenance { readonly entities: EntityProvenance[], readonly relations: Stamp[] }

export const ENTITY_TYPE = 'kg:entityType'
export const OBSERVATION = 'kg:observation'
export const DEFAULT_NAMESPACE = 'kg'

export const stampOf = (t: TripleDto): Stamp => ({
  id: t.id,
  hlc: t.hlc,
  origin: t.origin,
  created_at: t.created_at,
  ...(t.provenance !== undefined ? { origin_name: t.provenance.origin_name, via: t.provenance.via, signed: t.provenance.signed } : {})
})

const byStamp = (a: TripleDto, b: TripleDto): number => (a.hlc < b.hlc ? -1 : a.hlc > b.hlc ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

/** A type triple: `kg:entityType` with a string object (a node object makes it a relation). */
export const isTypeTriple = (t: TripleDto): boolean => t.predicate === ENTITY_TYPE && typeof t.object === 'string'
/** An observation triple: `kg:observation` with a string object. */
export const isObservationTriple = (t: TripleDto): boolean => t.predicate === OBSERVATION && typeof t.object === 'string'

const nodeOf = (o: Json): string | undefined =>
  typeof o === 'object' && o !== null && !Array.isArray(o) && typeof o.node === 'string' && Object.keys(o).length === 1 ? o.node : undefined

interface EntityParts { types: TripleDto[], observations: TripleDto[] }

export class GraphMapping {
  readonly namespace: string
  private readonly prefix: string

  constructor (namespace = DEFAULT_NAMESPACE) {
    this.namespace = namespace
    this.prefix = `${namespace}:`
  }

  subject (name: string): string { return this.prefix + name }

  /** The entity name of a subject or node in the graph's namespace, else undefined. */
  nameOf (iri: string): string | undefined {
    return iri.startsWith(this.prefix) ? iri.slice(this.prefix.length) : undefined
  }

  typeTriple (name: string, entityType: string): TripleInput {
    return { subject: this.subject(name), predicate: ENTITY_TYPE, object: entityType }
  }

  observationTriple (name: string, text: string): TripleInput {
    return { subject: this.subject(name), predicate: OBSERVATION, object: text }
  }

  relationTriple (r: Relation): TripleInput {
    return { subject: this.subject(r.from), predicate: r.relationType, object: { node: this.subject(r.to) } }
  }

  /** Patterns (query bodies) of an entity's type, of its observations, of everything it is the subject of, and of relations into it. */
  typePattern (name: string): BodyPattern { return { subject: this.subject(name), predicate: ENTITY_TYPE } }
  observationsPattern (name: string): BodyPattern { return { subject: this.subject(name), predicate: OBSERVATION } }
  subjectPattern (name: string): BodyPattern { return { subject: this.subject(name) } }
  incomingPattern (name: string): BodyPattern { return { object: { node: this.subject(name) }, namespace: this.namespace } }
  relationPattern (r: Relation): BodyPattern {
    return { subject: this.subject(r.from), predicate: r.relationType, object: { node: this.subject(r.to) } }
  }

  relationOf (t: TripleDto): Relation | undefined {
    const from = this.nameOf(t.subject)
    const node = nodeOf(t.object)
    const to = node === undefined ? undefined : this.nameOf(node)
    return from === undefined || to === undefined ? undefined : { from, to, relationType: t.predicate }
  }

  /** The graph (and the stamps of everything in it) that a set of triples describes. Duplicates are ignored. */
  assemble (triples: Iterable<TripleDto>): { graph: KnowledgeGraph, provenance: GraphProvenance } {
    const seen = new Set<string>()
    const parts = new Map<string, EntityParts>()
    const relations: TripleDto[] = []
    const partsOf = (name: string): EntityParts => {
      let p = parts.get(name)
      if (p === undefined) parts.set(name, p = { types: [], observations: [] })
      return p
    }
    for (const t of triples) {
      if (seen.has(t.id)) continue
      seen.add(t.id)
      const name = this.nameOf(t.subject)
      if (name === undefined) continue
      if (isTypeTriple(t)) partsOf(name).types.push(t)
      else if (isObservationTriple(t)) partsOf(name).observations.push(t)
      else if (this.relationOf(t) !== undefined) relations.push(t)
    }
    const present = [...parts].filter(([, p]) => p.types.length > 0).map(([name, p]) => {
      p.types.sort(byStamp)
      p.observations.sort(byStamp)
      return { name, first: p.types[0]!, type: p.types[p.types.length - 1]!, observations: p.observations }
    })
    present.sort((a, b) => byStamp(a.first, b.first))
    relations.sort(byStamp)
    return {
      graph: {
        entities: present.map(e => ({ name: e.name, entityType: e.type.object as string, observations: e.observations.map(o => o.object as string) })),
        relations: relations.map(t => this.relationOf(t)!)
      },
      provenance: {
        entities: present.map(e => ({ name: e.name, entityType: stampOf(e.type), observations: e.observations.map(stampOf) })),
        relations: relations.map(stampOf)
      }
    }
  }
}

/** The part of a graph (with its provenance) whose entities pass `keep`, and the relations that touch one of them. */
export function subgraph (g: { graph: KnowledgeGraph, provenance: GraphProvenance }, keep: (e: Entity) => boolean): { graph: KnowledgeGraph, provenance: GraphProvenance } {
  const idx = g.graph.entities.map((e, i) => (keep(e) ? i : -1)).filter(i => i >= 0)
  const names = new Set(idx.map(i => g.graph.entities[i]!.name))
  const rel = g.graph.relations.map((r, i) => (names.has(r.from) || names.has(r.to) ? i : -1)).filter(i => i >= 0)
  return {
    graph: { entities: idx.map(i => g.graph.entities[i]!), relations: rel.map(i => g.graph.relations[i]!) },
    provenance: { entities: idx.map(i => g.provenance.entities[i]!), relations: rel.map(i => g.provenance.relations[i]!) }
  }
}
