/** The schema holds every key of the contract with its default, range and variable. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { derivedEnvName, envNameOf } from '../../src/config/envNames.ts'
import { CONFIG_KEYS, SCHEMA, defaultOf, type ConfigKey } from '../../src/config/schema.ts'
import { readValue } from '../../src/config/values.ts'

/** key → [default, min, max] as the contract states them (undefined where it states none). */
const CONTRACT: Partial<Record<ConfigKey, [unknown, number?, number?]>> = {
  'api.host': ['127.0.0.1'],
  'api.port': [19090, 0, 65535],
  'api.bodyLimitBytes': [8 * 1024 * 1024],
  'api.requestTimeoutMs': [30000, 1000, 600000],
  'api.maxConnections': [1024, 16, 65535],
  'api.maxConnectionsPerClient': [256, 1, 65535],
  'api.maxRemoteConnections': [512, 1, 65535],
  'api.rateLimitPerSecond': [50, 1, 100000],
  'api.allowedHosts': [[]],
  'api.requireToken': [false],
  'api.remoteMetrics': [false],
  'log.level': ['info'],
  'hlc.maxDriftMs': [60000, 1000, 86400000],
  'store.synchronous': ['full'],
  'p2p.enabled': [false],
  'p2p.host': ['0.0.0.0'],
  'p2p.port': [19091, 1024, 65535],
  'p2p.seed': [undefined],
  'p2p.manualPeers': [[]],
  'p2p.mdns': [false],
  'p2p.gossipIntervalMs': [5000, 100, 60000],
  'p2p.bloomFpr': [0.01, 0.0001, 0.5],
  'p2p.maxPeers': [64, 1, 256],
  'p2p.maxMessagesPerSecond': [5000, 100, 1000000],
  'p2p.relays': [[]],
  'p2p.relayPollMs': [10000, 100, 600000],
  'p2p.holePunch': [true],
  'p2p.eagerRoutes': [true],
  'p2p.relay.enabled': [false],
  'p2p.relay.admissionKeys': [[]],
  'p2p.relay.maxReservations': [128, 1, 65535],
  'p2p.relay.maxCircuitsPerPeer': [16, 1, 1024],
  'p2p.relay.maxCircuitBytes': [1024 * 1024 * 1024, 128 * 1024, 2 ** 40],
  'p2p.relay.maxCircuitSeconds': [3600, 60, 86400],
  'p2p.mailbox.enabled': [false],
  'p2p.mailbox.maxBytes': [256 * 1024 * 1024, 4 * 1024 * 1024, 2 ** 40],
  'p2p.mailbox.retentionHours': [168, 1 / 60, 8760],
  'sync.intervalSeconds': [300, 10, 86400],
  'sync.autoSync': [false],
  'sync.conflictStrategy': ['last-writer-wins'],
  'sync.maxTriplesPerSync': [5000, 100, 50000],
  'sync.syncTimeoutMs': [30000, 5000, 120000],
  'sync.nativeP2pPreferred': [true],
  'sync.tombstoneTtlHours': [24, 1 / 3600, 8760],
  'sync.memberGoneDays': [30, 1 / 8640, 3650],
  'sync.singleValuedPredicates': [[]],
  'sync.passphrase': [undefined],
  'sync.peers': [[]],
  'sync.staticFallbackSeconds': [30, 1, 3600],
  'sync.retryBaseMs': [5000, 100, 600000],
  'sync.maxUnknownTombstonesPerMinute': [50000, 100, 10000000],
  'sync.requireSignatures': [false],
  'node.name': [undefined],
  'sync.revocationQuorum': [2, 1, 16],
  'history.retentionDays': [30, 0, 3650],
  'sync.legacyRemoteClients': [false],
  'discovery.bonjourEnabled': [false],
  'discovery.bonjourServiceType': ['_mayros-cortex._tcp'],
  'discovery.manualPeers': [[]],
  'search.embedder.url': [undefined],
  'search.embedder.model': [undefined],
  'search.embedder.apiKey': [undefined],
  'search.embedder.batchSize': [64, 1, 2048],
  'search.embedder.timeoutMs': [30000, 1000, 600000],
  'tls.cert': [undefined],
  'tls.key': [undefined],
  'tls.ca': [undefined],
  'tls.requireClientCert': [false]
}

