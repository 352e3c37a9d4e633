/**
 * A first start's seed keys (node/seedKeysSchedule.ts firstStartSeedKeys): derived, and waited
 * for, before the node's modules load, so the Argon2id's 64 MiB are given back before the
 * started node holds its own memory; the daemon (`engram start`) does so on a data directory
 * without a store. Checked on the rule itself (when it derives, that it waits, that a failure is
 * handed on, not thrown) and on a real daemon: its highest resident size over the start stays
 * well under its size once started plus the derivation's 64 MiB (on a start that derives while
 * the node loads, the two add up).
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { SeedKeys } from '../../src/core/seedKeys.ts'
import { firstStartSeedKeys } from '../../src/node/seedKeysSchedule.ts'
import { sandbox, startDaemon, waitFor } from '../support/daemon.ts'
import { freePorts } from '../native/daemons.ts'

const SEED = 'Qv3-first-start-keys_seed-8Lm2x'
const KEYS: SeedKeys = { privateNetwork: new Uint8Array(32), relay: new Uint8Array(32), seal: new Uint8Array(32), keyId: new Uint8Array(8) }

describe('a first start\'s seed keys', () => {
  let root: string
  before(() => { root = mkdtempSync(join(tmpdir(), 'engram-firstkeys-')) })
  after(() => rmSync(root, { recursive: true, force: true }))

  const on = (dataDir: string, seed: string | undefined, enabled = true) => ({ dataDir, p2p: { enabled, seed } })

  it('are derived, and waited for, when the data directory has no store yet', async () => {
    let settled = false
    const got = await firstStartSeedKeys(on(join(root, 'fresh'), SEED), async seed => {
      assert.equal(seed, SEED)
      await new Promise(resolve => setTimeout(resolve, 50))
      settled = true
      return KEYS
    })
    assert.equal(settled, true, 'the derivation ended before firstStartSeedKeys returned')
    assert.equal(got?.seed, SEED)
    assert.equal(await got?.keys, KEYS)
  })

  it('are left to the node when the store exists, or without P2P or a seed', async () => {
    const held = join(root, 'held')
    mkdirSync(held)
    writeFileSync(join(held, 'engram.db'), '')
    let derived = 0
    const derive = async (): Promise<SeedKeys> => { derived++; return KEYS }
    assert.equal(await firstStartSeedKeys(on(held, SEED), derive), undefined)
    assert.equal(await firstStartSeedKeys(on(join(root, 'off'), SEED, false), derive), undefined)
    assert.equal(await firstStartSeedKeys(on(join(root, 'none'), undefined), derive), undefined)
    assert.equal(derived, 0)
  })

  it('hand a failed derivation on to the node rather than throwing', async () => {
    const got = await firstStartSeedKeys(on(join(root, 'failing'), SEED), async () => await Promise.reject(new Error('no memory')))
    assert.ok(got !== undefined)
    await assert.rejects(got.keys, /no memory/)
  })
})

describe('a daemon\'s first start', () => {
  it('gives the derivation\'s 64 MiB back before the node loads: its peak is not its size plus 64 MiB', { timeout: 60_000 }, async () => {
    if (process.platform !== 'linux') return
    const box = sandbox()
    try {
      const [port] = await freePorts(1)
      const env = { ...box.env, ENGRAM_P2P_ENABLED: 'true', ENGRAM_P2P_SEED: SEED, ENGRAM_P2P_HOST: '127.0.0.1', ENGRAM_P2P_PORT: String(port), ENGRAM_LOG_LEVEL: 'info' }
      const daemon = await startDaemon(join(box.root, 'node'), env)
      try {
        // the keys are derived (and their memory given back) when TCP listens
        await waitFor(() => daemon.stderr().includes('the seed\'s keys are derived'), 30_000, () => `the keys derived; log:\n${daemon.stderr()}`)
        const status = readFileSync(`/proc/${daemon.child.pid}/status`, 'utf8')
        const kib = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1])
        const [hwm, rss] = [kib('VmHWM') / 1024, kib('VmRSS') / 1024]
        // deriving while the node loads: hwm ≈ rss + 64; before it: hwm ≈ max(rss, ~50 + 64)
        assert.ok(hwm < rss + 45, `the start's peak ${hwm.toFixed(1)} MiB against ${rss.toFixed(1)} MiB once started`)
      } finally {
        await daemon.stop()
      }
    } finally {
      box.remove()
    }
  })
})
