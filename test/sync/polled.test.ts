/** The polled scheduler with injected timers, randomness and pulls: backoff, recovery, no overlap. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { EngramError } from '../../src/core/errors.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import type { PullOptions, PullProgress, PullResult } from '../../src/sync/polled/DeltaClient.ts'
import { PeerRegistry } from '../../src/peers/PeerRegistry.ts'
import { PolledSync, type Timers } from '../../src/sync/polled/PolledSync.ts'
import { silentLogger } from '../../src/util/log.ts'

/** Timers that fire only when the test says so. */
class FakeTimers implements Timers {
  private next = 1
  readonly pending = new Map<number, { fn: () => void, ms: number }>()
  setTimeout (fn: () => void, ms: number): unknown { const id = this.next++; this.pending.set(id, { fn, ms }); return id }
  clearTimeout (h: unknown): void { this.pending.delete(h as number) }
  /** Fires the one pending timer; returns its delay. */
  fire (): number {
    assert.equal(this.pending.size, 1, 'exactly one timer pending')
    const [id, t] = [...this.pending][0]!
    this.pending.delete(id)
    t.fn()
    return t.ms
  }
}

/** Resolves when `cond` holds, letting promises run (bounded). */
async function settle (cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return
    await new Promise(resolve => setImmediate(resolve))
  }
  throw new Error(`never settled: ${what}`)
}

const ok = (n = 1): PullResult => ({ nodeId: asNodeId('node-b'), feedId: 'f'.repeat(32), pages: 1, received: n, applied: n, unchanged: 0, inferredDeletes: 0, bytes: 100, cursor: n, snapshot: false, durationMs: 1 })

function setup (pull: (opts: PullOptions) => Promise<PullResult>) {
  const store = new MemoryStore()
  const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000 })
  const peers = new PeerRegistry(store).rest
  const timers = new FakeTimers()
  const sync = new PolledSync({
    engine, peers, log: silentLogger, timers, random: () => 0.5,
    key: () => new Uint8Array(32),
    settings: () => ({ intervalMs: 60_000, pageSize: 100, timeoutMs: 5000, retryBaseMs: 100 }),
    pull: async (_peer, opts) => await pull(opts),
    probe: async () => ({ enabled: false })
  })
  return { store, peers, timers, sync }
}

