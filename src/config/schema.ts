/**
 * The configuration schema: every key engram reads, with its type, default, allowed values,
 * environment variable and meaning. This table is the single source of truth: the loader
 * validates against it, `engram config print` walks it, and docs/CONFIGURATION.md is generated
 * from it (scripts/config-doc.ts). The keys, defaults and ranges of the sync and P2P settings are
 * those of the systems engram interoperates with.
 *
 * The shape these keys fill is in shape.ts (re-exported here); the environment variable of each
 * key is derived in envNames.ts (`sync.intervalSeconds` → `ENGRAM_SYNC_INTERVAL_SECONDS`) unless
 * a key names another.
 */
import { LOG_LEVELS } from '../util/log.ts'
import { defaultDataDir, type Env } from '../util/xdg.ts'
import { CONFLICT_STRATEGIES, type ConfigKey, type ConfigValue } from './shape.ts'

export { CONFLICT_STRATEGIES, type ConfigKey, type ConfigValue, type ConflictStrategy, type EngramConfig, type SyncMode } from './shape.ts'

/**
 * How a value is read and checked:
 * - string, path (absolute after loading; `~` and relative paths resolved), enum,
 * - integer, number (with min/max), boolean,
 * - strings (a list of non-empty strings), peers (a list of "host:port").
 */
export type ValueType = 'string' | 'path' | 'enum' | 'integer' | 'number' | 'boolean' | 'strings' | 'peers'

export interface KeySpec {
  readonly type: ValueType
  /** The default; a function when it depends on the environment; undefined when unset by default. */
  readonly default: ConfigValue | undefined | ((env: Env) => ConfigValue)
  /** How the default is written in the docs when it is computed. */
  readonly docDefault?: string
  readonly min?: number
  readonly max?: number
  /** How the range is written in messages and docs when the plain numbers read badly. */
  readonly rangeText?: string
  readonly values?: readonly string[]
  readonly pattern?: RegExp
  /** What the pattern allows, in words. */
  readonly patternText?: string
  /** Environment variable, when not the derived `ENGRAM_…` name. */
  readonly env?: string
  /** Command-line flag of `engram start` (and `config print`) that sets the key. */
  readonly flag?: string
  /** Never printed: `config print` and error messages hide the value. */
  readonly secret?: boolean
  readonly description: string
}

const MiB = 1024 * 1024

