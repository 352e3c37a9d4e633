/**
 * Crash safety: a child process (crash-writer.ts) writes batches of triples through Engine +
 * SqliteStore and acknowledges each after addTriples returns; we kill it with SIGKILL at random
 * moments, round after round on the same file. After every kill the file must pass SQLite's
 * integrity check, hold every acknowledged batch in full, and hold no batch in part.
 * Seeded: the seed is in every failure message; rerun with ENGRAM_SEED=<seed>.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { it } from 'node:test'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import { mulberry32 } from '../../src/util/random.ts'
import { runAndKill } from './killWriter.ts'

const ROUNDS = 10
const BATCH = 1000
const ROUND_DEADLINE_MS = 30_000
const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url))

/**
 * Runs the writer until it has acknowledged `acks` batches, lets it go on for `extraMs` more
 * (a random moment inside the next batches: validating, writing or committing), then kills it.
 */
async function runAndKillWriter (file: string, first: number, acks: number, extraMs: number, fail: (why: string) => never): Promise<number[]> {
  const ackedIn = (lines: readonly string[]): number[] => lines.filter(l => l.startsWith('ack ')).map(l => Number(l.slice(4)))
  const lines = await runAndKill({
    script: WRITER,
    args: [file, String(first), String(BATCH)],
    reached: lines => lines.includes('ready') && ackedIn(lines).length >= acks,
    got: lines => `the writer acknowledged ${ackedIn(lines).length} of ${acks} batches`,
    extraMs,
    deadlineMs: ROUND_DEADLINE_MS,
    fail
  })
  return ackedIn(lines)
}

it('acknowledged batches survive SIGKILL, no batch is ever partial, the file stays intact', { timeout: 300_000 }, async () => {
  const seed = Number(process.env.ENGRAM_SEED ?? Math.floor(Math.random() * 2 ** 31))
  const rnd = mulberry32(seed)
  const fail = (why: string): never => assert.fail(`${why} (seed ${seed}; rerun with ENGRAM_SEED=${seed})`)
  const dir = mkdtempSync(join(tmpdir(), 'engram-crash-'))
  const file = join(dir, 'crash.db')
  const acked = new Set<number>()
  let next = 0
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const acks = Math.floor(rnd() * 8)
      const extraMs = rnd() * 40
      for (const b of await runAndKillWriter(file, next, acks, extraMs, fail)) acked.add(b)

      const store = SqliteStore.open(file)
      try {
        const check = store.integrityCheck()
        if (check !== 'ok') fail(`round ${round}: integrity_check says ${check}`)
        const { triples, total } = store.queryTriples({ namespace: 'crash' }, { limit: 10_000_000, offset: 0 })
        const perBatch = new Map<number, number>()
        for (const t of triples) {
          const b = Number(t.subject.slice('crash:b'.length))
          perBatch.set(b, (perBatch.get(b) ?? 0) + 1)
        }
        for (const [b, n] of perBatch) if (n !== BATCH) fail(`round ${round}: batch ${b} is partial (${n} of ${BATCH} triples)`)
        for (const b of acked) if (!perBatch.has(b)) fail(`round ${round}: acknowledged batch ${b} is missing`)
        const stats = store.stats()
        if (stats.triples !== total || stats.lastSeq !== total) {
          fail(`round ${round}: stats (${stats.triples} triples, last seq ${stats.lastSeq}) disagree with the ${total} triples stored`)
        }
        next = Math.max(next, ...perBatch.keys(), ...acked) + 1
      } finally {
        store.close()
      }
    }
    assert.ok(acked.size > 0, `some batches were acknowledged (seed ${seed})`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
