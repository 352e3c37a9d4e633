/**
 * Resolving a listed keep-both conflict (POST /api/v1/sync/conflicts/:id/resolve, engram
 * conflicts resolve): the chosen value is written as a new local write, which then replicates
 * like any other and makes the conflict stale on every node that lists it. Notes: the chosen
 * value is written again with a new stamp. Triples: the other triple is deleted and the chosen
 * one kept (added back if it was deleted meanwhile). The entry then leaves the list.
 */
import { NOT_FOUND } from '../core/errors.ts'
import type { Engine } from '../engine/Engine.ts'
import type { ConflictEntry, ConflictLog } from '../replication/conflicts.ts'

export function resolveConflict (engine: Engine, log: ConflictLog, id: string, keep: 'kept' | 'other'): ConflictEntry {
  const c = log.list().find(e => e.id === id)
  if (c === undefined) throw NOT_FOUND('conflict', id)
  const chosen = (keep === 'kept' ? c.kept : c.other) as Record<string, unknown>
  if (c.kind === 'note') {
    engine.setNote(chosen.key, chosen.value)
  } else {
    const loser = (keep === 'kept' ? c.other : c.kept) as { id: string }
    if (engine.getTriple(loser.id as never) !== undefined) engine.deleteTriple(loser.id)
    engine.addTriples([{ subject: chosen.subject, predicate: chosen.predicate, object: chosen.object }])
  }
  log.remove(id)
  return c
}
