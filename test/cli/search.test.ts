/**
 * `engram search` and `engram reindex` as the built binary against a running daemon: ranked
 * results with the matching words marked, --json, a malformed query as one line and exit 2,
 * and a rebuild that leaves the answers as they were.
 */
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { engram, sandbox, startDaemon, type Daemon, type Result, type Sandbox } from './helpers.ts'

describe('engram search and reindex', () => {
  let box: Sandbox
  let daemon: Daemon
  let dataDir: string
  const run = (args: string[]): Promise<Result> => engram([...args, '--data-dir', dataDir], box.env)

  before(async () => {
    box = sandbox()
    dataDir = join(box.root, 'daemon')
    mkdirSync(dataDir, { recursive: true })
    daemon = await startDaemon(dataDir, box.env)
    for (const args of [
      ['add', 'user:alice', 'prefersEditor', 'vim, for its modal editing'],
      ['add', 'user:alice', 'worksAt', 'org:acme', '--type', 'node'],
      ['add', 'org:acme', 'kg:observation', 'makes editor plugins'],
      ['add', 'user:bob', 'prefersEditor', 'emacs'],
      ['note', 'set', 'project:engram/editor', 'the team standardised on vim keybindings']
    ]) {
      const r = await run(args)
      assert.equal(r.code, 0, r.stderr)
    }
  })
  after(async () => {
    await daemon.stop('SIGKILL')
    box.remove()
  })

  it('prints ranked results, triples under their entity, matching words in brackets', async () => {
    const r = await run(['search', 'vim'])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trimEnd().split('\n')
    assert.match(lines[0]!, /^1\. (user:alice|note project:engram\/editor) {2}\(score \d+\.\d{3}\)$/)
    assert.ok(lines.some(l => l.trim() === 'prefersEditor  [vim], for its modal editing'), r.stdout)
    assert.ok(lines.some(l => l.includes('standardised on [vim] keybindings')), r.stdout)
  })

  it('--json gives the REST answer; --kind, --namespace, --limit and --expand pass through', async () => {
    const r = await run(['search', 'editor', '--kind', 'triple', '--namespace', 'user', '--limit', '1', '--expand', '1', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const a = JSON.parse(r.stdout) as { results: Array<{ type: string, subject: string }>, graph: { nodes: Array<{ id: string }> } }
    assert.equal(a.results.length, 1)
    assert.equal(a.results[0]!.type, 'entity')
    assert.ok(a.results[0]!.subject.startsWith('user:'))
    assert.ok(a.graph.nodes.length >= 1)
  })

  it('a malformed query is one line naming the problem, and exit 2', async () => {
    const r = await run(['search', '"vim'])
    assert.equal(r.code, 2)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr, 'engram: q: the query opens a phrase with " at character 1 and never closes it (INVALID_INPUT)\n')
    const none = await run(['search', 'zyzzyva'])
    assert.equal(none.code, 0)
    assert.equal(none.stderr, 'nothing matches\n')
  })

  it('reindex rebuilds the index; search answers the same after', async () => {
    const before = await run(['search', 'editor OR vim', '--json'])
    const r = await run(['reindex'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^reindexed: 5 records in the full-text index \(\d+\.\d s\)\n$/)
    const again = await run(['search', 'editor OR vim', '--json'])
    assert.deepEqual(JSON.parse(again.stdout), JSON.parse(before.stdout))
    const j = await run(['reindex', '--json'])
    assert.equal((JSON.parse(j.stdout) as { rebuilding: boolean, docs: number }).docs, 5)
  })
})
