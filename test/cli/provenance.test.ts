/**
 * The provenance commands of the built `engram` binary against a real daemon: show, history,
 * revert (one record, one origin's window, dry run), query --origin / --as-of, note get --as-of,
 * nodes, revoke / revocations, refused, and the provenance lines of status.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { BIN, engram, sandbox, startDaemon, type Daemon, type Sandbox } from './helpers.ts'

describe('engram show, history, revert, revoke', () => {
  let box: Sandbox
  let daemon: Daemon
  let run: (...args: string[]) => Promise<{ code: number | null, stdout: string, stderr: string }>
  let self = ''
  before(async () => {
    assert.ok(existsSync(BIN), `${BIN} is missing: run npm run build first (npm test does)`)
    box = sandbox()
    const dataDir = join(box.root, 'node')
    daemon = await startDaemon(dataDir, { ...box.env, ENGRAM_NODE_NAME: 'test-laptop' })
    run = (...args) => engram([...args, '--url', daemon.url], box.env)
    self = JSON.parse((await run('status', '--json')).stdout).status.nodeId as string
  })
  after(async () => {
    await daemon?.stop()
    box?.remove()
  })

  it('shows who wrote a record, and its history', async () => {
    const t0 = new Date().toISOString()
    assert.equal((await run('note', 'set', 'cfg:editor', 'vim')).code, 0)
    assert.equal((await run('note', 'set', 'cfg:editor', 'emacs')).code, 0)
    const show = await run('show', 'cfg:editor')
    assert.equal(show.code, 0, show.stderr)
    assert.match(show.stdout, /^value +"emacs"$/m)
    assert.match(show.stdout, new RegExp(`^written +\\S+ by test-laptop \\(${self}\\)$`, 'm'))
    assert.match(show.stdout, /^signed +yes, by test-laptop/m)
    assert.match(show.stdout, /^via +written on this node$/m)
    const json = JSON.parse((await run('show', 'cfg:editor', '--json')).stdout)
    assert.deepEqual([json.kind, json.state.provenance.signed, json.state.provenance.origin_name, json.states], ['note', true, 'test-laptop', 2])
    const history = await run('history', 'cfg:editor')
    const lines = history.stdout.trim().split('\n')
    assert.match(lines[0]!, /^TIME +BY +VIA +SIGNED +STATE$/)
    assert.match(lines[1]!, /"emacs" \(current\)$/)
    assert.match(lines[2]!, /here +yes +"vim"$/)
    // The value as of before the change.
    const before = await run('note', 'get', 'cfg:editor', '--as-of', JSON.parse((await run('history', 'cfg:editor', '--json')).stdout).states[1].provenance.time)
    assert.equal(before.stdout, 'vim\n')
    const none = await run('note', 'get', 'cfg:editor', '--as-of', new Date(Date.parse(t0) - 60_000).toISOString())
    assert.equal(none.code, 1, none.stderr)
  })

  it('reverts a record, and a node\'s window with a dry run first', async () => {
    const r = await run('revert', 'cfg:editor')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^note +cfg:editor +"vim"$/m)
    assert.equal((await run('note', 'get', 'cfg:editor')).stdout, 'vim\n')
    const since = new Date().toISOString()
    await new Promise(resolve => setTimeout(resolve, 5))
    await run('add', 'user:carol', 'likes', 'tea')
    const dry = await run('revert', '--origin', self, '--since', since, '--dry-run')
    assert.match(dry.stderr, /^would write 1 state; 0 already as asked/m)
    assert.equal(JSON.parse((await run('query', '--subject', 'user:carol', '--json')).stdout).total, 1)
    const done = await run('revert', '--origin', self, '--since', since)
    assert.match(done.stdout, /^triple +\S+ +deleted$/m)
    assert.equal(JSON.parse((await run('query', '--subject', 'user:carol', '--json')).stdout).total, 0)
    const past = await run('query', '--subject', 'user:carol', '--as-of', '1s', '--json')
    assert.equal(past.code, 0, past.stderr)
    assert.equal(JSON.parse((await run('query', '--origin', self, '--json')).stdout).triples.length, 0)
    const usage = await run('revert', 'cfg:editor', '--origin', self)
    assert.equal(usage.code, 2)
    const badTime = await run('query', '--as-of', 'yesterday')
    assert.equal(badTime.code, 2)
    assert.match(badTime.stderr, /--as-of must be a time/)
  })

  it('lists nodes, revokes and withdraws, lists refused records, and says it all in status', async () => {
    const nodes = await run('nodes')
    assert.match(nodes.stdout, new RegExp(`^${self} \\(this node\\) +test-laptop +yes +-$`, 'm'))
    const target = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
    const revoked = await run('revoke', target, '--reason', 'laptop stolen')
    assert.equal(revoked.code, 0, revoked.stderr)
    assert.match(revoked.stdout, /^revoked 12D3KooWGzx/)
    const list = await run('revocations')
    assert.match(list.stdout, new RegExp(`^${target} +\\d{4}-\\S+Z +test-laptop \\(${self}\\) \\("laptop stolen"\\) +0$`, 'm'))
    assert.equal((await run('revoke', target, '--withdraw')).code, 0)
    assert.match((await run('revocations')).stderr, /^no revocations$/m)
    assert.match((await run('refused')).stderr, /^no records refused$/m)
    const status = await run('status')
    assert.match(status.stdout, /^signing +every write is signed with this node's key$/m)
    assert.match(status.stdout, /^refused +none since start$/m)
  })
})
