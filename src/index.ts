/**
 * engram as a library.
 *
 * Embed a node in-process:
 *
 *   import { EngramNode, loadConfig } from 'engram'
 *   const { config } = loadConfig({ env: process.env, flags: { dataDir: '/var/lib/my-agent/engram' } })
 *   const node = await EngramNode.start(config)
 *   node.engine.addTriples([{ subject: 'user:alice', predicate: 'prefers:editor', object: 'vim' }])
 *   await node.stop()
 *
 * or talk to a running daemon over its REST API with `ApiClient`.
 */

// The node and its configuration.
export { EngramNode, type EngramNodeOptions } from './node/EngramNode.ts'
export { assertStartable, defaultConfig, loadConfig, valueOf } from './config/load.ts'
export type { ConfigFlags, ConfigSource, LoadConfigOptions, LoadedConfig } from './config/load.ts'
export { CONFIG_KEYS, SCHEMA as CONFIG_SCHEMA } from './config/schema.ts'
export type { ConfigKey, ConfigValue, ConflictStrategy, EngramConfig, KeySpec } from './config/schema.ts'
export { createLogger, silentLogger, type Logger, type LogLevel } from './util/log.ts'

// The engine and the stores.
export { Engine, type ChangeEvent, type EngineOptions, type RemoteApplyOptions } from './engine/Engine.ts'
export type { ApplyResult, ChangesPage, FeedEntry, Page, Store, StoreHealth, StoreStats, TriplePattern } from './store/Store.ts'
export { SqliteStore, type SqliteStoreOptions } from './store/sqlite/SqliteStore.ts'
export { MemoryStore } from './store/memory/MemoryStore.ts'

// The data model.
export type { EpisodeRecord, Json, JsonObject, MemoryRecord, NoteRecord, RecordKind, Term, TermKind, TraceRecord, TripleContent, TripleRecord } from './core/model.ts'
export { namespaceOf, RECORD_KINDS, TERM_KINDS } from './core/model.ts'
export type { Hlc, HlcMark } from './core/hlc.ts'
export { compareHlc, formatHlc, parseHlc } from './core/hlc.ts'
export type { NodeId, Seq, TripleId } from './core/ids.ts'
export { tripleId } from './core/canonical.ts'
export { parseTerm, termToJson } from './core/validate.ts'
export { EngramError, isEngramError, type ErrorCode } from './core/errors.ts'

// A client of a running daemon's REST API.
export { ApiClient, type Health, type NotesPage, type Status, type TriplesPage } from './client/ApiClient.ts'
export type { AgentEndResult, PeerView, SyncNowResult, SyncStatus } from './client/ApiClient.ts'
export { agentEnd, type AgentEndOptions } from './cli/agentEnd.ts'

// Polled sync (the node builds it; exported for embedders and tools).
export { SyncService, type SyncServiceOptions, type SyncSettings } from './sync/SyncService.ts'
export type { ConflictEntry } from './replication/conflicts.ts'

// The peer registry: every peer the node knows (paired REST peers, P2P peers) and where it came from.
export { PeerRegistry } from './peers/PeerRegistry.ts'
export type { RestPeer, RestPeerStatus } from './peers/RestPeers.ts'
export type { P2pPeer } from './peers/P2pPeers.ts'
export type { PeerSource } from './peers/sources.ts'
export type { NoteDto, TripleDto } from './api/dto.ts'
