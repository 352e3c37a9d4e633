/**
 * The parts of a node that wait for its seed's keys (core/seedKeys.ts: one Argon2id evaluation,
 * a few hundred milliseconds and 64 MiB, on purpose), as one part of the node's lifecycle, so
 * that the derivation is off the start's path: the REST API, QUIC and its seed-authenticated
 * sessions (which prove the seed itself, not a key derived from it) start at once, and when the
 * keys come the transport's TCP listens and dials in the private network, its relay parts start,
 * and the mailbox side starts. None of them ever runs without its key: TCP neither listens nor
 * dials before it, and the P2P status shows TCP `starting` meanwhile.
 *
 * A derivation that fails (or a TCP port that cannot be listened on) is logged as an error, shown
 * in the P2P status (TCP `failed`) and rejects `ready`; the daemon (`engram start`) then stops
 * with that error, as a start that failed. A node stopped before the keys come starts none of
 * them (`stop` also waits for a bring-up under way, so nothing starts after it).
 */
import type { SeedKeys } from '../core/seedKeys.ts'
import type { MailboxSync } from '../sync/mailbox/MailboxSync.ts'
import type { Logger } from '../util/log.ts'
import type { Startable } from './Lifecycle.ts'

export interface SeedKeysPartOptions {
  /** The derivation, under way. */
  readonly keys: Promise<SeedKeys>
  /** Brings up what needs the keys; resolves with the mailbox side (not started), if any. */
  readonly useKeys: (keys: SeedKeys) => Promise<MailboxSync | undefined>
  /** Tells the transport that the keys will not come (its status). */
  readonly keysFailed: (reason: string) => void
  /** The started mailbox side, for the node's API. */
  readonly onMailbox: (mailbox: MailboxSync) => void
  readonly log: Logger
}

export interface SeedKeysPart extends Startable {
  /**
   * Resolves once every part that needs the keys runs (or the node stopped first); rejects when
   * the keys could not be derived or TCP could not listen.
   */
  readonly ready: Promise<void>
}

export function seedKeysPart (o: SeedKeysPartOptions): SeedKeysPart {
  let stopped = false
  let mailbox: MailboxSync | undefined
  /** Bringing the parts up, once the keys are there (what `stop` waits for; never the derivation). */
  let bringing: Promise<void> | undefined
  let settle: { resolve: () => void, reject: (e: unknown) => void } | undefined
  const ready = new Promise<void>((resolve, reject) => { settle = { resolve, reject } })
  // an embedder that never asks: the failure is logged below, not left unhandled
  ready.catch(() => {})
  const fail = (what: string, e: unknown): void => {
    const reason = e instanceof Error ? e.message : String(e)
    o.keysFailed(reason)
    o.log.error(`${what}: TCP, relays and the mailbox stay off`, { error: reason })
    settle?.reject(e)
  }
  const bringUp = async (keys: SeedKeys): Promise<void> => {
    const m = await o.useKeys(keys)
    if (stopped) return
    if (m !== undefined) {
      m.start()
      mailbox = m
      o.onMailbox(m)
    }
  }
  return {
    name: 'the parts that need the seed\'s keys',
    ready,
    start: () => {
      const t0 = performance.now()
      o.log.debug('deriving the seed\'s keys: QUIC starts now, TCP and relays once they are derived')
      o.keys.then(keys => {
        if (stopped) { settle?.resolve(); return }
        bringing = bringUp(keys)
        bringing.then(() => {
          if (!stopped) o.log.info('the seed\'s keys are derived: TCP listens, relays and the mailbox start', { ms: Math.round(performance.now() - t0) })
          settle?.resolve()
        }, (e: unknown) => { if (stopped) settle?.resolve(); else fail('the parts that need the seed\'s keys did not start', e) })
      }, (e: unknown) => {
        if (stopped) settle?.resolve()
        else fail('could not derive the seed\'s keys', e)
      })
    },
    stop: async () => {
      stopped = true
      // a bring-up under way ends before the transport stops (which closes what it opened); a
      // derivation still under way is not waited for: nothing starts after it
      await bringing?.catch(() => {})
      await mailbox?.stop()
    }
  }
}
