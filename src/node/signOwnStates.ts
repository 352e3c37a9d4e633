/**
 * The start-up migration of docs/DATA-MODEL.md ("Signed records"): this node's own states
 * written before it signed are signed once, with their progress in the log (how many, at most
 * how many, per second). The records of other nodes stay unsigned until their origin signs them.
 */
import type { Engine } from '../engine/Engine.ts'
import type { Store } from '../store/Store.ts'
import type { Logger } from '../util/log.ts'

/** Signs this node's states written before it signed; nothing to do on a store that has none. */
export async function signOwnStates (engine: Engine, store: Store, log: Logger): Promise<void> {
  const total = store.provenanceStats().unsigned
  if (total === 0) return
  const started = performance.now()
  const done = await engine.sealOwnStates(n => {
    const s = (performance.now() - started) / 1000
    log.info('signing this node\'s records written before it signed', { done: n, atMost: total, perSecond: Math.round(n / Math.max(s, 0.001)) })
  })
  if (done > 0) log.info('signed this node\'s earlier records; the records of other nodes stay unsigned until their origin signs them', { signed: done, seconds: ((performance.now() - started) / 1000).toFixed(1) })
}