export const SCHEMA: { readonly [K in ConfigKey]: KeySpec } = {
  'api.host': {
    type: 'string', default: '127.0.0.1', flag: '--host', pattern: /^\S+$/, patternText: 'a host name or IP address without spaces',
    description: 'Address the REST API listens on. Keep it on loopback unless the machine is trusted: the API has no authentication.'
  },
  'api.port': {
    type: 'integer', default: 19090, min: 0, max: 65535, flag: '--port',
    description: 'TCP port of the REST API (the Cortex sidecar port). 0 picks a free port; the daemon then publishes the URL in <dataDir>/api.json.'
  },
  'api.bodyLimitBytes': {
    type: 'integer', default: 8 * MiB, docDefault: '8388608 (8 MiB)', min: 1024, max: 256 * MiB, rangeText: 'an integer from 1024 (1 KiB) to 268435456 (256 MiB)',
    description: 'Largest accepted REST request body, in bytes; larger requests are refused with 413.'
  },
  'api.requestTimeoutMs': {
    type: 'integer', default: 30_000, min: 1000, max: 600_000,
    description: 'Time a client has to send a whole request (headers within 10 s, or this if it is less); a slower one is answered 408 and disconnected. Raise it with api.bodyLimitBytes for large uploads over slow links.'
  },
  'api.maxConnections': {
    type: 'integer', default: 1024, min: 16, max: 65_535,
    description: 'Most open REST connections from programs on this machine; further ones are closed as soon as they are accepted. Connections from other machines have their own budget (api.maxRemoteConnections) and never use this one.'
  },
  'api.maxConnectionsPerClient': {
    type: 'integer', default: 256, min: 1, max: 65_535,
    description: 'Most open REST connections from one client (an IPv4 address or an IPv6 /64), this machine included; further ones are closed at once.'
  },
  'api.maxRemoteConnections': {
    type: 'integer', default: 512, min: 1, max: 65_535,
    description: 'Most open REST connections from other machines together (with api.host wider than loopback); further ones are closed at once. Programs on this machine have their own budget (api.maxConnections), so other machines can never lock them out.'
  },
  'api.rateLimitPerSecond': {
    type: 'integer', default: 50, min: 1, max: 100_000,
    description: 'Requests per second (bursts of 4 times as many) each client may make to POST /api/v1/sync/delta, and each other machine to any route; all clients together get 10 times as many. Over it: 429.'
  },
  'api.allowedHosts': {
    type: 'strings', default: [], pattern: /^[A-Za-z0-9.-]{1,253}$/, patternText: 'host names (letters, digits, "." and "-")',
    description: 'Host names, besides localhost, 127.0.0.1 and [::1], that requests from this machine may name in their Host header (e.g. a name in /etc/hosts you open the dashboard with). Any other name is refused, so a web page cannot reach the API by re-pointing its own name at 127.0.0.1 (DNS rebinding).'
  },
  'api.requireToken': {
    type: 'boolean', default: false,
    description: 'Require the API token (<dataDir>/api.token, created at first start with mode 0600) from every program on this machine: for machines with other local users, who could otherwise use the API. engram\'s CLI, MCP server and `engram ui` send it by themselves; other programs send Authorization: Bearer <token>.'
  },
  'api.remoteMetrics': {
    type: 'boolean', default: false,
    description: 'Serve GET /metrics to other machines too (a Prometheus server elsewhere; needs api.host wider than loopback). Off: only programs on this machine can read the metrics, which name the node and its peers.'
  },
  dataDir: {
    type: 'path', default: defaultDataDir, docDefault: '$XDG_DATA_HOME/engram, else ~/.local/share/engram', flag: '--data-dir',
    description: 'Directory holding the store (engram.db), the node identity (identity.key) and api.json. Created with mode 0700.'
  },
  'log.level': {
    type: 'enum', default: 'info', values: LOG_LEVELS, flag: '--log-level',
    description: 'Least severe level written to stderr.'
  },
  'node.name': {
    type: 'string', default: undefined, pattern: /^[^\r\n]{1,64}$/, patternText: '1 to 64 characters on one line',
    description: 'The name this node gives itself (a device or an agent, e.g. "laptop"): published to every peer as a signed record and shown with the records it writes (engram show, history, provenance in the API). Unset: none is published, records show the node id alone.'
  },
  'history.retentionDays': {
    type: 'number', default: 30, min: 0, max: 3650, rangeText: 'a number of days from 0 to 3650; fractions allowed',
    description: 'How long a replaced state (a note\'s earlier value, a deleted triple) is kept after it was replaced, for engram history, revert and as-of reads; 0 keeps none. The same rule on every node.'
  },
  'hlc.maxDriftMs': {
    type: 'integer', default: 60_000, min: 1000, max: 86_400_000,
    description: 'Records from peers stamped further ahead of the local clock than this are held aside until the clock reaches them (never adopted early, never refused: docs/SYNC.md, Clocks); an import stamped that far ahead is refused (HLC_DRIFT).'
  },
  'store.synchronous': {
    type: 'enum', default: 'full', values: ['full', 'normal'],
    description: 'SQLite synchronous mode: full: every acknowledged local write survives power loss (a page from a peer commits without waiting for the disk and is fetched again with its cursor after one); normal is faster and may lose the last local writes on power loss (never corrupts).'
  },
  'p2p.enabled': {
    type: 'boolean', default: false,
    description: 'Enable native P2P sync (QUIC gossip). Requires p2p.seed.'
  },
  'p2p.port': {
    type: 'integer', default: 19091, min: 1024, max: 65535,
    description: 'Port of native P2P sync: QUIC on this UDP port, and TCP on the same number for networks that block UDP (tried after QUIC).'
  },
  'p2p.seed': {
    type: 'string', default: undefined, secret: true, pattern: /^[A-Za-z0-9_-]{1,256}$/, patternText: '1 to 256 letters, digits, "_" or "-"',
    description: 'Shared secret that authenticates your nodes to each other; every node of one user must have the same seed. Never sent over the network.'
  },
  'p2p.host': {
    type: 'string', default: '0.0.0.0', pattern: /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/, patternText: 'an IP address (0.0.0.0 or :: for all of one family, 127.0.0.1, 10.0.0.5, ::1, …)',
    description: 'Address native P2P sync listens on (QUIC and TCP): all IPv4 addresses by default; an address of one interface to listen there only, 127.0.0.1 for this machine alone.'
  },
  'p2p.manualPeers': {
    type: 'peers', default: [],
    description: 'P2P peers to connect to, as "host:port" (IPv6 as "[::1]:19091").'
  },
  'p2p.mdns': {
    type: 'boolean', default: false,
    description: 'Discover P2P peers on the local network with mDNS (same as discovery.bonjourEnabled: either one turns it on). Needs p2p.enabled. See docs/DISCOVERY.md.'
  },
  'p2p.gossipIntervalMs': {
    type: 'integer', default: 5000, min: 100, max: 60_000,
    description: 'Time between gossip (anti-entropy) rounds with each peer.'
  },
  'p2p.bloomFpr': {
    type: 'number', default: 0.01, min: 0.0001, max: 0.5,
    description: 'Target false-positive rate of the bloom filters announced in gossip; the filter is sized for it.'
  },
  'p2p.maxPeers': {
    type: 'integer', default: 64, min: 1, max: 256,
    description: 'Most open P2P sessions; a node connecting beyond it is refused (manual peers this node has reached before are always let in).'
  },
  'p2p.maxMessagesPerSecond': {
    type: 'integer', default: 5000, min: 100, max: 1_000_000,
    description: 'Messages per second (bursts of twice as many) one P2P peer may send; a peer that sends more is disconnected and dialled again later.'
  },
  'p2p.eagerRoutes': {
    type: 'boolean', default: true,
    description: 'Eager routes (Plumtree over the feed streams): a peer whose stream brings only copies of an origin\'s writes is told to leave that origin out, lists what it leaves out instead, and is asked for it again when a record it listed arrives by no other path or when the origin\'s parent link ends; so each write reaches each node about once instead of once per link. Off: this node neither prunes nor is pruned, and every stream to and from it carries everything (as with peers of older versions). Read when P2P sync starts. See docs/PROTOCOL.md "Dissemination".'
  },
  'p2p.relays': {
    type: 'strings', default: [], pattern: /^(\/\S+\/p2p\/[A-Za-z0-9]{1,128}|[A-Za-z0-9]{1,128}@\S+:\d{1,5})$/,
    patternText: 'relays, each a multiaddr ending in /p2p/<node id> or "<node id>@host:port"',
    description: 'Relays this node reserves a slot on when it cannot be dialled directly (AutoNAT), and reaches the other nodes of its seed through; "<node id>@host:port" means QUIC on that UDP port and TCP on that TCP port. Needs p2p.enabled and p2p.seed. See docs/DISCOVERY.md.'
  },
  'p2p.relayPollMs': {
    type: 'integer', default: 10_000, min: 100, max: 600_000,
    description: 'How often each relay of p2p.relays is asked which nodes of this seed hold a slot on it (they are then dialled through it), and the reservation checked.'
  },
  'p2p.holePunch': {
    type: 'boolean', default: true,
    description: 'Try to turn a session through a relay into a direct one (a TCP hole punch both nodes time over the relay, and DCUtR); when it fails the session stays relayed. See docs/DISCOVERY.md "Direct paths".'
  },
  'p2p.relay.enabled': {
    type: 'boolean', default: false,
    description: 'Serve as a relay (circuit relay v2) for the nodes of this seed and of p2p.relay.admissionKeys: they reserve slots here and reach each other through it. Run it on a machine others can dial. `engram relay` runs a relay alone, without a store or a seed.'
  },
  'p2p.relay.admissionKeys': {
    type: 'strings', default: [], secret: true, pattern: /^[0-9a-fA-F]{64}$/, patternText: 'keys of 64 hexadecimal digits each (printed by `engram relay key` on a node of the group)',
    description: 'Admission keys of the groups this relay serves besides its own seed\'s: a node must prove one of them before it gets a slot or a circuit. A key lets its holder use the relay, nothing more: it opens no data.'
  },
  'p2p.relay.maxReservations': {
    type: 'integer', default: 128, min: 1, max: 65_535,
    description: 'Most nodes holding a slot on this relay at once; further reservations are refused.'
  },
  'p2p.relay.maxCircuitsPerPeer': {
    type: 'integer', default: 16, min: 1, max: 1024,
    description: 'Most relayed connections one node opens, or is reached by, through this relay at once.'
  },
  'p2p.relay.maxCircuitBytes': {
    type: 'integer', default: 1024 * MiB, docDefault: '1073741824 (1 GiB)', min: 128 * 1024, max: 2 ** 40, rangeText: 'an integer from 131072 (128 KiB) to 1099511627776 (1 TiB)',
    description: 'Bytes one relayed connection may carry (both directions together) before the relay closes it; the nodes then connect again.'
  },
  'p2p.relay.maxCircuitSeconds': {
    type: 'integer', default: 3600, min: 60, max: 86_400,
    description: 'Seconds one relayed connection may stay open before the relay closes it; the nodes then connect again.'
  },
  'p2p.mailbox.enabled': {
    type: 'boolean', default: false,
    description: 'Hold sealed changes for the offline members of the groups this relay serves (a mailbox): members deposit pages of their changes, sealed with a key only members hold, and a returning member pulls what it missed. The mailbox stores ciphertext only, in mailbox.db in the data directory. Read by `engram relay`; members need only the relay in p2p.relays. See docs/DISCOVERY.md.'
  },
  'p2p.mailbox.maxBytes': {
    type: 'integer', default: 256 * MiB, docDefault: '268435456 (256 MiB)', min: 4 * MiB, max: 2 ** 40, rangeText: 'an integer from 4194304 (4 MiB) to 1099511627776 (1 TiB)',
    description: 'Most bytes of sealed pages the mailbox holds, all groups together; past it the oldest pages are dropped, with a warning, and members that missed them catch up from a peer instead.'
  },
  'p2p.mailbox.retentionHours': {
    type: 'number', default: 168, min: 1 / 60, max: 8760, rangeText: 'a number of hours from 1/60 (one minute) to 8760 (one year); fractions allowed',
    description: 'How long the mailbox keeps a sealed page; older pages are dropped. A member offline for longer catches up from a peer instead.'
  },
  'sync.intervalSeconds': {
    type: 'integer', default: 300, min: 10, max: 86_400,
    description: 'Polled mode: time between delta syncs with each peer.'
  },
  'sync.autoSync': {
    type: 'boolean', default: false,
    description: 'Polled mode: also sync when an agent session ends and when the configuration changes.'
  },
  'sync.conflictStrategy': {
    type: 'enum', default: 'last-writer-wins', values: CONFLICT_STRATEGIES,
    description: 'Both modes: how a remote change that conflicts with the local state is resolved (docs/SYNC.md, "Conflicts").'
  },
  'sync.maxTriplesPerSync': {
    type: 'integer', default: 5000, min: 100, max: 50_000,
    description: 'Most records per page, in both modes: a polled delta-sync batch, and a page of a native P2P stream (while a peer is far behind, a native stream sends catch-up pages of up to twice as many, at most 10000 unless this is larger); larger deltas are paged.'
  },
  'sync.syncTimeoutMs': {
    type: 'integer', default: 30_000, min: 5000, max: 120_000,
    description: 'Time limit of one delta-sync call in polled mode (and of a P2P status probe, at most 10 s); in native mode, how long a page waits for its acknowledgement, and a cursor for its answer, before it is sent again.'
  },
  'sync.retryBaseMs': {
    type: 'integer', default: 5000, min: 100, max: 600_000,
    description: 'Polled mode: first retry delay after a failed sync with a peer; it doubles with each consecutive failure, up to sync.intervalSeconds, and retries never stop.'
  },
  'sync.maxUnknownTombstonesPerMinute': {
    type: 'integer', default: 50_000, min: 100, max: 10_000_000,
    description: 'Deletions of records this node never held that one peer may send per minute; beyond it the rest waits (the page is taken again later), so a flood of tombstones is slowed down, never applied in full at once.'
  },
  'sync.requireSignatures': {
    type: 'boolean', default: false,
    description: 'Refuse every record that carries no signature of its origin. Off, unsigned records (from nodes of an older version) are taken unless their origin is known to sign; turn it on once every node runs a version that signs.'
  },
  'sync.revocationQuorum': {
    type: 'integer', default: 2, min: 1, max: 16,
    description: 'How many other nodes must revoke a node before this node refuses its new records (a revocation issued on this node always counts). At 2, one compromised node cannot cut off any other; 1 lets any node revoke any other.'
  },
  'sync.legacyRemoteClients': {
    type: 'boolean', default: false,
    description: 'Let older polled clients on other machines pull with the unsigned legacy delta shape ({since, namespaces, nodeId}): only over TLS (tls.* set, tls.requireClientCert off, since they present no certificate), and only with sync.passphrase in their Authorization header ("Bearer <passphrase>" or the passphrase alone). They can read, never write. Off: such requests are answered only from this machine. See docs/SECURITY.md.'
  },
  'sync.nativeP2pPreferred': {
    type: 'boolean', default: true,
    description: 'Use native P2P sync with a peer when both ends have it; false forces polled mode.'
  },
  'sync.tombstoneTtlHours': {
    type: 'number', default: 24, min: 1 / 3600, max: 8760, rangeText: 'a number of hours from 1/3600 (one second) to 8760 (one year); fractions allowed',
    description: 'How long a deletion is kept as a tombstone at least; it is collected after that once every node not declared gone has been heard of past it (docs/SYNC.md).'
  },
  'sync.memberGoneDays': {
    type: 'number', default: 30, min: 1 / 8640, max: 3650, rangeText: 'a number of days from 1/8640 (ten seconds) to 3650 (ten years); fractions allowed',
    description: 'A node not heard of for this long, while others were, is declared gone: tombstones are no longer kept for it (docs/SYNC.md, "Deletes that stay deleted").'
  },
  'sync.singleValuedPredicates': {
    type: 'strings', default: [],
    description: 'Predicates with at most one value per subject: conflicting values for them count as conflicts in polled sync.'
  },
  'sync.passphrase': {
    type: 'string', default: undefined, secret: true, pattern: /^[^\r\n]{1,1024}$/, patternText: '1 to 1024 characters on one line',
    description: 'Passphrase every peer must prove it knows (checked on top of TLS); must match on all nodes. Never sent in clear.'
  },
  'sync.peers': {
    type: 'peers', default: [],
    description: 'Static list of P2P peers ("host:port"), dialled when mDNS finds nobody within sync.staticFallbackSeconds, or at once when mDNS is off or cannot run. Needs p2p.enabled.'
  },
  'sync.staticFallbackSeconds': {
    type: 'integer', default: 30, min: 1, max: 3600,
    description: 'How long mDNS gets to find a peer before the static list sync.peers is dialled.'
  },
  'discovery.bonjourEnabled': {
    type: 'boolean', default: false,
    description: 'Discover P2P peers on the local network with Bonjour/mDNS: the same as p2p.mdns (either one turns it on). Needs p2p.enabled.'
  },
  'discovery.bonjourServiceType': {
    type: 'string', default: '_mayros-cortex._tcp', pattern: /^_[A-Za-z0-9-]{1,63}\._(tcp|udp)$/, patternText: 'an mDNS service type such as "_mayros-cortex._tcp"',
    description: 'DNS-SD service type this node announces and browses for with mDNS; every node must use the same.'
  },
  'discovery.manualPeers': {
    type: 'peers', default: [],
    description: 'P2P peers ("host:port") dialled always, like p2p.manualPeers (the two lists are joined).'
  },
  'search.embedder.url': {
    type: 'string', default: undefined, pattern: /^https?:\/\/\S+$/, patternText: 'an http(s) URL such as http://127.0.0.1:11434/v1',
    description: 'Semantic search: base URL of an OpenAI-compatible embeddings API (Ollama: http://127.0.0.1:11434/v1; llama.cpp server, LM Studio: theirs). Every record\'s text is sent there: keep it on this machine. Unset: search uses full text alone. Needs search.embedder.model.'
  },
  'search.embedder.model': {
    type: 'string', default: undefined, pattern: /^\S.{0,255}$/, patternText: '1 to 256 characters, not starting with a space',
    description: 'Semantic search: the embedding model the server runs (e.g. nomic-embed-text, all-minilm). Changing it embeds every record again.'
  },
  'search.embedder.apiKey': {
    type: 'string', default: undefined, secret: true, pattern: /^[^\r\n]{1,1024}$/, patternText: '1 to 1024 characters on one line',
    description: 'Semantic search: a key sent as a bearer token, for servers that ask for one (local servers do not).'
  },
  'search.embedder.batchSize': {
    type: 'integer', default: 64, min: 1, max: 2048,
    description: 'Semantic search: most texts per embeddings request.'
  },
  'search.embedder.timeoutMs': {
    type: 'integer', default: 30_000, min: 1000, max: 600_000,
    description: 'Semantic search: time limit of one embeddings request; a request that fails is retried 3 times, with delays that double.'
  },
  'tls.cert': {
    type: 'path', default: undefined, env: 'ENGRAM_SYNC_TLS_CERT',
    description: 'PEM certificate of this node for sync TLS, signed by tls.ca.'
  },
  'tls.key': {
    type: 'path', default: undefined, env: 'ENGRAM_SYNC_TLS_KEY',
    description: 'PEM private key of tls.cert.'
  },
  'tls.ca': {
    type: 'path', default: undefined, env: 'ENGRAM_SYNC_TLS_CA',
    description: 'PEM certificate of the CA that signs every peer certificate; peers with a certificate from another CA are refused.'
  },
  'tls.requireClientCert': {
    type: 'boolean', default: false, env: 'ENGRAM_SYNC_REQUIRE_CLIENT_CERT',
    description: 'Require connecting peers to present a certificate signed by tls.ca (mutual TLS).'
  }
}

/** Every key, in schema order. */
export const CONFIG_KEYS = Object.keys(SCHEMA) as ConfigKey[]

/** The default of a key in an environment (a fresh copy for lists). */
export function defaultOf (key: ConfigKey, env: Env): ConfigValue | undefined {
  const d = SCHEMA[key].default
  if (typeof d === 'function') return d(env)
  return Array.isArray(d) ? [...d] : d
}