/**
 * The mailbox across a clock repair, in one process (MemoryMailbox, MailboxHost, engines with
 * injected wall clocks): pages a member deposited while its clock ran ahead stay in the mailbox
 * after the member repaired its clock and voided those stamps. A member that learnt the void
 * first and pulls those pages afterwards must not hold them and apply them once real time
 * reaches their stamps — the old write would then win over everything written since (here: a
 * note set again after the repair). A void cannot tell an old future stamp from a new one by
 * the stamp alone, so the mailbox path drops a record that is both above its origin's void and
 * still beyond the drift guard (MailboxSync.ts, core/knowledge.ts `voidedInTransit`), while the
 * records the repair re-stamped arrive with their new stamps.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { NodeId } from '../../src/core/ids.ts'
import { seedKeysFromRoot } from '../../src/core/seedKeys.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { OWN_FROM_KEY } from '../../src/engine/NodeKnowledge.ts'
import { MemoryMailbox } from '../../src/store/mailbox/MemoryMailbox.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { MailboxHost } from '../../src/sync/mailbox/MailboxHost.ts'
import { MailboxSync } from '../../src/sync/mailbox/MailboxSync.ts'
import { createLogger } from '../../src/util/log.ts'

const KEYS = seedKeysFromRoot(new Uint8Array(32).fill(1))
const X = '12D3KooWXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' as NodeId
const P = '12D3KooWPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP' as NodeId
const T0 = 1_763_631_000_000
const DRIFT = 60_000
const HOUR = 3_600_000

/** A member over the mailbox of `host`, with a wall clock the test sets. */
function member (node: NodeId, host: MailboxHost, start: number): { engine: Engine, sync: MailboxSync, setWall: (ms: number) => void, lines: string[] } {
  let wall = start
  const store = new MemoryStore()
  store.setMeta(OWN_FROM_KEY, '0')
  const engine = new Engine({ store, node, maxDriftMs: DRIFT, now: () => wall })
  const lines: string[] = []
  const log = createLogger({ level: 'debug', sink: l => { lines.push(l) } })
  const sync = new MailboxSync({ engine, link: { relays: () => ['relay'], exchange: async (_relay, request) => host.answer(node, request) }, keys: KEYS, log, intervalMs: 1000, pageRecords: 100 })
  return { engine, sync, setWall: ms => { wall = ms }, lines }
}

describe('the mailbox across a clock repair', () => {
  it('a page deposited while the clock ran ahead, pulled after the void, is not applied when its time comes', async () => {
    const host = new MailboxHost(new MemoryMailbox({ maxBytes: 64 * 1024 * 1024, retentionMs: 24 * HOUR }), createLogger({ level: 'error', sink: () => {} }))
    // X's clock runs 2 h ahead: it writes, and deposits
    const x = member(X, host, T0 + 2 * HOUR)
    x.engine.setNote('cfg:mode', 'written while ahead')
    await x.sync.round()
    // X's clock is fixed: it repairs (re-stamps its write, voids its stamps above S)
    x.setWall(T0)
    const repair = x.engine.repairClock()
    assert.ok(repair !== undefined && repair.restamped === 1, 'X re-stamped its write')
    // P learns the void directly from X (a session), then the note is set again after the repair
    const p = member(P, host, T0 + 1_000)
    p.engine.applyChecked([], { via: X, voids: [repair.void] })
    assert.deepEqual(p.engine.knowledge.voidOf(X), repair.void)
    p.setWall(T0 + 2_000)
    p.engine.setNote('cfg:mode', 'set after the repair')
    // P pulls the mailbox: X's old page, then X's re-stamped write
    await x.sync.round()
    await p.sync.round()
    assert.equal(p.engine.heldSummary().length, 0, `nothing of X's voided stamps is held: ${JSON.stringify(p.engine.heldSummary())}`)
    assert.ok(p.lines.some(l => l.includes('voided')), `the drop is logged:\n${p.lines.join('\n')}`)
    assert.equal(p.sync.counts.voided, 1)
    assert.equal(p.engine.store.getNote('cfg:mode')?.value, 'set after the repair', 'X\'s re-stamped write is older than the note set since')
    // real time reaches the old stamp: the note set after the repair stays
    p.setWall(T0 + 2 * HOUR + DRIFT)
    p.engine.releaseDue()
    assert.equal(p.engine.store.getNote('cfg:mode')?.value, 'set after the repair')
  })

  it('a record of a writer without a void, stamped ahead, is still held and applied in its time', async () => {
    const host = new MailboxHost(new MemoryMailbox({ maxBytes: 64 * 1024 * 1024, retentionMs: 24 * HOUR }), createLogger({ level: 'error', sink: () => {} }))
    const x = member(X, host, T0 + HOUR)
    x.engine.setNote('cfg:late', 'from a clock an hour ahead, never fixed')
    await x.sync.round()
    const p = member(P, host, T0)
    await p.sync.round()
    assert.equal(p.engine.heldSummary()[0]?.count, 1, 'held, not dropped')
    p.setWall(T0 + HOUR)
    assert.equal(p.engine.releaseDue(), 1)
    assert.equal(p.engine.store.getNote('cfg:late')?.value, 'from a clock an hour ahead, never fixed')
  })
})
