/**
 * Random changes for the window-index tests (window.test.ts, window-restart.test.ts): local
 * writes and deletes of every kind, remote states of any age within the TTL (tombstones too),
 * and clock steps forward and back.
 */
import fc from 'fast-check'
import { isEngramError } from '../../src/core/errors.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { makeTriple, recordToPlain } from '../../src/core/records.ts'
import type { Engine } from '../../src/engine/Engine.ts'

const REMOTE = asNodeId('node-b')

export type WindowOp =
  | { op: 'add', s: number, o: number }
  | { op: 'delete', s: number, o: number }
  | { op: 'note', key: number, value: number }
  | { op: 'unnote', key: number }
  | { op: 'episode', id: number, value: number }
  | { op: 'trace', value: number }
  | { op: 'remote', s: number, o: number, age: number, deleted: boolean }
  | { op: 'clock', ms: number }

/** One random change, for a node whose tombstone TTL is `ttlMs`. */
export function windowOp (ttlMs: number): fc.Arbitrary<WindowOp> {
  return fc.oneof(
    fc.record({ op: fc.constant('add' as const), s: fc.nat(4), o: fc.nat(2) }),
    fc.record({ op: fc.constant('delete' as const), s: fc.nat(4), o: fc.nat(2) }),
    fc.record({ op: fc.constant('note' as const), key: fc.nat(3), value: fc.nat(5) }),
    fc.record({ op: fc.constant('unnote' as const), key: fc.nat(3) }),
    fc.record({ op: fc.constant('episode' as const), id: fc.nat(2), value: fc.nat(5) }),
    fc.record({ op: fc.constant('trace' as const), value: fc.nat(5) }),
    fc.record({ op: fc.constant('remote' as const), s: fc.nat(4), o: fc.nat(2), age: fc.integer({ min: 0, max: ttlMs }), deleted: fc.boolean() }),
    fc.record({ op: fc.constant('clock' as const), ms: fc.integer({ min: -ttlMs / 4, max: ttlMs / 2 }) })
  )
}

export const windowTriple = (s: number, o: number): { subject: string, predicate: string, object: string } => ({ subject: `user:s${s}`, predicate: 'knows', object: `o${o}` })

/** Applies one change through the engine (a remote state as from node-b), or steps the clock. */
export function applyWindowOp (nd: { engine: Engine, clock: { now: number } }, o: WindowOp): void {
  const ignoreNotFound = (fn: () => unknown): void => {
    try { fn() } catch (e) { if (!isEngramError(e) || e.code !== 'NOT_FOUND') throw e }
  }
  switch (o.op) {
    case 'add': nd.engine.addTriples([windowTriple(o.s, o.o)]); break
    case 'delete': ignoreNotFound(() => {
      const t = windowTriple(o.s, o.o)
      nd.engine.deleteTriples({ subject: t.subject, object: { kind: 'string', value: t.object } })
    }); break
    case 'note': nd.engine.setNote(`n:${o.key}`, { v: o.value }); break
    case 'unnote': ignoreNotFound(() => nd.engine.deleteNote(`n:${o.key}`)); break
    case 'episode': nd.engine.putEpisode({ id: `ep:${o.id}`, data: { v: o.value } }); break
    case 'trace': nd.engine.appendTraces([{ runId: 'run:1', type: 'step', data: o.value }]); break
    case 'remote': {
      const t = windowTriple(o.s, o.o)
      const r = makeTriple({ subject: t.subject, predicate: t.predicate, object: { kind: 'string', value: t.object } },
        { wall: nd.clock.now - o.age, counter: 0, node: REMOTE }, o.deleted)
      nd.engine.applyRemote([recordToPlain(r)], { via: REMOTE })
      break
    }
    case 'clock': nd.clock.now += o.ms; break
  }
}
