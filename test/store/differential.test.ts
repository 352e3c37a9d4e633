/**
 * MemoryStore and SqliteStore side by side: one seeded random sequence of operations (batches of
 * every kind with peers, cursors and resolvers, knowledge learnt, Rule A, records held aside,
 * released and voided; feed pages with filters; queries; listings; full-text searches, scores
 * included, and index rebuilds; tombstone collection with and without a stable mark) runs on
 * both, and every answer must be identical. On failure
 * the seed is in the message; rerun with ENGRAM_SEED=<seed>.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { recordKey, type MemoryRecord, type RecordKind, type Term } from '../../src/core/model.ts'
import { parseQuery } from '../../src/text/query.ts'
import type { NodeId } from '../../src/core/ids.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import type { ApplyOptions, ConflictResolver, Store } from '../../src/store/Store.ts'
import { A, at, B, C, episode, mark, note, noteTomb, tomb, trace, triple } from './conformance/fixtures.ts'
import { mulberry32 } from '../../src/util/random.ts'

const SUBJECTS = ['user:alice', 'user:bob', 'org:x', 'plain', 'user:\uE000', 'user:\u{1F600}', 'a:b:c']
const PREDICATES = ['knows', 'likes', 'is']
const OBJECTS: Term[] = [
  { kind: 'node', value: 'user:bob' }, { kind: 'string', value: 'user:bob' }, { kind: 'number', value: 1 },
  { kind: 'boolean', value: true }, { kind: 'lang', value: 'hi', lang: 'en' }, { kind: 'json', value: { z: 1, a: [null] } }
]
const KEYS = ['cfg:a', 'cfg:b', 'x', 'cfg:\u{1F600}', 'other:k']
const NODES: NodeId[] = [A, B, C]
const KINDS: RecordKind[] = ['triple', 'note', 'episode', 'trace']

const SEARCHES = ['user', 'bob', 'alice knows', '"user bob"', 'cfg*', 'hi OR likes', 'user -bob', 'a b c', 'n OR t', '(x OR plain) is']

const RESOLVERS = 5
/**
 * Resolver number `which`: none, keep current, take incoming, default (null), or one that
 * throws or picks a side as `decisions` say (one decision per call).
 */
function resolver (which: number, decisions: readonly number[]): ConflictResolver | undefined {
  let i = 0
  switch (which) {
    case 0: return undefined
    case 1: return (current) => current
    case 2: return (_current, incoming) => incoming
    case 3: return () => null
    default: return (current, incoming) => {
      const d = decisions[i++ % decisions.length]!
      if (d < 0.15) throw new Error('resolver failed')
      return d < 0.6 ? current : incoming
    }
  }
}

/** The outcome of a call: its value, or the error code it threw. */
function outcome (fn: () => unknown): unknown {
  try {
    return { ok: fn() }
  } catch (e) {
    return { error: (e as { code?: string }).code ?? String(e) }
  }
}

