/**
 * The settings sync reads from the configuration: the `sync.*` keys and whether P2P is on, taken
 * from the live configuration on every read, so a hot-reloaded key applies to the next round.
 */
import type { EngramConfig } from '../config/schema.ts'
import type { SyncSettings } from '../sync/SyncService.ts'

/** The sync settings of a configuration. */
export function syncSettings (c: EngramConfig): SyncSettings {
  return {
    intervalSeconds: c.sync.intervalSeconds,
    maxTriplesPerSync: c.sync.maxTriplesPerSync,
    syncTimeoutMs: c.sync.syncTimeoutMs,
    conflictStrategy: c.sync.conflictStrategy,
    singleValuedPredicates: c.sync.singleValuedPredicates,
    autoSync: c.sync.autoSync,
    nativeP2pPreferred: c.sync.nativeP2pPreferred,
    p2pEnabled: c.p2p.enabled,
    retryBaseMs: c.sync.retryBaseMs,
    legacyRemoteClients: c.sync.legacyRemoteClients
  }
}
