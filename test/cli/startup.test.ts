/**
 * What the built executable loads: neither a CLI call that talks to a daemon nor a daemon's
 * start loads the built-in fetch (undici), whose start costs some 0.1 s of CPU — more than the
 * rest of `engram status`. The client talks to the daemon over node:http (tls/client.ts
 * `httpExchange`), and the bundle loads node:http through `require`, since its ES module face
 * loads undici (scripts/build-cli.ts). Nor does a daemon load node:http2, which fastify loads at
 * its top only for an HTTP/2 server engram never makes (scripts/build-cli.ts http2WhenUsed).
 * Checked in the processes themselves, as they exit.
 * And a daemon keeps V8's code for the bundle's files in the user's cache directory (Node.js's
 * compile cache, cli/compileCache.ts), which the next start reads instead of compiling them
 * again; a cache directory that cannot be made changes nothing but that.
 */
import assert from 'node:assert/strict'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { engram, sandbox, startDaemon, type Sandbox } from './helpers.ts'

describe('what the engram executable loads', () => {
  let box: Sandbox
  let env: Record<string, string>
  before(() => {
    box = sandbox()
    // printed by each engram process as it exits
    const probe = join(box.root, 'probe.mjs')
    writeFileSync(probe, 'process.on(\'exit\', () => { process.stderr.write(`\\nundici loaded: ${process.moduleLoadList.some(m => m.includes(\'undici\'))}\\nhttp2 loaded: ${process.moduleLoadList.includes(\'NativeModule http2\')}\\n`) })\n')
    env = { ...box.env, NODE_OPTIONS: `--import=${probe}` }
  })
  after(() => box.remove())

  it('neither a daemon nor `engram status` against it loads the built-in fetch', async () => {
    const dataDir = join(box.root, 'node')
    const daemon = await startDaemon(dataDir, env)
    try {
      const status = await engram(['status', '--data-dir', dataDir, '--json'], env)
      assert.equal(status.code, 0, status.stderr)
      assert.match(status.stderr, /^undici loaded: false$/m)
    } finally {
      await daemon.stop()
    }
    assert.match(daemon.stderr(), /^undici loaded: false$/m)
  })

  it('a daemon does not load node:http2 (its API is HTTP/1.1; fastify loads it only for an HTTP/2 server)', async () => {
    const dataDir = join(box.root, 'no-http2')
    const daemon = await startDaemon(dataDir, env)
    const status = await engram(['status', '--data-dir', dataDir, '--json'], env)
    assert.equal(status.code, 0, status.stderr)
    assert.equal((await daemon.stop()).code, 0, daemon.stderr())
    assert.match(daemon.stderr(), /^http2 loaded: false$/m)
  })

  it('a restarted daemon reads its chunks\' compiled code from the user\'s cache directory', async () => {
    // the test runner's own cache (NODE_COMPILE_CACHE) would win over the user's
    const { NODE_COMPILE_CACHE: _runner, ...own } = box.env
    const cacheHome = join(box.root, 'cache-home')
    const dataDir = join(box.root, 'cached')
    const first = await startDaemon(dataDir, { ...own, XDG_CACHE_HOME: cacheHome })
    assert.equal((await first.stop()).code, 0, first.stderr())
    const kept = readdirSync(join(cacheHome, 'engram', 'compile'), { recursive: true })
    assert.ok(kept.length > 1, `compiled code kept in ${cacheHome}: ${JSON.stringify(kept)}`)
    // Node.js says, on stderr, which compiled code it read and accepted
    const second = await startDaemon(dataDir, { ...own, XDG_CACHE_HOME: cacheHome, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' })
    assert.equal((await second.stop()).code, 0, second.stderr())
    const accepted = [...second.stderr().matchAll(/V8 code cache for ESM (\S+) was accepted/g)].map(m => m[1]!)
    assert.ok(accepted.filter(f => /\/dist\/src\/cli\/chunk-[\w-]+\.js$/.test(f)).length >= 5, `chunks read from the cache: ${JSON.stringify(accepted)}\n${second.stderr().slice(-2_000)}`)
  })

  it('a cache directory that cannot be made changes nothing but the compiling', async () => {
    const { NODE_COMPILE_CACHE: _runner, ...own } = box.env
    // a file where the cache's parent directory would be: no directory can be made under it
    const notADir = join(box.root, 'cache-file')
    writeFileSync(notADir, 'not a directory\n')
    const version = await engram(['--version'], { ...own, XDG_CACHE_HOME: notADir })
    assert.equal(version.code, 0, version.stderr)
    assert.match(version.stdout, /\d+\.\d+\.\d+/)
    assert.equal(version.stderr, '')
    const dataDir = join(box.root, 'uncached')
    const daemon = await startDaemon(dataDir, { ...own, XDG_CACHE_HOME: notADir })
    try {
      const status = await engram(['status', '--data-dir', dataDir, '--json'], { ...own, XDG_CACHE_HOME: notADir })
      assert.equal(status.code, 0, status.stderr)
    } finally {
      assert.equal((await daemon.stop()).code, 0, daemon.stderr())
    }
  })
})
