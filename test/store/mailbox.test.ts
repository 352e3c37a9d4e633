/**
 * The mailbox store's conformance suite, run against `SqliteMailbox` on a real file and against
 * `MemoryMailbox`: pages filed by key id and pulled after a seq in order, paged with `more`; the
 * byte cap drops the oldest pages (reported), those of the group holding the most first;
 * retention drops expired ones; a page larger than the cap is not stored; the SQLite file
 * survives a reopen.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { Mailbox, MailboxLimits } from '../../src/store/mailbox/Mailbox.ts'
import { MemoryMailbox } from '../../src/store/mailbox/MemoryMailbox.ts'
import { SqliteMailbox } from '../../src/store/mailbox/SqliteMailbox.ts'

const K1 = new Uint8Array(8).fill(1)
const K2 = new Uint8Array(8).fill(2)
const W = 'writerA'
const page = (n: number, size = 100): Uint8Array => new Uint8Array(size).fill(n)

const dir = mkdtempSync(join(tmpdir(), 'engram-mailbox-'))
after(() => { rmSync(dir, { recursive: true, force: true }) })
let files = 0

const impls: Array<[string, (l: MailboxLimits) => Mailbox]> = [
  ['SqliteMailbox', l => new SqliteMailbox(join(dir, `m${files++}.db`), l)],
  ['MemoryMailbox', l => new MemoryMailbox(l)]
]

for (const [name, make] of impls) {
  describe(`mailbox store: ${name}`, () => {
    it('files pages by key id and pulls them after a seq, in order, paged', () => {
      const m = make({ maxBytes: 10_000, retentionMs: 60_000 })
      const seqs = [1, 2, 3, 4, 5].map(i => m.deposit(i % 2 === 0 ? K2 : K1, W, page(i), 1000).seq)
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b))
      const first = m.pull(K1, 0, 2, 1000)
      assert.deepEqual(first.pages.map(p => p.page[0]), [1, 3])
      assert.equal(first.more, true)
      const rest = m.pull(K1, first.pages[1]!.seq, 2, 1000)
      assert.deepEqual(rest.pages.map(p => p.page[0]), [5])
      assert.equal(rest.more, false)
      assert.deepEqual(m.pull(K2, 0, 10, 1000).pages.map(p => [p.page[0], p.writer]), [[2, W], [4, W]])
      assert.deepEqual(m.pull(new Uint8Array(8), 0, 10, 1000).pages, [])
      assert.deepEqual(m.usage(), { pages: 5, bytes: 500 })
      m.close()
    })

    it('drops the oldest pages past the byte cap and reports them', () => {
      const m = make({ maxBytes: 350, retentionMs: 60_000 })
      for (let i = 1; i <= 3; i++) assert.equal(m.deposit(K1, W, page(i), 1000).dropped, 0)
      const r = m.deposit(K1, W, page(4), 1000)
      assert.deepEqual([r.dropped, r.droppedBytes], [1, 100])
      assert.deepEqual(m.pull(K1, 0, 10, 1000).pages.map(p => p.page[0]), [2, 3, 4])
      const big = m.deposit(K1, W, page(5, 351), 1000)
      assert.equal(big.seq, 0, 'a page larger than the cap is not stored')
      assert.deepEqual(m.usage(), { pages: 3, bytes: 300 })
      m.close()
    })

    it('past the cap drops the oldest pages of the group holding the most: one group cannot push out another', () => {
      const m = make({ maxBytes: 600, retentionMs: 60_000 })
      for (let i = 1; i <= 3; i++) m.deposit(K1, W, page(i), 1000)
      for (let i = 11; i <= 13; i++) m.deposit(K2, W, page(i), 1000)
      // K2 floods: each of its pages pushes out its own oldest
      for (let i = 14; i <= 30; i++) assert.deepEqual(m.deposit(K2, W, page(i), 1000).dropped, 1)
      assert.deepEqual(m.pull(K1, 0, 10, 1000).pages.map(p => p.page[0]), [1, 2, 3])
      assert.deepEqual(m.pull(K2, 0, 10, 1000).pages.map(p => p.page[0]), [28, 29, 30])
      m.close()
      // a group holding more than the depositor gives way
      const n = make({ maxBytes: 500, retentionMs: 60_000 })
      for (let i = 11; i <= 14; i++) n.deposit(K2, W, page(i), 1000)
      n.deposit(K1, W, page(1), 1000)
      const r = n.deposit(K1, W, page(2), 1000)
      assert.deepEqual([r.dropped, r.droppedBytes], [1, 100])
      assert.deepEqual(n.pull(K2, 0, 10, 1000).pages.map(p => p.page[0]), [12, 13, 14])
      assert.deepEqual(n.pull(K1, 0, 10, 1000).pages.map(p => p.page[0]), [1, 2])
      // equal holdings: the depositor's own oldest goes
      n.deposit(K1, W, page(3), 1000)
      assert.deepEqual(n.pull(K1, 0, 10, 1000).pages.map(p => p.page[0]), [2, 3])
      assert.deepEqual(n.usage(), { pages: 5, bytes: 500 })
      n.close()
    })

    it('drops pages past retention', () => {
      const m = make({ maxBytes: 10_000, retentionMs: 1000 })
      m.deposit(K1, W, page(1), 1000)
      m.deposit(K1, W, page(2), 1500)
      assert.deepEqual(m.pull(K1, 0, 10, 2200).pages.map(p => p.page[0]), [2], 'an expired page is never served')
      const r = m.deposit(K1, W, page(3), 2200)
      assert.deepEqual([r.dropped, r.droppedBytes], [1, 100])
      assert.deepEqual(m.usage(), { pages: 2, bytes: 200 })
      m.close()
    })
  })
}

describe('mailbox store: SqliteMailbox file', () => {
  it('keeps its pages across a reopen, with seqs still rising', () => {
    const file = join(dir, 'reopen.db')
    const a = new SqliteMailbox(file, { maxBytes: 10_000, retentionMs: 60_000 })
    const s1 = a.deposit(K1, W, page(1), 1000).seq
    a.close()
    const b = new SqliteMailbox(file, { maxBytes: 10_000, retentionMs: 60_000 })
    assert.deepEqual(b.pull(K1, 0, 10, 1000).pages.map(p => p.seq), [s1])
    assert.ok(b.deposit(K1, W, page(2), 1000).seq > s1)
    b.close()
  })
})
