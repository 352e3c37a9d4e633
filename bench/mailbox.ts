/**
 * The mailbox (docs/DISCOVERY.md "Mailbox"): catching up from it against catching up directly
 * from a peer, in one run, with real SQLite stores and a real `mailbox.db` in a temporary
 * directory (removed afterwards). Everything runs in this one process.
 *
 *  - mailbox_deposit_triples_per_s: a writer holding `rows` triples (100,000 by default) deposits
 *    them, sealed in pages of the node's default size (500 records), until all are held.
 *  - mailbox_catchup_triples_per_s: a member with an empty store pulls, opens, checks and applies
 *    every page (MailboxSync, as a node does on its first round after being off), from the
 *    first request until the last page is committed (the round's deposit step included: it walks
 *    the member's feed, now holding the writer's records, and deposits none of them). The
 *    exchange calls the mailbox's answer (MailboxHost over SqliteMailbox) directly: its frames
 *    cross no socket, which on loopback costs little next to opening and applying (the direct
 *    figure's socket is QUIC on 127.0.0.1).
 *  - direct_catchup_triples_per_s: another member with an empty store connects to the writer over
 *    QUIC on loopback and receives the same triples by native sync's cursor stream (pages of
 *    sync.maxTriplesPerSync's default, 5,000), from the dial until the last page is committed.
 *  - mailbox_catchup_ratio = mailbox / direct, both measured in this run (goal ≥ 0.5).
 *  - mailbox_bytes_per_triple: sealed page bytes the mailbox holds, per triple;
 *    mailbox_file_bytes_per_triple: the size of mailbox.db (checkpointed) per triple.
 *
 * Each catch-up runs twice, alternately (mailbox, direct, mailbox, direct), into fresh stores, and
 * the faster of each is kept.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { asNodeId } from '../src/core/ids.ts'
import { seedKeysFromRoot } from '../src/core/seedKeys.ts'
import { Engine } from '../src/engine/Engine.ts'
import { SqliteMailbox } from '../src/store/mailbox/SqliteMailbox.ts'
import { SqliteStore } from '../src/store/sqlite/SqliteStore.ts'
import { MailboxHost } from '../src/sync/mailbox/MailboxHost.ts'
import { MailboxSync } from '../src/sync/mailbox/MailboxSync.ts'
import { createLogger } from '../src/util/log.ts'
import { node, round2, SETTINGS, stopAll, until, type BenchNode } from './native.ts'
import { benchInput } from './store.ts'

const KEYS = seedKeysFromRoot(new Uint8Array(32).fill(9))
const LOG = createLogger({ level: 'error' })

function member (engine: Engine, host: MailboxHost): MailboxSync {
  return new MailboxSync({
    engine,
    keys: KEYS,
    log: LOG,
    intervalMs: 60_000,
    link: { relays: () => ['relay'], exchange: async (_relay, request) => host.answer(engine.node, request) }
  })
}

/** Rounds until one deposits nothing more; returns the seconds taken. */
async function depositAll (sync: MailboxSync): Promise<number> {
  const t0 = performance.now()
  for (let i = 0, last = -1; i < 10_000 && sync.counts.deposited !== last; i++) {
    last = sync.counts.deposited
    await sync.round()
  }
  return (performance.now() - t0) / 1000
}

export async function benchMailbox (opts: { rows?: number } = {}): Promise<Record<string, number>> {
  const rows = opts.rows ?? 100_000
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-mailbox-'))
  const nodes: BenchNode[] = []
  const stores: SqliteStore[] = []
  const boxFile = join(dir, 'mailbox.db')
  const box = new SqliteMailbox(boxFile, { maxBytes: 2 ** 40, retentionMs: 3_600_000 })
  try {
    const host = new MailboxHost(box, LOG)
    const writer = await node(dir, 'writer', { current: SETTINGS })
    nodes.push(writer)
    for (let i = 0; i < rows; i += 10_000) writer.engine.addTriples(Array.from({ length: Math.min(10_000, rows - i) }, (_, j) => benchInput(i + j)))
    writer.sync.status()
    const depositS = await depositAll(member(writer.engine, host))
    const held = box.usage()

    // each catch-up twice, alternately, into fresh stores; the faster of each kept (a slow moment
    // of a shared machine then cannot decide the ratio)
    const fromMailbox = async (n: number): Promise<number> => {
      const store = SqliteStore.open(join(dir, `from-mailbox-${n}.db`), { synchronous: 'normal' })
      stores.push(store)
      const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
      const reader = member(new Engine({ store, node: asNodeId(id), maxDriftMs: 60_000 }), host)
      const t0 = performance.now()
      await reader.round()
      const s = (performance.now() - t0) / 1000
      if (store.stats().triples !== rows) throw new Error(`the mailbox catch-up applied ${store.stats().triples} of ${rows} triples`)
      return s
    }
    const fromWriter = async (n: number): Promise<number> => {
      const direct = await node(dir, `direct-${n}`, { current: SETTINGS })
      nodes.push(direct)
      const t0 = performance.now()
      direct.sync.addPeer(writer.transport.listenAddrs()[0]!)
      await until('the direct catch-up', 600_000, () => direct.store.stats().triples >= rows)
      const s = (performance.now() - t0) / 1000
      await direct.sync.stop()
      return s
    }
    const [m1, d1] = [await fromMailbox(1), await fromWriter(1)]
    const [m2, d2] = [await fromMailbox(2), await fromWriter(2)]
    const boxS = Math.min(m1, m2)
    const directS = Math.min(d1, d2)
    box.close()
    const fileBytes = statSync(boxFile).size
    return {
      mailbox_rows: rows,
      mailbox_pages: held.pages,
      mailbox_deposit_triples_per_s: Math.round(rows / depositS),
      mailbox_catchup_triples_per_s: Math.round(rows / boxS),
      direct_catchup_triples_per_s: Math.round(rows / directS),
      mailbox_catchup_ratio: round2(directS / boxS),
      mailbox_bytes_per_triple: round2(held.bytes / rows),
      mailbox_file_bytes_per_triple: round2(fileBytes / rows)
    }
  } finally {
    box.close()
    await stopAll(nodes)
    for (const s of stores) s.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = process.argv[2] === undefined ? undefined : Number(process.argv[2])
  const figures = await benchMailbox(rows === undefined ? {} : { rows })
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(30)} ${v}\n`)
}
