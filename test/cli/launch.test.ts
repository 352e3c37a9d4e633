import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { bundledNode, DAEMON_ENV, DAEMON_V8_FLAGS, missingDaemonEnv, missingDaemonFlags, supportedRuntime } from '../../src/cli/launch.ts'
import { eventually } from '../support/eventually.ts'
import { sandbox } from '../support/daemon.ts'

const LAUNCH = fileURLToPath(new URL('../../src/cli/launch.ts', import.meta.url))
const BIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))
const PACKAGE = fileURLToPath(new URL('../../package.json', import.meta.url))

interface Replaced { spawned: number, pid: number, execArgv: string[], argv: string[], env: Record<string, string | undefined> }

/** A process (started with `flags`) that calls execWithDaemonFlags, then prints its pid, V8 flags, arguments and DAEMON_ENV's variables. */
function replaced (env: NodeJS.ProcessEnv, flags: readonly string[] = []): Replaced {
  const names = JSON.stringify(Object.keys(DAEMON_ENV))
  const script = `const { execWithDaemonFlags } = await import(${JSON.stringify(LAUNCH)}); execWithDaemonFlags();` +
    `console.log(JSON.stringify({ pid: process.pid, execArgv: process.execArgv, argv: process.argv.slice(1), env: Object.fromEntries(${names}.map(n => [n, process.env[n]])) }))`
  const clean: NodeJS.ProcessEnv = { ...process.env }
  for (const name of Object.keys(DAEMON_ENV)) delete clean[name]
  const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script, 'a', 'b'], { env: { ...clean, ...env }, encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 0, r.stderr)
  return { spawned: r.pid!, ...JSON.parse(r.stdout) as Omit<Replaced, 'spawned'> }
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

  it('runs the daemon with its environment (Linux): replaced when only that is missing, the user\'s own value winning', () => {
    if (process.platform !== 'linux') return
    const plain = replaced({ NODE_OPTIONS: '' }, DAEMON_V8_FLAGS)
    assert.deepEqual(plain.env, DAEMON_ENV)
    assert.equal(plain.pid, plain.spawned)
    assert.deepEqual(plain.argv.slice(-2), ['a', 'b'])
    const own = replaced({ NODE_OPTIONS: '', MALLOC_ARENA_MAX: '4' }, DAEMON_V8_FLAGS)
    assert.equal(own.env.MALLOC_ARENA_MAX, '4')
  })

  it('a daemon started without its flags and environment runs with both (Linux)', async () => {
    if (process.platform !== 'linux') return
    const box = sandbox()
    const dataDir = join(box.root, 'node')
    const env: NodeJS.ProcessEnv = { ...box.env }
    for (const name of Object.keys(DAEMON_ENV)) delete env[name]
    const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--port', '0'], { env, stdio: 'ignore' })
    const exited = new Promise(resolve => child.once('exit', resolve))
    try {
      const pid = await eventually(() => {
        const info = JSON.parse(readFileSync(join(dataDir, 'api.json'), 'utf8')) as { pid: number }
        assert.equal(info.pid, child.pid)
        return info.pid
      }, 'the daemon\'s api.json')
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
      for (const [name, value] of Object.entries(DAEMON_ENV)) assert.ok(environ.includes(`${name}=${value}`), `${name}=${value} in the daemon's environment`)
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      for (const f of DAEMON_V8_FLAGS) assert.ok(cmdline.includes(f), `${f} in ${cmdline.join(' ')}`)
    } finally {
      child.kill('SIGTERM')
      await exited
      box.remove()
    }
  })

  it('names the flags and the environment where Node.js is started for engram: the executable\'s #! line and npm start', () => {
    const hashBang = readFileSync(BIN, 'utf8').split('\n', 1)[0]!
    const start = (JSON.parse(readFileSync(PACKAGE, 'utf8')) as { scripts: Record<string, string> }).scripts.start!
    // env -S: the variables, then node and its flags
    const vars = Object.entries(DAEMON_ENV).map(([name, value]) => `${name}=${value}`)
    assert.ok(hashBang.startsWith(['#!/usr/bin/env -S', ...vars, 'node '].join(' ')), hashBang)
    assert.ok(start.startsWith([...vars, 'node '].join(' ')), start)
    for (const f of DAEMON_V8_FLAGS) {
      assert.ok(hashBang.split(' ').includes(f), `${f} in ${hashBang}`)
      assert.ok(start.split(' ').includes(f), `${f} in npm start: ${start}`)
    }
  })

  it('gives a daemon it starts the flags the user has not set', () => {
    assert.deepEqual(missingDaemonFlags([], undefined), DAEMON_V8_FLAGS)
    assert.deepEqual(missingDaemonFlags([], '--max-semi-space-size=4 --trace-warnings'), ['--heap-growing-percent=50'])
    assert.deepEqual(missingDaemonFlags(['--max-semi-space-size=32', '--heap-growing-percent=30'], ''), [])
    assert.deepEqual(missingDaemonEnv({}, 'linux'), Object.keys(DAEMON_ENV))
    assert.deepEqual(missingDaemonEnv({ MALLOC_ARENA_MAX: '8' }, 'linux'), [])
    assert.deepEqual(missingDaemonEnv({}, 'darwin'), [])
  })
})
