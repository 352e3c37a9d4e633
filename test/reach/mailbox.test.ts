/**
 * A machine that was off catches up from a mailbox that cannot read it: real processes over
 * loopback. M is `engram relay` with the mailbox on (it holds the group's admission key and
 * another group's, never a seed). B is stopped; A writes triples, deletes some, deposits its
 * sealed pages at M and stops. B then starts knowing only M and converges from the mailbox alone:
 * A's and B's stores dump identically, tombstones included, every record kept with A's
 * signature. M's SQLite files hold none of the written strings or triple ids. A node of the
 * other group gets nothing it can open. A page tampered with in M's file is refused, with a
 * warning, by a node pulling it.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, describe, it } from 'node:test'
import { BIN, closedPort, sandbox, type Sandbox } from '../support/daemon.ts'
import { dumpDifference, dumpFile } from '../support/dumps.ts'
import { eventually } from '../support/eventually.ts'
import { startNode, type Node } from '../sync/daemons.ts'

const SEED = 'mailbox-test-seed-correct-horse-battery-staple-7f3a9e'
const OTHER = 'mailbox-test-other-seed-a-different-group-91c2d4'
const TRIPLES = 10_000
const DELETED = 100

function admissionKey (seed: string, env: Record<string, string>): string {
  const r = spawnSync(process.execPath, [BIN, 'relay', 'key'], { env: { ...env, ENGRAM_P2P_SEED: seed }, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout.trim()
}

interface Relay { child: ChildProcess, out: () => string, err: () => string, stop: () => Promise<void> }

function startRelay (box: Sandbox, port: number, keys: string): Relay {
  const child = spawn(process.execPath, [BIN, 'relay', '--json', '--listen', '127.0.0.1', '--data-dir', join(box.root, 'm')], {
    env: { ...box.env, ENGRAM_P2P_RELAY_ADMISSION_KEYS: keys, ENGRAM_P2P_PORT: String(port), ENGRAM_P2P_MAILBOX_ENABLED: 'true', ENGRAM_LOG_LEVEL: 'debug' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { err += d })
  // 'close': its output is read to the end by then
  const exited = new Promise<void>(resolve => { child.once('close', () => { resolve() }) })
  return { child, out: () => out, err: () => err, stop: async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); await exited } }
}

/** The highest `depositedTo` a node's log reports. */
function depositedTo (n: Node): number {
  return Math.max(0, ...[...n.daemon.stderr().matchAll(/depositedTo=(\d+)/g)].map(m => Number(m[1])))
}

/**
 * The ids (lowercase hex, all of one length) found in `bytes`, as their hex text or as the bytes
 * they stand for: one pass over the bytes for each form, where a search per id (ten thousand of
 * them, over megabytes) took seconds of CPU.
 */
function idsIn (bytes: Buffer, ids: readonly string[]): { hex: string[], binary: string[] } {
  const len = ids[0]!.length
  assert.ok(ids.every(id => id.length === len && /^(?:[0-9a-f]{2})+$/.test(id)) && len >= 8, 'ids of one length, in lowercase hex')
  const wanted = new Set(ids)
  const hex = new Set<string>()
  // every window of `len` hex digits within each run of hex digits
  for (const m of bytes.toString('latin1').matchAll(new RegExp(`[0-9a-f]{${len},}`, 'g'))) {
    for (let i = 0; i + len <= m[0].length; i++) {
      const w = m[0].slice(i, i + len)
      if (wanted.has(w)) hex.add(w)
    }
  }
  // every position of the bytes, looked up by its first four bytes, then compared in full
  const byHead = new Map<number, Buffer[]>()
  for (const id of ids) {
    const b = Buffer.from(id, 'hex')
    const head = b.readUInt32BE(0)
    byHead.set(head, [...(byHead.get(head) ?? []), b])
  }
  const binary = new Set<string>()
  for (let i = 0; i + len / 2 <= bytes.length; i++) {
    for (const b of byHead.get(bytes.readUInt32BE(i)) ?? []) if (bytes.compare(b, 0, b.length, i, i + b.length) === 0) binary.add(b.toString('hex'))
  }
  return { hex: [...hex], binary: [...binary] }
}

async function tripleCount (n: Node): Promise<number> {
  return (await n.client.queryTriples({ predicate: 'ex:fact', limit: 1 })).total
}

