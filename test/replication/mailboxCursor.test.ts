/**
 * The mailbox and the native feed cursor (docs/SYNC.md "The changes feed and cursors", DISCOVERY.md
 * "Mailbox"): records pulled from the mailbox are applied without a cursor, so this node's cursor
 * on the writer's feed stays where native or polled sync left it. A member that caught up from a
 * mailbox which had already dropped the writer's oldest pages, and later meets the writer
 * directly, still receives every record it lacks, deletions included; and what it tells the
 * writer of its own feed (records from the mailbox are left out of the stream to their writer,
 * the cursor moving past them) makes the writer lack nothing either. Gossip is off (one round an
 * hour) so the cursor streams alone carry the records: a wrong cursor cannot be hidden by set
 * reconciliation.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { seedKeysFromRoot } from '../../src/core/seedKeys.ts'
import { readPeerCursor } from '../../src/replication/peerCursor.ts'
import { MemoryMailbox } from '../../src/store/mailbox/MemoryMailbox.ts'
import { MailboxHost } from '../../src/sync/mailbox/MailboxHost.ts'
import { MailboxSync } from '../../src/sync/mailbox/MailboxSync.ts'
import { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { silentLogger } from '../../src/util/log.ts'
import { canonicalDump, dumpDifference } from '../support/dumps.ts'
import { eventually, simNode, type SimNode } from '../native/helpers.ts'

const KEYS = seedKeysFromRoot(new Uint8Array(32).fill(7))
/** Node ids as the mailbox's page header takes them. */
const A = '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
const B = '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB'
const NO_GOSSIP = { settings: { gossipIntervalMs: 3_600_000 } }

const started: SimNode[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map(n => n.sync.stop()))
})

function mailboxOf (n: SimNode, host: MailboxHost): MailboxSync {
  return new MailboxSync({
    engine: n.engine,
    link: { relays: () => ['relay'], exchange: async (_relay, request) => host.answer(n.id, request) },
    keys: KEYS,
    log: silentLogger,
    intervalMs: 1_000,
    pageRecords: 100
  })
}

const triples = (tag: string, n: number): Array<{ subject: string, predicate: string, object: string }> =>
  Array.from({ length: n }, (_, i) => ({ subject: `ex:${tag}-${i}`, predicate: 'ex:p', object: `${tag} ${i}` }))

describe('the mailbox and the native cursor', () => {
  it('a member that caught up from a mailbox missing the oldest pages still gets everything from the writer, and the writer from it', async () => {
    const net = new MemoryNetwork()
    const a = simNode(net, A, NO_GOSSIP)
    const b = simNode(net, B, NO_GOSSIP)
    // a mailbox too small for all of A's pages: it drops the oldest
    const box = new MemoryMailbox({ maxBytes: 24_000, retentionMs: 3_600_000 })
    const host = new MailboxHost(box, silentLogger)
    const ids = a.engine.addTriples(triples('a', 600)).map(t => t.id)
    for (const id of [...ids.slice(0, 15), ...ids.slice(550, 565)]) a.engine.deleteTriple(id)
    b.engine.addTriples(triples('b', 40))
    await mailboxOf(a, host).round()
    const fromBox = mailboxOf(b, host)
    await fromBox.round()
    assert.ok(fromBox.counts.applied > 0, 'B applied pages from the mailbox')
    assert.ok(fromBox.counts.pulled < 7, `the mailbox dropped A's oldest pages (B pulled ${fromBox.counts.pulled} of 7)`)
    const partial = b.store.stats().triples
    assert.ok(partial > 40 && partial < 40 + 570 - 1, `B holds part of A's triples (${partial - 40})`)
    assert.equal(b.store.getTriple(ids[560]!)?.deleted, true, 'a deletion from the newest pages reached B')
    assert.equal(b.store.getTriple(ids[20]!), undefined, 'a triple of a dropped page did not')
    assert.deepEqual(readPeerCursor(b.store, a.id), { seq: 0, feedId: undefined }, 'the mailbox moved no cursor on A\'s feed')

    started.push(a, b)
    await a.sync.start()
    await b.sync.start()
    b.sync.addPeer(`mem:${A}`)
    const caughtUp = (): boolean => readPeerCursor(b.store, a.id).seq === a.store.stats().lastSeq && readPeerCursor(a.store, b.id).seq === b.store.stats().lastSeq
    await eventually(caughtUp, 'each at the end of the other\'s feed')
    const da = canonicalDump(a.store)
    const db = canonicalDump(b.store)
    assert.deepEqual(db, da, dumpDifference(da, db, ['A', 'B']))
    assert.equal(a.store.stats().triples, 610, '570 of A\'s live triples and B\'s 40')
    assert.equal(b.store.getTriple(ids[20]!)?.deleted, false, 'the triple of a dropped page reached B directly')
  })
})
