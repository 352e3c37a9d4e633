import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { bundledNode, DAEMON_V8_FLAGS, missingDaemonFlags, supportedRuntime } from '../../src/cli/launch.ts'

const LAUNCH = fileURLToPath(new URL('../../src/cli/launch.ts', import.meta.url))
const BIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
const PACKAGE = fileURLToPath(new URL('../../package.json', import.meta.url))

/** A process that calls execWithDaemonFlags, then prints its pid, V8 flags and arguments. */
function replaced (env: NodeJS.ProcessEnv): { spawned: number, pid: number, execArgv: string[], argv: string[] } {
  const script = `const { execWithDaemonFlags } = await import(${JSON.stringify(LAUNCH)}); execWithDaemonFlags();` +
    'console.log(JSON.stringify({ pid: process.pid, execArgv: process.execArgv, argv: process.argv.slice(1) }))'
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, 'a', 'b'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 0, r.stderr)
  return { spawned: r.pid!, ...JSON.parse(r.stdout) as { pid: number, execArgv: string[], argv: string[] } }
}

describe('launcher', () => {
  it('knows which runtimes are supported', () => {
    assert.equal(supportedRuntime('20.20.2'), false)
    assert.equal(supportedRuntime('24.0.0'), true)
    assert.equal(supportedRuntime('25.1.0'), true)
    assert.equal(supportedRuntime(process.versions.node), true)
  })

  it('finds the Node 24 installed with the project', () => {
    const node = bundledNode()
    assert.ok(node !== undefined && existsSync(node), `expected node_modules/node/bin/node, got ${String(node)}`)
  })

  it('runs the daemon with its V8 flags: the same process (pid, arguments) replaced, the user\'s own value winning', () => {
    const plain = replaced({ NODE_OPTIONS: '' })
    // Windows cannot replace a process: the daemon runs with V8's defaults there
    if (process.platform === 'win32') { assert.deepEqual(plain.execArgv, []); return }
    for (const f of DAEMON_V8_FLAGS) assert.ok(plain.execArgv.includes(f), `${f} in ${plain.execArgv.join(' ')}`)
    assert.equal(plain.pid, plain.spawned)
    assert.deepEqual(plain.argv.slice(-2), ['a', 'b'])
    const own = replaced({ NODE_OPTIONS: '--max-semi-space-size=4' })
    assert.deepEqual(own.execArgv.filter(a => a.startsWith('--max-semi-space-size')), [])
  })

  it('names the flags where Node.js is started for engram: the executable\'s #! line and npm start', () => {
    const hashBang = readFileSync(BIN, 'utf8').split('\n', 1)[0]!
    const start = (JSON.parse(readFileSync(PACKAGE, 'utf8')) as { scripts: Record<string, string> }).scripts.start!
    for (const f of DAEMON_V8_FLAGS) {
      assert.ok(hashBang.startsWith('#!/usr/bin/env -S node ') && hashBang.split(' ').includes(f), `${f} in ${hashBang}`)
      assert.ok(start.split(' ').includes(f), `${f} in npm start: ${start}`)
    }
  })

  it('gives a daemon it starts the flags the user has not set', () => {
    assert.deepEqual(missingDaemonFlags([], undefined), DAEMON_V8_FLAGS)
    assert.deepEqual(missingDaemonFlags([], '--max-semi-space-size=4 --trace-warnings'), ['--heap-growing-percent=50'])
    assert.deepEqual(missingDaemonFlags(['--max-semi-space-size=32', '--heap-growing-percent=30'], ''), [])
  })
})
