/**
 * When a node derives its seed's keys (core/seedKeys.ts: one Argon2id evaluation, 64 MiB and a
 * few hundred milliseconds of a core, on purpose). Only TCP, relays and the mailbox wait for the
 * keys (seedKeysPart.ts); QUIC and its sessions do not. So:
 *
 * - A restarted node (its store holds records) derives once native sync's first dials have
 *   settled — each peer dialled at the start has connected and its session's first catch-up
 *   ended, or the dial failed (NativeSync's `busy`) — or `capMs` (1 s) after native sync started,
 *   whichever comes first; at once when there is nothing to dial over QUIC. The derivation would
 *   otherwise compete for the CPU and the memory with the dials and the catch-up that bring the
 *   node up to date. The cost: a peer that reaches this node only over TCP or a relay reaches it
 *   up to `capMs` later after a restart.
 * - A node whose store is empty (its first start) derives at once: its memory is lowest then,
 *   and its first full copy would otherwise carry the 64 MiB.
 * - A first start of the daemon (`engram start`, no store file yet: `firstStartSeedKeys`) derives
 *   before the node's modules load, and waits for it: the 64 MiB are given back (node:crypto's
 *   Argon2 frees them) before the started node's ~90 MiB are there, so the start's peak is the
 *   larger of the two, not their sum (a first start is ready a derivation later, a few hundred ms).
 *
 * An embedder that passes the keys (EngramNode's `seedKeys` option) decides itself; this does not apply.
 */
import { existsSync } from 'node:fs'
import { UNAVAILABLE } from '../core/errors.ts'
import { seedKeys, type SeedKeys } from '../core/seedKeys.ts'
import type { Startable } from './Lifecycle.ts'
import { dataPaths } from './paths.ts'

/** How long a restarted node waits at most for its first dials to settle before deriving. */
export const SEED_KEYS_CAP_MS = 1000
const POLL_MS = 20

export interface SeedKeysScheduleOptions {
  /** Starts the derivation. */
  readonly derive: () => Promise<SeedKeys>
  /** Derive at once (a first start: the store is empty). */
  readonly atOnce: boolean
  /** Whether native sync's first dials are still under way (NativeSync's `busy`; false without native sync). */
  readonly busy: () => boolean
  readonly capMs?: number
}

/** Started once native sync has started (its first dials are under way); stopped with the node. */
export interface SeedKeysSchedule extends Startable {
  /** The keys: derived at once, or once native sync is not busy, or `capMs` after `start`. */
  readonly keys: Promise<SeedKeys>
}

export function seedKeysSchedule (o: SeedKeysScheduleOptions): SeedKeysSchedule {
  const name = 'the seed\'s derivation'
  if (o.atOnce) return { name, keys: o.derive(), start: () => {}, stop: () => {} }
  let go: (() => void) | undefined
  let cancel: ((e: unknown) => void) | undefined
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const keys = new Promise<void>((resolve, reject) => { go = resolve; cancel = reject }).then(() => o.derive())
  const begin = (): void => {
    timer = undefined
    if (!stopped) go?.()
  }
  return {
    name,
    keys,
    start: () => {
      if (!o.busy()) { begin(); return }
      const until = performance.now() + (o.capMs ?? SEED_KEYS_CAP_MS)
      const poll = (): void => {
        if (stopped) return
        if (!o.busy() || performance.now() >= until) begin()
        else timer = setTimeout(poll, POLL_MS)
      }
      timer = setTimeout(poll, POLL_MS)
    },
    stop: () => {
      // a derivation not yet begun never begins: the keys reject (after a derivation begun: no-op),
      // so what waits for them settles (seedKeysPart's `ready`, stopped before: resolves)
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      timer = undefined
      cancel?.(UNAVAILABLE('the node stopped before its seed\'s keys were derived'))
    }
  }
}

/**
 * A first start's keys, derived now and waited for (they may have failed: the node's keysReady
 * says so): the seed when P2P is on with one and the data directory has no store yet; otherwise
 * undefined, and the node derives them itself (above). Given to EngramNode as its `seedKeys`.
 * Called before the node's modules are loaded (see the file comment).
 */
export async function firstStartSeedKeys (
  o: { readonly dataDir: string, readonly p2p: { readonly enabled: boolean, readonly seed?: string | undefined } },
  derive: (seed: string) => Promise<SeedKeys> = seedKeys
): Promise<{ seed: string, keys: Promise<SeedKeys> } | undefined> {
  const seed = o.p2p.enabled ? o.p2p.seed : undefined
  if (seed === undefined || existsSync(dataPaths(o.dataDir).db)) return undefined
  const keys = derive(seed)
  await keys.catch(() => {})
  return { seed, keys }
}
