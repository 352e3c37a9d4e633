/**
 * The page checks' worker thread (src/node/WorkerPageChecker.ts, pageCheckWorker.ts): it checks a
 * page as the in-process twin does, the page's bytes handed over rather than copied; and every wait
 * on it is bounded — a worker that dies or hangs mid-copy fails the pages it held with a clear error,
 * the session that waited fails and the node dials again, and the copy completes (after repeated
 * failures, with the checks back on the main thread) rather than hanging.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { isEngramError } from '../../src/core/errors.ts'
import { makeTriple } from '../../src/core/records.ts'
import { NodeKeyVerifier, newSigningIdentity } from '../../src/node/keys.ts'
import { MAX_FAILURES, MIN_WORKER_LEFT, WorkerPageChecker } from '../../src/node/WorkerPageChecker.ts'
import { encodeMessage, frameBody } from '../../src/protocol/native/messages.ts'
import { sealBatch } from '../../src/core/signing.ts'
import { InlinePageChecker } from '../../src/sync/native/InlinePageChecker.ts'
import { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { eventually } from '../support/eventually.ts'
import { sameDumps, simNode, type SimNode } from '../native/helpers.ts'

const DYING = new URL('../support/dyingPageCheckWorker.ts', import.meta.url)
const SILENT = new URL('../support/silentPageCheckWorker.ts', import.meta.url)

const checkers: WorkerPageChecker[] = []
const running: SimNode[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map(n => n.sync.stop()))
  await Promise.all(checkers.splice(0).map(c => c.close()))
})

function checker (opts: ConstructorParameters<typeof WorkerPageChecker>[0]): WorkerPageChecker {
  const c = new WorkerPageChecker(opts)
  checkers.push(c)
  return c
}

const body = (n: number): Uint8Array => {
  const node = asNodeId('n1')
  const records = Array.from({ length: n }, (_, i) => makeTriple({ subject: `user:u${i}`, predicate: 'rel:p', object: { kind: 'string', value: `v${i}` } }, { wall: 1_790_000_000_000, counter: i, node }))
  return frameBody(encodeMessage({ t: 'changes', from: 0, to: n, more: true, records }))
}

describe('the page checks\' worker thread', () => {
  it('checks a page as the in-process twin does, its bytes handed over, not copied', async () => {
    const id = await newSigningIdentity()
    const records = Array.from({ length: 300 }, (_, i) => makeTriple({ subject: `user:u${i}`, predicate: 'rel:p', object: { kind: 'string', value: `v${i}` } }, { wall: 1_790_000_000_000, counter: i, node: id.node }))
    const s = sealBatch(records, id.signer, { wall: 1_790_000_000_000, counter: 299 })
    const seals = { batches: [{ signer: s.header.signer, at: s.header.at, n: s.header.n, sig: s.sig, proof: [] }], refs: records.map((_, leaf) => ({ batch: 0, leaf })) }
    const page = frameBody(encodeMessage({ t: 'changes', from: 0, to: 300, more: false, records, seals }))
    const worker = checker({ verify: true })
    assert.equal(worker.started, 0, 'no thread before the first page')
    assert.equal(worker.minLeft, MIN_WORKER_LEFT, 'a running node\'s worker takes pages of a large catch-up only')
    const sent = page.slice()
    const [fromWorker, inline] = await Promise.all([worker.check(sent), new InlinePageChecker(new NodeKeyVerifier()).check(page.slice())])
    assert.equal(sent.byteLength, 0, 'the page\'s buffer was handed to the worker')
    assert.deepEqual(fromWorker, inline)
    assert.ok(fromWorker.ok && fromWorker.page.verified?.checks.every(c => c?.ok === true))
    assert.equal(worker.started, 1)
    const bad = await worker.check(new Uint8Array([0xc1]))
    assert.ok(!bad.ok && bad.during === 'decode' && bad.error.code === 'PROTOCOL', 'a refusal is an answer, not a failure of the worker')
    assert.equal(worker.started, 1)
  })

  it('a worker that dies mid-page rejects what it held with a clear error, and the next page starts another', async () => {
    const worker = checker({ verify: false, workerUrl: DYING })
    const pages = [worker.check(body(10)), worker.check(body(10))]
    for (const p of pages) {
      await assert.rejects(p, (e: unknown) => isEngramError(e) && e.code === 'INTERNAL' && /worker exited \(code 3\)/.test(e.message))
    }
    await assert.rejects(worker.check(body(10)), /worker exited/)
    assert.equal(worker.started, 2)
  })

  it('a worker that answers nothing is stopped after its time limit: TIMEOUT, not a hang', async () => {
    const worker = checker({ verify: false, workerUrl: SILENT, timeoutMs: 300 })
    const started = Date.now()
    await assert.rejects(worker.check(body(10)), (e: unknown) => isEngramError(e) && e.code === 'TIMEOUT')
    assert.ok(Date.now() - started < 30_000)
  })

  it(`after ${MAX_FAILURES} failures in a row, pages are checked on the main thread again`, async () => {
    const worker = checker({ verify: false, workerUrl: DYING, minBytes: 0 })
    assert.equal(worker.minBytes, 0)
    for (let i = 0; i < MAX_FAILURES; i++) await assert.rejects(worker.check(body(5)), /worker exited/)
    assert.equal(worker.minBytes, Number.POSITIVE_INFINITY)
  })

  for (const [what, url] of [['dies', DYING], ['hangs', SILENT]] as const) {
    it(`a copy whose worker ${what} on every page ends in a clear error and a retry, and completes`, async () => {
      const net = new MemoryNetwork()
      const a = simNode(net, 'a')
      const pages = checker({ verify: false, workerUrl: url, minBytes: 0, minLeft: 0, timeoutMs: 500 })
      const b = simNode(net, 'b', { pageChecker: pages })
      running.push(a, b)
      a.engine.addTriples(Array.from({ length: 450 }, (_, i) => ({ subject: `user:u${i}`, predicate: 'rel:p', object: `v${i}` })))
      await a.sync.start()
      await b.sync.start()
      b.sync.addPeer(`mem:${a.id}`)
      await eventually(() => b.store.stats().triples === 450, () => `B holds ${b.store.stats().triples} of 450 triples`)
      assert.ok(sameDumps([a, b]), 'identical dumps')
      assert.ok(b.logs.some(l => (what === 'dies' ? /worker exited \(code 3\)/ : /timeout: .*worker answering/).test(l)), 'the session\'s failure names the worker')
      assert.ok(pages.started >= 1, 'the pages after the first went to the worker')
    })
  }

  it('a copy through the worker completes, the pages after its first checked beside the main thread', async () => {
    const net = new MemoryNetwork()
    const [ia, ib] = await Promise.all([newSigningIdentity(), newSigningIdentity()])
    const a = simNode(net, ia.node, { identity: ia })
    const pages = checker({ verify: true, minBytes: 0, minLeft: 0 })
    const b = simNode(net, ib.node, { identity: ib, pageChecker: pages })
    running.push(a, b)
    a.engine.addTriples(Array.from({ length: 450 }, (_, i) => ({ subject: `user:u${i}`, predicate: 'rel:p', object: `v${i}` })))
    await a.sync.start()
    await b.sync.start()
    b.sync.addPeer(`mem:${a.id}`)
    await eventually(() => b.store.stats().triples === 450, () => `B holds ${b.store.stats().triples} of 450 triples`)
    assert.ok(sameDumps([a, b]), 'identical dumps')
    assert.equal(pages.started, 1)
    assert.equal(b.engine.provenance.counters.signedAccepted, 450)
  })
})