describe('PolledSync', () => {
  it('retries a failing peer with capped exponential backoff, forever, and recovers by itself', async () => {
    let failing = true
    let calls = 0
    const { peers, timers, sync } = setup(async () => {
      calls++
      if (failing) throw new EngramError('UNAVAILABLE', 'peer http://x:1 is unreachable (ECONNREFUSED)')
      return ok(5)
    })
    peers.add({ name: 'b', url: 'http://x:1' })
    sync.start()
    const delays: number[] = []
    assert.equal(timers.fire(), 500, 'first run within the first second (random 0.5)')
    for (let i = 0; i < 12; i++) {
      await settle(() => timers.pending.size === 1, `retry ${i}`)
      assert.equal(peers.get('b')?.status, 'unreachable')
      delays.push(timers.fire())
    }
    // jitter factor with random 0.5 is exactly 1
    assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000])
    await settle(() => timers.pending.size === 1, 'the last failed run')
    assert.equal(peers.get('b')?.failures, 13)
    assert.equal(peers.get('b')?.counters.failures, 13)
    failing = false
    assert.equal(timers.fire(), 60_000)
    await settle(() => timers.pending.size === 1, 'after recovery')
    const b = peers.get('b')!
    assert.equal(b.status, 'active')
    assert.equal(b.failures, 0)
    assert.equal(b.lastResult?.ok, true)
    assert.equal(b.counters.received, 5)
    assert.equal(timers.fire(), 60_000, 'back to the interval')
    await settle(() => timers.pending.size === 1, 'next run')
    assert.equal(calls, 15)
    await sync.stop()
    assert.equal(timers.pending.size, 0)
  })

  it('jitter stays within ±10 % of the interval', () => {
    for (const r of [0, 0.25, 0.999]) {
      const { sync } = setup(async () => ok())
      const s = sync as unknown as { opts: { random: () => number } }
      s.opts.random = () => r
      const d = sync.nextDelay(0)
      assert.ok(d >= 54_000 && d <= 66_000, `${d}`)
    }
  })

  it('runs never overlap for one peer: sync now waits for the run under way, then runs again', async () => {
    let active = 0
    let most = 0
    let release: (() => void) | undefined
    const { peers, sync } = setup(async () => {
      active++
      most = Math.max(most, active)
      await new Promise<void>(resolve => { release = resolve })
      active--
      return ok()
    })
    peers.add({ name: 'b', url: 'http://x:1' })
    const first = sync.syncNow('b')
    const second = sync.syncNow('b')
    await settle(() => release !== undefined, 'first pull started')
    const r1 = release!
    release = undefined
    r1()
    await settle(() => release !== undefined, 'second pull started')
    release!()
    const [a, b] = await Promise.all([first, second])
    assert.equal(most, 1)
    assert.ok(a[0]!.ok && b[0]!.ok)
    assert.equal(peers.get('b')?.counters.syncs, 2)
  })

  it('sync now right after a pairing counts the pull it waited on, and follows its progress', async () => {
    let release: (() => void) | undefined
    let calls = 0
    const { peers, timers, sync } = setup(async (opts) => {
      calls++
      if (calls > 1) { opts.onProgress?.({ pages: 1, received: 0, applied: 0, remaining: 0 }); return ok(0) } // the fresh run after it: nothing new
      for (let page = 1; page <= 3; page++) opts.onProgress?.({ pages: page, received: page * 100, applied: page * 100, remaining: 300 - page * 100 })
      await new Promise<void>(resolve => { release = resolve })
      opts.onProgress?.({ pages: 4, received: 400, applied: 400, remaining: 0 })
      return { ...ok(400), pages: 4 }
    })
    sync.start()
    peers.add({ name: 'b', url: 'http://x:1' })
    sync.peersChanged() // what pairing does: the new peer is pulled at once, by the scheduler
    assert.equal(timers.fire(), 0)
    await settle(() => release !== undefined, 'the pairing\'s pull under way')
    const seen: PullProgress[] = []
    const now = sync.syncNow('b', (_peer, p) => { seen.push(p) })
    await new Promise(resolve => setImmediate(resolve))
    release!()
    const [r] = await now
    assert.deepEqual([r!.ok, r!.received, r!.applied, r!.pages], [true, 400, 400, 5], 'the 400 records of the pull it waited on are counted')
    assert.deepEqual(seen.map(p => [p.pages, p.received, p.remaining]), [[4, 400, 0], [5, 400, 0]], 'its progress followed, then the fresh run\'s on top of it')
    assert.equal(calls, 2)
    await sync.stop()
  })

  it('paused and removed peers are not pulled or scheduled', async () => {
    let calls = 0
    const { peers, timers, sync } = setup(async () => { calls++; return ok() })
    peers.add({ name: 'b', url: 'http://x:1' })
    peers.add({ name: 'c', url: 'http://y:1' })
    peers.setPaused('b', true)
    peers.remove('c')
    sync.start()
    assert.equal(timers.pending.size, 0)
    const r = await sync.syncNow()
    assert.deepEqual(r, [])
    const paused = await sync.syncNow('b')
    assert.equal(paused[0]!.ok, false)
    assert.match(paused[0]!.error ?? '', /paused/)
    assert.equal(calls, 0)
    peers.setPaused('b', false)
    sync.peersChanged()
    assert.equal(timers.fire(), 0, 'a resumed peer runs at once')
    await settle(() => calls === 1, 'pulled')
    await sync.stop()
  })

  it('a node paired under two names is refused with CONFLICT', async () => {
    const { peers, sync } = setup(async () => ok())
    peers.add({ name: 'b', url: 'http://x:1' })
    peers.add({ name: 'b2', url: 'http://x.lan:1' })
    assert.ok((await sync.syncNow('b'))[0]!.ok)
    const twin = await sync.syncNow('b2')
    assert.equal(twin[0]!.code, 'CONFLICT')
    assert.match(twin[0]!.error ?? '', /already paired as "b"/)
  })
})
