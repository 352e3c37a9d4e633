/**
 * A relay and nothing else (`engram relay`): circuit relay v2 for the nodes that prove one of its
 * admission keys, on QUIC and TCP on `p2p.port`, with the limits of `p2p.relay.*`; identify and
 * AutoNAT so members learn their own reachability. No store, no REST API, no engram sessions. The
 * operator needs the groups' admission keys (`engram relay key` prints a group's), never a seed; a
 * seed in the configuration adds its own group's key. The identity key lives in the data directory,
 * so the relay's node id (which members put in `p2p.relays`) survives restarts. With
 * `p2p.mailbox.enabled` it also holds sealed pages for offline members (`mailbox.ts`).
 *
 * The composition root of a relay, as `EngramNode.ts` is of a node.
 */
import type { EngramConfig } from '../config/schema.ts'
import { CONFIG_INVALID } from '../core/errors.ts'
import { parseAdmissionKey, seedKeys } from '../core/seedKeys.ts'
import { QuicTransport } from '../transport/libp2p/QuicTransport.ts'
import type { ReachStatus } from '../transport/Transport.ts'
import type { Logger } from '../util/log.ts'
import { ensureDataDir } from './paths.ts'
import { loadOrCreateIdentity } from './identity.ts'
import { serveMailbox } from './mailbox.ts'

export interface RelayNodeOptions {
  readonly log: Logger
  /** Addresses to listen on (IP literals). Default 0.0.0.0. */
  readonly hosts?: readonly string[]
}

export class RelayNode {
  readonly nodeId: string
  private readonly transport: QuicTransport
  private readonly closeMailbox: (() => void) | undefined

  private constructor (nodeId: string, transport: QuicTransport, closeMailbox: (() => void) | undefined) {
    this.nodeId = nodeId
    this.transport = transport
    this.closeMailbox = closeMailbox
  }

  static async start (config: EngramConfig, opts: RelayNodeOptions): Promise<RelayNode> {
    const r = config.p2p.relay
    const keys = r.admissionKeys.map((k, i) => parseAdmissionKey(k, `p2p.relay.admissionKeys[${i}]`))
    if (config.p2p.seed !== undefined) keys.unshift((await seedKeys(config.p2p.seed)).relay)
    if (keys.length === 0) {
      throw CONFIG_INVALID('p2p.relay.admissionKeys', '[]', 'at least one admission key (print one with `engram relay key` on a node of the group, then set ENGRAM_P2P_RELAY_ADMISSION_KEYS), or p2p.seed')
    }
    ensureDataDir(config.dataDir)
    const identity = await loadOrCreateIdentity(config.dataDir)
    const log = opts.log.child({ part: 'relay' })
    const transport = new QuicTransport({
      privateKey: identity.privateKey,
      host: [...(opts.hosts ?? ['0.0.0.0'])],
      port: config.p2p.port,
      transports: 'both',
      log: (message, details) => { log.debug(message, details) },
      notice: (level, message, details) => { log[level](message, details) },
      reach: {
        relayOnly: true,
        serve: {
          keys,
          limits: { maxReservations: r.maxReservations, maxCircuitsPerPeer: r.maxCircuitsPerPeer, maxCircuitBytes: r.maxCircuitBytes, maxCircuitSeconds: r.maxCircuitSeconds }
        }
      }
    })
    await transport.start()
    let closeMailbox: (() => void) | undefined
    try {
      closeMailbox = await serveMailbox(config, transport, log)
    } catch (err) {
      await transport.stop()
      throw err
    }
    return new RelayNode(identity.nodeId, transport, closeMailbox)
  }

  listenAddrs (): string[] {
    return this.transport.listenAddrs()
  }

  status (): ReachStatus {
    return this.transport.reachStatus()
  }

  async stop (): Promise<void> {
    await this.transport.stop()
    this.closeMailbox?.()
  }
}
