/** loadConfig: sources, precedence, parsing and one-line errors. */
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { assertStartable, defaultConfig, loadConfig, valueOf } from '../../src/config/load.ts'
import { envNameOf } from '../../src/config/envNames.ts'
import { CONFIG_KEYS, SCHEMA } from '../../src/config/schema.ts'
import { configError, tempDir, type TempDir } from './helpers.ts'

describe('loadConfig', () => {
  let dir: TempDir
  /** An environment whose default config file location is inside the temp dir (and absent). */
  let env: Record<string, string>
  before(() => {
    dir = tempDir()
    env = { HOME: dir.path, XDG_CONFIG_HOME: join(dir.path, 'xdg-config'), XDG_DATA_HOME: join(dir.path, 'xdg-data') }
  })
  after(() => dir.remove())

  it('gives the defaults with every source "default" when nothing is set', () => {
    const { config, sources, file } = loadConfig({ env })
    assert.equal(file, undefined)
    assert.equal(config.api.host, '127.0.0.1')
    assert.equal(config.api.port, 19090)
    assert.equal(config.dataDir, join(dir.path, 'xdg-data', 'engram'))
    assert.equal(config.sync.conflictStrategy, 'last-writer-wins')
    assert.equal(config.p2p.seed, undefined)
    assert.ok(!('seed' in config.p2p), 'unset keys are absent')
    for (const k of CONFIG_KEYS) assert.equal(sources[k], 'default', k)
  })

  it('applies default < file < env < flags, and records each source', () => {
    const file = dir.file('prec.json5', `// comments and trailing commas are JSON5
      { api: { port: 20000, host: "localhost", }, sync: { intervalSeconds: 60, autoSync: true }, p2p: { mdns: true } }`)
    const { config, sources } = loadConfig({
      file,
      env: { ...env, ENGRAM_SYNC_INTERVAL_SECONDS: '120', ENGRAM_API_PORT: '20001' },
      flags: { 'api.port': '20002' }
    })
    assert.equal(config.api.port, 20002)
    assert.equal(sources['api.port'], 'flag:--port')
    assert.equal(config.sync.intervalSeconds, 120)
    assert.equal(sources['sync.intervalSeconds'], 'env:ENGRAM_SYNC_INTERVAL_SECONDS')
    assert.equal(config.api.host, 'localhost')
    assert.equal(sources['api.host'], `file:${file}`)
    assert.equal(config.sync.autoSync, true)
    assert.equal(config.p2p.mdns, true)
    assert.equal(sources['p2p.enabled'], 'default')
  })

  it('finds the file by --config, else ENGRAM_CONFIG, else the XDG location', () => {
    const a = dir.file('a.json5', '{ sync: { intervalSeconds: 11 } }')
    const b = dir.file('b.json5', '{ sync: { intervalSeconds: 12 } }')
    mkdirSync(join(env.XDG_CONFIG_HOME!, 'engram'), { recursive: true })
    const xdg = join(env.XDG_CONFIG_HOME!, 'engram', 'config.json5')
    writeFileSync(xdg, '{ sync: { intervalSeconds: 13 } }')
    try {
      assert.equal(loadConfig({ file: a, env: { ...env, ENGRAM_CONFIG: b } }).config.sync.intervalSeconds, 11)
      assert.equal(loadConfig({ env: { ...env, ENGRAM_CONFIG: b } }).config.sync.intervalSeconds, 12)
      const d = loadConfig({ env })
      assert.equal(d.config.sync.intervalSeconds, 13)
      assert.equal(d.file, xdg)
      assert.equal(loadConfig({ file: false, env }).config.sync.intervalSeconds, 300)
    } finally {
      writeFileSync(xdg, '{}')
    }
  })

  it('fails when a named file is missing or is not JSON5', () => {
    let e = configError(() => loadConfig({ file: join(dir.path, 'nope.json5'), env }))
    assert.match(e.message, /nope\.json5.*does not exist.*--config/)
    e = configError(() => loadConfig({ env: { ...env, ENGRAM_CONFIG: join(dir.path, 'nope.json5') } }))
    assert.match(e.message, /ENGRAM_CONFIG/)
    e = configError(() => loadConfig({ file: dir.file('bad.json5', '{ api: { port: } }'), env }))
    assert.match(e.message, /bad\.json5: is not valid JSON5: invalid character '\}' \(line 1, column 16\)$/)
    e = configError(() => loadConfig({ file: dir.file('arr.json5', '[1]'), env }))
    assert.match(e.message, /must hold one object/)
  })

  it('names the nearest key for an unknown key in the file', () => {
    const file = dir.file('typo.json5', '{ p2p: { enable: true } }')
    const e = configError(() => loadConfig({ file, env }))
    assert.equal(e.message, `config p2p.enable = true (from file:${file}): unknown key; did you mean p2p.enabled?`)
    const e2 = configError(() => loadConfig({ file: dir.file('top.json5', '{ syncc: {} }'), env }))
    assert.match(e2.message, /config syncc = \{\}.*unknown key; did you mean sync\?/)
    const e3 = configError(() => loadConfig({ file: dir.file('cortex.json5', '{ cortex: { p2p: { enabled: true } } }'), env }))
    assert.match(e3.message, /no "cortex" section: put p2p, sync and discovery at the top level/)
    const e4 = configError(() => loadConfig({ file: dir.file('sect.json5', '{ p2p: true }'), env }))
    assert.match(e4.message, /config p2p = true .*must be an object with keys enabled, port, seed/)
  })

  it('accepts dotted names in the file', () => {
    const file = dir.file('dotted.json5', '{ "p2p.port": 20001, sync: { "tombstoneTtlHours": 0.5 } }')
    const { config } = loadConfig({ file, env })
    assert.equal(config.p2p.port, 20001)
    assert.equal(config.sync.tombstoneTtlHours, 0.5)
  })

  it('names the nearest variable for an unknown ENGRAM_* variable', () => {
    let e = configError(() => loadConfig({ env: { ...env, ENGRAM_P2P_ENABLE: 'true' } }))
    assert.equal(e.message, 'config ENGRAM_P2P_ENABLE = "true" (from environment): unknown environment variable; did you mean ENGRAM_P2P_ENABLED?')
    e = configError(() => loadConfig({ env: { ...env, ENGRAM_TLS_CERT: '/x.pem' } }))
    assert.match(e.message, /did you mean ENGRAM_SYNC_TLS_CERT\?/)
    e = configError(() => loadConfig({ env: { ...env, ENGRAM_SYNC_PASSPHRASEE: 'hunter2' } }))
    assert.ok(!e.message.includes('hunter2'), 'a secret-looking value is hidden')
    assert.match(e.message, /did you mean ENGRAM_SYNC_PASSPHRASE\?/)
    // The variables that are not keys are allowed.
    loadConfig({ env: { ...env, ENGRAM_URL: 'http://127.0.0.1:1', ENGRAM_CONFIG: '', ENGRAM_TEST_CLOCK_OFFSET_MS: '-600000' } })
  })

  it('refuses each numeric key just outside its range and accepts its bounds', () => {
    const numeric = CONFIG_KEYS.filter(k => ['integer', 'number'].includes(SCHEMA[k].type))
    assert.equal(numeric.length, 32)
    for (const key of numeric) {
      const { min, max } = SCHEMA[key]
      const name = envNameOf(key)
      for (const ok of [min!, max!]) {
        const { config } = loadConfig({ file: false, env: { ...env, [name]: String(ok) } })
        assert.equal(valueOf(config, key), ok, `${key} = ${ok}`)
      }
      const step = SCHEMA[key].type === 'integer' ? 1 : min! > 0 ? min! / 10 : 0.5
      for (const bad of [min! - step, max! + step]) {
        const e = configError(() => loadConfig({ file: false, env: { ...env, [name]: String(bad) } }))
        assert.ok(e.message.startsWith(`config ${key} = "${bad}" (from env:${name}): must be `), e.message)
        assert.deepEqual(e.details?.key, key)
      }
    }
  })

  it('says what is allowed: ranges, enums, types', () => {
    let e = configError(() => loadConfig({ file: false, env: { ...env, ENGRAM_SYNC_INTERVAL_SECONDS: '5' } }))
    assert.equal(e.message, 'config sync.intervalSeconds = "5" (from env:ENGRAM_SYNC_INTERVAL_SECONDS): must be an integer from 10 to 86400')
    e = configError(() => loadConfig({ file: false, env: { ...env, ENGRAM_SYNC_CONFLICT_STRATEGY: 'newest' } }))
    assert.match(e.message, /must be one of last-writer-wins, keep-both, local-priority, remote-priority$/)
    e = configError(() => loadConfig({ file: false, env: { ...env, ENGRAM_API_PORT: '12.5' } }))
    assert.match(e.message, /must be an integer from 0 to 65535/)
    e = configError(() => loadConfig({ file: dir.file('type.json5', '{ api: { port: "19090" } }'), env }))
    assert.match(e.message, /config api\.port = "19090" .*must be an integer/, 'the file is typed: a string is not a number')
    e = configError(() => loadConfig({ file: false, env: { ...env, ENGRAM_P2P_ENABLED: 'yes' } }))
    assert.match(e.message, /must be true or false/)
    e = configError(() => loadConfig({ file: false, env, flags: { 'log.level': 'verbose' } }))
    assert.equal(e.message, 'config log.level = "verbose" (from flag:--log-level): must be one of error, warn, info, debug')
  })

  it('reads booleans as true/false/1/0 and lists comma-separated', () => {
    const { config } = loadConfig({
      file: false,
      env: {
        ...env,
        ENGRAM_P2P_ENABLED: '1',
        ENGRAM_P2P_MDNS: 'TRUE',
        ENGRAM_SYNC_AUTO_SYNC: '0',
        ENGRAM_SYNC_PEERS: '192.168.1.10:9090, [::1]:19091,peer-b.local:19091',
        ENGRAM_SYNC_SINGLE_VALUED_PREDICATES: 'prefers:editor,lives-in',
        ENGRAM_P2P_MANUAL_PEERS: ''
      }
    })
    assert.equal(config.p2p.enabled, true)
    assert.equal(config.p2p.mdns, true)
    assert.equal(config.sync.autoSync, false)
    assert.deepEqual(config.sync.peers, ['192.168.1.10:9090', '[::1]:19091', 'peer-b.local:19091'])
    assert.deepEqual(config.sync.singleValuedPredicates, ['prefers:editor', 'lives-in'])
    assert.deepEqual(config.p2p.manualPeers, [])
  })

  it('checks peer addresses', () => {
    const bad: [string, RegExp][] = [
      ['::1:19091', /IPv6 address must be in brackets/],
      ['host', /is not "host:port"/],
      ['host:0', /port 0 is outside 1-65535/],
      ['host:70000', /port 70000 is outside/],
      ['[10.0.0.1]:5', /not an IPv6 address/],
      ['bad_host!:5', /not "host:port"|not a host name/]
    ]
    for (const [peer, re] of bad) {
      const e = configError(() => loadConfig({ file: false, env: { ...env, ENGRAM_P2P_MANUAL_PEERS: `10.0.0.5:19091,${peer}` } }))
      assert.match(e.message, /^config p2p\.manualPeers = .*element 1 /)
      assert.match(e.message, re)
    }
    const e = configError(() => loadConfig({ file: dir.file('peers.json5', '{ sync: { peers: ["a:1", 5] } }'), env }))
    assert.match(e.message, /element 1 \(5\) is not a non-empty string/)
  })

  it('takes fractional tombstone TTLs down to one second', () => {
    assert.equal(loadConfig({ file: false, env: { ...env, ENGRAM_SYNC_TOMBSTONE_TTL_HOURS: String(1 / 3600) } }).config.sync.tombstoneTtlHours, 1 / 3600)
    assert.equal(loadConfig({ file: false, env: { ...env, ENGRAM_SYNC_TOMBSTONE_TTL_HOURS: '0.25' } }).config.sync.tombstoneTtlHours, 0.25)
    const e = configError(() => loadConfig({ file: false, env: { ...env, ENGRAM_SYNC_TOMBSTONE_TTL_HOURS: '0.0001' } }))
    assert.match(e.message, /from 1\/3600 \(one second\) to 8760/)
  })

  it('checks the seed pattern and hides secrets in messages', () => {
    assert.equal(loadConfig({ file: false, env: { ...env, ENGRAM_P2P_SEED: 'my-shared_secret9' } }).config.p2p.seed, 'my-shared_secret9')
    const e = configError(() => loadConfig({ file: false, env: { ...env, ENGRAM_P2P_SEED: 'my secret!' } }))
    assert.ok(!e.message.includes('my secret'), e.message)
    assert.match(e.message, /config p2p\.seed = "<hidden>" .*letters, digits, "_" or "-"/)
    assert.equal(loadConfig({ file: false, env: { ...env, ENGRAM_SYNC_PASSPHRASE: 'correct horse' } }).config.sync.passphrase, 'correct horse')
  })

  it('unsets optional keys with null in the file or an empty variable, and refuses that for required ones', () => {
    const file = dir.file('null.json5', '{ p2p: { seed: null }, tls: { cert: null } }')
    assert.equal(loadConfig({ file, env: { ...env, ENGRAM_SYNC_PASSPHRASE: '' } }).config.sync.passphrase, undefined)
    const e = configError(() => loadConfig({ file: false, env: { ...env, ENGRAM_API_HOST: '' } }))
    assert.match(e.message, /config api\.host = "" .*cannot be empty/)
    configError(() => loadConfig({ file: dir.file('nullport.json5', '{ api: { port: null } }'), env }))
  })

  it('resolves paths: ~, relative to the file, relative to the working directory', () => {
    const sub = join(dir.path, 'conf')
    mkdirSync(sub, { recursive: true })
    const file = join(sub, 'paths.json5')
    writeFileSync(file, '{ dataDir: "./data", tls: { ca: "~/ca.pem", cert: "/abs/cert.pem" } }')
    const { config } = loadConfig({ file, env, cwd: '/work' })
    assert.equal(config.dataDir, join(sub, 'data'))
    assert.equal(config.tls.ca, join(dir.path, 'ca.pem'))
    assert.equal(config.tls.cert, '/abs/cert.pem')
    assert.equal(loadConfig({ file: false, env: { ...env, ENGRAM_SYNC_TLS_KEY: 'k.pem' }, cwd: '/work' }).config.tls.key, '/work/k.pem')
    assert.equal(loadConfig({ file: false, env, flags: { dataDir: 'd' }, cwd: '/work' }).config.dataDir, '/work/d')
  })

  it('refuses a file holding a secret that other users can read, naming the file and the fix', () => {
    const file = dir.file('secret.json5', '{ sync: { passphrase: "correct horse battery staple" } }')
    chmodSync(file, 0o644)
    const e = configError(() => loadConfig({ file, env }))
    assert.equal(e.message, `config sync.passphrase = "<hidden>" (from file:${file}): is in config file ${file}, which other users can read (mode 644); run: chmod 600 ${file}`)
    chmodSync(file, 0o640)
    configError(() => loadConfig({ file, env }))
    chmodSync(file, 0o600)
    assert.equal(loadConfig({ file, env }).config.sync.passphrase, 'correct horse battery staple')
    // Without a secret in it, a readable file is fine.
    const plain = dir.file('plain.json5', '{ sync: { intervalSeconds: 60 } }')
    chmodSync(plain, 0o644)
    assert.equal(loadConfig({ file: plain, env }).config.sync.intervalSeconds, 60)
  })

  it('checks rules between keys before a node starts', () => {
    const { config, sources } = loadConfig({ file: false, env: { ...env, ENGRAM_P2P_ENABLED: 'true' } })
    const e = configError(() => assertStartable(config, sources))
    assert.match(e.message, /^config p2p\.seed is not set: must be set because p2p\.enabled is true \(env:ENGRAM_P2P_ENABLED\)/)
    assert.doesNotMatch(e.message, /undefined|from default/)
    assert.match(e.message, /ENGRAM_P2P_SEED/)
    assertStartable(loadConfig({ file: false, env: { ...env, ENGRAM_P2P_ENABLED: 'true', ENGRAM_P2P_SEED: 'Qx7-p2Lm_9sVtR4e' } }).config)
    configError(() => assertStartable(defaultConfig({ 'tls.cert': '/c.pem' })))
    // Weak shared secrets are refused, naming the key and the rule but nothing of the secret.
    for (const [key, weak, why] of [['p2p.seed', 'a-shared-seed', '13 characters'], ['sync.passphrase', 'hunter2', '7 characters'],
      ['sync.passphrase', 'passwordpassword', 'only 7 different characters']] as const) {
      const w = configError(() => assertStartable(defaultConfig({ [key]: weak }), sources))
      assert.equal(w.message, `config ${key} = "<hidden>": too weak (it has ${why}): a shared secret must have at least 16 characters, ` +
        'at least 10 of them different, since anyone who can reach this node may try to guess it; generate one with `engram secret new` and set it on every node')
    }
    assertStartable(defaultConfig({ 'sync.passphrase': 'correct horse battery staple' }))
    configError(() => assertStartable(defaultConfig({ 'tls.requireClientCert': true })))
    assertStartable(defaultConfig({ 'tls.cert': '/c.pem', 'tls.key': '/k.pem', 'tls.ca': '/ca.pem', 'tls.requireClientCert': true }))
  })

  it('defaultConfig takes typed overrides and reads no environment', () => {
    const c = defaultConfig({ dataDir: '/tmp/x', 'api.port': 0 }, { HOME: '/h', ENGRAM_API_PORT: '1' })
    assert.equal(c.api.port, 0)
    assert.equal(c.dataDir, '/tmp/x')
    configError(() => defaultConfig({ 'api.port': -1 }))
  })
})

