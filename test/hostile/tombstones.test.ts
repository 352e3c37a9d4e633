/**
 * The tombstone flood rule (docs/SECURITY.md): deletions of records a node never held are taken
 * from each peer at `sync.maxUnknownTombstonesPerMinute` at most, one page of debt allowed; a page
 * over the budget is refused whole (RATE_LIMITED), nothing written, and taken again later.
 * Deletions of records the node holds, and local writes, are never counted. Over REST, a pull
 * stops at such a page and the next one goes on; a peer's 429 is reported the same way.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import { apiLimits } from '../../src/api/limits.ts'
import { createApiServer } from '../../src/api/server.ts'
import { tripleId } from '../../src/core/canonical.ts'
import { isEngramError } from '../../src/core/errors.ts'
import { asNodeId } from '../../src/core/ids.ts'
import type { TripleRecord } from '../../src/core/model.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { deriveRestKey } from '../../src/sync/polled/auth.ts'
import { pullFrom } from '../../src/sync/polled/DeltaClient.ts'
import { SyncService } from '../../src/sync/SyncService.ts'
import { silentLogger } from '../../src/util/log.ts'
import { DEFAULT_SETTINGS, SECRET, startSyncNode, type SyncNode } from '../sync/helpers.ts'

const PEER = asNodeId('node-peer')

function tombs (from: number, n: number, wall: number): TripleRecord[] {
  return Array.from({ length: n }, (_, j) => {
    const i = from + j
    const content = { subject: `gone:${i}`, predicate: 'p', object: { kind: 'number' as const, value: i } }
    return { kind: 'triple', id: tripleId(content), ...content, hlc: { wall, counter: i, node: PEER }, deleted: true }
  })
}

const rateLimited = (e: unknown): boolean => isEngramError(e) && e.code === 'RATE_LIMITED'

describe('the tombstone flood rule', () => {
  it('counts only deletions of records never held, lends one page, and refills with time', () => {
    let t = 1_000_000
    const e = new Engine({ store: new MemoryStore(), node: asNodeId('node-x'), maxDriftMs: 60_000, now: () => t, unknownTombstonesPerMinute: 100 })
    e.applyChecked(tombs(0, 80, t), { via: PEER })
    e.applyChecked(tombs(80, 80, t), { via: PEER }) // 20 left: passes, 60 in debt
    assert.throws(() => e.applyChecked(tombs(160, 1, t), { via: PEER }), rateLimited)
    assert.equal(e.store.stats().tripleTombstones, 160, 'the refused page wrote nothing')
    // deletions of records held here are not counted, nor local writes, nor other peers' budgets
    const held = e.addTriples([{ subject: 'kept:1', predicate: 'p', object: 1 }])[0]!
    e.applyChecked([{ ...held, hlc: { wall: t + 1, counter: 0, node: PEER }, deleted: true }], { via: PEER })
    for (let i = 0; i < 200; i++) e.deleteTriple(e.addTriples([{ subject: `local:${i}`, predicate: 'p', object: i }])[0]!.id)
    e.applyChecked(tombs(1000, 50, t), { via: asNodeId('node-other') })
    // 36.6 s later the debt of 60 is paid: the next page passes
    t += 36_600
    e.applyChecked(tombs(160, 100, t), { via: PEER })
    assert.ok(e.tombstones.refused >= 1)
  })

  describe('over REST', () => {
    let server: SyncNode
    after(async () => { await server.close() })

    it('a pull stops at a page over the budget, keeps what it applied, and the next pull goes on', async () => {
      server = await startSyncNode('flood', { settings: { maxTriplesPerSync: 100 } })
      const ids = server.engine.addTriples(Array.from({ length: 400 }, (_, i) => ({ subject: `gone:${i}`, predicate: 'p', object: i }))).map(x => x.id)
      for (const id of ids) server.engine.deleteTriple(id)
      let t = Date.now()
      const store = new MemoryStore()
      const engine = new Engine({ store, node: asNodeId('node-puller'), maxDriftMs: 60_000, now: () => t, unknownTombstonesPerMinute: 150 })
      const pull = (): ReturnType<typeof pullFrom> => pullFrom({ url: server.url }, { engine, key: deriveRestKey(SECRET), timeoutMs: 10_000, pageSize: 100, now: () => Date.now() })
      await assert.rejects(pull(), rateLimited)
      assert.equal(store.stats().tripleTombstones, 200, 'two pages: the budget, then one page of debt')
      await assert.rejects(pull(), rateLimited, 'still in debt')
      t += 120_000 // the budget is full again: the last two pages, one of them on credit
      const done = await pull()
      assert.equal(done.snapshot, false)
      assert.equal(store.stats().tripleTombstones, 400, 'nothing was lost')
    })

    it('a puller waits out a peer\'s 429 within its call\'s time limit, then reports RATE_LIMITED', async () => {
      const store = new MemoryStore()
      const engine = new Engine({ store, node: asNodeId('node-limited'), maxDriftMs: 60_000 })
      engine.addTriples(Array.from({ length: 30 }, (_, i) => ({ subject: `s:${i}`, predicate: 'p', object: i })))
      const sync = new SyncService({ engine, secret: () => SECRET, settings: () => ({ ...DEFAULT_SETTINGS, maxTriplesPerSync: 100 }), log: silentLogger })
      const app = await createApiServer({
        engine, version: 't', bodyLimitBytes: 1024 * 1024, sync, limits: apiLimits({ rateLimitPerSecond: 5 }),
        status: () => ({ nodeId: 'node-limited', version: 't', startedAt: '', dataDir: '/nowhere', store: { kind: 'memory', path: '' } })
      })
      await app.listen({ host: '127.0.0.1', port: 0 })
      try {
        const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
        const puller = (): Engine => new Engine({ store: new MemoryStore(), node: asNodeId('node-eager'), maxDriftMs: 60_000 })
        // 30 pulls of one page each: a burst of 20, then 5 a second; each call waits its turn (10 s allowed)
        const t0 = Date.now()
        const ok = await Promise.all(Array.from({ length: 30 }, async () => await pullFrom({ url }, { engine: puller(), key: deriveRestKey(SECRET), timeoutMs: 10_000, pageSize: 100 })))
        assert.ok(ok.every(r => r.received === 30))
        assert.ok(Date.now() - t0 >= 1_000, 'the last ones waited for the budget to refill')
        // with a time limit shorter than the wait, the pull stops with RATE_LIMITED: 60 pulls need
        // 12 s of budget, and each may wait 2 s (a limit no loopback request comes near, however
        // loaded the machine, so a refusal is the rate limit's and not a slow answer's)
        const hurried = await Promise.allSettled(Array.from({ length: 60 }, async () => await pullFrom({ url }, { engine: puller(), key: deriveRestKey(SECRET), timeoutMs: 2_000, pageSize: 100 })))
        const refused = hurried.filter(r => r.status === 'rejected')
        assert.ok(refused.length > 0)
        for (const r of refused) assert.ok(rateLimited((r as PromiseRejectedResult).reason), String((r as PromiseRejectedResult).reason))
      } finally {
        await sync.stop()
        await app.close()
      }
    })
  })
})
