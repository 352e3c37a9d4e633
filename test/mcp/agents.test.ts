/**
 * `engram mcp` driven the way agents drive it, by the MCP SDK's real Client over stdio: every
 * tool with properties the schemas do not declare, unicode of every kind, duplicates and
 * missing entities. Each result is checked against the output schema the tool lists (the Client
 * checks it too, and would throw) and against what it did to the store, read back through the
 * daemon's REST API. A second session follows the memory server's next release (--compat next).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { Tool } from '@modelcontextprotocol/sdk/types.js'
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv'
import type { JsonSchemaType } from '@modelcontextprotocol/sdk/validation/types.js'
import { daemonInSandbox, type Daemon, type InSandbox, type Sandbox } from '../cli/helpers.ts'
import { callFails, connectMcp, rest, text, triplesOf, type McpProcess, type ToolResult } from './helpers.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- structured content is checked field by field
type Any = any

const validator = new AjvJsonSchemaValidator()

/** Calls a tool that must succeed, and checks its structured content against the output schema the server listed. */
async function use (client: Client, tools: Map<string, Tool>, name: string, args: Record<string, unknown>): Promise<Any> {
  const r = await client.callTool({ name, arguments: args }) as ToolResult
  assert.notEqual(r.isError, true, `${name} failed: ${JSON.stringify(r.content)}`)
  const schema = tools.get(name)?.outputSchema
  assert.ok(schema !== undefined, `${name} lists an output schema`)
  const checked = validator.getValidator(schema as JsonSchemaType)(r.structuredContent)
  assert.ok(checked.valid, `${name}: ${checked.errorMessage ?? ''} in ${JSON.stringify(r.structuredContent)}`)
  return r.structuredContent
}

const UNICODE = {
  emoji: 'Octo 🐙',
  family: 'family 👨‍👩‍👧', // joined by zero-width joiners
  cjk: '東京タワー',
  rtl: 'שלום עולם',
  decomposed: 'Cafe\u0301', // e + combining acute
  composed: 'Caf\u00e9',
  math: '𝔸𝕝𝕘𝕖𝕓𝕣𝕒', // astral plane letters
  greek: 'ΣΊΣΥΦΟΣ'
}

/**
 * A daemon and an `engram mcp …args` connected to it, for the tests of one describe block; the
 * tools are listed first, which makes the Client check every later result against its schema.
 */
function session (args: readonly string[]): { daemon: () => Daemon, mcp: () => McpProcess, tools: () => Map<string, Tool>, call: (name: string, a: Record<string, unknown>) => Promise<Any> } {
  let box: Sandbox
  let running: InSandbox | undefined
  let daemon: Daemon
  let mcp: McpProcess
  let tools: Map<string, Tool>
  before(async () => {
    ;({ box, daemon } = running = await daemonInSandbox())
    mcp = await connectMcp(['--url', daemon.url, ...args], box.env)
    tools = new Map((await mcp.client.listTools()).tools.map(t => [t.name, t]))
  })
  after(async () => {
    await mcp?.close()
    await running?.close()
  })
  return { daemon: () => daemon, mcp: () => mcp, tools: () => tools, call: (name, a) => use(mcp.client, tools, name, a) }
}

