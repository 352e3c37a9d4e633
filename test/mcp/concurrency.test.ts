/**
 * Agents sharing one store: 40 concurrent create_entities calls through two `engram mcp`
 * processes on one daemon all land, and each process reads what the other wrote.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { daemonInSandbox, type Daemon, type InSandbox, type Sandbox } from '../cli/helpers.ts'
import { call, connectMcp, rest, type McpProcess } from './helpers.ts'

describe('two engram mcp processes on one daemon', () => {
  let box: Sandbox
  let running: InSandbox | undefined
  let daemon: Daemon
  let a: McpProcess
  let b: McpProcess

  before(async () => {
    ;({ box, daemon } = running = await daemonInSandbox())
    ;[a, b] = await Promise.all([connectMcp(['--url', daemon.url], box.env), connectMcp(['--data-dir', daemon.dataDir], box.env)])
  })
  after(async () => {
    await Promise.all([a?.close(), b?.close()])
    await running?.close()
  })

  it('keeps all 40 entities of 40 concurrent create_entities calls', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `agent-entity-${String(i).padStart(2, '0')}`)
    const results = await Promise.all(names.map((name, i) => call(i % 2 === 0 ? a.client : b.client, 'create_entities', {
      entities: [{ name, entityType: 'note', observations: [`written by process ${i % 2 === 0 ? 'a' : 'b'}`, `call ${i}`] }]
    })))
    for (const [i, r] of results.entries()) {
      assert.deepEqual((r.structuredContent as { entities: { name: string }[] }).entities.map(e => e.name), [names[i]])
    }

    const types = await rest(daemon.url, 'POST', '/api/v1/query', { namespace: 'kg', predicate: 'kg:entityType', limit: 1000 })
    assert.equal(types.total, 40)
    const observations = await rest(daemon.url, 'POST', '/api/v1/query', { namespace: 'kg', predicate: 'kg:observation', limit: 1000 })
    assert.equal(observations.total, 80)

    for (const p of [a, b]) {
      const g = (await call(p.client, 'read_graph')).structuredContent as { entities: { name: string, observations: string[] }[] }
      assert.deepEqual(g.entities.map(e => e.name).sort(), names)
      assert.ok(g.entities.every(e => e.observations.length === 2))
    }
  })
})