describe('mailbox: a stopped node catches up from a relay that cannot read', () => {
  let box: Sandbox
  let relay: Relay
  let relayId: string
  let port: number
  let keys: string
  const running: Node[] = []
  const strings: string[] = []
  const ids: string[] = []
  let dumpA: string[]

  const p2p = (seed: string, p: number): Record<string, Record<string, unknown>> => ({
    p2p: { enabled: true, seed, host: '127.0.0.1', port: p, relays: [`${relayId}@127.0.0.1:${port}`], relayPollMs: 300, gossipIntervalMs: 1000 }
  })
  const start = async (name: string, seed = SEED): Promise<Node> => {
    const n = await startNode(box, name, { config: p2p(seed, await closedPort()) })
    running.push(n)
    return n
  }
  const stop = async (n: Node): Promise<void> => {
    running.splice(running.indexOf(n), 1)
    await n.stop()
  }
  const startM = async (): Promise<void> => {
    relay = startRelay(box, port, keys)
    await eventually(() => /"node_id":\s*"([^"]+)"/.test(relay.out()), () => `the relay's start line (stderr: ${relay.err()})`, { everyMs: 100 })
    relayId = (/"node_id":\s*"([^"]+)"/.exec(relay.out()) as RegExpExecArray)[1] as string
  }

  before(async () => {
    box = sandbox()
    port = await closedPort()
    keys = `${admissionKey(SEED, box.env)},${admissionKey(OTHER, box.env)}`
    await startM()
  })
  after(async () => {
    for (const n of running) await n.kill()
    await relay?.stop()
  })

  it('B, stopped while A wrote and deleted, converges from the mailbox alone', async () => {
    const a = await start('a')
    for (let i = 0; i < TRIPLES; i += 500) {
      const batch = Array.from({ length: 500 }, (_, j) => {
        const s = `mailbox-secret-${i + j}-quokka`
        strings.push(s)
        return { subject: `ex:${s}`, predicate: 'ex:fact', object: `plaintext value ${i + j} walrus` }
      })
      for (const t of (await a.client.addTriples(batch)).triples) ids.push(t.id)
    }
    for (const id of ids.slice(0, DELETED)) await a.client.deleteTriple(id)
    await eventually(() => depositedTo(a) >= TRIPLES + DELETED, () => `A deposits its feed (up to seq ${depositedTo(a)} so far); log:\n${a.daemon.stderr().slice(-3000)}`)
    await stop(a)
    dumpA = dumpFile(a.dataDir)

    const b = await start('b')
    await eventually(async () => await tripleCount(b) === TRIPLES - DELETED, async () => `B holds ${await tripleCount(b)} of ${TRIPLES - DELETED} triples; log:\n${b.daemon.stderr().slice(-3000)}`)
    assert.doesNotMatch(b.daemon.stderr(), /refused a mailbox page/)
    // What came through the mailbox passed B's gate with A's signatures, and is kept signed.
    const { provenance } = await b.client.status() as unknown as { provenance: { unsigned_held: number, refused: { total: number } } }
    assert.deepEqual([provenance.unsigned_held, provenance.refused.total], [0, 0])
    await stop(b)
    const dumpB = dumpFile(b.dataDir)
    assert.deepEqual(dumpB, dumpA, dumpDifference(dumpA, dumpB, ['A', 'B']))
    assert.ok(dumpB.filter(r => r.includes('"deleted":true')).length >= DELETED, 'the deletions reached B')
  })

  it("M's files hold none of the written strings or triple ids", async () => {
    await relay.stop()
    const files = ['mailbox.db', 'mailbox.db-wal'].map(f => join(box.root, 'm', f)).filter(f => existsSync(f))
    assert.ok(files.length > 0)
    const bytes = Buffer.concat(files.map(f => readFileSync(f)))
    assert.ok(bytes.byteLength > TRIPLES * 20, `the mailbox holds the pages (${bytes.byteLength} bytes)`)
    for (const s of ['quokka', 'walrus', 'ex:fact', ...strings.slice(0, 100)]) assert.ok(!bytes.includes(s), `"${s}" in the mailbox's files`)
    const found = idsIn(bytes, ids)
    assert.deepEqual(found.hex, [], 'triple ids in the mailbox\'s files')
    assert.deepEqual(found.binary, [], 'triple ids (binary) in the mailbox\'s files')
    await startM()
  })

  it('a node of another group that M also serves gets nothing it can open', async () => {
    const w = await start('w', OTHER)
    await eventually(() => /using the relay's mailbox/.test(w.daemon.stderr()), () => `W reaches the mailbox; log:\n${w.daemon.stderr().slice(-3000)}`)
    assert.equal(await tripleCount(w), 0)
    assert.match(w.daemon.stderr(), /using the relay's mailbox.* pulled=0/)
    await stop(w)
  })

  it('a page tampered with in the mailbox is refused and logged; the others are applied', async () => {
    await relay.stop()
    const db = new DatabaseSync(join(box.root, 'm', 'mailbox.db'))
    const row = db.prepare('SELECT seq, page FROM pages ORDER BY seq LIMIT 1').get() as { seq: number, page: Uint8Array }
    const page = Buffer.from(row.page)
    page[page.length - 20] = (page[page.length - 20] as number) ^ 0x01
    db.prepare('UPDATE pages SET page = ? WHERE seq = ?').run(page, row.seq)
    db.close()
    await startM()
    const c = await start('c')
    await eventually(() => /using the relay's mailbox/.test(c.daemon.stderr()), () => `C reaches the mailbox; log:\n${c.daemon.stderr().slice(-3000)}`)
    assert.match(c.daemon.stderr(), /refused a mailbox page: it does not open \(tampered, or forged\).*page=\d+/)
    const held = await tripleCount(c)
    assert.ok(held > 0 && held < TRIPLES - DELETED, `C holds the other pages' triples, not the tampered one's (${held})`)
    await stop(c)
  })
})
