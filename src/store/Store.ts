/**
 * The store: the one I/O boundary behind which records live. Two implementations pass one
 * conformance suite (test/store/conformance.ts): SqliteStore (the real one, one file in the
 * data dir) and MemoryStore (for deterministic simulations).
 *
 * The store knows nothing of clocks or validation: it receives complete, validated records and
 * merges each into the current state with the rules of core/merge.ts, all in one transaction.
 * Local writes and remote changes take the same path (`apply`), so there is exactly one place
 * where state changes.
 *
 * Changes feed: every state change gets the next local sequence number (gap-free as issued,
 * starting at 1). A record's current state sits at the seq of its last change, so
 * `changesSince(n)` returns exactly the records whose state changed after n, each once.
 *
 * Full-text index: every live record is indexed (text/document.ts) in the same transaction that
 * writes it, local or remote, so a record is found by `searchText` from the moment it is visible,
 * and a tombstone leaves the index with the record — except the records of a write with
 * `deferText` (a far-behind catch-up's page), which are left pending. The index is derived data,
 * never synced: `startTextRebuild` empties it and `continueTextRebuild` refills it from the
 * records, slice by slice (a store opened on an older file, or on an index built by other rules,
 * starts with a rebuild pending), and indexes pending records the same way (textPending.ts).
 * Records it has not reached yet are not found, and search says it is partial.
 *
 * Provenance (docs/DATA-MODEL.md, "Signed records" and "History"): a state may carry its **seal**,
 * its place in a signed batch the store keeps (`getBatch`); a state without one is unsigned. A
 * signed copy of a state held unsigned replaces it (same state, now signed: a new seq, so it
 * travels on). Every state that is replaced — and every tombstone collected — is kept as
 * **history** with the stamp of the state that ended it, until `collectHistory` removes it; as-of
 * reads (`asOf`) pick, per record, the largest state stamped at or before the time.
 *
 * Knowledge and held records (core/knowledge.ts, docs/SYNC.md): the store keeps the node's
 * knowledge vector and the clock voids it learnt, and the records it holds aside because they
 * are stamped too far ahead of its clock; `apply` changes them in the same transaction as the
 * records and the cursor that justify it.
 */
import type { Hlc, HlcMark } from '../core/hlc.ts'
import type { NodeId, Seq, TripleId } from '../core/ids.ts'
import type { ClockVoid, Knowledge, KnowledgeEntry } from '../core/knowledge.ts'
import type { EpisodeRecord, MemoryRecord, NoteRecord, RecordKind, Term, TraceRecord, TripleRecord } from '../core/model.ts'
import type { StoredSeal } from '../core/seals.ts'
import type { SignedBatch } from '../core/signing.ts'
import type { TextIndexState, TextQuery, TextSearchResult } from './textSearch.ts'

/**
 * Decides between the current state and a different incoming state of one record when the
 * default rule (core/merge.ts) is not wanted. Returns the state to keep, or null to keep the
 * default outcome. Used by the conflict strategies (replication/conflicts.ts); absent for local writes.
 */
export type ConflictResolver = (current: MemoryRecord, incoming: MemoryRecord) => MemoryRecord | null

