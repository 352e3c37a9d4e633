/** The persistent Ed25519 identity in <dataDir>/identity.key. */
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import { loadOrCreateIdentity } from '../../src/node/identity.ts'

describe('node identity', () => {
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'engram-id-')) })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('creates an Ed25519 key with mode 0600 and keeps the node id across loads', async () => {
    const a = await loadOrCreateIdentity(dir)
    assert.equal(a.created, true)
    assert.equal(a.privateKey.type, 'Ed25519')
    assert.match(a.nodeId, /^12D3KooW[1-9A-HJ-NP-Za-km-z]+$/)
    assert.equal(statSync(a.path).mode & 0o777, 0o600)
    const b = await loadOrCreateIdentity(dir)
    assert.equal(b.created, false)
    assert.equal(b.nodeId, a.nodeId)
  })

  it('two concurrent first starts end with one identity', async () => {
    const d = mkdtempSync(join(tmpdir(), 'engram-id-race-'))
    try {
      const ids = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(d)))
      assert.equal(new Set(ids.map(i => i.nodeId)).size, 1)
      assert.equal((await loadOrCreateIdentity(d)).nodeId, ids[0]!.nodeId)
    } finally {
      rmSync(d, { recursive: true, force: true })
    }
  })

  it('refuses a key file readable by group or others, saying the chmod to run', { skip: process.platform === 'win32' }, async () => {
    const { path } = await loadOrCreateIdentity(dir)
    chmodSync(path, 0o644)
    try {
      await assert.rejects(loadOrCreateIdentity(dir), (e: unknown) => {
        assert.ok(isEngramError(e))
        assert.equal(e.code, 'CONFIG_INVALID')
        assert.equal(e.message, `identity key ${path} can be read or written by group or others (mode 644); run: chmod 600 ${path}`)
        return true
      })
    } finally {
      chmodSync(path, 0o600)
    }
  })

  it('refuses a file that is not a key, saying what to do', async () => {
    const d = mkdtempSync(join(tmpdir(), 'engram-id-bad-'))
    try {
      writeFileSync(join(d, 'identity.key'), 'not a key', { mode: 0o600 })
      await assert.rejects(loadOrCreateIdentity(d), /cannot be used: not a private key.*move it away to create a new identity/)
    } finally {
      rmSync(d, { recursive: true, force: true })
    }
  })
})
