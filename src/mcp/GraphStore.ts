/**
 * The knowledge-graph operations of the MCP memory tools and of import-memory/export-memory,
 * over the daemon's REST API (the triples of mapping.ts). Each operation reads what it needs in
 * one batched query and writes in one transaction where it can (creates, additions, an import
 * batch); deletes are one delete-by-pattern per entity, observation or relation.
 *
 * Behaviour follows the knowledge-graph memory server: creating an entity or relation that
 * exists changes nothing and is not reported as created; adding observations to an entity that
 * does not exist fails with "Entity with name X not found" and writes nothing (so does creating
 * a relation to one, when asked to: compat.ts); deleting what does not exist is not an error,
 * and each delete answers what it did not find. Observations are a set: one text is stored once
 * per entity.
 */
import type { TripleDto } from '../api/dto.ts'
import { INVALID_INPUT } from '../core/errors.ts'
import { LIMITS } from '../core/limits.ts'
import { plainWordsQuery } from '../text/query.ts'
import { GraphMapping, isObservationTriple, isTypeTriple, OBSERVATION, stampOf, subgraph, type Entity, type EntityProvenance, type GraphProvenance, type KnowledgeGraph, type Relation, type Stamp } from './mapping.ts'
import { BATCH, type BodyPattern, type RestApi, type TripleInput } from '../client/RestApi.ts'

export interface GraphResult { readonly graph: KnowledgeGraph, readonly provenance: GraphProvenance }

/** Largest body sent in one write, bytes (the daemon's default limit is 8 MiB). */
const MAX_WRITE_BYTES = 4 * 1024 * 1024
/** Most triples sent in one write. */
const MAX_WRITE_TRIPLES = 5000

export class GraphMissingEntity extends Error {}

/** What a delete did: how many of the things asked for were there, and which were not. */
export interface DeleteReport {
  readonly requested: number
  readonly deleted: number
  /** The things asked for that were not there, for people ("Alise", "Alice: likes tea", "Alice -knows-> Bob"). */
  readonly missing: string[]
}

export class GraphStore {
  readonly api: RestApi
  readonly mapping: GraphMapping

  constructor (api: RestApi, mapping: GraphMapping) {
    this.api = api
    this.mapping = mapping
  }

  // ---- reads ----

  /** Every triple matching each pattern (all pages), in one consistent read per round of pages. */
  async queryAll (patterns: readonly BodyPattern[]): Promise<TripleDto[][]> {
    const out: TripleDto[][] = patterns.map(() => [])
    let pending = patterns.map((_, i) => i)
    // Each round asks the next page of every unfinished pattern; a pattern finishes when its page
    // comes back short or empty, so the rounds end.
    while (pending.length > 0) {
      const next: number[] = []
      for (let start = 0; start < pending.length; start += BATCH.queries) {
        const chunk = pending.slice(start, start + BATCH.queries)
        const limit = Math.max(1, Math.min(BATCH.pageMax, Math.floor(BATCH.totalLimit / chunk.length)))
        const pages = await this.api.queryBatch(chunk.map(i => ({ ...patterns[i]!, limit, offset: out[i]!.length })))
        pages.forEach((page, k) => {
          const i = chunk[k]!
          out[i]!.push(...page.matches)
          if (page.matches.length === limit && out[i]!.length < page.total) next.push(i)
        })
      }
      pending = next
    }
    return out
  }

  async readGraph (): Promise<GraphResult> {
    const [triples] = await this.queryAll([{ namespace: this.mapping.namespace }])
    return this.mapping.assemble(triples!)
  }

  /**
   * Entities matching `query`, best first, and the relations touching them. The words of the
   * query (each also as a beginning: "ali" finds Alice) are searched in the graph's triples with
   * full-text ranking (GET /api/v1/search, one result per entity); entities whose name, type or
   * observations hold every word come first, then those holding some. When that finds nothing
   * (or the query has no words, or the daemon has no search), the memory server's own rule
   * applies: name, type or an observation contains the query (case-insensitive), in storage order.
   */
  async searchNodes (query: string): Promise<GraphResult> {
    const q = plainWordsQuery(query)
    const answer = q === undefined ? undefined : await this.api.search({ q, kind: 'triple', namespace: this.mapping.namespace, limit: LIMITS.searchLimitMax, mode: 'auto' })
    const names = (answer?.results ?? []).flatMap(r => (r.type === 'entity' ? [this.mapping.nameOf(r.subject)] : [])).filter((n): n is string => n !== undefined)
    if (names.length > 0) {
      const found = await this.openNodes(names)
      if (found.graph.entities.length > 0) return inOrder(found, names)
    }
    const lower = query.toLowerCase()
    const has = (s: string): boolean => s.toLowerCase().includes(lower)
    return subgraph(await this.readGraph(), e => has(e.name) || has(e.entityType) || e.observations.some(has))
  }