export interface ApplyOptions {
  /** The clock's high-water mark, persisted in the same transaction. */
  readonly clock: HlcMark
  /** The peer these records came from (absent for local writes). Stored with each changed record
   *  so that the feed served to that peer can leave them out (no echo). */
  readonly via?: NodeId
  /** Advances the cursor for `peer` (the last seq of its feed we have applied) in the same transaction. */
  readonly cursor?: { readonly peer: NodeId, readonly seq: number }
  /** Optional resolver consulted when an incoming state differs from the current one. */
  readonly resolve?: ConflictResolver
  /**
   * Local metadata to write in the same transaction (see getMeta/setMeta): called once, after
   * every record of the batch was merged (so it sees what the resolver collected), it returns
   * `[key, value]` pairs; `undefined` deletes the key. If it throws, nothing of the batch is
   * written. Sync uses it to record keep-both conflicts atomically with the page that produced
   * them. The hook may read the store (getMeta), never write to it.
   */
  readonly meta?: () => ReadonlyArray<readonly [string, string | undefined]>
  /**
   * The batch may be lost in a power cut (never in a crash of the process alone) without harm:
   * it came from a peer that still holds it, and the cursor that says so commits with it (or
   * the next gossip round finds it again), so it is fetched again. Its commit does not wait for
   * the disk; the next durable commit, or flush(), makes it durable. Default false: apply
   * returns once the batch is durable (with the store's durability setting).
   */
  readonly refetchable?: boolean
  /**
   * Rule A (core/knowledge.ts): an incoming triple or note whose key is absent here and whose
   * stamp this vector covers was deleted here and its tombstone collected: it is dropped
   * (counted in `forgotten` and `unchanged`). Given for records from peers.
   */
  readonly known?: Knowledge
  /** Knowledge entries learnt with this batch: each raises the stored entry to it (never lowers). */
  readonly learn?: readonly KnowledgeEntry[]
  /**
   * Clock voids learnt with this batch, applied before its records: a void newer than the one
   * recorded for its node is recorded, drops the records of that node stamped above its mark
   * that are held aside, and lowers the node's knowledge entry to its mark.
   */
  readonly voids?: readonly ClockVoid[]
  /**
   * Records to hold aside, not merged (stamped too far ahead), from `via`, arrived at `at` (ms),
   * with their signatures (`seals`, as `ApplyOptions.seals` for these records): a held record
   * keeps its seal, and its batch is kept while it is held.
   */
  readonly hold?: { readonly records: readonly MemoryRecord[], readonly at: number, readonly seals?: ApplySeals }
  /** Held records (ids) leaving the held set: being applied now (among `records`), or dropped as void. */
  readonly release?: readonly number[]
  /** The signatures of the records (absent: all unsigned). */
  readonly seals?: ApplySeals
  /**
   * The live records written are not indexed for full-text search now: the index keeps their
   * seqs pending (store/textPending.ts) and continueTextRebuild indexes them later, as it does a
   * rebuild's; search says it is partial meanwhile. For the pages of a far-behind catch-up
   * (replication/farBehind.ts), which then commit less.
   */
  readonly deferText?: boolean
  /**
   * The secondary indexes of triples (subject + predicate, predicate + object, node objects) are
   * left out: the first such write drops them, in its transaction, and the store stays so until
   * `buildDeferredIndexes` builds them again (writes without this flag leave the state as it is).
   * Queries answer the same meanwhile, by scanning. For the pages of a far-behind catch-up that
   * brings more triples than the store holds (replication/farBehind.ts): building an index once
   * at the end sorts, where inserting into it costs more per record as it grows.
   */
  readonly deferIndexes?: boolean
}

/**
 * Signed batches and, per record of `apply` (same order), its batch (an index into `batches`)
 * and leaf, or undefined for an unsigned record. A batch is stored when the first state that
 * belongs to it is written; the tree hashes it brings are added to what the store knows of it.
 */
export interface ApplySeals {
  readonly batches: readonly SignedBatch[]
  readonly refs: ReadonlyArray<{ readonly batch: number, readonly leaf: number } | undefined>
}

/** A record held aside: stamped too far ahead of this node's clock when it arrived. */
export interface HeldRecord {
  readonly id: number
  readonly record: MemoryRecord
  /** The peer it came from. */
  readonly via: NodeId | undefined
  /** When it arrived (ms since the epoch). */
  readonly arrivedAt: number
  /** Its place in a stored batch (absent: unsigned). */
  readonly seal?: StoredSeal
}

/** The held records of one origin. */
export interface HeldOrigin {
  readonly node: NodeId
  readonly count: number
  /** The smallest and largest stamps held. */
  readonly min: HlcMark
  readonly max: HlcMark
}

/** A clock repair (Engine.repairClock): own records re-stamped, the mark lowered, a void recorded. */
export interface ClockRepair {
  /** The new clock mark (may be below the stored one): the largest of the new stamps, or S. */
  readonly clock: HlcMark
  /** New states of this node's own records, written whatever the current state (the replaced ones go to history). */
  readonly records: readonly MemoryRecord[]
  /** Their signatures (as `ApplyOptions.seals`). */
  readonly seals?: ApplySeals
  /** Trace entries replaced by re-stamped ones (a trace id hashes its stamp). */
  readonly removeTraces: readonly string[]
  /** This node's void. */
  readonly void: ClockVoid
}

export interface FeedEntry {
  readonly seq: Seq
  readonly record: MemoryRecord
  /** The state's place in a stored batch (absent: unsigned). */
  readonly seal?: StoredSeal
  /** The peer the state came through (absent: written here); only when read with `withVia`. */
  readonly via?: NodeId
}

/** A state as the store holds it, with where it came from. */
export interface StoredState {
  readonly record: MemoryRecord
  /** The peer it came through (absent: written here). */
  readonly via?: NodeId
  readonly seal?: StoredSeal
  /** For a replaced state: the stamp of the state that replaced it (a collected tombstone: its own). */
  readonly until?: Hlc
}

