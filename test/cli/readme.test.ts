/**
 * The README's library examples, run as written: each ```js block of "As a library" saved in a
 * new project that depends on engram the way `npm install /path/to/engram` makes it (a link in
 * node_modules), and run there with Node.js 24. The client example talks to a daemon the test
 * starts: only its URL is changed.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { daemonInSandbox, type Daemon, type InSandbox, type Sandbox } from './helpers.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The ```js blocks of the README section `heading`, in order. */
function examples (heading: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const start = readme.indexOf(`## ${heading}\n`)
  assert.ok(start >= 0, `README has a section "${heading}"`)
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map(m => m[1]!)
}

describe('the README\'s library examples', () => {
  let project: string
  let box: Sandbox
  let running: InSandbox | undefined
  let daemon: Daemon
  const run = (file: string): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, [file], { cwd: project, env: box.env, encoding: 'utf8', timeout: 60_000 })

  before(async () => {
    project = mkdtempSync(join(tmpdir(), 'engram-readme-'))
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-agent', private: true, type: 'module', dependencies: { engram: `file:${ROOT}` } }))
    mkdirSync(join(project, 'node_modules'))
    symlinkSync(ROOT, join(project, 'node_modules', 'engram'), 'dir')
    ;({ box, daemon } = running = await daemonInSandbox())
  })
  after(async () => {
    await running?.close()
    rmSync(project, { recursive: true, force: true })
  })

  it('embeds a node, as written', () => {
    const [embed] = examples('As a library')
    assert.ok(embed !== undefined && embed.includes('EngramNode.start'))
    writeFileSync(join(project, 'app.mjs'), embed)
    const r = run('app.mjs')
    assert.equal(r.status, 0, String(r.stderr))
    assert.match(String(r.stdout), /^12D3KooW\S+ http:\/\/127\.0\.0\.1:\d+\n$/)
    assert.ok(existsSync(join(project, 'engram-data', 'engram.db')), 'the store is where the example says')
  })

  it('talks to a running node with the typed client, as written but for the URL', () => {
    const [, client] = examples('As a library')
    assert.ok(client !== undefined && client.includes("'http://127.0.0.1:19090'"))
    writeFileSync(join(project, 'client.mjs'), client.replace("'http://127.0.0.1:19090'", `'${daemon.url}'`))
    const r = run('client.mjs')
    assert.equal(r.status, 0, String(r.stderr))
    assert.match(String(r.stdout), /subject: 'user:alice'[\s\S]*predicate: 'prefers:editor'[\s\S]*object: 'vim'/)
  })
})
