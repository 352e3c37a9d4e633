/**
 * A new user's TLS walk through the CLI: `engram tls init`, `engram tls issue` for this
 * machine, a daemon started with the printed variables, then the CLI from a shell that does not
 * have them. The CLI finds the node's CA itself (the daemon's api.json, else the CA of
 * `engram tls init`), and when it cannot trust a daemon it says that, not that no daemon runs.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { engram, sandbox, startDaemon, type Sandbox } from './helpers.ts'

interface Issued { nodeId: string, env: Record<string, string> }

describe('the CLI and a TLS daemon', () => {
  let box: Sandbox
  before(() => { box = sandbox() })
  after(() => box.remove())

  it('reaches the daemon from a shell without the TLS variables, and says when it cannot trust one', async () => {
    assert.equal((await engram(['tls', 'init'], box.env)).code, 0)
    const dataDir = join(box.root, 'node')
    const issue = await engram(['tls', 'issue', 'laptop', '--data-dir', dataDir, '--json'], box.env)
    assert.equal(issue.code, 0, issue.stderr)
    const issued = JSON.parse(issue.stdout) as Issued

    // mutual TLS: the daemon requires client certificates
    const strict = await startDaemon(dataDir, { ...box.env, ...issued.env })
    try {
      assert.match(strict.url, /^https:/)
      const plain = await engram(['status', '--data-dir', dataDir, '--json'], box.env)
      assert.equal(plain.code, 0, plain.stderr)
      assert.equal((JSON.parse(plain.stdout) as { status: { nodeId: string } }).status.nodeId, issued.nodeId)
      const add = await engram(['add', 'tls:walk', 'p', 'o', '--data-dir', dataDir], box.env)
      assert.equal(add.code, 0, add.stderr)

      // by URL alone the CLI has the CA of engram tls init, but no certificate to present
      const byUrl = await engram(['status', '--url', strict.url], box.env)
      assert.equal(byUrl.code, 1, byUrl.stderr)
      assert.match(byUrl.stderr, new RegExp(`the engram daemon at ${strict.url.replace(/[.]/g, '\\.')} answered over TLS, but it closed the connection, as it does when it requires a client certificate`))
      assert.doesNotMatch(byUrl.stderr, /start one with/)
    } finally {
      await strict.stop()
    }

    // TLS without client certificates: the CA of engram tls init is enough, by URL too
    const { ENGRAM_SYNC_REQUIRE_CLIENT_CERT: _required, ...serverOnly } = issued.env
    const open = await startDaemon(dataDir, { ...box.env, ...serverOnly })
    try {
      const byUrl = await engram(['query', '--subject', 'tls:walk', '--url', open.url, '--json'], box.env)
      assert.equal(byUrl.code, 0, byUrl.stderr)
      assert.equal((JSON.parse(byUrl.stdout) as { total: number }).total, 1)

      // a CA that did not sign the daemon's certificate: not trusted, and said so
      const otherDir = join(box.root, 'other-ca')
      assert.equal((await engram(['tls', 'init', '--dir', otherDir], box.env)).code, 0)
      const wrong = await engram(['status', '--url', open.url], { ...box.env, ENGRAM_SYNC_TLS_CA: join(otherDir, 'ca.crt') })
      assert.equal(wrong.code, 1)
      assert.match(wrong.stderr, /answered over TLS, but its certificate is not signed by the CA the CLI trusts/)
    } finally {
      await open.stop()
    }
  })
})
