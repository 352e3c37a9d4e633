/**
 * The expired-cursor rule (docs/SYNC.md, "Deletes that stay deleted").
 *
 * Tombstones are collected after the TTL. A node whose cursor on a peer is older than that
 * peer's feed floor may have missed deletions whose tombstones are gone; the peer then serves it
 * a full snapshot and tells it `peerCursor`, how much of *this* node's feed the peer has seen.
 *
 * A live triple or note here that the peer has already seen — its current state's seq ≤
 * peerCursor, or its stamp covered by the knowledge vector the snapshot's last page carries
 * (core/knowledge.ts: the peer holds every state of that origin up to there, or held it and
 * deleted it) — that both sides sync (its namespace is in both selections), and that is absent
 * from the peer's snapshot was deleted there and its tombstone collected. It is deleted here
 * too, with a tombstone carrying the record's own stamp (a delete wins a tie), so the old copy
 * is never sent back as if it were new. This node signs those tombstones as derived deletions
 * (core/signing.ts). Notes of the system namespace are left alone: only their author deletes
 * them. Records the peer has not yet seen are new data and are kept: a node that wrote while
 * offline loses nothing. The vector covers what came to the peer by relay too, so a node that
 * returns after the tombstones of its records were collected gives them up whichever peer it
 * reaches first.
 *
 * Both carriers receive snapshots through `SnapshotPass`: it collects the keys of every page
 * (`snapshotKey`, the one format of them) and applies the rule after the last one.
 */
import type { NodeId } from '../core/ids.ts'
import { asKnowledge, covers, type Knowledge, type SentKnowledgeEntry } from '../core/knowledge.ts'
import type { MemoryRecord } from '../core/model.ts'
import { recordNamespace } from '../core/model.ts'
import { isSystemRecord } from '../core/system.ts'
import type { Engine } from '../engine/Engine.ts'
import type { ApplyOptions } from '../store/Store.ts'

/** The key a snapshot record is remembered by: `t:<triple id>`, `n:<note key>`; other kinds have none. */
export function snapshotKey (r: MemoryRecord): string | undefined {
  return r.kind === 'triple' ? `t:${r.id}` : r.kind === 'note' ? `n:${r.key}` : undefined
}

/** One snapshot being received from a peer: the keys seen so far, and what the peer said about us. */
export class SnapshotPass {
  readonly seenKeys = new Set<string>()
  /** How much of this node's feed the peer has seen (the snapshot's `peerCursor`). */
  readonly peerCursor: number
  /** Namespaces the peer pulls from this node (undefined: all). */
  readonly theirs: readonly string[] | undefined

  constructor (peerCursor: number, theirs?: readonly string[] | null) {
    this.peerCursor = peerCursor
    this.theirs = theirs ?? undefined
  }

  /** Remembers the records of one page. */
  see (records: readonly MemoryRecord[]): void {
    for (const r of records) {
      const k = snapshotKey(r)
      if (k !== undefined) this.seenKeys.add(k)
    }
  }

  /**
   * After the last page (with the peer's knowledge vector, when its last page carried one):
   * applies the expired-cursor rule; returns how many records it deleted.
   */
  finish (engine: Engine, opts: Pick<ExpiredCursorInput, 'peer' | 'ours' | 'cursor' | 'meta'> & { readonly knowledge?: readonly SentKnowledgeEntry[] }): number {
    const { knowledge, ...rest } = opts
    const peerKnowledge = knowledge === undefined ? undefined : asKnowledge(knowledge, n => engine.knowledge.voidOf(n))
    return applyExpiredCursorRule(engine, {
      ...rest, seenKeys: this.seenKeys, peerCursor: this.peerCursor, theirs: this.theirs,
      ...(knowledge !== undefined && peerKnowledge !== undefined ? { peerKnowledge, learn: knowledge } : {})
    })
  }
}

export interface ExpiredCursorInput {
  readonly peer: NodeId
  /** snapshotKey of every triple and note in the peer's snapshot. */
  readonly seenKeys: ReadonlySet<string>
  readonly peerCursor: number
  /** The peer's knowledge (its snapshot's last page): a record it covers was seen by the peer, whatever its seq here. */
  readonly peerKnowledge?: Knowledge
  /** Namespaces this node pulls from the peer (undefined: all). */
  readonly ours?: readonly string[]
  /** Namespaces the peer pulls from this node (undefined: all). */
  readonly theirs?: readonly string[]
  /** The peer's cursor to save with the last of these deletions (the end of the snapshot). */
  readonly cursor?: { readonly peer: NodeId, readonly seq: number }
  /** The peer's vector as sent, learnt with `cursor` (a snapshot whose pages moved no cursor); it ends a snapshot (Engine endsSnapshot). */
  readonly learn?: readonly SentKnowledgeEntry[]
  /** Local metadata written with the cursor. */
  readonly meta?: ApplyOptions['meta']
}

const PAGE = 5000

/** Applies the rule; returns how many records it deleted. The cursor (if any) is saved with the last deletion. */
export function applyExpiredCursorRule (engine: Engine, input: ExpiredCursorInput): number {
  const tombs = input.peerCursor > 0 || (input.peerKnowledge?.size ?? 0) > 0 ? expiredRecords(engine, input) : []
  for (let i = 0; i === 0 || i < tombs.length; i += PAGE) {
    const last = i + PAGE >= tombs.length
    engine.applyChecked(tombs.slice(i, i + PAGE), {
      via: input.peer,
      derived: true,
      ...(last ? { cursor: input.cursor, meta: input.meta, ...(input.learn !== undefined ? { knowledge: input.learn, endsSnapshot: true } : {}) } : {})
    })
  }
  return tombs.length
}

function expiredRecords (engine: Engine, input: ExpiredCursorInput): MemoryRecord[] {
  const inSelection = (ns: string, sel?: readonly string[]): boolean => sel === undefined || sel.length === 0 || sel.includes(ns)
  const tombs: MemoryRecord[] = []
  const k = input.peerKnowledge
  // Without a vector only what the peer pulled (seq ≤ peerCursor) can have been seen by it.
  const end = k === undefined || k.size === 0 ? input.peerCursor : Number.MAX_SAFE_INTEGER
  let after = 0
  for (let guard = 0; guard < 1_000_000; guard++) {
    const page = engine.store.changesSince(after, { limit: PAGE, kinds: ['triple', 'note'] })
    for (const { seq, record: r } of page.entries) {
      if (seq > end) break
      if ((r.kind !== 'triple' && r.kind !== 'note') || r.deleted || isSystemRecord(r)) continue
      if (seq > input.peerCursor && (k === undefined || !covers(k, r.hlc))) continue
      const ns = recordNamespace(r)
      if (!inSelection(ns, input.ours) || !inSelection(ns, input.theirs)) continue
      if (input.seenKeys.has(snapshotKey(r)!)) continue
      tombs.push(r.kind === 'triple' ? { ...r, deleted: true } : { ...r, value: null, deleted: true })
    }
    after = page.lastSeq
    if (!page.hasMore || after >= end) break
  }
  return tombs
}
