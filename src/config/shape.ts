/**
 * The shape of a node's effective configuration: the EngramConfig every part of the node reads,
 * the dotted key paths of its leaves (ConfigKey) and the values a key can hold. What each key
 * means, its default and its range are in the schema (schema.ts), which is typed by these keys,
 * so a key is added to both or the build fails.
 */
import type { LogLevel } from '../util/log.ts'

export type SyncMode = 'full' | 'normal'
export type ConflictStrategy = 'last-writer-wins' | 'keep-both' | 'local-priority' | 'remote-priority'
export const CONFLICT_STRATEGIES: readonly ConflictStrategy[] = ['last-writer-wins', 'keep-both', 'local-priority', 'remote-priority']

/** The effective configuration of a node. Optional keys are absent when unset. */
export interface EngramConfig {
  readonly api: {
    readonly host: string
    readonly port: number
    readonly bodyLimitBytes: number
    readonly requestTimeoutMs: number
    readonly maxConnections: number
    readonly maxConnectionsPerClient: number
    readonly maxRemoteConnections: number
    readonly rateLimitPerSecond: number
    readonly allowedHosts: readonly string[]
    readonly requireToken: boolean
    readonly remoteMetrics: boolean
  }
  readonly dataDir: string
  readonly log: { readonly level: LogLevel }
  readonly node: { readonly name?: string }
  readonly history: { readonly retentionDays: number }
  readonly hlc: { readonly maxDriftMs: number }
  readonly store: { readonly synchronous: SyncMode }
  readonly p2p: {
    readonly enabled: boolean
    readonly host: string
    readonly port: number
    readonly seed?: string
    readonly manualPeers: readonly string[]
    readonly mdns: boolean
    readonly gossipIntervalMs: number
    readonly bloomFpr: number
    readonly maxPeers: number
    readonly maxMessagesPerSecond: number
    readonly relays: readonly string[]
    readonly relayPollMs: number
    readonly holePunch: boolean
    readonly eagerRoutes: boolean
    readonly relay: {
      readonly enabled: boolean
      readonly admissionKeys: readonly string[]
      readonly maxReservations: number
      readonly maxCircuitsPerPeer: number
      readonly maxCircuitBytes: number
      readonly maxCircuitSeconds: number
    }
    readonly mailbox: {
      readonly enabled: boolean
      readonly maxBytes: number
      readonly retentionHours: number
    }
  }
  readonly sync: {
    readonly intervalSeconds: number
    readonly autoSync: boolean
    readonly conflictStrategy: ConflictStrategy
    readonly maxTriplesPerSync: number
    readonly syncTimeoutMs: number
    readonly nativeP2pPreferred: boolean
    readonly tombstoneTtlHours: number
    readonly memberGoneDays: number
    readonly singleValuedPredicates: readonly string[]
    readonly passphrase?: string
    readonly peers: readonly string[]
    readonly staticFallbackSeconds: number
    readonly retryBaseMs: number
    readonly maxUnknownTombstonesPerMinute: number
    readonly requireSignatures: boolean
    readonly revocationQuorum: number
    readonly legacyRemoteClients: boolean
  }
  readonly discovery: {
    readonly bonjourEnabled: boolean
    readonly bonjourServiceType: string
    readonly manualPeers: readonly string[]
  }
  readonly search: {
    readonly embedder: {
      readonly url?: string
      readonly model?: string
      readonly apiKey?: string
      readonly batchSize: number
      readonly timeoutMs: number
    }
  }
  readonly tls: {
    readonly cert?: string
    readonly key?: string
    readonly ca?: string
    readonly requireClientCert: boolean
  }
}

type Leaf = string | number | boolean | readonly string[] | undefined
/** Dotted paths of every leaf of EngramConfig: 'api.host', 'dataDir', 'sync.peers', … */
type LeafPaths<T, P extends string = ''> = {
  [K in keyof T & string]-?: T[K] extends Leaf ? `${P}${K}` : LeafPaths<T[K], `${P}${K}.`>
}[keyof T & string]

export type ConfigKey = LeafPaths<EngramConfig>
export type ConfigValue = string | number | boolean | readonly string[]
