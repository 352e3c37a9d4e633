/**
 * `engram mcp` over stdio, spawned by the SDK's real client against a real daemon: the tool
 * listing (the memory server's, exactly), every tool called with its effect checked in the store
 * through the REST API, provenance, and the knowledge-graph resource with its notifications.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { BIN, daemonInSandbox, waitFor, type Daemon, type InSandbox, type Sandbox } from '../cli/helpers.ts'
import { call, callFails, connectMcp, rest, text, triplesOf, type McpProcess } from './helpers.ts'

/**
 * The tools/list answer of @modelcontextprotocol/server-memory 0.6.3: its published tool
 * definitions (names, titles, descriptions, schemas, annotations) as the SDK lists them.
 */
const REFERENCE = JSON.parse(readFileSync(new URL('../fixtures/memory-server-tools.json', import.meta.url), 'utf8')) as { name: string }[]

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- structured content is checked field by field
const structured = (r: { structuredContent?: unknown }): any => r.structuredContent
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- provenance is checked field by field
const provenance = (r: { _meta?: Record<string, unknown> }): any => r._meta?.['engram/provenance']

describe('engram mcp (stdio)', () => {
  let box: Sandbox
  let running: InSandbox | undefined
  let daemon: Daemon
  let mcp: McpProcess
  let nodeId: string

  before(async () => {
    assert.ok(existsSync(BIN), `${BIN} is missing: run npm run build first (npm test does)`)
    ;({ box, daemon } = running = await daemonInSandbox())
    nodeId = (await rest(daemon.url, 'GET', '/api/v1/status')).nodeId
    mcp = await connectMcp(['--url', daemon.url], box.env)
  })
  after(async () => {
    await mcp?.close()
    await running?.close()
  })

  it('lists the nine memory-server tools exactly as that server does, then engram\'s own', async () => {
    const { tools } = await mcp.client.listTools()
    const byName = new Map(tools.map(t => [t.name, t]))
    for (const ref of REFERENCE) assert.deepEqual(JSON.parse(JSON.stringify(byName.get(ref.name))), ref, ref.name)
    assert.deepEqual(tools.slice(REFERENCE.length).map(t => t.name),
      ['note_set', 'note_get', 'note_search', 'episode_record', 'episode_list', 'trace_append', 'trace_list', 'sync_status', 'search_memory'])
    for (const t of tools) assert.ok(t.annotations !== undefined && t.outputSchema !== undefined, t.name)
    const { resources } = await mcp.client.listResources()
    assert.deepEqual(resources.map(r => [r.uri, r.mimeType]), [['memory://knowledge-graph', 'application/json']])
    assert.equal(mcp.client.getServerCapabilities()?.resources?.subscribe, true)
  })

  it('create_entities writes a type and observation triples, and skips entities that exist', async () => {
    const r = await call(mcp.client, 'create_entities', { entities: [
      { name: 'Alice', entityType: 'person', observations: ['likes tea', 'lives in Lyon'] },
      { name: 'Acme', entityType: 'company', observations: [] }
    ] })
    assert.deepEqual(structured(r).entities.map((e: { name: string }) => e.name), ['Alice', 'Acme'])
    assert.deepEqual(JSON.parse(text(r)), structured(r).entities)
    assert.deepEqual(await triplesOf(daemon.url, 'kg:Alice'),
      [['kg:entityType', 'person'], ['kg:observation', 'likes tea'], ['kg:observation', 'lives in Lyon']])
    assert.deepEqual(await triplesOf(daemon.url, 'kg:Acme'), [['kg:entityType', 'company']])
    const p = provenance(r)
    assert.equal(p.entities[0].entityType.origin, nodeId)
    assert.equal(p.entities[0].observations.length, 2)
    // Signed by this node, written here (no peer it came through).
    assert.deepEqual([p.entities[0].entityType.signed, p.entities[0].entityType.via], [true, null])

    const again = await call(mcp.client, 'create_entities', { entities: [
      { name: 'Alice', entityType: 'robot', observations: ['new'] }, { name: 'Bob', entityType: 'person', observations: [] }
    ] })
    assert.deepEqual(structured(again).entities, [{ name: 'Bob', entityType: 'person', observations: [] }])
    assert.deepEqual((await triplesOf(daemon.url, 'kg:Alice')).length, 3, 'an existing entity is not changed')
  })

  it('create_relations writes a triple with a node object, once', async () => {
    const r = await call(mcp.client, 'create_relations', { relations: [
      { from: 'Alice', to: 'Acme', relationType: 'works_at' }, { from: 'Bob', to: 'Alice', relationType: 'knows' }
    ] })
    assert.equal(structured(r).relations.length, 2)
    assert.ok((await triplesOf(daemon.url, 'kg:Alice')).some(([p, o]) => p === 'works_at' && JSON.stringify(o) === '{"node":"kg:Acme"}'))
    const again = await call(mcp.client, 'create_relations', { relations: [{ from: 'Alice', to: 'Acme', relationType: 'works_at' }] })
    assert.deepEqual(structured(again).relations, [])
    const empty = await callFails(mcp.client, 'create_relations', { relations: [{ from: 'Alice', to: 'Bob', relationType: '' }] })
    assert.match(empty, /relations\[0\]\.relationType: must not be empty/)
  })

  it('add_observations adds only new ones, and refuses an unknown entity without writing', async () => {
    const r = await call(mcp.client, 'add_observations', { observations: [{ entityName: 'Alice', contents: ['likes tea', 'speaks French'] }] })
    assert.deepEqual(structured(r), { results: [{ entityName: 'Alice', addedObservations: ['speaks French'] }] })
    assert.ok((await triplesOf(daemon.url, 'kg:Alice')).some(([p, o]) => p === 'kg:observation' && o === 'speaks French'))
    const message = await callFails(mcp.client, 'add_observations', { observations: [
      { entityName: 'Bob', contents: ['plays chess'] }, { entityName: 'Nobody', contents: ['x'] }
    ] })
    assert.equal(message, 'Entity with name Nobody not found')
    assert.ok(!(await triplesOf(daemon.url, 'kg:Bob')).some(([p]) => p === 'kg:observation'), 'nothing written')
  })

  it('read_graph, search_nodes and open_nodes answer the graph, with when and where each record was written', async () => {
    const g = await call(mcp.client, 'read_graph')
    assert.deepEqual(structured(g), {
      entities: [
        { name: 'Alice', entityType: 'person', observations: ['likes tea', 'lives in Lyon', 'speaks French'] },
        { name: 'Acme', entityType: 'company', observations: [] },
        { name: 'Bob', entityType: 'person', observations: [] }
      ],
      relations: [{ from: 'Alice', to: 'Acme', relationType: 'works_at' }, { from: 'Bob', to: 'Alice', relationType: 'knows' }]
    })
    const p = provenance(g)
    const stored = await rest(daemon.url, 'POST', '/api/v1/query', { subject: 'kg:Alice', predicate: 'kg:entityType' })
    assert.equal(p.entities[0].entityType.hlc, stored.matches[0].hlc)
    assert.equal(p.entities[0].entityType.origin, nodeId)
    assert.equal(p.relations.length, 2)
    assert.ok(p.relations.every((s: { origin: string, created_at: string }) => s.origin === nodeId && !Number.isNaN(Date.parse(s.created_at))))

    const s = await call(mcp.client, 'search_nodes', { query: 'FRENCH' })
    assert.deepEqual(structured(s).entities.map((e: { name: string }) => e.name), ['Alice'])
    assert.equal(structured(s).relations.length, 2, 'relations touching a match')
    const o = await call(mcp.client, 'open_nodes', { names: ['Acme', 'Ghost'] })
    assert.deepEqual(structured(o), { entities: [{ name: 'Acme', entityType: 'company', observations: [] }], relations: [{ from: 'Alice', to: 'Acme', relationType: 'works_at' }] })
    assert.equal(provenance(o).entities[0].name, 'Acme')
  })

  it('delete_observations, delete_relations and delete_entities leave tombstones in the store', async () => {
    const d = await call(mcp.client, 'delete_observations', { deletions: [{ entityName: 'Alice', observations: ['lives in Lyon', 'never said'] }, { entityName: 'Ghost', observations: ['x'] }] })
    assert.deepEqual(structured(d), { success: true, message: 'Observations deleted successfully' })
    assert.equal(text(d), 'Observations deleted successfully')
    assert.ok(!(await triplesOf(daemon.url, 'kg:Alice')).some(([, o]) => o === 'lives in Lyon'))

    await call(mcp.client, 'delete_relations', { relations: [{ from: 'Bob', to: 'Alice', relationType: 'knows' }] })
    assert.deepEqual(await triplesOf(daemon.url, 'kg:Bob'), [['kg:entityType', 'person']])

    const e = await call(mcp.client, 'delete_entities', { entityNames: ['Acme', 'Ghost'] })
    assert.deepEqual(structured(e), { success: true, message: 'Entities deleted successfully' })
    assert.deepEqual(await triplesOf(daemon.url, 'kg:Acme'), [])
    assert.ok(!(await triplesOf(daemon.url, 'kg:Alice')).some(([p]) => p === 'works_at'), 'relations into a deleted entity are deleted')
    const stats = (await rest(daemon.url, 'GET', '/api/v1/status')).store.stats
    assert.ok(stats.tripleTombstones >= 4)
    assert.deepEqual(structured(await call(mcp.client, 'read_graph')).entities.map((x: { name: string }) => x.name), ['Alice', 'Bob'])
  })

  it('refuses arguments that do not match the input schema', async () => {
    const m = await callFails(mcp.client, 'create_entities', { entities: [{ name: 'X', observations: [] }] })
    assert.match(m, /^Input validation error: Invalid arguments for tool create_entities: .*entityType/)
    assert.match(await callFails(mcp.client, 'no_such_tool', {}), /Tool no_such_tool not found/)
  })

  it('notes, episodes, traces and sync status, each record with its stamp and origin', async () => {
    const set = structured(await call(mcp.client, 'note_set', { key: 'project:engram/goal', value: { text: 'ship' } }))
    assert.equal(set.note.origin, nodeId)
    assert.deepEqual([set.note.provenance.origin, set.note.provenance.signed, set.note.provenance.via], [nodeId, true, null])
    const stored = await rest(daemon.url, 'GET', '/api/v1/notes/project:engram%2Fgoal')
    assert.deepEqual(stored.value, { text: 'ship' })
    assert.equal(stored.hlc, set.note.hlc)
    assert.deepEqual(structured(await call(mcp.client, 'note_get', { key: 'project:engram/goal' })).note, stored)
    assert.deepEqual(structured(await call(mcp.client, 'note_get', { key: 'nope' })), { note: null })
    await call(mcp.client, 'note_set', { key: 'project:other', value: 'nothing to see' })
    const found = structured(await call(mcp.client, 'note_search', { prefix: 'project:', query: 'SHIP' }))
    assert.deepEqual(found.notes.map((n: { key: string }) => n.key), ['project:engram/goal'])
    assert.equal(found.total, 1)
    assert.equal(structured(await call(mcp.client, 'note_search', { prefix: 'project:' })).total, 2)

    const ep = structured(await call(mcp.client, 'episode_record', { id: 'coder:s1', summary: 'fixed the build', tags: ['ci'], data: { files: 3 } })).episode
    assert.deepEqual((await rest(daemon.url, 'GET', '/api/v1/episodes/coder:s1')).data, { files: 3, summary: 'fixed the build', tags: ['ci'] })
    assert.equal(ep.origin, nodeId)
    assert.deepEqual(structured(await call(mcp.client, 'episode_list', { prefix: 'coder:' })).episodes.map((e: { id: string }) => e.id), ['coder:s1'])

    const tr = structured(await call(mcp.client, 'trace_append', { runId: 'run-1', type: 'tool_call', data: { tool: 'grep' } })).trace
    const traces = await rest(daemon.url, 'GET', '/api/v1/traces?runId=run-1')
    assert.deepEqual(traces.traces.map((t: { id: string }) => t.id), [tr.id])
    assert.equal(structured(await call(mcp.client, 'trace_list', { runId: 'run-1' })).traces[0].origin, nodeId)

    const sync = structured(await call(mcp.client, 'sync_status'))
    assert.equal(sync.nodeId, nodeId)
    assert.equal(typeof sync.mode, 'string')
    assert.ok(Array.isArray(sync.peers))
    assert.ok('lagSeconds' in sync && 'lastSyncAt' in sync)
  })

  it('serves memory://knowledge-graph and notifies a subscriber when the graph changes in the store', async () => {
    const updates: string[] = []
    mcp.client.setNotificationHandler(ResourceUpdatedNotificationSchema, n => { updates.push(n.params.uri) })
    await mcp.client.subscribeResource({ uri: 'memory://knowledge-graph' })

    // A write that did not come through this MCP server, as a change from another machine arrives.
    await rest(daemon.url, 'POST', '/api/v1/triples', { subject: 'kg:Remote', predicate: 'kg:entityType', object: 'machine' })
    await waitFor(() => updates.length > 0, 10_000, 'notifications/resources/updated')
    assert.equal(updates[0], 'memory://knowledge-graph')
    const read = await mcp.client.readResource({ uri: 'memory://knowledge-graph' })
    const content = read.contents[0] as { text: string, mimeType: string }
    assert.equal(content.mimeType, 'application/json')
    assert.ok((JSON.parse(content.text) as { entities: { name: string }[] }).entities.some(e => e.name === 'Remote'))

    // Writes outside the graph's namespace do not notify; unsubscribing stops notifications.
    const seen = updates.length
    await rest(daemon.url, 'PUT', '/api/v1/notes/kg:just-a-note', { value: 1 })
    await mcp.client.unsubscribeResource({ uri: 'memory://knowledge-graph' })
    await call(mcp.client, 'create_entities', { entities: [{ name: 'Quiet', entityType: 'x', observations: [] }] })
    await call(mcp.client, 'read_graph') // a round trip after the write, so a notification would have come first
    assert.equal(updates.length, seen)
  })

  it('shows provenance in the text too with --provenance', async () => {
    const other = await connectMcp(['--url', daemon.url, '--provenance'], box.env)
    try {
      const r = await call(other.client, 'open_nodes', { names: ['Alice'] })
      assert.equal(r.content.length, 2)
      const second = r.content[1] as { text: string }
      assert.match(second.text, /^When and on which machine each record was written:/)
      assert.ok(second.text.includes(nodeId))
    } finally {
      await other.close()
    }
  })
})
