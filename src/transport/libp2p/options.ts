/**
 * The options of `QuicTransport`, checked once when the transport is built: every number has a
 * default and a range, listen hosts must be IP literals, and the private-network key (TCP only)
 * must be exactly 32 bytes.
 */
import type { PrivateKey } from '@libp2p/interface'
import { INVALID_INPUT } from '../../core/errors.ts'
import { DEFAULT_MAX_FRAME_BYTES } from '../Transport.ts'
import { PRIVATE_NETWORK_KEY_BYTES } from './privateNetwork.ts'
import { DEFAULT_RELAY_LIMITS, type RelayLimits } from './relay/limits.ts'

export type TransportKinds = 'quic' | 'tcp' | 'both'

/** Reaching nodes behind NATs: relays to use, and serving as one (docs/DISCOVERY.md "Relays"). */
export interface ReachOptions {
  /** Relays to reserve a slot on and to reach members through: multiaddrs ending in `/p2p/<relay id>`. */
  relays?: string[]
  /** The group's admission key, proven to relays (core/seedKeys.ts, RELAY). Needed with `relays`. */
  memberKey?: Uint8Array
  /** Serve as a relay for the nodes that prove one of these keys, with these limits. */
  serve?: { keys: Uint8Array[], limits?: Partial<RelayLimits> }
  /** How often each relay is asked for its members, ms. Default 10,000. */
  pollMs?: number
  /** Try to upgrade relayed sessions to direct ones (the TCP hole punch of `relay/HolePunch.ts`, and DCUtR). Default true. */
  holePunch?: boolean
  /**
   * A relay and nothing else (`engram relay`): no engram sessions, and TCP only with the unkeyed
   * Noise members use to dial relays. Needs `serve`. Default false.
   */
  relayOnly?: boolean
}

/** The keys a transport built with `keysPending` is given later (`QuicTransport.useKeys`). */
export interface LaterKeys {
  /** The TCP private network's key (32 bytes). */
  readonly privateNetworkKey: Uint8Array
  /** The group's admission key, proven to relays: needed when the reach options name relays or serve. */
  readonly memberKey?: Uint8Array
}

export interface QuicTransportOptions {
  /** The node's identity key (Ed25519). The node id is derived from it. */
  privateKey: PrivateKey
  /** Addresses to listen on (IP literals; `0.0.0.0` / `::` for all interfaces). Default `['0.0.0.0']`. */
  host?: string | string[]
  /** UDP port for QUIC (0 = any free port). Default 0. */
  port?: number
  /**
   * `'quic'` (default), `'tcp'`, or `'both'` (QUIC tried first on every dial). TCP listens on
   * `tcpPort`, by default the same number as `port`; with port 0 the two are chosen independently.
   */
  transports?: TransportKinds
  /** TCP port when TCP is enabled. Default: `port`. */
  tcpPort?: number
  /**
   * A 32-byte private-network key for TCP connections, bound into their Noise handshake: a node
   * without the same key cannot complete even the TCP transport handshake. QUIC connections are
   * not affected. See `privateNetwork.ts` for the derivation from a shared seed. Default: none.
   */
  privateNetworkKey?: Uint8Array
  /**
   * The seed's keys are still being derived (Argon2id, a few hundred milliseconds) and come later
   * through `QuicTransport.useKeys`: until then the transport speaks QUIC only (TCP neither
   * listens nor dials) and its relay parts wait (no relay admits it, it admits no member of its
   * own group). `privateNetworkKey` and the group's reach keys are then not given here.
   * Default false.
   */
  keysPending?: boolean
  /** Largest frame sent or accepted, bytes. Default 4 MiB (1 KiB – 256 MiB). */
  maxFrameBytes?: number
  /** Overall limit of a dial, session handshake included, ms. Default 10,000. */
  dialTimeoutMs?: number
  /** Limit of each handshake step (QUIC/Noise handshake, stream negotiation, HELLO/ACCEPT), ms. Default 5,000. */
  handshakeTimeoutMs?: number
  /** Time a closing session waits for the peer to end its side, ms. Default 2,000. */
  closeTimeoutMs?: number
  /** Most concurrent sessions; further ones are refused. Default 256. */
  maxConnections?: number
  /** Most inbound connections accepted per second from one host. Default 100. */
  inboundConnectionsPerSecond?: number
  /** Receives one line per notable event (refused attempts, failing handlers). */
  log?: (message: string, details?: Record<string, unknown>) => void
  /** Receives the lines a user acts on (relays refused, unreachable, reserved); default: `log`. */
  notice?: (level: 'info' | 'warn' | 'debug', message: string, details?: Record<string, unknown>) => void
  /** Relays and serving as one. Default: neither. */
  reach?: ReachOptions
}

/** Reach options after defaults and checks. */
export interface ResolvedReach {
  readonly relays: readonly string[]
  readonly memberKey: Uint8Array | undefined
  readonly serve: { readonly keys: readonly Uint8Array[], readonly limits: RelayLimits } | undefined
  readonly pollMs: number
  readonly holePunch: boolean
  readonly relayOnly: boolean
}

