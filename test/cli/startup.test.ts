/**
 * What the built executable loads: neither a CLI call that talks to a daemon nor a daemon's
 * start loads the built-in fetch (undici), whose start costs some 0.1 s of CPU — more than the
 * rest of `engram status`. The client talks to the daemon over node:http (tls/client.ts
 * `httpExchange`), and the bundle loads node:http through `require`, since its ES module face
 * loads undici (scripts/build-cli.ts). Checked in the processes themselves, as they exit.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
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
    writeFileSync(probe, 'process.on(\'exit\', () => { process.stderr.write(`\\nundici loaded: ${process.moduleLoadList.some(m => m.includes(\'undici\'))}\\n`) })\n')
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
})