  /** The named entities that exist, and every relation from or to one of them. */
  async openNodes (names: readonly string[]): Promise<GraphResult> {
    const unique = [...new Set(names)]
    const found = await this.queryAll(unique.flatMap(n => [this.mapping.subjectPattern(n), this.mapping.incomingPattern(n)]))
    const wanted = new Set(unique)
    return subgraph(this.mapping.assemble(found.flat()), e => wanted.has(e.name))
  }

  /** The live type triples of each name (empty: no such entity). */
  private async typesOf (names: readonly string[]): Promise<Map<string, TripleDto[]>> {
    const found = await this.queryAll(names.map(n => this.mapping.typePattern(n)))
    return new Map(names.map((n, i) => [n, found[i]!.filter(isTypeTriple)]))
  }

  /** Throws GraphMissingEntity for the first name that is not an entity. */
  private async requireEntities (names: readonly string[]): Promise<void> {
    const unique = [...new Set(names)]
    const types = await this.typesOf(unique)
    const missing = names.find(n => types.get(n)!.length === 0)
    if (missing !== undefined) throw new GraphMissingEntity(`Entity with name ${missing} not found`)
  }

  // ---- writes ----

  /** Creates the entities whose names do not exist yet; answers those, as stored. */
  async createEntities (entities: readonly Entity[]): Promise<{ created: Entity[], provenance: EntityProvenance[] }> {
    const unique = firstByKey(entities, e => e.name)
    const types = await this.typesOf(unique.map(e => e.name))
    const created = unique.filter(e => types.get(e.name)!.length === 0).map(e => ({ ...e, observations: [...new Set(e.observations)] }))
    const triples = created.flatMap(e => [this.mapping.typeTriple(e.name, e.entityType), ...e.observations.map(o => this.mapping.observationTriple(e.name, o))])
    const stored = (await this.write(triples)).triples
    let k = 0
    const provenance = created.map(e => {
      const type = stampOf(stored[k++]!)
      return { name: e.name, entityType: type, observations: e.observations.map(() => stampOf(stored[k++]!)) }
    })
    return { created, provenance }
  }

  /**
   * Creates the relations that do not exist yet; answers those. With `refuseDangling`, throws
   * GraphMissingEntity, writing nothing, when an end is not an entity.
   */
  async createRelations (relations: readonly Relation[], opts: { refuseDangling?: boolean } = {}): Promise<{ created: Relation[], provenance: Stamp[] }> {
    relations.forEach((r, i) => checkRelationType(r, i))
    if (opts.refuseDangling === true) await this.requireEntities(relations.flatMap(r => [r.from, r.to]))
    const unique = firstByKey(relations, r => JSON.stringify([r.from, r.to, r.relationType]))
    const existing = await this.queryAll(unique.map(r => this.mapping.relationPattern(r)))
    const created = unique.filter((_, i) => existing[i]!.length === 0)
    const stored = (await this.write(created.map(r => this.mapping.relationTriple(r)))).triples
    return { created, provenance: stored.map(stampOf) }
  }

  /**
   * Adds the observations each entity does not have yet, all in one write. Throws
   * GraphMissingEntity, writing nothing, when an entity does not exist.
   */
  async addObservations (items: readonly { entityName: string, contents: string[] }[]): Promise<{ results: { entityName: string, addedObservations: string[] }[], provenance: { entityName: string, addedObservations: Stamp[] }[] }> {
    const names = [...new Set(items.map(o => o.entityName))]
    await this.requireEntities(items.map(o => o.entityName))
    const current = await this.queryAll(names.map(n => this.mapping.observationsPattern(n)))
    const known = new Map(names.map((n, i) => [n, new Set(current[i]!.filter(isObservationTriple).map(t => t.object as string))]))
    const results = items.map(o => {
      const have = known.get(o.entityName)!
      const added: string[] = []
      for (const c of o.contents) {
        if (have.has(c)) continue
        have.add(c)
        added.push(c)
      }
      return { entityName: o.entityName, addedObservations: added }
    })
    const stored = (await this.write(results.flatMap(r => r.addedObservations.map(c => this.mapping.observationTriple(r.entityName, c))))).triples
    let k = 0
    const provenance = results.map(r => ({ entityName: r.entityName, addedObservations: r.addedObservations.map(() => stampOf(stored[k++]!)) }))
    return { results, provenance }
  }

  /** Deletes entities: every triple of theirs and every relation into them. */
  async deleteEntities (names: readonly string[]): Promise<DeleteReport> {
    const unique = [...new Set(names)]
    const types = await this.typesOf(unique)
    for (const name of unique) {
      await this.api.deleteTriples({ subject: this.mapping.subject(name) })
      await this.api.deleteTriples({ object: JSON.stringify({ node: this.mapping.subject(name) }), namespace: this.mapping.namespace })
    }
    const missing = unique.filter(n => types.get(n)!.length === 0)
    return { requested: unique.length, deleted: unique.length - missing.length, missing }
  }

  async deleteObservations (deletions: readonly { entityName: string, observations: string[] }[]): Promise<DeleteReport> {
    const report = new ReportBuilder()
    for (const d of deletions) {
      for (const text of new Set(d.observations)) {
        report.count(`${d.entityName}: ${text}`, await this.api.deleteTriples({
          subject: this.mapping.subject(d.entityName),
          predicate: OBSERVATION,
          object: JSON.stringify({ kind: 'string', value: text })
        }))
      }
    }
    return report.done()
  }

