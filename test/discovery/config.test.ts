/** The discovery keys: one meaning for p2p.mdns and discovery.bonjourEnabled, the static list from ENGRAM_SYNC_PEERS. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadConfig } from '../../src/config/load.ts'
import { mdnsEnabled } from '../../src/node/discovery.ts'
import { configError } from '../config/helpers.ts'

const load = (env: Record<string, string>): ReturnType<typeof loadConfig>['config'] =>
  loadConfig({ env: { HOME: '/nonexistent', XDG_CONFIG_HOME: '/nonexistent/c', XDG_DATA_HOME: '/nonexistent/d', ...env } }).config

describe('discovery configuration', () => {
  it('turns mDNS on with either key', () => {
    assert.equal(mdnsEnabled(load({})), false)
    assert.equal(mdnsEnabled(load({ ENGRAM_P2P_MDNS: 'true' })), true)
    assert.equal(mdnsEnabled(load({ ENGRAM_DISCOVERY_BONJOUR_ENABLED: '1' })), true)
  })

  it('reads the static list from ENGRAM_SYNC_PEERS, host names and IPv6 too, with a 30 s fallback by default', () => {
    const c = load({ ENGRAM_SYNC_PEERS: '192.168.1.10:9090, desktop.lan:19091,[fd00::5]:19091' })
    assert.deepEqual(c.sync.peers, ['192.168.1.10:9090', 'desktop.lan:19091', '[fd00::5]:19091'])
    assert.equal(c.sync.staticFallbackSeconds, 30)
    assert.equal(load({ ENGRAM_SYNC_STATIC_FALLBACK_SECONDS: '5' }).sync.staticFallbackSeconds, 5)
    assert.match(configError(() => load({ ENGRAM_SYNC_PEERS: 'fd00::5:19091' })).message, /sync\.peers .*IPv6 address must be in brackets/)
  })

  it('takes the seed\'s service type, and refuses what is not one', () => {
    assert.equal(load({}).discovery.bonjourServiceType, '_mayros-cortex._tcp')
    assert.equal(load({ ENGRAM_DISCOVERY_BONJOUR_SERVICE_TYPE: '_engram._tcp' }).discovery.bonjourServiceType, '_engram._tcp')
    assert.match(configError(() => load({ ENGRAM_DISCOVERY_BONJOUR_SERVICE_TYPE: 'engram' })).message, /discovery\.bonjourServiceType/)
  })
})
