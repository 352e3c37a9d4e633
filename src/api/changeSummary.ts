/**
 * What a change event tells a subscriber of GET /api/v1/events: one event per committed batch,
 * with the kinds and keys of the records that changed and the peer they came from (`via`, null
 * for a local write). Pure: built from the engine's ChangeEvent.
 *
 *   {"seq": {"from": 41, "to": 43}, "via": null, "count": 3, "kinds": ["triple"],
 *    "namespaces": ["kg"], "changes": [{"seq": 41, "kind": "triple", "key": "<id>",
 *    "namespace": "kg", "deleted": false, "subject": "kg:Alice"}, …], "truncated": false}
 *
 * A subscriber may ask for some namespaces and kinds only; a batch with nothing it asked for is
 * not sent to it at all. `changes` lists at most `maxKeys` entries (`truncated` says when more
 * changed; `count` is always the full number).
 */
import { INVALID_INPUT } from '../core/errors.ts'
import { RECORD_KINDS, recordKey, recordNamespace, type RecordKind } from '../core/model.ts'
import type { ChangeEvent } from '../engine/Engine.ts'
import type { ChangeItem, ChangeSummary } from './contract.ts'

export type { ChangeItem, ChangeSummary } from './contract.ts'

export interface ChangeFilter {
  /** Only records in these namespaces (absent: all). */
  readonly namespaces?: ReadonlySet<string>
  /** Only these kinds (absent: all). */
  readonly kinds?: ReadonlySet<RecordKind>
}

/** The summary of `event` for a subscriber with `filter`, or undefined when nothing in it matches. */
export function summarizeChange (event: ChangeEvent, filter: ChangeFilter, maxKeys: number): ChangeSummary | undefined {
  const changes: ChangeItem[] = []
  const kinds = new Set<RecordKind>()
  const namespaces = new Set<string>()
  let count = 0
  let from = Infinity
  let to = -Infinity
  for (const { seq, record } of event.entries) {
    const namespace = recordNamespace(record)
    if (filter.kinds !== undefined && !filter.kinds.has(record.kind)) continue
    if (filter.namespaces !== undefined && !filter.namespaces.has(namespace)) continue
    count++
    kinds.add(record.kind)
    namespaces.add(namespace)
    if (seq < from) from = seq
    if (seq > to) to = seq
    if (changes.length < maxKeys) {
      const deleted = (record.kind === 'triple' || record.kind === 'note') && record.deleted
      const item: ChangeItem = { seq, kind: record.kind, key: recordKey(record), namespace, deleted }
      changes.push(record.kind === 'triple' ? { ...item, subject: record.subject } : item)
    }
  }
  if (count === 0) return undefined
  return {
    seq: { from, to },
    via: event.via ?? null,
    count,
    kinds: RECORD_KINDS.filter(k => kinds.has(k)),
    namespaces: [...namespaces].sort(),
    changes,
    truncated: count > changes.length
  }
}

/** `a,b,c` → a set of the non-empty items, or undefined when the parameter is absent. */
function list (text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined
  return text.split(',').map(s => s.trim()).filter(s => s !== '')
}

/** The filter of `?namespaces=kg,project&kinds=triple,note`; an unknown kind is a 400 naming `kinds`. */
export function parseChangeFilter (query: { namespaces?: string, kinds?: string }): ChangeFilter {
  const namespaces = list(query.namespaces)
  const kinds = list(query.kinds)
  for (const k of kinds ?? []) {
    if (!(RECORD_KINDS as readonly string[]).includes(k)) {
      throw INVALID_INPUT('kinds', `${JSON.stringify(k)} is not a record kind; use a comma-separated list of ${RECORD_KINDS.join(', ')}`)
    }
  }
  return {
    namespaces: namespaces === undefined ? undefined : new Set(namespaces),
    kinds: kinds === undefined ? undefined : new Set(kinds as RecordKind[])
  }
}
