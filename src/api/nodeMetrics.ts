/**
 * The node's metrics for GET /metrics, as Prometheus metric families (telemetry/prometheus.ts
 * writes them out). Every family is listed with its help text in docs/METRICS.md, and every one
 * is always present (families about peers have no samples while there are none).
 *
 * Everything is read when asked from what the node already holds — the store's statistics, the
 * telemetry (activity, recent log, event loop), the REST peers of the peer registry
 * (peers/RestPeers.ts), native sync's status and the event streams' counters — so a scrape costs
 * a few reads and nothing runs between scrapes.
 */
import { RECORD_KINDS } from '../core/model.ts'
import type { MetricFamily, Sample } from '../telemetry/prometheus.ts'
import type { Telemetry } from '../telemetry/Telemetry.ts'
import { storeHealth } from './routes/health.ts'
import type { StreamCounters } from './sse.ts'
import type { ApiDeps } from './types.ts'

/** What the native status (docs/PROTOCOL.md §4) holds that the metrics read. */
interface NativeView {
  readonly gossip_stats?: { readonly round?: number, readonly known_ids?: number, readonly bloom_filter_fpr?: number }
  readonly sync_stats?: { readonly total_successful_syncs?: number, readonly total_failed_syncs?: number }
  readonly peers?: ReadonlyArray<{
    readonly node_id: string | null, readonly addr: string, readonly connected: boolean, readonly last_sync: string | null,
    readonly bytes_sent: number, readonly bytes_received: number, readonly failures: number
  }>
  readonly refused?: Readonly<Record<string, number>>
}

const seconds = (iso: string | null | undefined): number | undefined => {
  if (iso === null || iso === undefined) return undefined
  const ms = Date.parse(iso)
  return Number.isFinite(ms) ? ms / 1000 : undefined
}

const family = (name: string, type: MetricFamily['type'], help: string, samples: readonly Sample[]): MetricFamily => ({ name, type, help, samples })
const one = (value: number, labels?: Record<string, string>): Sample[] => [labels === undefined ? { value } : { labels, value }]

export interface MetricInputs {
  readonly deps: ApiDeps
  readonly telemetry: Telemetry
  readonly streams: StreamCounters
}

