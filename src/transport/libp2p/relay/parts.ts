/**
 * The libp2p parts of reaching nodes behind NATs, added to a node's libp2p (`../node.ts`) when it
 * uses relays or serves as one: the circuit relay v2 transport (dialling and listening through
 * relays), identify (which AutoNAT, DCUtR and relay discovery need), AutoNAT (is this node
 * dialable from outside?), DCUtR (upgrade a relayed connection to a direct one), the circuit relay
 * v2 server with its limits when serving, and the connection-gater rules of admission.
 *
 * TCP to a relay: members bind the seed's private-network key into Noise (`../privateNetwork.ts`),
 * which a relay operator does not hold. Members therefore also offer a second Noise, without the
 * key, under its own protocol id (`/engram/relay-noise/1.0.0`), for outbound connections only: a
 * standalone relay speaks only that one, so a member's TCP dial to it settles on it; between
 * members the keyed `/noise` comes first and is chosen. A member never accepts the unkeyed Noise
 * inbound, so the TCP path between members stays private to the seed. What admits a node to a relay
 * is the admission proof, on QUIC and TCP alike.
 *
 * Loaded only by a node that uses relays or serves as one (`../node.ts` imports it then): the
 * libp2p packages above are not loaded by a node without reach options. What the rest of the
 * transport needs of a relay without them is in `limits.ts`.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { autoNAT } from '@libp2p/autonat'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { identify } from '@libp2p/identify'
import type { ComponentLogger, Connection as Libp2pConnection, ConnectionEncrypter, Metrics, PeerId, PrivateKey, Upgrader } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { RelayLimits } from './limits.ts'
import type { DialFrom } from './HolePunch.ts'
import type { CircuitListener } from './RelayClient.ts'

export const RELAY_NOISE_PROTOCOL = '/engram/relay-noise/1.0.0'

interface NoiseComponents { privateKey: PrivateKey, peerId: PeerId, logger: ComponentLogger, upgrader: Upgrader, metrics?: Metrics }

/** Noise without a private-network key, under its own protocol id; `inbound: false` refuses inbound use. */
export function relayNoise (inbound: boolean): (components: NoiseComponents) => ConnectionEncrypter {
  return (components) => {
    const inner = noise()(components as never)
    return {
      protocol: RELAY_NOISE_PROTOCOL,
      secureOutbound: (conn, opts) => inner.secureOutbound(conn, opts),
      secureInbound: inbound
        ? (conn, opts) => inner.secureInbound(conn, opts)
        : () => Promise.reject(new Error('unkeyed Noise is for dialling relays; inbound connections use the private network'))
    }
  }
}

/** The transport through relays. */
export function relayTransport (handshakeTimeoutMs: number): ReturnType<typeof circuitRelayTransport> {
  return circuitRelayTransport({ reservationCompletionTimeout: handshakeTimeoutMs, maxInboundStopStreams: 64, maxOutboundStopStreams: 64 })
}

/** identify, AutoNAT and DCUtR; the relay server too when `serve` is given. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- libp2p hands each service the components it names
export function reachServices (handshakeTimeoutMs: number, serve: RelayLimits | undefined, hole: boolean): Record<string, (components: any) => unknown> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  const services: Record<string, (components: any) => unknown> = {
    identify: identify({ timeout: handshakeTimeoutMs, runOnLimitedConnection: true }) as never,
    autoNAT: autoNAT({ timeout: handshakeTimeoutMs, startupDelay: 2000 }) as never,
    circuits: circuitListenerService as never
  }
  if (hole) services.dcutr = dcutr({ timeout: handshakeTimeoutMs }) as never
  if (serve !== undefined) {
    services.relay = circuitRelayServer({
      hopTimeout: handshakeTimeoutMs,
      reservations: {
        maxReservations: serve.maxReservations,
        reservationTtl: serve.reservationTtlSeconds * 1000,
        applyDefaultLimit: true,
        defaultDataLimit: BigInt(serve.maxCircuitBytes),
        defaultDurationLimit: serve.maxCircuitSeconds * 1000
      },
      maxInboundHopStreams: serve.maxCircuitsPerPeer,
      maxOutboundStopStreams: serve.maxCircuitsPerPeer
    }) as never
  }
  return services
}

interface DialingTransport {
  dial: (ma: Multiaddr, options: Record<string, unknown>) => Promise<Libp2pConnection>
}
interface TransportManager {
  listen: (addrs: Multiaddr[]) => Promise<void>
  dialTransportForMultiaddr: (ma: Multiaddr) => DialingTransport | undefined
}
interface OutboundUpgrader {
  upgradeOutbound: (maConn: { direction: string }, options: Record<string, unknown>) => Promise<Libp2pConnection>
}

/**
 * A service that hands out the node's transports: to listen on relay addresses at run time, and
 * to dial from a chosen local TCP port for a hole punch (`HolePunch.ts`). The TCP transport gives
 * its options to the socket, `localPort` included. The side that answers the upgrade
 * (`initiator: false`) has its connection marked inbound before the upgrade, as libp2p's own
 * flag leaves the muxer a client on both ends. The socket keeps the abort signal it was given,
 * so the dial gets one that is let go once the dial is over.
 */
function circuitListenerService (components: { transportManager: TransportManager, upgrader: OutboundUpgrader }): CircuitListener & { dialFrom: DialFrom } {
  const tm = components.transportManager
  const base = components.upgrader
  return {
    listen: (addrs) => tm.listen(addrs),
    dialFrom: async (ma, localPort, initiator, signal) => {
      const transport = tm.dialTransportForMultiaddr(ma)
      if (transport === undefined) throw new Error(`no transport dials ${ma.toString()}`)
      const upgrader: OutboundUpgrader = {
        upgradeOutbound: async (maConn, opts) => {
          if (!initiator) maConn.direction = 'inbound'
          return await base.upgradeOutbound(maConn, { ...opts, initiator })
        }
      }
      const during = new AbortController()
      const onAbort = (): void => { during.abort(signal.reason) }
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
      try {
        return await transport.dial(ma, { signal: during.signal, localPort, upgrader })
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
    }
  }
}
