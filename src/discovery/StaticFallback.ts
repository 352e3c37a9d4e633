/**
 * When the static peer list (`sync.peers`, `ENGRAM_SYNC_PEERS`) is dialled:
 *
 * | mDNS                                | the static list                              |
 * |-------------------------------------|----------------------------------------------|
 * | off (p2p.mdns, discovery.bonjourEnabled) | dialled at once                         |
 * | cannot run (library, interface, port)    | dialled at once                         |
 * | runs, finds a peer within the wait       | not used                                |
 * | runs, finds nobody within the wait       | dialled when the wait ends (`sync.staticFallbackSeconds`) |
 *
 * The decision is made once per run, and logged in one line that says what happened and what
 * to do about it (docs/DISCOVERY.md, troubleshooting). Time is the injected clock's.
 */
import type { Logger } from '../util/log.ts'
import type { Clock, Timer } from './clock.ts'

export type FallbackDecision = 'mdns-off' | 'mdns-unavailable' | 'mdns-found' | 'mdns-timeout'

export interface StaticFallbackOptions {
  /** The static list, "host:port". */
  readonly peers: readonly string[]
  /** How long mDNS gets to find a peer, ms. */
  readonly waitMs: number
  readonly clock: Clock
  readonly log: Logger
  /** Dials the static list. */
  readonly dial: (peers: readonly string[]) => void
}

const HOW_TO_SET = 'set ENGRAM_SYNC_PEERS=host:port,… (sync.peers)'

export class StaticFallback {
  private readonly opts: StaticFallbackOptions
  private timer: Timer | undefined
  private decided: FallbackDecision | undefined

  constructor (opts: StaticFallbackOptions) {
    this.opts = opts
  }

  /** What was decided (undefined while mDNS still has time). */
  get decision (): FallbackDecision | undefined {
    return this.decided
  }

  /** mDNS is switched off in the configuration. */
  mdnsOff (): void {
    if (!this.decide('mdns-off')) return
    if (this.opts.peers.length === 0) return
    this.opts.log.info(`mDNS discovery is off (p2p.mdns and discovery.bonjourEnabled are false): dialling the static peer list at once (${this.count()})`,
      { peers: this.opts.peers.join(',') })
    this.opts.dial(this.opts.peers)
  }

  /** mDNS cannot run here. */
  mdnsUnavailable (reason: string): void {
    if (!this.decide('mdns-unavailable')) return
    if (this.opts.peers.length === 0) {
      this.opts.log.warn(`mDNS cannot run (${reason}) and no static peer list is set: peers on this network will not be found; fix mDNS, or ${HOW_TO_SET}`)
      return
    }
    this.opts.log.warn(`mDNS cannot run (${reason}): dialling the static peer list at once (${this.count()})`, { peers: this.opts.peers.join(',') })
    this.opts.dial(this.opts.peers)
  }

  /** mDNS runs: the wait starts now. */
  mdnsStarted (): void {
    if (this.decided !== undefined || this.timer !== undefined) return
    this.timer = this.opts.clock.setTimer(this.opts.waitMs, () => {
      this.timer = undefined
      this.timeout()
    })
  }

  /** mDNS found a peer. */
  peerFound (nodeId: string): void {
    if (!this.decide('mdns-found')) return
    if (this.opts.peers.length > 0) {
      this.opts.log.info(`mDNS found peer ${nodeId}: the static peer list (${this.count()}) is not used`, { peers: this.opts.peers.join(',') })
    }
  }

  stop (): void {
    this.timer?.cancel()
    this.timer = undefined
  }

  private timeout (): void {
    if (!this.decide('mdns-timeout')) return
    const s = Math.round(this.opts.waitMs / 1000)
    if (this.opts.peers.length === 0) {
      this.opts.log.info(`mDNS found no peer within ${s} s; if your other nodes are on this network, multicast is blocked: open UDP port 5353, or ${HOW_TO_SET}`)
      return
    }
    this.opts.log.warn(`mDNS found no peer within ${s} s: dialling the static peer list (${this.count()}); if your other nodes are on this network, multicast is blocked: open UDP port 5353`,
      { peers: this.opts.peers.join(',') })
    this.opts.dial(this.opts.peers)
  }

  private decide (d: FallbackDecision): boolean {
    if (this.decided !== undefined) return false
    this.decided = d
    this.stop()
    return true
  }

  private count (): string {
    const n = this.opts.peers.length
    return `${n} peer${n === 1 ? '' : 's'}`
  }
}
