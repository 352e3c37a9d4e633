/**
 * Across machines through MCP: two engram daemons syncing natively over QUIC on loopback (shared
 * seed, each the other's manual peer), an `engram mcp` on each. An entity created through node
 * A's MCP server shows up in open_nodes on node B's.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { BIN, sandbox, type Sandbox } from '../cli/helpers.ts'
import { startMesh, type P2pNode } from '../native/daemons.ts'
import { call, connectMcp, type McpProcess } from './helpers.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- structured content is checked field by field
const structured = (r: { structuredContent?: unknown }): any => r.structuredContent

describe('engram mcp across two syncing daemons', () => {
  let box: Sandbox | undefined
  let nodes: P2pNode[] = []
  const mcps: McpProcess[] = []

  before(async () => {
    assert.ok(existsSync(BIN), `${BIN} is missing: run npm run build first (npm test does)`)
    box = sandbox()
    nodes = await startMesh(box, ['a', 'b'])
  })
  after(async () => {
    await Promise.allSettled(mcps.map(m => m.close()))
    await Promise.allSettled(nodes.map(n => n.kill()))
    box?.remove()
  })

  it('an entity created through MCP on node A is opened through MCP on node B', async () => {
    const [a, b] = nodes as [P2pNode, P2pNode]
    const onA = await connectMcp(['--url', a.url], box!.env)
    mcps.push(onA)
    const onB = await connectMcp(['--url', b.url], box!.env)
    mcps.push(onB)

    const created = await call(onA.client, 'create_entities', { entities: [
      { name: 'CrossNode', entityType: 'machine', observations: ['written on node a'] }
    ] })
    assert.deepEqual(structured(created).entities.map((e: { name: string }) => e.name), ['CrossNode'])

    // Poll node B through its own MCP server, each round trip a real call, until a deadline.
    const deadline = Date.now() + 15_000
    let seen: { entities: { name: string, entityType: string, observations: string[] }[] } = { entities: [] }
    let calls = 0
    while (Date.now() < deadline) {
      calls++
      seen = structured(await call(onB.client, 'open_nodes', { names: ['CrossNode'] }))
      if (seen.entities.length > 0 && seen.entities[0]!.observations.length > 0) break
    }
    assert.deepEqual(seen.entities, [{ name: 'CrossNode', entityType: 'machine', observations: ['written on node a'] }],
      `not on node b after ${calls} open_nodes calls: ${JSON.stringify(seen)}`)
  })
})
