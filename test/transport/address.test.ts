import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import { dialAddress } from '../../src/transport/util.ts'

describe('dial address parsing (host:port)', () => {
  it('accepts IPv4, bracketed IPv6 and host names', () => {
    assert.deepEqual(dialAddress('127.0.0.1:19091'), { host: '127.0.0.1', port: 19091, family: 4 })
    assert.deepEqual(dialAddress('[::1]:19091'), { host: '::1', port: 19091, family: 6 })
    assert.deepEqual(dialAddress('[fe80::1%eth0]:1024'), { host: 'fe80::1%eth0', port: 1024, family: 6 })
    assert.deepEqual(dialAddress('laptop.local:19091'), { host: 'laptop.local', port: 19091, family: 0 })
    assert.deepEqual(dialAddress('desktop:65535'), { host: 'desktop', port: 65535, family: 0 })
  })

  it('refuses what it cannot dial, naming the address and the accepted forms', () => {
    for (const bad of ['', 'host', '::1:19091', '[::1]19091', '[nothost]:1', 'h:0', 'h:65536', 'h:-1', 'h:1x', 'bad_host!:1', '999.1.1.1:1']) {
      assert.throws(() => dialAddress(bad), (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT' && e.message.includes(JSON.stringify(bad)) && /host:port/.test(e.message), bad)
    }
  })
})
