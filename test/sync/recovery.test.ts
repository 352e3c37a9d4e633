/**
 * Multi-process: an unreachable peer recovers by itself; a wrong passphrase is refused and
 * changes nothing; keep-both conflicts are listed and resolved through the CLI; a node offline
 * past the tombstone TTL neither resurrects a delete nor loses what it wrote meanwhile.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { closedPort, sandbox, type Sandbox } from '../cli/helpers.ts'
import { deriveRestKey, signRequest } from '../../src/sync/polled/auth.ts'
import { DELTA_PATH } from '../../src/protocol/polled/messages.ts'
import { dumpFile, PASSPHRASE, poll, startNode, type Node } from './daemons.ts'

const peerOf = async (n: Node, name: string) => (await n.client.syncStatus()).peers.find(p => p.name === name)!

describe('multi-process sync: failures and recovery', () => {
  let box: Sandbox
  before(() => { box = sandbox() })
  after(() => box.remove())

  it('an unreachable peer is retried with backoff and recovers by itself', async () => {
    const port = await closedPort()
    // the backoff never exceeds the interval (10 s, the smallest allowed), so once b is up a's
    // next retry comes within 11 s, however many attempts failed before
    const a = await startNode(box, 'patient', { config: { sync: { retryBaseMs: 100, intervalSeconds: 10 } } })
    let b: Node | undefined
    try {
      await a.client.pairPeer('later', `http://127.0.0.1:${port}`)
      const down = await poll(async () => { const p = await peerOf(a, 'later'); return p.failures >= 3 ? p : undefined }, 20_000, 'three failed attempts')
      assert.equal(down.status, 'unreachable')
      assert.equal(down.lastResult?.code, 'UNAVAILABLE')
      assert.match(down.lastResult?.error ?? '', /unreachable/)
      b = await startNode(box, 'later', { port })
      const t = await b.client.addTriple('user:later', 'says', 'hello')
      // Nobody asks a to sync: its own retries find b.
      await poll(async () => ((await a.client.queryTriples({ subject: 'user:later' })).total === 1 ? true : undefined), 60_000, 'the triple from the recovered peer')
      const up = await peerOf(a, 'later')
      assert.equal(up.status, 'active')
      assert.equal(up.failures, 0)
      assert.equal((await a.client.getTriple(t.id)).object, 'hello')
    } finally {
      await Promise.all([a.stop(), b?.stop()])
    }
  })

  it('a wrong passphrase gets 401 and leaves both stores unchanged', async () => {
    const [a, b] = await Promise.all([startNode(box, 'keyA'), startNode(box, 'keyB', { config: { sync: { passphrase: 'not-the-same-passphrase' } } })])
    try {
      await a.client.addTriple('user:a', 'p', 'a')
      await b.client.addTriple('user:b', 'p', 'b')
      const before = [(await a.client.status()).store.stats, (await b.client.status()).store.stats]
      await a.client.pairPeer('b', b.url)
      const r = await a.cli(['sync', 'now', 'b'])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /b: peer .* refused our credentials: bad signature.*\(UNAUTHORIZED\)/)
      const body = JSON.stringify({ cursor: 0 })
      const res = await fetch(b.url + DELTA_PATH, { method: 'POST', headers: { 'content-type': 'application/json', ...signRequest(deriveRestKey(PASSPHRASE), 'node-x', 'POST', DELTA_PATH, body) }, body })
      assert.equal(res.status, 401)
      const j = await res.json() as { code: string, records?: unknown }
      assert.equal(j.code, 'UNAUTHORIZED')
      assert.equal(j.records, undefined)
      assert.deepEqual([(await a.client.status()).store.stats, (await b.client.status()).store.stats], before)
      assert.equal((await peerOf(a, 'b')).lastResult?.code, 'UNAUTHORIZED')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('keep-both: the conflict is listed by engram conflicts and resolved with engram conflicts resolve', async () => {
    const config = { sync: { conflictStrategy: 'keep-both' } }
    const [a, b] = await Promise.all([startNode(box, 'kbA', { config }), startNode(box, 'kbB', { config })])
    try {
      await a.client.pairPeer('kbB', b.url)
      await b.client.pairPeer('kbA', a.url)
      await a.client.syncNow()
      await b.client.syncNow()
      await a.client.setNote('cfg:theme', 'dark')
      await b.client.setNote('cfg:theme', 'light')
      assert.equal((await a.cli(['sync', 'now'])).code, 0)
      assert.equal((await b.cli(['sync', 'now'])).code, 0)
      const listed = await a.cli(['conflicts', '--json'])
      assert.equal(listed.code, 0, listed.stderr)
      const { conflicts } = JSON.parse(listed.stdout) as { conflicts: { id: string, key: string, kept: { value: string }, other: { value: string } }[] }
      assert.equal(conflicts.length, 1)
      assert.deepEqual([conflicts[0]!.key, conflicts[0]!.kept.value, conflicts[0]!.other.value], ['cfg:theme', 'light', 'dark'])
      const table = await a.cli(['conflicts'])
      assert.match(table.stdout, /cfg:theme\s+"light"\s+"dark"\s+kbB/)
      const resolved = await a.cli(['conflicts', 'resolve', conflicts[0]!.id, '--keep', 'other'])
      assert.equal(resolved.code, 0, resolved.stderr)
      assert.match(resolved.stdout, /resolved .* kept "dark"/)
      await b.client.syncNow()
      await a.client.syncNow()
      assert.equal((await a.client.getNote('cfg:theme')).value, 'dark')
      assert.equal((await b.client.getNote('cfg:theme')).value, 'dark')
      assert.equal((await a.client.conflicts()).total, 0)
      assert.equal((await b.client.conflicts()).total, 0)
      const missing = await a.cli(['conflicts', 'resolve', conflicts[0]!.id, '--keep', 'kept'])
      assert.equal(missing.code, 1)
      assert.match(missing.stderr, /conflict not found/)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('a node away past the tombstone TTL does not resurrect a delete, keeps what it wrote meanwhile, and the tombstones wait for it', async () => {
    // Tombstones live about one second here (the collector runs every 250 ms).
    const config = { sync: { tombstoneTtlHours: 1 / 3600 } }
    const [a, b] = await Promise.all([startNode(box, 'ttlA', { config }), startNode(box, 'ttlB', { config })])
    try {
      await a.client.pairPeer('ttlB', b.url)
      await b.client.pairPeer('ttlA', a.url)
      const gone = await a.client.addTriple('user:shared', 'fact', 'deleted later')
      const kept = await a.client.addTriple('user:shared', 'fact', 'kept')
      await a.client.setNote('shared:note', 'deleted later')
      await b.client.syncNow()
      await a.client.syncNow()
      assert.equal((await b.client.queryTriples({ subject: 'user:shared' })).total, 2)
      // b is "away" (nobody syncs). a deletes; b writes.
      await a.client.deleteTriple(gone.id)
      await a.client.deleteNote('shared:note')
      const offline = await b.client.addTriple('user:b', 'wrote', 'while away')
      await b.client.setNote('b:offline-note', 1)
      // Past the TTL a keeps the tombstones: b, a member, has not seen them (Rule B, docs/SYNC.md).
      await new Promise(resolve => setTimeout(resolve, 2500))
      const held = (await a.client.status()).store.stats
      assert.equal(held.tripleTombstones, 1, 'kept for b')
      assert.equal(held.noteTombstones, 1, 'kept for b')
      // b comes back; once a has learnt that b saw them, they are collected.
      const back = await b.client.syncNow()
      assert.ok(back.results[0]!.ok, back.results[0]!.error)
      await poll(async () => {
        await a.client.syncNow()
        const s = (await a.client.status()).store.stats
        return s.tripleTombstones === 0 && s.noteTombstones === 0 && s.feedFloor > 0 ? true : undefined
      }, 30_000, 'a collecting its tombstones once b saw them')
      // b syncs again, past a's floor now: nothing comes back either way.
      const again = await b.client.syncNow()
      assert.ok(again.results[0]!.ok, again.results[0]!.error)
      await a.client.syncNow()
      for (const n of [a, b]) {
        const live = (await n.client.queryTriples({})).triples.map(t => t.id).sort()
        assert.deepEqual(live, [kept.id, offline.id].sort(), `${n.name}: the delete stayed, the offline write arrived`)
        await assert.rejects(n.client.getNote('shared:note'), /not found/)
        assert.equal((await n.client.getNote('b:offline-note')).value, 1)
      }
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
    const live = (d: string[]) => d.filter(r => !r.includes('"deleted":true'))
    assert.deepEqual(live(dumpFile(join(box.root, 'ttlA', 'data'))), live(dumpFile(join(box.root, 'ttlB', 'data'))))
  })
})
