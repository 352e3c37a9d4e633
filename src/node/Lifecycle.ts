/**
 * The node's parts in the order they start, stopped in the reverse order (js-libp2p's
 * `Startable`): one list, so start and stop can never disagree. A part that fails to start
 * stops every part started before it, last first, and the error goes on to the caller. Stopping
 * goes on past a part that fails to stop (it is logged), so one broken part never keeps the
 * others, the store last of all, from closing.
 */
import type { Logger } from '../util/log.ts'

/** A long-lived part of a node: started once, stopped once. */
export interface Startable {
  /** What the log calls it ("the REST API", "native P2P sync", …). */
  readonly name: string
  start?: () => void | Promise<void>
  stop: () => void | Promise<void>
}

export class Lifecycle {
  private readonly log: Logger
  private readonly started: Startable[] = []
  private stopping: Promise<void> | undefined

  constructor (log: Logger) {
    this.log = log
  }

  /** Starts `part` (after every part started before it); on failure, stops those and throws. */
  async start (part: Startable): Promise<void> {
    try {
      await part.start?.()
    } catch (e) {
      await this.stop()
      throw e
    }
    this.started.push(part)
  }

  /** Stops every started part, last started first. Safe to call more than once. */
  stop (): Promise<void> {
    this.stopping ??= (async () => {
      for (const part of this.started.splice(0).reverse()) {
        try {
          await part.stop()
        } catch (e) {
          this.log.warn(`${part.name} did not stop cleanly`, { error: e instanceof Error ? e.message : String(e) })
        }
      }
    })()
    return this.stopping
  }
}
