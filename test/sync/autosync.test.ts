/**
 * sync.autoSync: the agent-end hook (REST, CLI library call, EngramNode.agentEnd) and a change
 * of the configuration file trigger a debounced sync; runs never overlap. The config file is
 * watched: sync keys apply live, an invalid file is logged and ignored.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { agentEnd } from '../../src/cli/agentEnd.ts'
import { loadConfig } from '../../src/config/load.ts'
import { EngramNode } from '../../src/node/EngramNode.ts'
import { AutoSync } from '../../src/sync/AutoSync.ts'
import { createLogger, silentLogger } from '../../src/util/log.ts'
import { DEFAULT_DEADLINE_MS, eventually } from '../support/eventually.ts'

async function until (cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  await eventually(cond, what, Math.max(ms, DEFAULT_DEADLINE_MS))
}

describe('auto-sync', () => {
  let root: string
  before(() => { root = mkdtempSync(join(tmpdir(), 'engram-autosync-')) })
  after(() => rmSync(root, { recursive: true, force: true }))

  async function startNode (name: string, sync: Record<string, unknown>, lines: string[] = []): Promise<{ node: EngramNode, file: string }> {
    const file = join(root, `${name}.json5`)
    writeFileSync(file, JSON.stringify({ sync: { passphrase: 'auto-sync-secret', ...sync } }), { mode: 0o600 })
    const flags = { dataDir: join(root, name), 'api.port': 0 }
    const load = () => loadConfig({ file, env: {}, flags }).config
    const node = await EngramNode.start(load(), {
      log: createLogger({ level: 'debug', sink: l => lines.push(l) }),
      configFile: file,
      reloadConfig: load,
      configWatchIntervalMs: 20,
      autoSyncDebounceMs: 30
    })
    return { node, file }
  }

  it('agent-end syncs when sync.autoSync is on, and says why not when it is off', async () => {
    const { node: a } = await startNode('a1', { autoSync: true })
    const { node: b } = await startNode('b1', {})
    try {
      a.sync.pair({ name: 'b', url: b.apiUrl })
      b.sync.pair({ name: 'a', url: a.apiUrl })
      await a.sync.syncNow()
      await b.sync.syncNow()
      b.engine.addTriples([{ subject: 'user:b', predicate: 'said', object: 'hello' }])
      const r = await agentEnd({ url: a.apiUrl, agent: 'coder', sessionId: '1' })
      assert.equal(r.triggered, true)
      await until(() => a.engine.store.queryTriples({ subject: 'user:b' }, { limit: 1, offset: 0 }).total === 1, 10_000, 'the triple via auto-sync')
      assert.deepEqual(b.agentEnd(), { triggered: false, reason: 'sync.autoSync is off' })
      const res = await fetch(`${b.apiUrl}/api/v1/hooks/agent-end`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"agent": 5}' })
      assert.equal(res.status, 400)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('a burst of triggers makes one run; a trigger during a run makes exactly one more', async () => {
    let runs = 0
    let active = 0
    let most = 0
    let release: (() => void) | undefined
    const auto = new AutoSync({
      debounceMs: 20,
      log: silentLogger,
      run: async () => {
        runs++; active++; most = Math.max(most, active)
        await new Promise<void>(resolve => { release = resolve })
        active--
      }
    })
    for (let i = 0; i < 10; i++) auto.trigger('agent-end')
    await until(() => runs === 1, 5000, 'the first run')
    for (let i = 0; i < 5; i++) auto.trigger('agent-end')
    await until(() => auto.queued, 5000, 'the triggers to come due')
    assert.equal(runs, 1, 'no overlap: queued behind the run under way')
    const first = release!
    release = undefined
    first()
    await until(() => runs === 2 && release !== undefined, 5000, 'the one run after')
    release!()
    await until(() => active === 0, 5000, 'idle')
    assert.equal(runs, 2)
    assert.equal(most, 1)
    await auto.stop()
  })

  it('the config file is watched: sync keys apply live and trigger a sync; an invalid file is ignored', async () => {
    const lines: string[] = []
    const { node: a, file } = await startNode('a2', { autoSync: true }, lines)
    const { node: b } = await startNode('b2', {})
    try {
      a.sync.pair({ name: 'b', url: b.apiUrl })
      await a.sync.syncNow()
      b.engine.addTriples([{ subject: 'user:b', predicate: 'said', object: 'config' }])
      writeFileSync(file, JSON.stringify({ sync: { passphrase: 'auto-sync-secret', autoSync: true, intervalSeconds: 60, conflictStrategy: 'keep-both' } }), { mode: 0o600 })
      await until(() => a.config.sync.intervalSeconds === 60, 10_000, 'the reloaded interval')
      assert.equal(a.config.sync.conflictStrategy, 'keep-both')
      assert.ok(lines.some(l => l.includes('sync.intervalSeconds changed from 300 to 60')), lines.join('\n'))
      await until(() => a.engine.store.queryTriples({ subject: 'user:b' }, { limit: 1, offset: 0 }).total === 1, 10_000, 'the sync the change triggered')
      writeFileSync(file, '{ sync: { intervalSeconds: 5 } }')
      await until(() => lines.some(l => l.includes('not valid; keeping the current configuration')), 10_000, 'the refusal')
      assert.equal(a.config.sync.intervalSeconds, 60)
      writeFileSync(file, JSON.stringify({ sync: { passphrase: 'auto-sync-secret', autoSync: true, intervalSeconds: 60, conflictStrategy: 'keep-both' }, api: { bodyLimitBytes: 2048 } }), { mode: 0o600 })
      await until(() => lines.some(l => l.includes('api.bodyLimitBytes changed; restart the node')), 10_000, 'the restart notice')
      assert.equal(a.config.api.bodyLimitBytes, 8 * 1024 * 1024, 'not applied live')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
