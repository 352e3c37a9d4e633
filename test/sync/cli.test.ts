/** The sync commands of the built CLI against two daemons: pair, status, now, pause, unpair, hook. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sandbox, type Sandbox } from '../cli/helpers.ts'
import { startNode } from './daemons.ts'

describe('engram sync commands', () => {
  let box: Sandbox
  before(() => { box = sandbox() })
  after(() => box.remove())

  it('pair, status, now, pause, resume, unpair, hook agent-end', async () => {
    const a = await startNode(box, 'cliA', { config: { sync: { autoSync: true } } })
    const b = await startNode(box, 'cliB')
    try {
      await b.client.addTriple('user:b', 'p', 'o')
      const paired = await a.cli(['sync', 'pair', 'bee', b.url, '--namespaces', 'user,project'])
      assert.equal(paired.code, 0, paired.stderr)
      assert.match(paired.stdout, /^paired bee \(http:\/\/127\.0\.0\.1:\d+\), namespaces user,project/)
      assert.match(paired.stdout, /run on that machine:\n {2}engram sync pair \S+ http:\/\/127\.0\.0\.1:\d+\n/)
      assert.match(paired.stderr, /only a node on this machine can pull from it/)

      const now = await a.cli(['sync', 'now'])
      assert.equal(now.code, 0, now.stderr)
      assert.match(now.stdout, /^PEER\s+RESULT\s+RECEIVED\s+APPLIED\s+CONFLICTS\s+DURATION\nbee\s+ok\s+\d+\s+\d+\s+0\s+[\d.]+ s\n$/)
      assert.equal((await a.client.queryTriples({ subject: 'user:b' })).total, 1)

      const status = await a.cli(['sync', 'status'])
      assert.equal(status.code, 0)
      assert.match(status.stdout, /^mode\s+polled/)
      assert.match(status.stdout, /bee\s+active\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+1\s+1\s+0\s+0\s+\d+\s+http/)
      const json = JSON.parse((await a.cli(['sync', 'status', '--json'])).stdout) as { mode: string, peers: { name: string, namespaces: string[], cursor: number }[] }
      assert.equal(json.mode, 'polled')
      assert.deepEqual(json.peers[0]!.namespaces, ['user', 'project'])
      assert.ok(json.peers[0]!.cursor > 0)

      assert.match((await a.cli(['sync', 'pause', 'bee'])).stdout, /bee is paused/)
      assert.match((await a.cli(['sync', 'resume', 'bee'])).stdout, /bee is active/)

      const hook = await a.cli(['hook', 'agent-end', '--agent', 'coder'])
      assert.equal(hook.code, 0)
      assert.match(hook.stdout, /^sync triggered: /)
      assert.match((await b.cli(['hook', 'agent-end'])).stdout, /^no sync: sync.autoSync is off/)

      const unpair = await a.cli(['sync', 'unpair', 'bee'])
      assert.equal(unpair.code, 0)
      const after = JSON.parse((await a.cli(['sync', 'status', '--json'])).stdout) as { peers: { status: string }[] }
      assert.equal(after.peers[0]!.status, 'removed')
      const missing = await a.cli(['sync', 'now', 'bee'])
      assert.equal(missing.code, 1)
      assert.match(missing.stderr, /peer not found: bee \(NOT_FOUND\)/)
      assert.equal((await a.cli(['sync', 'pair', 'x', 'ftp://nope'])).code, 2)
      for (const c of ['sync status', 'sync now', 'sync pair', 'sync unpair', 'conflicts', 'conflicts resolve', 'hook agent-end']) {
        const h = await a.cli([...c.split(' '), '--help'])
        assert.equal(h.code, 0, c)
        assert.match(h.stdout, /^Usage: engram /)
        assert.match(h.stdout, /Examples?:/)
      }
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