/** A record by kind and key. */
export interface RecordRef {
  readonly kind: RecordKind
  readonly key: string
}

export interface ProvenanceStats {
  /** Replaced states kept as history. */
  readonly history: number
  /** Signed batches stored. */
  readonly batches: number
  /** Current states without a signature. */
  readonly unsigned: number
}

export interface ApplyResult {
  /** The records whose state changed, as stored, with their new seqs, in input order. */
  readonly changed: readonly FeedEntry[]
  /** How many inputs left the state as it was (already known, or older than the current state). */
  readonly unchanged: number
  /** How many of the changed triples and notes replaced a live state of theirs (were present here). */
  readonly replacedLive: number
  /** Inputs dropped by Rule A (`known`): deleted here before (also counted in `unchanged`). */
  readonly forgotten: number
  /** Records held aside by this batch (`hold`, duplicates of held ones not counted). */
  readonly held: number
  /** Held records dropped by the voids of this batch. */
  readonly voided: number
}

export interface TriplePattern {
  readonly subject?: string
  readonly predicate?: string
  readonly object?: Term
  /** Subject namespace (the part before the first ':'). */
  readonly namespace?: string
  /** Include tombstones (default false). */
  readonly includeDeleted?: boolean
  /** Only triples whose (current, or as-of) state was stamped by this node. */
  readonly origin?: NodeId
  /** The state as of this time (ms): per triple, the largest state stamped at or before it. */
  readonly asOf?: number
}

export interface Page {
  readonly limit: number
  readonly offset: number
}

export interface ChangesOptions {
  /** Most entries to return. */
  readonly limit: number
  /**
   * Only records in these namespaces (absent or empty: all). The system namespace (`_engram`:
   * node names, revocations) is always included: every peer needs it, whatever it selects.
   */
  readonly namespaces?: readonly string[]
  /** Leave out entries whose last change came from this peer. */
  readonly excludeVia?: NodeId
  /** Only these kinds (absent: all). */
  readonly kinds?: readonly RecordKind[]
  /** Each entry carries the peer its state came through (`via`; absent: written here). */
  readonly withVia?: boolean
}

export interface ChangesPage {
  readonly entries: readonly FeedEntry[]
  /** The seq to ask from next: the last seq scanned (even when filtered out). */
  readonly lastSeq: Seq
  readonly hasMore: boolean
}

export interface StoreStats {
  readonly triples: number
  readonly tripleTombstones: number
  readonly notes: number
  readonly noteTombstones: number
  readonly episodes: number
  readonly traces: number
  /** The last seq issued. */
  readonly lastSeq: Seq
  /** The highest seq whose entry was removed by tombstone collection (0: none); a peer's own floor is `feedFloorFor`. */
  readonly feedFloor: Seq
}

export interface StoreHealth {
  readonly ok: boolean
  readonly detail: string
}

export interface Store {
  /** 'sqlite' or 'memory'. */
  readonly kind: string

  /** Merges records into the store in one transaction; returns after it commits. */
  apply (records: readonly MemoryRecord[], opts: ApplyOptions): ApplyResult

  getTriple (id: TripleId): TripleRecord | undefined
  getNote (key: string): NoteRecord | undefined
  getEpisode (id: string): EpisodeRecord | undefined
  getTrace (id: string): TraceRecord | undefined
  /** Any record by kind and key (triple id, note key, episode id, trace id). */
  get (kind: RecordKind, key: string): MemoryRecord | undefined

  /** Triples matching every given field, ordered by (subject, predicate, id). */
  queryTriples (pattern: TriplePattern, page: Page): { triples: TripleRecord[], total: number }
  /**
   * Live notes (not deleted) whose key starts with `prefix`, ordered by key; `asOf` as in
   * TriplePattern. Notes of the system namespace (`_engram:`) are listed only when `prefix` starts
   * with it: they are engram's own (node names, revocations), not the agent's memory.
   */
  listNotes (opts: { prefix?: string, asOf?: number } & Page): { notes: NoteRecord[], total: number }
  /** Episodes, newest stamp first. */
  listEpisodes (opts: { prefix?: string } & Page): { episodes: EpisodeRecord[], total: number }
  /** Trace entries of one run (or all), oldest stamp first. */
  listTraces (opts: { runId?: string } & Page): { traces: TraceRecord[], total: number }

