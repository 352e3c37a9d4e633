/**
 * PageIntake (src/sync/native/PageIntake.ts): pages wait in order to be checked and applied; a
 * page that arrives while MAX_QUEUED_PAGES wait is dropped and counted, the session is not
 * failed, and pages are taken again once the queue has room.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ChangesMessage, UncheckedChanges } from '../../src/protocol/native/messages.ts'
import { MAX_QUEUED_PAGES, PageIntake } from '../../src/sync/native/PageIntake.ts'

const page = (n: number): UncheckedChanges => ({ t: 'changes', from: n, to: n + 1, more: true, nodes: [], unchecked: [], batches: [] })

describe('PageIntake', () => {
  it(`drops a page past ${MAX_QUEUED_PAGES} waiting, without failing the session, and takes pages again once they are applied`, async () => {
    const applied: number[] = []
    const failures: unknown[] = []
    const drops: number[] = []
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    const intake = new PageIntake({
      isOpen: () => true,
      apply: (msg: ChangesMessage) => { applied.push(msg.from) },
      // signatures checked slowly: the pages wait
      verify: async () => { await gate },
      fail: async e => { failures.push(e) },
      onDrop: dropped => { drops.push(dropped) }
    })
    for (let n = 0; n < MAX_QUEUED_PAGES + 3; n++) intake.push(page(n))
    assert.equal(intake.dropped, 3)
    assert.deepEqual(drops, [1, 2, 3])
    release()
    const deadline = Date.now() + 30_000
    while (applied.length < MAX_QUEUED_PAGES && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
    assert.deepEqual(applied, Array.from({ length: MAX_QUEUED_PAGES }, (_, n) => n), 'the pages that waited are applied in order; the dropped ones are not')
    intake.push(page(100))
    while (applied.length < MAX_QUEUED_PAGES + 1 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
    assert.equal(applied.at(-1), 100, 'a page is taken again once the queue has room')
    assert.deepEqual(failures, [])
    assert.equal(intake.dropped, 3)
  })
})