describe('config schema', () => {
  it('has every key of the contract with its default and range', () => {
    for (const [key, [def, min, max]] of Object.entries(CONTRACT) as [ConfigKey, [unknown, number?, number?]][]) {
      assert.ok(CONFIG_KEYS.includes(key), `missing key ${key}`)
      assert.deepEqual(defaultOf(key, {}), def, `default of ${key}`)
      if (min !== undefined) assert.equal(SCHEMA[key].min, min, `min of ${key}`)
      if (max !== undefined) assert.equal(SCHEMA[key].max, max, `max of ${key}`)
    }
    assert.deepEqual(SCHEMA['sync.conflictStrategy'].values, ['last-writer-wins', 'keep-both', 'local-priority', 'remote-priority'])
    assert.deepEqual(SCHEMA['log.level'].values, ['error', 'warn', 'info', 'debug'])
    assert.deepEqual(SCHEMA['store.synchronous'].values, ['full', 'normal'])
    assert.equal(CONFIG_KEYS.length, Object.keys(CONTRACT).length + 1, 'the contract keys plus dataDir')
  })

  it('defaults to the XDG data directory', () => {
    assert.equal(defaultOf('dataDir', { HOME: '/home/u' }), '/home/u/.local/share/engram')
    assert.equal(defaultOf('dataDir', { HOME: '/home/u', XDG_DATA_HOME: '/data' }), '/data/engram')
    assert.equal(defaultOf('dataDir', { HOME: '/home/u', XDG_DATA_HOME: 'relative' }), '/home/u/.local/share/engram', 'a relative XDG path is ignored')
  })

  it('names environment variables ENGRAM_ + upper snake case, except the TLS keys', () => {
    assert.equal(envNameOf('sync.intervalSeconds'), 'ENGRAM_SYNC_INTERVAL_SECONDS')
    assert.equal(envNameOf('p2p.enabled'), 'ENGRAM_P2P_ENABLED')
    assert.equal(envNameOf('dataDir'), 'ENGRAM_DATA_DIR')
    assert.equal(envNameOf('sync.nativeP2pPreferred'), 'ENGRAM_SYNC_NATIVE_P2P_PREFERRED')
    assert.equal(envNameOf('sync.passphrase'), 'ENGRAM_SYNC_PASSPHRASE')
    assert.equal(envNameOf('sync.peers'), 'ENGRAM_SYNC_PEERS')
    assert.equal(envNameOf('tls.cert'), 'ENGRAM_SYNC_TLS_CERT')
    assert.equal(envNameOf('tls.key'), 'ENGRAM_SYNC_TLS_KEY')
    assert.equal(envNameOf('tls.ca'), 'ENGRAM_SYNC_TLS_CA')
    assert.equal(envNameOf('tls.requireClientCert'), 'ENGRAM_SYNC_REQUIRE_CLIENT_CERT')
    assert.equal(derivedEnvName('api.bodyLimitBytes'), 'ENGRAM_API_BODY_LIMIT_BYTES')
    const names = CONFIG_KEYS.map(envNameOf)
    assert.equal(new Set(names).size, names.length, 'variable names are unique')
  })

  it('describes every key, and every default passes its own checks', () => {
    for (const key of CONFIG_KEYS) {
      const spec = SCHEMA[key]
      assert.ok(spec.description.length > 10, `${key} has a description`)
      assert.ok(!spec.description.includes('\n'), `${key}: description on one line`)
      const def = defaultOf(key, { HOME: '/home/u' })
      if (def === undefined) continue
      assert.deepEqual(readValue(key, { value: def, source: 'default', text: false, baseDir: '/' }), def, `default of ${key}`)
    }
  })

  it('marks the shared secrets as secret', () => {
    assert.equal(SCHEMA['p2p.seed'].secret, true)
    assert.equal(SCHEMA['sync.passphrase'].secret, true)
    assert.equal(SCHEMA['p2p.relay.admissionKeys'].secret, true)
  })
})