describe('engram mcp, driven by the SDK Client as agents drive it', () => {
  const s = session([])
  const call = s.call
  let daemon: Daemon
  let mcp: McpProcess
  before(() => { daemon = s.daemon(); mcp = s.mcp() })
  const types = async (name: string): Promise<unknown[]> => (await triplesOf(daemon.url, `kg:${name}`)).filter(([p, o]) => p === 'kg:entityType' && typeof o === 'string').map(([, o]) => o)
  const observations = async (name: string): Promise<unknown[]> => (await triplesOf(daemon.url, `kg:${name}`)).filter(([p]) => p === 'kg:observation').map(([, o]) => o)


  it('create_entities drops undeclared properties, keeps unicode exactly, and creates a name given twice once', async () => {
    const r = await call('create_entities', {
      entities: [
        { name: 'Alice', entityType: 'person', observations: ['likes tea', 'likes tea', 'speaks French'], importance: 3, metadata: { source: 'chat' } },
        { name: 'Alice', entityType: 'robot', observations: ['second'] },
        ...Object.entries(UNICODE).map(([k, name]) => ({ name, entityType: `type ${k} ✓`, observations: [`about ${name}`], confidence: 0.9 }))
      ],
      reason: 'the agent explains itself'
    })
    assert.deepEqual(r.entities[0], { name: 'Alice', entityType: 'person', observations: ['likes tea', 'speaks French'] })
    assert.equal(r.entities.length, 1 + Object.keys(UNICODE).length)
    for (const e of r.entities) assert.deepEqual(Object.keys(e), ['name', 'entityType', 'observations'])
    assert.deepEqual(await types('Alice'), ['person'])
    assert.deepEqual(await observations('Alice'), ['likes tea', 'speaks French'])
    for (const [k, name] of Object.entries(UNICODE)) {
      assert.deepEqual(await types(name), [`type ${k} ✓`], name)
      assert.deepEqual(await observations(name), [`about ${name}`], name)
    }
    // The composed and decomposed spellings are two names, as in the memory server: nothing is normalized.
    assert.notEqual(UNICODE.composed, UNICODE.decomposed)
    const graph = await call('read_graph', { verbose: true })
    assert.deepEqual(graph.entities.map((e: { name: string }) => e.name), ['Alice', ...Object.values(UNICODE)])
  })

  it('create_relations drops undeclared properties, creates a duplicate once, and allows a missing end (released behaviour)', async () => {
    const r = await call('create_relations', {
      relations: [
        { from: 'Alice', to: UNICODE.cjk, relationType: 'visited 🗼', weight: 0.5 },
        { from: 'Alice', to: UNICODE.cjk, relationType: 'visited 🗼' },
        { from: UNICODE.rtl, to: 'Nobody yet', relationType: 'greets' }
      ]
    })
    assert.deepEqual(r.relations, [
      { from: 'Alice', to: UNICODE.cjk, relationType: 'visited 🗼' },
      { from: UNICODE.rtl, to: 'Nobody yet', relationType: 'greets' }
    ])
    const visited = (await triplesOf(daemon.url, 'kg:Alice')).filter(([p]) => p === 'visited 🗼')
    assert.deepEqual(visited, [['visited 🗼', { node: `kg:${UNICODE.cjk}` }]])
    const graph = await call('read_graph', {})
    assert.ok(graph.relations.some((x: Any) => x.to === 'Nobody yet'), 'a relation to a missing entity is listed')
  })

  it('a relation of type kg:entityType is a relation: its source is still no entity', async () => {
    await call('create_relations', { relations: [{ from: 'Ghost', to: 'Alice', relationType: 'kg:entityType' }] })
    const missing = await callFails(mcp.client, 'add_observations', { observations: [{ entityName: 'Ghost', contents: ['boo'] }] })
    assert.equal(missing, 'Entity with name Ghost not found')
    const created = await call('create_entities', { entities: [{ name: 'Ghost', entityType: 'spirit', observations: ['floats'] }] })
    assert.deepEqual(created.entities, [{ name: 'Ghost', entityType: 'spirit', observations: ['floats'] }])
    const added = await call('add_observations', { observations: [{ entityName: 'Ghost', contents: ['boo'] }] })
    assert.deepEqual(added.results, [{ entityName: 'Ghost', addedObservations: ['boo'] }])
    const opened = await call('open_nodes', { names: ['Ghost'] })
    assert.deepEqual(opened.entities, [{ name: 'Ghost', entityType: 'spirit', observations: ['floats', 'boo'] }])
    assert.deepEqual(opened.relations, [{ from: 'Ghost', to: 'Alice', relationType: 'kg:entityType' }])
    assert.deepEqual(await triplesOf(daemon.url, 'kg:Ghost'), [
      ['kg:entityType', 'spirit'], ['kg:entityType', { node: 'kg:Alice' }], ['kg:observation', 'boo'], ['kg:observation', 'floats']
    ], 'the type and the relation are two triples')
  })

  it('add_observations drops undeclared properties, adds a text given twice once, and refuses a missing entity writing nothing', async () => {
    const r = await call('add_observations', {
      observations: [
        { entityName: UNICODE.math, contents: ['ℵ₀ is countable', 'ℵ₀ is countable', `about ${UNICODE.math}`], priority: 'high' }
      ],
      dryRun: false
    })
    assert.deepEqual(r, { results: [{ entityName: UNICODE.math, addedObservations: ['ℵ₀ is countable'] }] })
    assert.deepEqual(new Set(await observations(UNICODE.math)), new Set([`about ${UNICODE.math}`, 'ℵ₀ is countable']))
    const message = await callFails(mcp.client, 'add_observations', { observations: [
      { entityName: 'Alice', contents: ['writes Rust'] }, { entityName: 'Nobody', contents: ['x'], extra: 1 }
    ] })
    assert.equal(message, 'Entity with name Nobody not found')
    assert.ok(!(await observations('Alice')).includes('writes Rust'), 'nothing of the call was written')
  })

  it('search_nodes and open_nodes find unicode case-insensitively, with duplicates and missing names', async () => {
    const s = await call('search_nodes', { query: 'σίσυφος', limit: 5 })
    assert.deepEqual(s.entities.map((e: { name: string }) => e.name), [UNICODE.greek])
    const emoji = await call('search_nodes', { query: '🐙' })
    assert.deepEqual(emoji.entities.map((e: { name: string }) => e.name), [UNICODE.emoji])
    const o = await call('open_nodes', { names: [UNICODE.family, UNICODE.family, 'Missing'], depth: 2 })
    assert.deepEqual(o.entities.map((e: { name: string }) => e.name), [UNICODE.family])
    assert.deepEqual(o.relations, [])
  })

  it('the delete tools drop undeclared properties, take duplicates and missing names, and answer the fixed message', async () => {
    const obs = await call('delete_observations', { deletions: [
      { entityName: 'Alice', observations: ['likes tea', 'likes tea', 'never said'], why: 'stale' },
      { entityName: 'Missing', observations: ['x'] }
    ] })
    assert.deepEqual(obs, { success: true, message: 'Observations deleted successfully' })
    assert.deepEqual(await observations('Alice'), ['speaks French'])

    const rel = await call('delete_relations', { relations: [
      { from: 'Alice', to: UNICODE.cjk, relationType: 'visited 🗼', weight: 0.5 },
      { from: 'Alice', to: UNICODE.cjk, relationType: 'visited 🗼' },
      { from: 'No', to: 'One', relationType: 'knows' }
    ] })
    assert.deepEqual(rel, { success: true, message: 'Relations deleted successfully' })
    assert.ok(!(await triplesOf(daemon.url, 'kg:Alice')).some(([p]) => p === 'visited 🗼'))

    const ent = await call('delete_entities', { entityNames: [UNICODE.emoji, UNICODE.emoji, 'Missing'], cascade: true })
    assert.deepEqual(ent, { success: true, message: 'Entities deleted successfully' })
    assert.deepEqual(await triplesOf(daemon.url, `kg:${UNICODE.emoji}`), [])
    assert.equal(text(await mcp.client.callTool({ name: 'delete_entities', arguments: { entityNames: [] } }) as ToolResult), 'Entities deleted successfully')
  })

  it('engram\'s own tools drop undeclared properties too, and keep free-form JSON whole', async () => {
    const note = await call('note_set', { key: 'agent:prefs/ユーザー', value: { theme: 'dark', nested: { extra: [1, '二'] } }, ttl: 60 })
    assert.deepEqual(note.note.value, { theme: 'dark', nested: { extra: [1, '二'] } })
    const stored = await rest(daemon.url, 'GET', `/api/v1/notes/${encodeURIComponent('agent:prefs/ユーザー')}`)
    assert.deepEqual(stored.value, { theme: 'dark', nested: { extra: [1, '二'] } })
    assert.deepEqual((await call('note_get', { key: 'agent:prefs/ユーザー', verbose: 1 })).note, stored)
    assert.equal((await call('note_search', { query: '二', fuzzy: true })).total, 1)

    const ep = await call('episode_record', { id: 'coder:🐙', summary: 'résumé', mood: 'happy', data: { files: ['a.ts'], free: { form: true } } })
    assert.deepEqual(ep.episode.data, { files: ['a.ts'], free: { form: true }, summary: 'résumé' }, 'an undeclared field is not stored')
    assert.deepEqual((await rest(daemon.url, 'GET', `/api/v1/episodes/${encodeURIComponent('coder:🐙')}`)).data, ep.episode.data)
    assert.equal((await call('episode_list', { prefix: 'coder:', order: 'asc' })).total, 1)

    const tr = await call('trace_append', { runId: 'run-Ω', type: 'tool_call', data: { tool: 'grep', args: ['-r', 'ß'] }, level: 'debug' })
    assert.deepEqual(tr.trace.data, { tool: 'grep', args: ['-r', 'ß'] })
    assert.deepEqual((await call('trace_list', { runId: 'run-Ω', since: 'yesterday' })).traces.map((t: { id: string }) => t.id), [tr.trace.id])
    assert.equal((await call('sync_status', { peers: 'all' })).mode, 'none')
  })

  it('refuses a lone surrogate, naming where it is, and writes nothing', async () => {
    const lone = 'bad \ud800 name'
    const m = await callFails(mcp.client, 'create_entities', { entities: [{ name: 'Fine', entityType: 't', observations: [] }, { name: 'X', entityType: 't', observations: ['ok', lone] }] })
    assert.equal(m, 'entities[1].observations[1]: must be well-formed Unicode (it holds a lone surrogate, which engram cannot store)')
    assert.deepEqual(await triplesOf(daemon.url, 'kg:Fine'), [])
    const v = await callFails(mcp.client, 'note_set', { key: 'k', value: { list: ['a', '\udc00'] } })
    assert.match(v, /^value\.list\[1\]: must be well-formed Unicode/)
    assert.match(await callFails(mcp.client, 'search_nodes', { query: '\ud83d' }), /^query: must be well-formed Unicode/)
  })
})

