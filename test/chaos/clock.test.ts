/**
 * A clock that ran ahead, with real daemons in network namespaces and libfaketime: node c's
 * wall clock is two hours ahead while it takes writes (acknowledged, stamped in the future: its
 * peers hold them aside, never refuse the pages), then it is fixed — once while running, once
 * by a restart with a correct clock. Within 10 s of the fix a new write of c is on every node,
 * and every write c acknowledged while its clock was wrong is on every node, with its value.
 * Meanwhile a and b keep replicating with each other and with c's own stream of older records.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { until } from '../native/daemons.ts'
import { chaosSkip, clusterFixture } from './fixture.ts'
import type { ClockStatusView } from '../../src/api/contract.ts'

const SKIP = chaosSkip('test/chaos/clock.test.ts')

const TWO_HOURS = 7200

describe('a clock two hours ahead, then fixed', { skip: SKIP }, () => {
  const { cluster, logDir, node: n, tripleOn, noteValue } = clusterFixture('clock', { nodes: 3, tombstoneTtlHours: 24, maxDriftMs: 60_000, gossipIntervalMs: 500 })

  /** c writes `count` triples and notes (acknowledged); their ids and keys. */
  async function writeOnC (tag: string, count: number): Promise<{ ids: string[], notes: string[] }> {
    const ids: string[] = []
    const notes: string[] = []
    for (let i = 0; i < count; i++) {
      ids.push((await cluster().request<{ id: string }>(n('c'), 'POST', '/api/v1/triples', { subject: `c:${tag}${i}`, predicate: 'written:while', object: tag })).id)
      await cluster().request(n('c'), 'PUT', `/api/v1/notes/c:${tag}${i}`, { value: { tag, i } })
      notes.push(`c:${tag}${i}`)
    }
    return { ids, notes }
  }

  async function everywhere (w: { ids: string[], notes: string[] }): Promise<string[]> {
    const missing: string[] = []
    for (const x of cluster().nodes) {
      for (const id of w.ids) if (!(await tripleOn(x, id))) missing.push(`triple ${id.slice(0, 8)} on ${x.name}`)
      for (const k of w.notes) {
        const v = await noteValue(x, k) as { tag?: string } | undefined
        if (v?.tag === undefined) missing.push(`note ${k} on ${x.name}`)
      }
    }
    return missing
  }

  /**
   * Waits until c's clock reads `seconds` off (its status's clock.now, within a minute): libfaketime
   * re-reads the offset file at most every second, so a step takes effect up to a second after it.
   */
  async function cReadsOffset (seconds: number): Promise<void> {
    const off = async (): Promise<number | undefined> => {
      const now = (await cluster().request<{ clock?: ClockStatusView }>(n('c'), 'GET', '/api/v1/status')).clock?.now
      return now === undefined ? undefined : (Date.parse(now) - Date.now()) / 1000
    }
    await until(async () => Math.abs(((await off()) ?? Number.NaN) - seconds) < 60, async () => `c's clock ${seconds} s off (it is ${String(await off())} s off)`, 30_000, 100)
  }

  async function fixedWithin10s (tag: string): Promise<number> {
    const fixedAt = Date.now()
    const probe = (await cluster().request<{ id: string }>(n('c'), 'POST', '/api/v1/triples', { subject: `c:probe-${tag}`, predicate: 'p', object: 'o' })).id
    await until(async () => await tripleOn(n('a'), probe) && await tripleOn(n('b'), probe), () => `c's write after the fix (${tag}) on a and b`, 10_000, 100)
    return Date.now() - fixedAt
  }

  it('fixed while running: replication is back within 10 s, and every write c acknowledged meanwhile is everywhere', { timeout: 180_000 }, async () => {
    await until(async () => ((await cluster().request<{ connected_peers: Array<{ connected: boolean }> }>(n('c'), 'GET', '/api/v1/p2p/status')).connected_peers.filter(p => p.connected).length === 2),
      () => 'c connected to a and b', 120_000, 250)
    cluster().setClock(n('c'), TWO_HOURS)
    await cReadsOffset(TWO_HOURS)
    const ahead = await writeOnC('ahead', 10)
    // a is told: c's clock is two hours ahead, and c's writes are held aside (not lost)
    await until(async () => {
      const c = (await cluster().request<{ clock?: ClockStatusView }>(n('a'), 'GET', '/api/v1/status')).clock
      return c !== undefined && c.peers.some(p => p.offsetMs > 3_600_000) && c.held.some(h => h.count > 0 && h.aheadMs > 3_600_000)
    }, () => 'a\'s status showing c two hours ahead and c\'s records held aside', 30_000, 250)
    // a and b keep syncing with each other meanwhile
    const ab = (await cluster().request<{ id: string }>(n('a'), 'POST', '/api/v1/triples', { subject: 'a:during', predicate: 'p', object: 'o' })).id
    await until(async () => tripleOn(n('b'), ab), () => 'a\'s write on b while c is ahead', 15_000, 200)
    cluster().setClock(n('c'), 0)
    await cReadsOffset(0)
    await fixedWithin10s('running')
    await until(async () => (await everywhere(ahead)).length === 0, async () => `c's writes everywhere: missing ${(await everywhere(ahead)).join('; ')}`, 30_000, 500)
    // c is told what happened: its status shows the repair, its log says it
    const repair = (await cluster().request<{ clock?: ClockStatusView }>(n('c'), 'GET', '/api/v1/status')).clock?.lastRepair
    assert.ok(repair !== null && repair !== undefined && repair.restamped >= 20, `c's status shows the repair: ${JSON.stringify(repair)}`)
    assert.match(readFileSync(join(logDir(), 'c.log'), 'utf8'), /clock repaired: this node's clock was \d+ s ahead/)
  })

  it('fixed by a restart with a correct clock: the same', { timeout: 180_000 }, async () => {
    cluster().setClock(n('c'), TWO_HOURS)
    await cReadsOffset(TWO_HOURS)
    const ahead = await writeOnC('reboot', 10)
    await cluster().stop(n('c'))
    cluster().setClock(n('c'), 0)
    await cluster().start(n('c'))
    await until(async () => ((await cluster().request<{ connected_peers: Array<{ connected: boolean }> }>(n('c'), 'GET', '/api/v1/p2p/status')).connected_peers.filter(p => p.connected).length === 2),
      () => 'c connected to a and b after its restart', 60_000, 250)
    await fixedWithin10s('restart')
    await until(async () => (await everywhere(ahead)).length === 0, async () => `c's writes everywhere: missing ${(await everywhere(ahead)).join('; ')}`, 30_000, 500)
    const held = await Promise.all(cluster().nodes.map(async x => (await cluster().request<{ clock?: { held?: unknown[] } }>(x, 'GET', '/api/v1/status')).clock?.held ?? []))
    assert.deepEqual(held, [[], [], []], 'nothing held aside anywhere')
  })
})
