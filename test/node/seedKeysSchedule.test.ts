/**
 * When a node derives its seed's keys (node/seedKeysSchedule.ts): a restarted node (its store holds
 * records) only once its first session has caught it up (or a second after its dials started), so
 * the Argon2id does not compete with the catch-up; a node whose store is empty at once. The
 * derivation is observed through the test hook `deriveSeedKeys`: whether the peer has a session
 * with the restarted node at the moment it is asked for, and whether that node holds the peer's
 * records (a session's first catch-up ends only after both).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { defaultConfig } from '../../src/config/load.ts'
import { seedKeys, type SeedKeys } from '../../src/core/seedKeys.ts'
import { EngramNode } from '../../src/node/EngramNode.ts'
import { SEED_KEYS_CAP_MS, seedKeysSchedule } from '../../src/node/seedKeysSchedule.ts'
import { createLogger } from '../../src/util/log.ts'
import { eventually } from '../support/eventually.ts'
import { freePorts } from '../native/daemons.ts'

const SEED = 'Zt7-schedule-keys_seed-4Qp9v'
const quiet = { log: createLogger({ sink: () => {} }) }

describe('when the seed\'s keys are derived', () => {
  let root: string
  before(() => { root = mkdtempSync(join(tmpdir(), 'engram-keywhen-')) })
  after(() => rmSync(root, { recursive: true, force: true }))

  const config = (name: string, port: number, peers: string[] = []) => defaultConfig({
    dataDir: join(root, name), 'api.port': 0, 'p2p.enabled': true, 'p2p.seed': SEED, 'p2p.host': '127.0.0.1', 'p2p.port': port, 'p2p.manualPeers': peers
  })

  it('a restarted node with records derives only once its first session caught it up; an empty node at once', async () => {
    const [portA, portB, portC] = await freePorts(3) as [number, number, number]
    const a = await EngramNode.start(config('a', portA), quiet)
    let b: EngramNode | undefined
    let c: EngramNode | undefined
    try {
      // b's first start: its store is empty, so it derives during its start
      let askedFirst = false
      b = await EngramNode.start(config('b', portB), { ...quiet, deriveSeedKeys: async seed => { askedFirst = true; return await seedKeys(seed) } })
      assert.ok(askedFirst, 'an empty node derives at once')
      const bId = b.nodeId
      b.native!.addPeer(`127.0.0.1:${portA}`) // kept in b's store: its restart dials a again
      b.engine.addTriples([{ subject: 'user:b', predicate: 'wrote', object: 'first start' }])
      await eventually(() => a.engine.store.stats().triples === 1, 'b\'s record on a')
      await b.stop()
      b = undefined
      await eventually(() => !a.native!.sessionInfo().some(s => s.nodeId === bId && s.state === 'open'), 'a saw b go')
      // b falls behind while stopped: its restart catches up from a
      a.engine.addTriples(Array.from({ length: 300 }, (_, i) => ({ subject: `user:a${i}`, predicate: 'wrote', object: `while b was stopped ${i}` })))

      // b's restart: what a sees of the session with b when b asks for its keys
      let seen: { open: boolean, caughtUp: boolean, ms: number } | undefined
      let derived: ((k: SeedKeys) => void) | undefined
      const keys = new Promise<SeedKeys>(resolve => { derived = resolve })
      let restarted: EngramNode | undefined
      const t0 = performance.now()
      b = restarted = await EngramNode.start(config('b', portB), {
        ...quiet,
        deriveSeedKeys: async seed => {
          const ms = performance.now() - t0
          const open = a.native!.sessionInfo().some(i => i.nodeId === bId && i.state === 'open')
          // asked for during b's start (b is not there yet): b's records once it is (they only grow)
          for (let i = 0; restarted === undefined && i < 10_000; i++) await new Promise(resolve => setImmediate(resolve))
          seen ??= { open, caughtUp: restarted?.engine.store.stats().triples === 301, ms }
          const k = await seedKeys(seed)
          derived?.(k)
          return k
        }
      })
      await keys
      await b.keysReady
      assert.ok(seen !== undefined)
      // before its first catch-up ended only when the cap passed (a second after its dials started)
      assert.ok((seen.open && seen.caughtUp) || seen.ms >= SEED_KEYS_CAP_MS,
        `derived before b's first session caught it up: ${JSON.stringify(seen)}`)
      await eventually(() => b!.engine.store.stats().triples === 301, 'b caught up')

      // a node with no records and a peer to dial derives at once, during its start
      let askedC = false
      c = await EngramNode.start(config('c', portC, [`127.0.0.1:${portA}`]), { ...quiet, deriveSeedKeys: async seed => { askedC = true; return await seedKeys(seed) } })
      assert.ok(askedC, 'an empty node derives at once')
      await c.keysReady
    } finally {
      await c?.stop()
      await b?.stop()
      await a.stop()
    }
  })
})

describe('a seed-key schedule stopped before its derivation began', () => {
  it('never derives, and its keys reject with UNAVAILABLE (what waits for them settles)', { timeout: 10_000 }, async () => {
    let derived = 0
    const schedule = seedKeysSchedule({
      derive: async () => { derived++; return await Promise.reject(new Error('not to be called')) },
      atOnce: false,
      busy: () => true,
      capMs: 60_000
    })
    await schedule.start?.()
    await schedule.stop?.()
    await assert.rejects(schedule.keys, (e: unknown) => (e as { code?: string }).code === 'UNAVAILABLE')
    // past several polls: nothing begins after the stop
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(derived, 0)
  })

  it('derives at once when nothing is being dialled', async () => {
    let derived = 0
    const keys = { privateNetwork: new Uint8Array(32), relay: new Uint8Array(32), seal: new Uint8Array(32), keyId: new Uint8Array(8) }
    const schedule = seedKeysSchedule({ derive: async () => { derived++; return keys }, atOnce: false, busy: () => false })
    await schedule.start?.()
    assert.equal(await schedule.keys, keys)
    assert.equal(derived, 1)
    await schedule.stop?.()
  })
})