describe('engram mcp --compat next: the memory server\'s next release', () => {
  const s = session(['--compat', 'next'])
  const call = s.call
  let daemon: Daemon
  let mcp: McpProcess
  let tools: Map<string, Tool>

  before(async () => {
    daemon = s.daemon()
    mcp = s.mcp()
    tools = s.tools()
    await call('create_entities', { entities: [
      { name: 'Alice', entityType: 'person', observations: ['likes tea'] },
      { name: 'Bob', entityType: 'person', observations: [] }
    ] })
  })

  it('refuses a relation to or from a missing entity, writing nothing of the call', async () => {
    const m = await callFails(mcp.client, 'create_relations', { relations: [
      { from: 'Alice', to: 'Bob', relationType: 'knows' }, { from: 'Alice', to: 'Ghost', relationType: 'fears' }
    ] })
    assert.equal(m, 'Entity with name Ghost not found')
    assert.equal(await callFails(mcp.client, 'create_relations', { relations: [{ from: 'Nobody', to: 'Bob', relationType: 'x' }] }), 'Entity with name Nobody not found')
    assert.ok(!(await triplesOf(daemon.url, 'kg:Alice')).some(([p]) => p === 'knows'))
    assert.deepEqual((await call('create_relations', { relations: [{ from: 'Alice', to: 'Bob', relationType: 'knows' }] })).relations,
      [{ from: 'Alice', to: 'Bob', relationType: 'knows' }])
  })

  it('says what a delete did not find, and keeps the fixed message when everything was found', async () => {
    assert.deepEqual(await call('delete_observations', { deletions: [{ entityName: 'Alice', observations: ['likes tea', 'likes coffee'] }, { entityName: 'Carol', observations: ['x'] }] }),
      { success: true, message: 'Deleted 1 of 3 observations. Not found: Alice: likes coffee, Carol: x' })
    assert.deepEqual(await call('delete_relations', { relations: [{ from: 'Alice', to: 'Bob', relationType: 'knows' }] }),
      { success: true, message: 'Relations deleted successfully' })
    assert.deepEqual(await call('delete_relations', { relations: [{ from: 'Alice', to: 'Bob', relationType: 'knows' }] }),
      { success: true, message: 'Deleted 0 of 1 relations. Not found: Alice -knows-> Bob' })
    assert.deepEqual(await call('delete_entities', { entityNames: ['Alice', 'Alise', 'Alice'] }),
      { success: true, message: 'Deleted 1 of 2 entities. Not found: Alise' })
    assert.deepEqual(await triplesOf(daemon.url, 'kg:Alice'), [])
    assert.deepEqual(await call('delete_entities', { entityNames: ['Bob'] }), { success: true, message: 'Entities deleted successfully' })
  })

  it('lists search_nodes with a 2,048-character query and refuses a longer one', async () => {
    assert.equal((tools.get('search_nodes')!.inputSchema.properties!.query as { maxLength?: number }).maxLength, 2048)
    assert.deepEqual(await call('search_nodes', { query: 'x'.repeat(2048) }), { entities: [], relations: [] })
    assert.match(await callFails(mcp.client, 'search_nodes', { query: 'x'.repeat(2049) }), /^Input validation error: Invalid arguments for tool search_nodes: .*2048/)
  })
})
