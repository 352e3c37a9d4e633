/**
 * Search through `engram mcp` (stdio, the SDK's real client, a real daemon): search_nodes keeps
 * the memory server's input and output but ranks entities by relevance (and falls back to its
 * substring rule when the words find nothing); search_memory searches every kind with snippets;
 * the tool list stays short, its token cost measured with a real tokenizer (o200k).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base'
import { daemonInSandbox, type Daemon, type InSandbox, type Sandbox } from '../cli/helpers.ts'
import { call, callFails, connectMcp, rest, text, type McpProcess } from './helpers.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- structured content is checked field by field
const structured = (r: { structuredContent?: unknown }): any => r.structuredContent

/** The token budget of the whole tools/list answer (every tool's name, description and schemas). */
const TOOL_LIST_TOKEN_BUDGET = 5000

describe('engram mcp: search', () => {
  let box: Sandbox
  let running: InSandbox | undefined
  let daemon: Daemon
  let mcp: McpProcess

  before(async () => {
    ;({ box, daemon } = running = await daemonInSandbox())
    mcp = await connectMcp(['--url', daemon.url], box.env)
    await call(mcp.client, 'create_entities', { entities: [
      { name: 'Carol', entityType: 'person', observations: ['plays the cello', 'lives near the old harbour'] },
      { name: 'Dave', entityType: 'person', observations: ['collects old maps', 'sails every summer from the harbour'] },
      { name: 'Erin', entityType: 'person', observations: ['bakes sourdough'] },
      { name: 'Harbourmaster', entityType: 'role', observations: ['keeps the old harbour logbook'] }
    ] })
    await call(mcp.client, 'create_relations', { relations: [{ from: 'Dave', to: 'Carol', relationType: 'knows' }] })
    await rest(daemon.url, 'PUT', '/api/v1/notes/project:boat%2Fplan', { value: 'repaint the hull before the harbour festival' })
  })
  after(async () => {
    await mcp?.close()
    await running?.close()
  })

  it('search_nodes ranks entities by relevance, with the memory server\'s output', async () => {
    const r = structured(await call(mcp.client, 'search_nodes', { query: 'old harbour' }))
    assert.deepEqual(Object.keys(r).sort(), ['entities', 'relations'])
    const names = r.entities.map((e: { name: string }) => e.name)
    // "old harbour" side by side: Carol and the Harbourmaster hold the phrase; Dave holds both words apart.
    assert.deepEqual(names.slice(0, 2).sort(), ['Carol', 'Harbourmaster'])
    assert.equal(names[2], 'Dave')
    assert.ok(!names.includes('Erin'))
    assert.deepEqual(r.entities.find((e: { name: string }) => e.name === 'Carol'), { name: 'Carol', entityType: 'person', observations: ['plays the cello', 'lives near the old harbour'] })
    assert.deepEqual(r.relations, [{ from: 'Dave', to: 'Carol', relationType: 'knows' }])
    const prefix = structured(await call(mcp.client, 'search_nodes', { query: 'sourd' }))
    assert.deepEqual(prefix.entities.map((e: { name: string }) => e.name), ['Erin'])
  })

  it('search_nodes falls back to the memory server\'s substring rule when the words find nothing', async () => {
    const r = structured(await call(mcp.client, 'search_nodes', { query: 'ourdoug' }))
    assert.deepEqual(r.entities.map((e: { name: string }) => e.name), ['Erin'])
    const all = structured(await call(mcp.client, 'search_nodes', { query: '' }))
    assert.equal(all.entities.length, 4, 'an empty query matches everything, as there')
    const none = structured(await call(mcp.client, 'search_nodes', { query: 'zyzzyva' }))
    assert.deepEqual(none, { entities: [], relations: [] })
  })

  it('search_memory searches every kind, with the matching words in bold', async () => {
    const r = await call(mcp.client, 'search_memory', { query: 'harbour', limit: 10 })
    const s = structured(r)
    assert.deepEqual(s.results.map((x: { type: string }) => x.type).sort(), ['entity', 'entity', 'entity', 'note'])
    assert.match(text(r), /note project:boat\/plan: repaint the hull before the \*\*harbour\*\* festival/)
    assert.match(text(r), /kg:Carol\n {2}kg:observation lives near the old \*\*harbour\*\*/)
    const notes = structured(await call(mcp.client, 'search_memory', { query: 'harbour', kinds: ['note'] }))
    assert.equal(notes.results.length, 1)
    const g = structured(await call(mcp.client, 'search_memory', { query: 'cello', expand: 1 }))
    assert.deepEqual(g.graph.nodes.map((n: { id: string }) => n.id), ['kg:Carol', 'kg:Dave'])
    const bad = await callFails(mcp.client, 'search_memory', { query: 'harbour OR' })
    assert.match(bad, /OR at character 9 without something to search for on its right \(INVALID_INPUT\)/)
  })

  it('the tool list stays short: its token cost is measured and within budget', async () => {
    const { tools } = await mcp.client.listTools()
    const tokens = countTokens(JSON.stringify(tools))
    const ours = tools.find(t => t.name === 'search_memory')!
    const searchTokens = countTokens(JSON.stringify(ours))
    process.stdout.write(`# tools/list: ${tools.length} tools, ${tokens} tokens (o200k); search_memory ${searchTokens}\n`)
    assert.ok(tokens <= TOOL_LIST_TOKEN_BUDGET, `tools/list costs ${tokens} tokens, over the budget of ${TOOL_LIST_TOKEN_BUDGET}`)
    assert.ok(searchTokens <= 300, `search_memory costs ${searchTokens} tokens`)
    assert.ok(ours.description!.length <= 160)
  })
})
