/**
 * The environment variables of the configuration: each key's (`ENGRAM_` + the key path in upper
 * snake case, unless the schema names another) and the ENGRAM_ variables that are not keys, so
 * the loader can tell a misspelt key from a variable it should leave alone.
 */
import { SCHEMA } from './schema.ts'
import type { ConfigKey } from './shape.ts'

/** `sync.intervalSeconds` → `ENGRAM_SYNC_INTERVAL_SECONDS`. */
export function derivedEnvName (key: string): string {
  return 'ENGRAM_' + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/\./g, '_').toUpperCase()
}

export function envNameOf (key: ConfigKey): string {
  return SCHEMA[key].env ?? derivedEnvName(key)
}

/** Environment variables starting with ENGRAM_ that are not config keys. */
export const NON_KEY_ENV_VARS: readonly string[] = [
  /** Path of the config file. */
  'ENGRAM_CONFIG',
  /** Base URL the CLI talks to. */
  'ENGRAM_URL',
  /**
   * Test hook, read by `engram start` only: milliseconds added to the daemon's wall clock, so a
   * test can run a node whose clock is off (e.g. -600000: ten minutes behind).
   */
  'ENGRAM_TEST_CLOCK_OFFSET_MS',
  /**
   * Test hook, read by `engram start` only: "1" runs native P2P sync with gossip rounds alone
   * (no cursor streams, no live push), so a test can measure the anti-entropy backstop by itself.
   */
  'ENGRAM_TEST_P2P_GOSSIP_ONLY',
  /**
   * Test hook, read by `engram start` only: failed P2P handshakes one source may make at once
   * (default 10), for tests that fail many on purpose from one address.
   */
  'ENGRAM_TEST_P2P_FAILED_HANDSHAKES'
]
