/**
 * The sync commands of the built CLI against real daemons: pair, status, now, pause, resume,
 * unpair, hook; and what pair and resume say about the pull they start: what it brought, with
 * its progress, or why it failed.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { closedPort, sandbox, type Sandbox } from '../cli/helpers.ts'
import { startNode } from './daemons.ts'

describe('engram sync commands', () => {
  let box: Sandbox
  before(() => { box = sandbox() })
  after(() => box.remove())

  it('pair, status, now, pause, resume, unpair, hook agent-end', async () => {
    const [a, b] = await Promise.all([startNode(box, 'cliA', { config: { sync: { autoSync: true } } }), startNode(box, 'cliB')])
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

  it('pair and resume follow the pull they start, and tell what it brought or why it failed', async () => {
    const [a, big, other] = await Promise.all([
      startNode(box, 'pullerA'),
      startNode(box, 'bigB', { config: { sync: { maxTriplesPerSync: 100 } } }),
      startNode(box, 'otherC', { config: { sync: { passphrase: 'another passphrase entirely' } } })
    ])
    try {
      const down = await a.cli(['sync', 'pair', 'down', `http://127.0.0.1:${await closedPort()}`])
      assert.equal(down.code, 1, down.stdout)
      assert.match(down.stderr, /^down: the pull failed: .*unreachable.* \(UNAVAILABLE\)$/m)
      assert.match(down.stderr, /down stays paired and is tried again with backoff/)
      assert.doesNotMatch(down.stdout, /pulls from it/)

      const wrong = await a.cli(['sync', 'pair', 'wrong', other.url])
      assert.equal(wrong.code, 1, wrong.stdout)
      assert.match(wrong.stderr, /^wrong: the pull failed: .*passphrase.* \(UNAUTHORIZED\)$/m)
      await a.cli(['sync', 'unpair', 'down'])
      await a.cli(['sync', 'unpair', 'wrong'])

      await big.client.request('POST', '/api/v1/triples', { body: { triples: Array.from({ length: 3000 }, (_, i) => ({ subject: `bulk:${i}`, predicate: 'p', object: i })) } })
      const paired = await a.cli(['sync', 'pair', 'big', big.url])
      assert.equal(paired.code, 0, paired.stderr)
      assert.match(paired.stdout, /^big: pulled, 3000 received, 3000 applied in [\d.]+ s; this node pulls from it every sync\.intervalSeconds from now on$/m)
      assert.match(paired.stderr, /^sync big: 3,000 of 3,000 records \(100 %\)/m, 'progress with the total the peer said')
      assert.equal((await a.client.status()).store.stats.triples, 3000)

      assert.match((await a.cli(['sync', 'pause', 'big'])).stdout, /big is paused/)
      await big.client.request('POST', '/api/v1/triples', { body: { triples: Array.from({ length: 250 }, (_, i) => ({ subject: `later:${i}`, predicate: 'p', object: i })) } })
      const resumed = await a.cli(['sync', 'resume', 'big'])
      assert.equal(resumed.code, 0, resumed.stderr)
      assert.match(resumed.stdout, /^big is active\nbig: pulled, 250 received, 250 applied in/m)
    } finally {
      await Promise.all([a.stop(), big.stop(), other.stop()])
    }
  })
})