/** The options after defaults and checks. */
export interface ResolvedOptions {
  readonly privateKey: PrivateKey
  readonly hosts: readonly string[]
  readonly port: number
  readonly tcpPort: number
  readonly kinds: TransportKinds
  readonly privateNetworkKey: Uint8Array | undefined
  readonly keysPending: boolean
  readonly maxFrameBytes: number
  readonly dialTimeoutMs: number
  readonly handshakeTimeoutMs: number
  readonly closeTimeoutMs: number
  readonly maxConnections: number
  readonly inboundPerSecond: number
  readonly log: (message: string, details?: Record<string, unknown>) => void
  readonly notice: (level: 'info' | 'warn' | 'debug', message: string, details?: Record<string, unknown>) => void
  readonly reach: ResolvedReach | undefined
}

function intOption (name: string, v: number | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def
  if (!Number.isInteger(v) || v < min || v > max) throw INVALID_INPUT(name, `${v} is not an integer in ${min}-${max}`)
  return v
}

/** 4 or 6 for an IP literal; INVALID_INPUT naming `field` otherwise. */
export function ipFamily (host: string, field: string): 4 | 6 {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return 4
  if (host.includes(':')) return 6
  throw INVALID_INPUT(field, `${JSON.stringify(host)} is not an IP address (listen addresses must be IP literals, e.g. 0.0.0.0, 127.0.0.1, ::1)`)
}

export function resolveOptions (opts: QuicTransportOptions): ResolvedOptions {
  if (opts.privateKey?.type !== 'Ed25519') throw INVALID_INPUT('privateKey', 'must be an Ed25519 private key from @libp2p/crypto')
  const hosts = opts.host === undefined ? ['0.0.0.0'] : Array.isArray(opts.host) ? [...opts.host] : [opts.host]
  if (hosts.length === 0) throw INVALID_INPUT('host', 'at least one listen address is needed')
  for (const h of hosts) ipFamily(h, 'host')
  const port = intOption('port', opts.port, 0, 0, 65535)
  const kinds = opts.transports ?? 'quic'
  if (!['quic', 'tcp', 'both'].includes(kinds)) throw INVALID_INPUT('transports', `${String(kinds)} is not one of quic, tcp, both`)
  const psk = opts.privateNetworkKey
  const keysPending = opts.keysPending ?? false
  if (keysPending && (psk !== undefined || opts.reach?.memberKey !== undefined)) throw INVALID_INPUT('keysPending', 'keys that come later are not given at once too')
  if (psk !== undefined && (!(psk instanceof Uint8Array) || psk.byteLength !== PRIVATE_NETWORK_KEY_BYTES)) {
    throw INVALID_INPUT('privateNetworkKey', `must be ${PRIVATE_NETWORK_KEY_BYTES} bytes`)
  }
  return {
    privateKey: opts.privateKey,
    hosts,
    port,
    tcpPort: intOption('tcpPort', opts.tcpPort, port, 0, 65535),
    kinds,
    privateNetworkKey: psk,
    keysPending,
    maxFrameBytes: intOption('maxFrameBytes', opts.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES, 1024, 256 * 1024 * 1024),
    dialTimeoutMs: intOption('dialTimeoutMs', opts.dialTimeoutMs, 10_000, 1, 600_000),
    handshakeTimeoutMs: intOption('handshakeTimeoutMs', opts.handshakeTimeoutMs, 5_000, 1, 600_000),
    closeTimeoutMs: intOption('closeTimeoutMs', opts.closeTimeoutMs, 2_000, 1, 600_000),
    maxConnections: intOption('maxConnections', opts.maxConnections, 256, 1, 100_000),
    inboundPerSecond: intOption('inboundConnectionsPerSecond', opts.inboundConnectionsPerSecond, 100, 1, 1_000_000),
    log: opts.log ?? (() => {}),
    notice: opts.notice ?? ((_level, message, details) => { opts.log?.(message, details) }),
    reach: resolveReach(opts.reach, keysPending)
  }
}

function keyOption (name: string, k: unknown): Uint8Array {
  if (!(k instanceof Uint8Array) || k.byteLength !== 32) throw INVALID_INPUT(name, 'must be 32 bytes')
  return k
}

/** `keysPending`: the group's keys come later (`QuicTransport.useKeys`), so none is required yet. */
function resolveReach (r: ReachOptions | undefined, keysPending: boolean): ResolvedReach | undefined {
  if (r === undefined) return undefined
  const relays = [...(r.relays ?? [])]
  for (const a of relays) {
    if (!/^\/.+\/p2p\/[A-Za-z0-9]+$/.test(a)) throw INVALID_INPUT('reach.relays', `${JSON.stringify(a)} is not a multiaddr ending in /p2p/<relay id>`)
  }
  if (relays.length > 0 && r.memberKey === undefined && !keysPending) throw INVALID_INPUT('reach.memberKey', 'relays need the group\'s admission key')
  const limits = { ...DEFAULT_RELAY_LIMITS, ...(r.serve?.limits ?? {}) }
  if (r.serve !== undefined && r.serve.keys.length === 0 && !keysPending) throw INVALID_INPUT('reach.serve.keys', 'a relay needs at least one admission key')
  if (r.relayOnly === true && r.serve === undefined) throw INVALID_INPUT('reach.relayOnly', 'a relay-only node needs reach.serve')
  return {
    relays,
    memberKey: r.memberKey === undefined ? undefined : keyOption('reach.memberKey', r.memberKey),
    serve: r.serve === undefined ? undefined : { keys: r.serve.keys.map((k, i) => keyOption(`reach.serve.keys[${i}]`, k)), limits },
    pollMs: intOption('reach.pollMs', r.pollMs, 10_000, 50, 3_600_000),
    holePunch: r.holePunch ?? true,
    relayOnly: r.relayOnly ?? false
  }
}