  async deleteRelations (relations: readonly Relation[]): Promise<DeleteReport> {
    const report = new ReportBuilder()
    for (const r of relations) {
      const label = `${r.from} -${r.relationType}-> ${r.to}`
      // an empty relation type is never stored (see checkRelationType)
      report.count(label, r.relationType === ''
        ? 0
        : await this.api.deleteTriples({
          subject: this.mapping.subject(r.from),
          predicate: r.relationType,
          object: JSON.stringify({ node: this.mapping.subject(r.to) })
        }))
    }
    return report.done()
  }

  /**
   * One import batch, in one transaction when it fits one write: entities that do not exist get
   * their type, and the observations and relations that are not present yet are added (what is
   * present already is not written again: an add would assert it again, with a new stamp).
   * `typed` holds the names given a type earlier in the same import. Answers how many triples were new.
   */
  async importBatch (entities: readonly Entity[], relations: readonly Relation[], typed: Set<string>): Promise<{ written: number, existing: number }> {
    relations.forEach((r, i) => checkRelationType(r, i))
    const fresh = [...new Set(entities.map(e => e.name))].filter(n => !typed.has(n))
    const types = await this.typesOf(fresh)
    const names = [...new Set(entities.map(e => e.name))]
    const current = await this.queryAll([...names.map(n => this.mapping.observationsPattern(n)), ...relations.map(r => this.mapping.relationPattern(r))])
    const observed = new Map(names.map((n, i) => [n, new Set(current[i]!.map(t => t.object as string))]))
    let existing = 0
    const triples: TripleInput[] = []
    for (const e of entities) {
      if (!typed.has(e.name)) {
        typed.add(e.name)
        if (types.get(e.name)!.length === 0) triples.push(this.mapping.typeTriple(e.name, e.entityType))
        else existing++
      }
      const have = observed.get(e.name)!
      for (const o of e.observations) {
        if (have.has(o)) continue
        have.add(o)
        triples.push(this.mapping.observationTriple(e.name, o))
      }
    }
    const seen = new Set<string>()
    relations.forEach((r, i) => {
      const key = JSON.stringify([r.from, r.to, r.relationType])
      if (current[names.length + i]!.length > 0 || seen.has(key)) return
      seen.add(key)
      triples.push(this.mapping.relationTriple(r))
    })
    const { created } = await this.write(triples)
    return { written: created, existing }
  }

  /** Writes triples in as few writes as the daemon's limits allow (one when they fit). */
  private async write (triples: readonly TripleInput[]): Promise<{ triples: TripleDto[], created: number }> {
    const out: TripleDto[] = []
    let created = 0
    let chunk: TripleInput[] = []
    let bytes = 0
    const flush = async (): Promise<void> => {
      const r = await this.api.addTriples(chunk)
      out.push(...r.triples)
      created += r.created
      chunk = []
      bytes = 0
    }
    for (const t of triples) {
      const size = Buffer.byteLength(JSON.stringify(t)) + 1
      if (chunk.length > 0 && (chunk.length >= Math.min(MAX_WRITE_TRIPLES, LIMITS.batchRecords) || bytes + size > MAX_WRITE_BYTES)) await flush()
      chunk.push(t)
      bytes += size
    }
    if (chunk.length > 0) await flush()
    return { triples: out, created }
  }
}

/** The graph with its entities (and their provenance) in the order of `names`. */
function inOrder (g: GraphResult, names: readonly string[]): GraphResult {
  const rank = new Map(names.map((n, i) => [n, i]))
  const order = g.graph.entities.map((e, i) => i).sort((a, b) => rank.get(g.graph.entities[a]!.name)! - rank.get(g.graph.entities[b]!.name)!)
  return {
    graph: { entities: order.map(i => g.graph.entities[i]!), relations: g.graph.relations },
    provenance: { entities: order.map(i => g.provenance.entities[i]!), relations: g.provenance.relations }
  }
}

/** engram stores a relation as a triple whose predicate is its type, and a predicate is never empty. */
function checkRelationType (r: Relation, i: number): void {
  if (r.relationType === '') {
    throw INVALID_INPUT(`relations[${i}].relationType`, 'must not be empty (engram stores a relation as a triple whose predicate is the relation type)')
  }
}

/** Counts the things a delete asked for, each once, and which were not there. */
class ReportBuilder {
  private readonly seen = new Set<string>()
  private deleted = 0
  private readonly missing: string[] = []

  count (label: string, deletedTriples: number): void {
    if (this.seen.has(label)) return
    this.seen.add(label)
    if (deletedTriples > 0) this.deleted++
    else this.missing.push(label)
  }

  done (): DeleteReport { return { requested: this.seen.size, deleted: this.deleted, missing: this.missing } }
}

function firstByKey<T> (items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Set<string>()
  return items.filter(t => {
    const k = key(t)
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
