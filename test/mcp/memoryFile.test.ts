/**
 * `engram import-memory` and `engram export-memory` with the memory server's JSONL file: a round
 * trip gives the same file, import runs in batches with progress on stderr, bad lines are
 * reported and skipped, importing again changes nothing, and MCP tools see the imported graph.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { daemonInSandbox, engram, type Daemon, type InSandbox, type Sandbox } from '../cli/helpers.ts'
import { call, connectMcp, rest } from './helpers.ts'

const ENTITIES = Array.from({ length: 12 }, (_, i) => ({
  type: 'entity',
  name: i === 3 ? 'Zoë "quoted" name: with a colon' : `Entity ${i}`,
  entityType: i % 3 === 0 ? 'person' : 'project',
  observations: Array.from({ length: i % 4 }, (_, k) => `observation ${k} of ${i}${k === 1 ? ' — {not json}' : ''}`)
}))
const RELATIONS = [
  { type: 'relation', from: 'Entity 0', to: 'Entity 1', relationType: 'works_on' },
  { type: 'relation', from: 'Zoë "quoted" name: with a colon', to: 'Entity 0', relationType: 'knows' },
  { type: 'relation', from: 'Entity 11', to: 'Missing', relationType: 'mentions' },
  { type: 'relation', from: 'Entity 0', to: 'Entity 1', relationType: 'leads' }
]
const FILE_TEXT = [...ENTITIES, ...RELATIONS].map(x => JSON.stringify(x) + '\n').join('')

describe('import-memory / export-memory', () => {
  let box: Sandbox
  let running: InSandbox | undefined
  let daemon: Daemon

  before(async () => {
    ;({ box, daemon } = running = await daemonInSandbox())
  })
  after(async () => {
    await running?.close()
  })

  it('round-trips a memory file: import in batches, then export gives the same file', async () => {
    const file = join(box.root, 'memory.jsonl')
    writeFileSync(file, FILE_TEXT)
    const imp = await engram(['import-memory', file, '--url', daemon.url, '--batch-size', '5'], box.env)
    assert.equal(imp.code, 0, imp.stderr)
    const progress = imp.stderr.trim().split('\n')
    assert.ok(progress.length >= 2, `progress lines, the last at the end: ${imp.stderr}`)
    assert.match(progress.at(-1)!, /^import-memory: 16 of 16 items \(100 %\)/)
    assert.match(imp.stdout, /^imported 12 entities \(18 observations\) and 4 relations: 34 new triples in \d+ batch\(es\)\n$/)

    const exp = await engram(['export-memory', '--url', daemon.url], box.env)
    assert.equal(exp.code, 0, exp.stderr)
    assert.equal(exp.stdout, FILE_TEXT)

    const out = join(box.root, 'exported.jsonl')
    const toFile = await engram(['export-memory', '--data-dir', daemon.dataDir, '--out', out], box.env)
    assert.equal(toFile.code, 0, toFile.stderr)
    assert.equal(readFileSync(out, 'utf8'), FILE_TEXT)
    assert.match(toFile.stderr, /wrote 12 entities and 4 relations to /)

    // The MCP tools see the imported graph.
    const mcp = await connectMcp(['--url', daemon.url], box.env)
    try {
      const g = (await call(mcp.client, 'open_nodes', { names: ['Zoë "quoted" name: with a colon'] })).structuredContent as { entities: unknown[], relations: unknown[] }
      assert.deepEqual(g.entities, [{ name: ENTITIES[3]!.name, entityType: 'person', observations: ENTITIES[3]!.observations }])
      assert.equal(g.relations.length, 1)
    } finally {
      await mcp.close()
    }
  })

  it('importing again writes nothing, and an existing entity keeps its type and gains observations', async () => {
    const file = join(box.root, 'again.jsonl')
    const extra = { type: 'entity', name: 'Entity 1', entityType: 'renamed', observations: ['a new fact'] }
    writeFileSync(file, FILE_TEXT + JSON.stringify(extra) + '\n')
    const before = (await rest(daemon.url, 'GET', '/api/v1/status')).store.stats.lastSeq
    const imp = await engram(['import-memory', file, '--url', daemon.url, '--json'], box.env)
    assert.equal(imp.code, 0, imp.stderr)
    const summary = JSON.parse(imp.stdout) as { written: number, existing: number, batches: number }
    assert.equal(summary.written, 1, 'only the new observation')
    assert.equal(summary.existing, 12)
    assert.equal(summary.batches, 1)
    assert.equal((await rest(daemon.url, 'GET', '/api/v1/status')).store.stats.lastSeq, before + 1)
    const exp = await engram(['export-memory', '--url', daemon.url], box.env)
    const e1 = exp.stdout.split('\n').map(l => (l === '' ? undefined : JSON.parse(l))).find(x => x?.name === 'Entity 1')
    assert.deepEqual(e1, { type: 'entity', name: 'Entity 1', entityType: 'project', observations: ['observation 0 of 1', 'a new fact'] })
  })

  it('reports and skips lines it cannot read, and keeps namespaces apart', async () => {
    const file = join(box.root, 'damaged.jsonl')
    writeFileSync(file, [
      JSON.stringify({ type: 'entity', name: 'Only', entityType: 't', observations: ['ok'] }),
      '{"type": "entity", "name": "Broken"',
      JSON.stringify({ type: 'entity', name: 'NoType', observations: [] }),
      '',
      JSON.stringify({ type: 'widget', name: 'W' }),
      JSON.stringify({ type: 'relation', from: 'Only', to: 'Only', relationType: 'self' })
    ].join('\n'))
    const imp = await engram(['import-memory', file, '--url', daemon.url, '--namespace', 'other'], box.env)
    assert.equal(imp.code, 0, imp.stderr)
    assert.match(imp.stderr, /line 2 skipped: not valid JSON/)
    assert.match(imp.stderr, /line 3 skipped: entity without a string "entityType"/)
    assert.match(imp.stderr, /line 5 skipped: unknown "type" "widget"/)
    assert.match(imp.stdout, /3 line\(s\) skipped/)
    const exp = await engram(['export-memory', '--url', daemon.url, '--namespace', 'other'], box.env)
    assert.equal(exp.stdout, '{"type":"entity","name":"Only","entityType":"t","observations":["ok"]}\n' +
      '{"type":"relation","from":"Only","to":"Only","relationType":"self"}\n')
    assert.ok(!(await engram(['export-memory', '--url', daemon.url], box.env)).stdout.includes('"Only"'))

    const missing = await engram(['import-memory', join(box.root, 'nope.jsonl'), '--url', daemon.url], box.env)
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /^engram: cannot read .*nope\.jsonl: ENOENT \(INVALID_INPUT\)\n$/)
  })
})
