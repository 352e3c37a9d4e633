/** The knowledge graph ⇄ triples mapping (pure): what is an entity, order, conflicting types, what is left out. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TripleDto } from '../../src/api/dto.ts'
import type { Json } from '../../src/core/model.ts'
import { GraphMapping, subgraph } from '../../src/mcp/mapping.ts'

let n = 0
/** A triple as the REST API returns it, stamped `wall` ms by `node`. */
function t (subject: string, predicate: string, object: Json, wall: number, node = 'node-a'): TripleDto {
  const hlc = `${wall.toString(16).padStart(12, '0')}.0000.${node}`
  return { id: `id-${n++}`, subject, predicate, object, hlc, origin: node, created_at: new Date(wall).toISOString() }
}

describe('GraphMapping', () => {
  const m = new GraphMapping('kg')

  it('maps entities, observations and relations to triples and back', () => {
    assert.deepEqual(m.typeTriple('Alice', 'person'), { subject: 'kg:Alice', predicate: 'kg:entityType', object: 'person' })
    assert.deepEqual(m.observationTriple('Alice', '{"x":1}'), { subject: 'kg:Alice', predicate: 'kg:observation', object: '{"x":1}' })
    assert.deepEqual(m.relationTriple({ from: 'a:b', to: 'c', relationType: 'rel' }), { subject: 'kg:a:b', predicate: 'rel', object: { node: 'kg:c' } })
    assert.equal(m.nameOf('kg:a:b'), 'a:b')
    assert.equal(m.nameOf('user:a'), undefined)
    assert.equal(new GraphMapping('proj').subject('X'), 'proj:X')
  })

  it('orders by stamp, picks the latest of conflicting types, and leaves out what is not graph data', () => {
    const { graph, provenance } = m.assemble([
      t('kg:B', 'kg:entityType', 'project', 20),
      t('kg:A', 'kg:observation', 'second', 30),
      t('kg:A', 'kg:entityType', 'person', 10),
      t('kg:A', 'kg:observation', 'first', 15),
      t('kg:A', 'kg:entityType', 'human', 40, 'node-b'),
      t('kg:A', 'works_on', { node: 'kg:B' }, 50),
      t('kg:A', 'kg:entityType', { node: 'kg:B' }, 55), // a relation whose type happens to be kg:entityType
      t('kg:A', 'age', 42, 60), // not graph data
      t('kg:A', 'knows', { node: 'user:bob' }, 70), // a node outside the graph
      t('kg:Orphan', 'kg:observation', 'no type', 80), // no entity without a type
      t('user:x', 'kg:entityType', 'elsewhere', 90)
    ])
    assert.deepEqual(graph, {
      entities: [
        { name: 'A', entityType: 'human', observations: ['first', 'second'] },
        { name: 'B', entityType: 'project', observations: [] }
      ],
      relations: [{ from: 'A', to: 'B', relationType: 'works_on' }, { from: 'A', to: 'B', relationType: 'kg:entityType' }]
    })
    assert.equal(provenance.entities[0]!.entityType.origin, 'node-b')
    assert.deepEqual(provenance.entities[0]!.observations.map(s => s.created_at), [new Date(15).toISOString(), new Date(30).toISOString()])
  })

  it('keeps the entities asked for and the relations that touch them', () => {
    const g = m.assemble([
      t('kg:A', 'kg:entityType', 'x', 1), t('kg:B', 'kg:entityType', 'x', 2), t('kg:C', 'kg:entityType', 'x', 3),
      t('kg:A', 'r', { node: 'kg:B' }, 4), t('kg:B', 'r', { node: 'kg:C' }, 5), t('kg:C', 'r', { node: 'kg:A' }, 6)
    ])
    const s = subgraph(g, e => e.name === 'A')
    assert.deepEqual(s.graph.entities.map(e => e.name), ['A'])
    assert.deepEqual(s.graph.relations.map(r => `${r.from}>${r.to}`), ['A>B', 'C>A'])
    assert.equal(s.provenance.relations.length, 2)
  })
})
