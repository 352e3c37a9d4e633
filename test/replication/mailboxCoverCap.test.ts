/**
 * The cap on writers a member remembers as covered at a relay (MAX_COVERED, 4,096; LIMITS.md
 * "Relays", DISCOVERY.md "Members that never reach the mailbox"), in one process over the real
 * SQLite mailbox (`SqliteMailbox`) and a member on a real SQLite store: D deposits the records of
 * 4,100 writers (1 each) and its own; C pulls them all and remembers exactly 4,096 writers as
 * covered (D first, then the writers in the order the pages hold them), in its store's metadata,
 * where a restart finds them. C then deposits again the records of exactly the writers past the
 * cap (none of the covered ones), so nothing is lost: a member that reads only the mailbox ends
 * with everything D had.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { NodeId } from '../../src/core/ids.ts'
import type { MemoryRecord } from '../../src/core/model.ts'
import { seedKeysFromRoot } from '../../src/core/seedKeys.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { decodePagePlaintext, decodeRequest } from '../../src/protocol/mailbox/messages.ts'
import { openPage } from '../../src/protocol/mailbox/seal.ts'
import { applyPeerPage } from '../../src/replication/applyPage.ts'
import { SqliteMailbox } from '../../src/store/mailbox/SqliteMailbox.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import { MailboxHost } from '../../src/sync/mailbox/MailboxHost.ts'
import { MailboxSync, MAX_COVERED } from '../../src/sync/mailbox/MailboxSync.ts'
import { silentLogger } from '../../src/util/log.ts'
import { canonicalDump, dumpDifference } from '../support/dumps.ts'

const KEYS = seedKeysFromRoot(new Uint8Array(32).fill(9))
const SEAL = { key: KEYS.seal, keyId: KEYS.keyId }
const D = '12D3KooWDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD' as NodeId
const C = '12D3KooWCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC' as NodeId
const E = '12D3KooWEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE' as NodeId
const WRITERS = MAX_COVERED + 4
const writer = (i: number): NodeId => `12D3KooWwriter${String(i).padStart(5, '0')}` as NodeId

const dir = mkdtempSync(join(tmpdir(), 'engram-covercap-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })

/** A member over `engine` whose deposits are also handed to `deposited` (the writers of each record). */
function member (engine: Engine, host: MailboxHost, deposited?: string[]): MailboxSync {
  return new MailboxSync({
    engine,
    keys: KEYS,
    log: silentLogger,
    intervalMs: 1000,
    pageRecords: 500,
    link: {
      relays: () => ['relay'],
      exchange: async (_relay, request) => {
        const r = decodeRequest(request)
        if (r.op === 'deposit' && deposited !== undefined) {
          const opened = openPage([SEAL], r.page)
          assert.ok(!('failure' in opened), 'a deposited page opens')
          deposited.push(...decodePagePlaintext(opened.plaintext).records.map(rec => rec.hlc.node))
        }
        return host.answer(engine.node, request)
      }
    }
  })
}

describe('the cap on covered writers', () => {
  it('remembers 4,096 writers, keeps them across a restart, and deposits again the records of the writers past the cap', async () => {
    const host = new MailboxHost(new SqliteMailbox(join(dir, 'mailbox.db'), { maxBytes: 64 * 1024 * 1024, retentionMs: 3_600_000 }), silentLogger)
    // D holds one record of each of WRITERS writers, and one of its own
    const d = new Engine({ store: new MemoryStore(), node: D, maxDriftMs: 60_000 })
    for (let i = 0; i < WRITERS; i++) {
      const w = new Engine({ store: new MemoryStore(), node: writer(i), maxDriftMs: 60_000 })
      w.addTriples([{ subject: `ex:w${i}`, predicate: 'ex:p', object: `written by ${i}` }])
      const records: MemoryRecord[] = w.store.changesSince(0, { limit: 10 }).entries.map(e => e.record)
      applyPeerPage(d, { peer: writer(i), records, view: { node: writer(i), cursor: 0, namespaces: null } })
    }
    d.addTriples([{ subject: 'ex:d', predicate: 'ex:p', object: 'written by D' }])
    await member(d, host).round()

    const cFile = join(dir, 'c.db')
    const c = new Engine({ store: SqliteStore.open(cFile), node: C, maxDriftMs: 60_000 })
    const deposited: string[] = []
    await member(c, host, deposited).round()
    assert.equal(c.store.stats().triples, WRITERS + 1, 'C applied every record from the mailbox')
    const covered = JSON.parse(c.store.getMeta('mailbox.covered.relay') ?? '[]') as string[]
    assert.equal(covered.length, MAX_COVERED, 'exactly MAX_COVERED writers are remembered')
    assert.equal(covered[0], D, 'the depositing member first')
    const past = Array.from({ length: WRITERS }, (_, i) => writer(i)).filter(w => !covered.includes(w))
    assert.equal(past.length, WRITERS + 1 - MAX_COVERED, 'the rest are past the cap')
    assert.deepEqual([...new Set(deposited)].sort(), past.sort(), 'C deposited again the records of exactly the writers past the cap')
    assert.equal(deposited.length, past.length, 'one record each')

    // a restart finds the covered writers in the store and deposits nothing more
    c.store.close()
    const c2 = new Engine({ store: SqliteStore.open(cFile), node: C, maxDriftMs: 60_000 })
    const again: string[] = []
    await member(c2, host, again).round()
    assert.equal(again.length, 0)
    assert.equal((JSON.parse(c2.store.getMeta('mailbox.covered.relay') ?? '[]') as string[]).length, MAX_COVERED)
    c2.store.close()

    // nothing lost: a member that reads only the mailbox ends with what D has
    const e = new Engine({ store: new MemoryStore(), node: E, maxDriftMs: 60_000 })
    await member(e, host).round()
    const [dd, de] = [canonicalDump(d.store), canonicalDump(e.store)]
    assert.deepEqual(de, dd, dumpDifference(dd, de, ['D', 'E']))
  })
})