  /** Records whose state changed after seq `after`, in seq order. */
  changesSince (after: number, opts: ChangesOptions): ChangesPage
  /** The last seq of `peer`'s feed applied here (0 when none). */
  getCursor (peer: NodeId): Seq

  /**
   * Removes tombstones (triples and notes) whose stamp's wall time is below `beforeWallMs` and,
   * when `upTo` is given, whose stamp's mark is at most `upTo` (Rule B), into history. Returns
   * how many were removed. Raises the feed floor to the highest seq removed, and the floor of
   * each tombstone's source (`via`, or none) to the highest seq removed of that source.
   */
  collectTombstones (beforeWallMs: number, upTo?: HlcMark): number
  /**
   * The feed floor that applies to `peer`'s cursor (docs/SYNC.md, "Per-peer feed floors"): the
   * highest seq removed by tombstone collection whose tombstone did not come from `peer` (its
   * `via`), written here, or collected before the store kept floors per source. At most
   * `stats().feedFloor`. The store keeps one floor per source, not one per tombstone.
   */
  feedFloorFor (peer: NodeId): Seq

  /** The knowledge vector: one entry per node, by node id. */
  knowledge (): KnowledgeEntry[]
  /** The latest clock void recorded for each node, by node id. */
  voids (): ClockVoid[]
  /** Held records in stamp order, at most `limit`, only those whose stamp's wall is ≤ `upToWall` when given. */
  held (opts: { readonly limit: number, readonly upToWall?: number }): HeldRecord[]
  /** Held records per origin, by node id. */
  heldOrigins (): HeldOrigin[]
  /**
   * The current states stamped (wall) after `afterWall` — of `origin` only, when given — in
   * stamp order, at most `limit`. Scans every record: for the clock repair, not for hot paths.
   */
  stampedAfter (afterWall: number, opts: { readonly limit: number, readonly origin?: NodeId }): MemoryRecord[]
  /** Applies a clock repair in one transaction; the changed records as `apply` returns them. */
  repairClock (repair: ClockRepair): ApplyResult

  /** Live records matching a full-text query, ranked (text/rank.ts). */
  searchText (q: TextQuery): TextSearchResult
  textIndex (): TextIndexState
  /** Empties the full-text index and starts refilling it from the records (continueTextRebuild). */
  startTextRebuild (): TextIndexState
  /** Indexes the records of the next `seqs` feed positions of a rebuild, in one transaction. */
  continueTextRebuild (seqs: number): TextIndexState

  /** How many secondary indexes a write with `deferIndexes` left out and are not built yet (0: none). */
  deferredIndexes (): number
  /** Builds the next index left out (one, in its own transaction); how many are left after it. */
  buildDeferredIndexes (): number

  /** The current state of a record with its provenance. */
  getState (kind: RecordKind, key: string): StoredState | undefined
  /** Every state of a record held here: the current one (if any), then the replaced ones, newest first. */
  history (kind: RecordKind, key: string): StoredState[]
  /** A stored batch by its local number (a FeedEntry's or StoredState's `seal.batch`). */
  getBatch (id: number): SignedBatch | undefined
  /** Records with a state (current or replaced) stamped by `origin` with a wall time in [fromWall, toWall]. */
  touchedBy (origin: NodeId, fromWall: number, toWall: number): RecordRef[]
  /** Current states stamped by `origin` that carry no signature, in feed order (at most `limit`). */
  unsealed (origin: NodeId, limit: number): MemoryRecord[]
  /**
   * Removes replaced states whose `until` wall time is below `beforeWallMs`, and the batches no
   * stored state belongs to any more. Returns how many states were removed.
   */
  collectHistory (beforeWallMs: number): number
  provenanceStats (): ProvenanceStats
  /**
   * Every change up to this seq is durable: it survives a power cut. Changes after it were
   * committed as `refetchable` and may be lost with their cursors; a feed is never served past
   * this seq to anyone (flush first), so a seq that a peer has seen is never issued again.
   */
  durableSeq (): Seq
  /** Makes every committed change durable (durableSeq() = stats().lastSeq). */
  flush (): void

  /** The persisted clock mark: ≥ every stamp stored or issued by a committed write. */
  clockMark (): HlcMark
  stats (): StoreStats
  health (): StoreHealth

  /** Small key-value metadata (peer book, settings) that is not replicated. */
  getMeta (key: string): string | undefined
  setMeta (key: string, value: string | undefined): void

  /** Every record (tombstones included) in a canonical order: kind, then key. For tests and tools. */
  dump (): MemoryRecord[]

  close (): void
}