export function nodeMetrics ({ deps, telemetry, streams }: MetricInputs): MetricFamily[] {
  const node = deps.status()
  const health = storeHealth(deps)
  const stats = health.ok ? deps.engine.store.stats() : undefined
  const { writes, received } = telemetry.activity.totals()
  const loop = telemetry.eventLoop.read()
  const cpu = process.cpuUsage()
  const native = nativeView(deps)
  const polled = deps.sync?.peers.list().filter(p => p.status !== 'removed') ?? []
  const mailbox = deps.mailbox?.()

  const peerSamples = (value: (p: NonNullable<NativeView['peers']>[number]) => number | undefined): Sample[] =>
    (native?.peers ?? []).flatMap(p => {
      const v = value(p)
      return v === undefined ? [] : [{ labels: { peer: p.node_id ?? p.addr, mode: 'native' }, value: v }]
    })
  const polledSamples = (value: (p: typeof polled[number]) => number | undefined): Sample[] =>
    polled.flatMap(p => {
      const v = value(p)
      return v === undefined ? [] : [{ labels: { peer: p.name, mode: 'polled' }, value: v }]
    })

  return [
    family('engram_info', 'gauge', 'Always 1; the labels say which node and version this is.', one(1, { node_id: node.nodeId, version: node.version })),
    family('engram_start_time_seconds', 'gauge', 'When the node started, seconds since the epoch.', one(seconds(node.startedAt) ?? 0)),
    family('engram_store_up', 'gauge', '1 while the store answers reads and takes writes, else 0.', one(health.ok ? 1 : 0)),
    family('engram_store_records', 'gauge', 'Live records in the store, by kind.',
      stats === undefined ? [] : [
        { labels: { kind: 'triple' }, value: stats.triples }, { labels: { kind: 'note' }, value: stats.notes },
        { labels: { kind: 'episode' }, value: stats.episodes }, { labels: { kind: 'trace' }, value: stats.traces }
      ]),
    family('engram_store_tombstones', 'gauge', 'Deleted records kept as tombstones until sync.tombstoneTtlHours, by kind.',
      stats === undefined ? [] : [{ labels: { kind: 'triple' }, value: stats.tripleTombstones }, { labels: { kind: 'note' }, value: stats.noteTombstones }]),
    family('engram_store_size_bytes', 'gauge', 'Size of the store file and its write-ahead log, bytes.', node.store.sizeBytes !== undefined ? one(node.store.sizeBytes) : []),
    family('engram_feed_last_seq', 'gauge', 'The last sequence number of the changes feed (grows by one per record state change).', stats === undefined ? [] : one(stats.lastSeq)),
    family('engram_writes_total', 'counter', 'Record state changes written on this node (local writes), by kind.',
      RECORD_KINDS.map(kind => ({ labels: { kind }, value: writes[kind] }))),
    family('engram_applied_records_total', 'counter', 'Records received from peers that changed something here, by kind.',
      RECORD_KINDS.map(kind => ({ labels: { kind }, value: received[kind] }))),
    family('engram_peer_applied_records_total', 'counter', 'Records received from each peer that changed something here, by the peer\'s node id.',
      [...telemetry.activity.receivedByPeer()].map(([peer, value]) => ({ labels: { peer }, value }))),
    family('engram_peer_received_records_total', 'counter', 'Records received from each polled peer (applied or already known here).',
      polledSamples(p => p.counters.received)),
    family('engram_peer_up', 'gauge', '1 while a peer is reachable (native: a session is open; polled: its last sync succeeded), else 0.',
      [...peerSamples(p => (p.connected ? 1 : 0)), ...polledSamples(p => (p.status === 'active' && p.failures === 0 && p.lastSyncAt !== undefined ? 1 : 0))]),
    family('engram_peer_last_sync_timestamp_seconds', 'gauge', 'When records were last exchanged with a peer, seconds since the epoch.',
      [...peerSamples(p => seconds(p.last_sync)), ...polledSamples(p => seconds(p.lastSyncAt))]),
    family('engram_peer_consecutive_failures', 'gauge', 'Failures with a peer since its last success.',
      [...peerSamples(p => p.failures), ...polledSamples(p => p.failures)]),
    family('engram_peer_sent_bytes_total', 'counter', 'Bytes of sync frames sent to a native peer.', peerSamples(p => p.bytes_sent)),
    family('engram_peer_received_bytes_total', 'counter', 'Bytes of sync frames received from a native peer.', peerSamples(p => p.bytes_received)),
    family('engram_sync_runs_total', 'counter', 'Completed syncs: native pages and gossip rounds that succeeded, polled runs that succeeded, by mode.', [
      ...(native !== undefined ? one(native.sync_stats?.total_successful_syncs ?? 0, { mode: 'native' }) : []),
      ...one(polled.reduce((n, p) => n + p.counters.syncs, 0), { mode: 'polled' })
    ]),
    family('engram_sync_failures_total', 'counter', 'Failed syncs: native dials and sessions that ended with an error, failed polled runs, by mode.', [
      ...(native !== undefined ? one(native.sync_stats?.total_failed_syncs ?? 0, { mode: 'native' }) : []),
      ...one(polled.reduce((n, p) => n + p.counters.failures, 0), { mode: 'polled' })
    ]),
    family('engram_gossip_rounds_total', 'counter', 'Gossip ticks of native sync (each runs a round with every connected peer).', native !== undefined ? one(native.gossip_stats?.round ?? 0) : []),
    family('engram_gossip_known_ids', 'gauge', 'Elements of the gossip window set.', native !== undefined ? one(native.gossip_stats?.known_ids ?? 0) : []),
    family('engram_gossip_bloom_fpr', 'gauge', 'Estimated false-positive rate of the largest bloom filter of the last round.', native !== undefined ? one(native.gossip_stats?.bloom_filter_fpr ?? 0) : []),
    family('engram_p2p_refused_total', 'counter', 'What the limits on peers refused since start, by reason (PROTOCOL.md, Limits).',
      Object.entries(native?.refused ?? {}).filter(([k]) => k !== 'handshakes').map(([reason, value]) => ({ labels: { reason }, value }))),
    family('engram_mailbox_pages_total', 'counter', 'Sealed pages of the relays\' mailboxes, by event: deposited here, not stored (past p2p.mailbox.maxBytes), pulled, refused.',
      mailbox === undefined ? [] : ([['deposited', mailbox.deposited], ['not_stored', mailbox.notStored], ['pulled', mailbox.pulled], ['refused', mailbox.refused]] as const).map(([event, value]) => ({ labels: { event }, value }))),
    family('engram_mailbox_applied_records_total', 'counter', 'Records from pulled mailbox pages that changed something here.', mailbox === undefined ? [] : one(mailbox.applied)),
    family('engram_mailbox_voided_records_total', 'counter', 'Records from pulled mailbox pages dropped as stamped before their writer repaired its clock.', mailbox === undefined ? [] : one(mailbox.voided)),
    family('engram_mailbox_bytes_total', 'counter', 'Bytes of sealed pages deposited on and pulled from the relays\' mailboxes, by direction.',
      mailbox === undefined ? [] : [{ labels: { direction: 'deposited' }, value: mailbox.depositedBytes }, { labels: { direction: 'pulled' }, value: mailbox.pulledBytes }]),
    family('engram_conflicts', 'gauge', 'Conflicts the keep-both strategy listed and nobody resolved yet.', deps.sync !== undefined ? one(deps.sync.conflictLog.list().length) : []),
    family('engram_log_messages_total', 'counter', 'Warnings and errors the node logged, by level.',
      (['warn', 'error'] as const).map(level => ({ labels: { level }, value: telemetry.recentLog.total(level) }))),
    family('engram_event_streams', 'gauge', 'Open event streams (GET /api/v1/events, GET /api/v1/status/stream), by route.',
      streams.list().map(s => ({ labels: { route: s.route }, value: s.open }))),
    family('engram_event_stream_sent_bytes_total', 'counter', 'Bytes sent on event streams, by route.',
      streams.list().map(s => ({ labels: { route: s.route }, value: s.bytes }))),
    family('engram_event_loop_lag_seconds', 'gauge', 'Event-loop delay over the last minute: the median (stat p50), the 99th percentile (p99) and the maximum (max).', [
      { labels: { stat: 'p50' }, value: loop.p50 }, { labels: { stat: 'p99' }, value: loop.p99 }, { labels: { stat: 'max' }, value: loop.max }
    ]),
    family('engram_event_loop_utilization', 'gauge', 'Share of the last minute the event loop was busy, 0 to 1.', one(loop.utilization)),
    family('process_cpu_seconds_total', 'counter', 'CPU time of the node\'s process (user and system), seconds.', one((cpu.user + cpu.system) / 1e6)),
    family('process_resident_memory_bytes', 'gauge', 'Resident memory of the node\'s process, bytes.', one(process.memoryUsage.rss()))
  ]
}

function nativeView (deps: ApiDeps): NativeView | undefined {
  try {
    return (deps.p2p?.status() ?? deps.p2pStatus?.()) as NativeView | undefined
  } catch {
    return undefined
  }
}