it('MemoryStore and SqliteStore give identical answers to one random workload', () => {
  const seed = Number(process.env.ENGRAM_SEED ?? Math.floor(Math.random() * 2 ** 31))
  const rnd = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const int = (n: number): number => Math.floor(rnd() * n)
  const dir = mkdtempSync(join(tmpdir(), 'engram-diff-'))
  const memory = new MemoryStore()
  const sqlite = SqliteStore.open(join(dir, 'diff.db'))
  let wall = 1000
  const stamp = (): ReturnType<typeof at> => at(wall - int(40), int(3), pick(NODES))
  const record = (): MemoryRecord => {
    const hlc = stamp()
    switch (pick(KINDS)) {
      case 'triple': {
        const t = triple(pick(SUBJECTS), pick(PREDICATES), pick(OBJECTS), hlc)
        return rnd() < 0.3 ? tomb(t, hlc) : t
      }
      case 'note': return rnd() < 0.25 ? noteTomb(pick(KEYS), hlc) : note(pick(KEYS), pick([1, 'v', { a: 1 }, [2]]), hlc)
      case 'episode': return episode(pick(KEYS), { n: int(3) }, hlc)
      case 'trace': return trace(pick(KEYS), 't', int(3), hlc)
    }
  }
  /** Runs `fn` on both stores; every random choice must be drawn before, never inside `fn`. */
  const both = (label: string, fn: (s: Store) => unknown): void => {
    const m = outcome(() => fn(memory))
    const q = outcome(() => fn(sqlite))
    assert.deepEqual(q, m, `${label} differs (seed ${seed}; rerun with ENGRAM_SEED=${seed})`)
  }
  try {
    for (let step = 0; step < 600; step++) {
      wall += int(5)
      const op = int(10)
      if (op < 4) {
        const batch = Array.from({ length: 1 + int(12) }, record)
        const via = rnd() < 0.5 ? undefined : pick([B, C])
        const which = int(RESOLVERS)
        const decisions = Array.from({ length: batch.length }, () => rnd())
        const known = via !== undefined && rnd() < 0.4 ? new Map(NODES.map(n => [n, mark(wall - int(60), int(3))])) : undefined
        const learn = via !== undefined && rnd() < 0.4 ? [{ node: pick(NODES), wall: wall - int(80), counter: int(3) }] : undefined
        const voids = rnd() < 0.1 ? [{ node: pick(NODES), generation: 1 + int(3), wall: wall + int(200), counter: int(3) }] : undefined
        const far = (r: MemoryRecord, hlc: ReturnType<typeof at>): MemoryRecord => r.kind === 'trace' ? trace(r.runId, r.type, r.data, hlc) : { ...r, hlc }
        const hold = via !== undefined && rnd() < 0.4 ? { records: Array.from({ length: 1 + int(3) }, () => far(record(), at(wall + 100 + int(300), int(3), pick(NODES)))), at: step } : undefined
        const due = rnd() < 0.3 ? sqlite.held({ limit: 3, upToWall: wall + 100 + int(300) }) : []
        const opts = {
          clock: mark(wall, int(5)),
          via,
          cursor: via === undefined ? undefined : { peer: via, seq: step },
          ...(known !== undefined ? { known } : {}),
          ...(learn !== undefined ? { learn } : {}),
          ...(voids !== undefined ? { voids } : {}),
          ...(hold !== undefined ? { hold } : {}),
          ...(due.length > 0 ? { release: due.map(h => h.id) } : {})
        }
        batch.push(...due.map(h => h.record))
        // Each store gets its own resolver making the same decisions in the same order.
        const withResolver = (): ApplyOptions => ({ ...opts, resolve: resolver(which, decisions) })
        const m = outcome(() => memory.apply(batch, withResolver()))
        const q = outcome(() => sqlite.apply(batch, withResolver()))
        assert.deepEqual(q, m, `apply differs at step ${step} (seed ${seed}; rerun with ENGRAM_SEED=${seed})`)
      } else if (op < 6) {
        const after = int(wall - 990)
        const kinds = rnd() < 0.3 ? KINDS.filter(() => rnd() < 0.6) : undefined
        const namespaces = rnd() < 0.3 ? [pick(['user', 'cfg', '', 'org', 'a'])] : undefined
        const excludeVia = rnd() < 0.3 ? pick(NODES) : undefined
        const limit = 1 + int(8)
        both(`changesSince step ${step}`, s => s.changesSince(after, { limit, kinds, namespaces, excludeVia }))
      } else if (op < 8) {
        const pattern = {
          subject: rnd() < 0.3 ? pick(SUBJECTS) : undefined,
          predicate: rnd() < 0.3 ? pick(PREDICATES) : undefined,
          object: rnd() < 0.3 ? pick(OBJECTS) : undefined,
          namespace: rnd() < 0.2 ? pick(['user', '', 'a', 'a:b']) : undefined,
          includeDeleted: rnd() < 0.3
        }
        const page = { limit: int(10), offset: int(10) }
        both(`queryTriples step ${step}`, s => s.queryTriples(pattern, page))
      } else if (op < 9 && rnd() < 0.5) {
        const q = parseQuery(pick(SEARCHES))
        const kinds = rnd() < 0.3 ? KINDS.filter(() => rnd() < 0.6) : undefined
        const namespace = rnd() < 0.3 ? pick(['user', 'cfg', '', 'a']) : undefined
        const limit = int(8)
        both(`searchText step ${step}`, s => {
          const r = s.searchText({ query: q, kinds, namespace, limit })
          return { ...r, hits: r.hits.map(h => [h.record.kind, recordKey(h.record), h.seq, h.score]) }
        })
        if (rnd() < 0.1) {
          const slice = 1 + int(6)
          both(`text rebuild step ${step}`, s => [s.startTextRebuild(), s.continueTextRebuild(slice), s.continueTextRebuild(slice)])
        } else if (rnd() < 0.3) {
          const slice = 1 + int(20)
          both(`text rebuild continued step ${step}`, s => s.continueTextRebuild(slice))
        }
      } else if (op < 9) {
        const prefix = rnd() < 0.5 ? pick(['cfg:', 'c', 'x', '', 'cfg:\u{1F600}']) : undefined
        const runId = rnd() < 0.5 ? pick(KEYS) : undefined
        const pages = Array.from({ length: 3 }, () => ({ limit: 1 + int(5), offset: int(3) }))
        both(`listings step ${step}`, s => [
          s.listNotes({ prefix, ...pages[0]! }),
          s.listEpisodes({ prefix, ...pages[1]! }),
          s.listTraces({ runId, ...pages[2]! })
        ])
      } else {
        const before = wall - 60 + int(40)
        const upTo = rnd() < 0.5 ? mark(wall - int(80), int(3)) : undefined
        both(`collectTombstones step ${step}`, s => s.collectTombstones(before, upTo))
      }
      if (step % 50 === 0) {
        both(`state step ${step}`, s => [s.dump(), s.stats(), s.clockMark(), s.getCursor(B), s.getCursor(C), s.knowledge(), s.voids(), s.held({ limit: 1000 }), s.heldOrigins()])
      }
    }
    both('final state', s => [s.dump(), s.stats(), s.clockMark(), s.getCursor(B), s.getCursor(C), s.textIndex(), s.knowledge(), s.voids(), s.held({ limit: 1000 }), s.heldOrigins()])
    assert.equal(sqlite.integrityCheck(), 'ok')
  } finally {
    memory.close()
    sqlite.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
