/**
 * The SQLite file's layout and its migrations.
 *
 * Versions: an ordered list of migrations; the file's version is PRAGMA user_version. Opening
 * applies every migration the file lacks, each in its own transaction together with the new
 * version number, so a file is always at exactly one known version. A file whose version is
 * newer than this build knows is refused (STORE_UNAVAILABLE), never guessed at.
 *
 * Layout (version 1):
 * - `triples`, `notes`, `episodes`, `traces`: `seq INTEGER PRIMARY KEY` is the record's position
 *   in the changes feed (a state change moves the row to the next seq), a unique key column,
 *   content columns, the stamp as `hlc_wall`/`hlc_counter`/`origin`, `deleted` where a kind can be
 *   deleted, and `via`, the peer the state came from (NULL for local writes). Node ids are
 *   interned in `nodes` as small integers.
 * - A triple's id is its 32-byte BLOB; its object is `okind` (the canonical tag) + `ovalue` +
 *   `olang`, so pattern queries match objects by value. Indexes: (subject, predicate) for subject,
 *   subject+predicate and namespace (a subject range scan) queries; (predicate, okind, ovalue)
 *   for predicate and predicate+object queries; tombstones by stamp (partial) for collection.
 * - `state`: one row with the last issued seq, the feed floor, the clock mark and the record
 *   counts (so stats() does not count a million rows). Updated once per write transaction.
 * - `cursors` (per-peer feed positions applied here) and `meta` (small non-replicated settings).
 *
 * Version 2 adds the full-text index (`text_index`, `text_index_state`: textIndex.ts). A file
 * migrated to it has records and an empty index: the index state asks for a rebuild, which the
 * store starts when it opens (SqliteStore, continueTextRebuild). It also indexes node objects
 * (`triples_node_object`, partial: okind = 1), so the edges into a node (a query by object alone,
 * graph expansion, the MCP graph's relations into an entity) are an index lookup, not a scan.
 *
 * Version 3 (core/knowledge.ts, docs/SYNC.md):
 * - `knowledge`: the knowledge vector, one row per node (the largest mark known of its writes);
 * - `voids`: the latest clock void learnt of each node;
 * - `held`: records held aside, stamped too far ahead of this node's clock when they arrived,
 *   as plain JSON (core/records.ts), with their stamp, origin, the peer they came from and
 *   when; `ident` (kind, key and stamp) keeps one copy of a state held twice; ids are never
 *   reused.
 *
 * Version 4 adds signatures and history (provenanceSchema.ts), and the seals of held records.
 *
 * Version 5 indexes the unsigned states of each kind (partial: batch IS NULL), so counting them
 * (at every start, in the status) and finding this node's own to sign cost what there is of them,
 * not a scan of every record: 0.18 s at 100,000 triples, seconds at a million.
 *
 * Version 6 keeps a feed floor per tombstone source (`feed_floors`, docs/SYNC.md "Per-peer feed
 * floors"): per `source` (the `nodes` number of the peer a collected tombstone came from, 0 for
 * tombstones written here), the highest seq collection removed. A migrated file's floor so far
 * goes to source 0: where its tombstones came from is not known, so it applies to every peer.
 *
 * Version 7 indexes the signed batches no stored state belongs to (`batches_unused`, partial:
 * refs <= 0), so the sweep that drops them (every history collection, the first at every start)
 * reads what there is of them, not every batch: it scanned the whole table, some 0.2 s of a
 * start at a million records.
 *
 * Version 8 adds `text_index_kept` (textIndex.ts, store/textPending.ts): the stretches of the
 * text index's pending range whose records were indexed as they were written (ordinary writes
 * between the pages of a catch-up that defers its indexing). A migrated file has none.
 */
import type { DatabaseSync } from 'node:sqlite'
import { STORE_UNAVAILABLE } from '../../core/errors.ts'
import { WAL_BOUND_PAGES } from './checkpoints.ts'
import { PROVENANCE_MIGRATION_SQL } from './provenanceSchema.ts'
import { TEXT_INDEX_SQL, TEXT_KEPT_SQL } from './textIndex.ts'

export interface Migration {
  readonly version: number
  readonly description: string
  readonly sql: string
}

/** Identifies an engram file (PRAGMA application_id): "ENGR". */
export const APPLICATION_ID = 0x454e4752

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'records, changes feed, node names, state, cursors, meta',
    sql: `
      CREATE TABLE nodes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
      ) STRICT;

      CREATE TABLE triples (
        seq INTEGER PRIMARY KEY,
        id BLOB NOT NULL UNIQUE,
        deleted INTEGER NOT NULL,
        hlc_wall INTEGER NOT NULL,
        hlc_counter INTEGER NOT NULL,
        origin INTEGER NOT NULL,
        via INTEGER,
        subject TEXT NOT NULL,
        predicate TEXT NOT NULL,
        okind INTEGER NOT NULL,
        ovalue ANY NOT NULL,
        olang TEXT
      ) STRICT;
      CREATE INDEX triples_sp ON triples (subject, predicate);
      CREATE INDEX triples_po ON triples (predicate, okind, ovalue);
      CREATE INDEX triples_dead ON triples (hlc_wall) WHERE deleted = 1;

      CREATE TABLE notes (
        seq INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        deleted INTEGER NOT NULL,
        hlc_wall INTEGER NOT NULL,
        hlc_counter INTEGER NOT NULL,
        origin INTEGER NOT NULL,
        via INTEGER,
        value TEXT
      ) STRICT;
      CREATE INDEX notes_dead ON notes (hlc_wall) WHERE deleted = 1;

      CREATE TABLE episodes (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        hlc_wall INTEGER NOT NULL,
        hlc_counter INTEGER NOT NULL,
        origin INTEGER NOT NULL,
        via INTEGER,
        data TEXT NOT NULL
      ) STRICT;
      CREATE INDEX episodes_stamp ON episodes (hlc_wall, hlc_counter);

      CREATE TABLE traces (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        hlc_wall INTEGER NOT NULL,
        hlc_counter INTEGER NOT NULL,
        origin INTEGER NOT NULL,
        via INTEGER,
        run_id TEXT NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL
      ) STRICT;
      CREATE INDEX traces_run ON traces (run_id, hlc_wall, hlc_counter);

      CREATE TABLE state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last_seq INTEGER NOT NULL,
        feed_floor INTEGER NOT NULL,
        clock_wall INTEGER NOT NULL,
        clock_counter INTEGER NOT NULL,
        triples_live INTEGER NOT NULL,
        triples_dead INTEGER NOT NULL,
        notes_live INTEGER NOT NULL,
        notes_dead INTEGER NOT NULL,
        episodes INTEGER NOT NULL,
        traces INTEGER NOT NULL
      ) STRICT;
      INSERT INTO state VALUES (1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

      CREATE TABLE cursors (
        peer TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `
  },
  {
    version: 2,
    description: 'full-text index (FTS5) and its state; index of node objects',
    sql: `${TEXT_INDEX_SQL}
      CREATE INDEX triples_node_object ON triples (ovalue) WHERE okind = 1;
    `
  },
  {
    version: 3,
    description: 'knowledge vector, clock voids, held records',
    sql: `
      CREATE TABLE knowledge (
        node TEXT PRIMARY KEY,
        wall INTEGER NOT NULL,
        counter INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE voids (
        node TEXT PRIMARY KEY,
        generation INTEGER NOT NULL,
        wall INTEGER NOT NULL,
        counter INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE held (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ident TEXT NOT NULL UNIQUE,
        hlc_wall INTEGER NOT NULL,
        hlc_counter INTEGER NOT NULL,
        origin TEXT NOT NULL,
        via TEXT,
        arrived INTEGER NOT NULL,
        record TEXT NOT NULL
      ) STRICT;
      CREATE INDEX held_stamp ON held (hlc_wall, hlc_counter);
      CREATE INDEX held_origin ON held (origin, hlc_wall, hlc_counter);
    `
  },
  { version: 4, description: 'provenance: seals of states and held records, signed batches, history', sql: PROVENANCE_MIGRATION_SQL },
  {
    version: 5,
    description: 'unsigned states indexed (partial)',
    sql: `
      CREATE INDEX triples_unsigned ON triples (origin, seq) WHERE batch IS NULL;
      CREATE INDEX notes_unsigned ON notes (origin, seq) WHERE batch IS NULL;
      CREATE INDEX episodes_unsigned ON episodes (origin, seq) WHERE batch IS NULL;
      CREATE INDEX traces_unsigned ON traces (origin, seq) WHERE batch IS NULL;
    `
  },
  {
    version: 6,
    description: 'feed floors per tombstone source',
    sql: `
      CREATE TABLE feed_floors (
        source INTEGER PRIMARY KEY,
        seq INTEGER NOT NULL
      ) STRICT;
      INSERT INTO feed_floors (source, seq) SELECT 0, feed_floor FROM state WHERE feed_floor > 0;
    `
  },
  {
    version: 7,
    description: 'batches no state belongs to indexed (partial)',
    sql: 'CREATE INDEX batches_unused ON batches (id) WHERE refs <= 0;'
  },
  { version: 8, description: 'kept stretches of a pending text index range', sql: TEXT_KEPT_SQL }
]

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version

export interface ConnectionOptions {
  /**
   * full (default): every commit but a `refetchable` one survives a power cut. normal: every
   * commit survives a crash of the process; the last ones may be lost in a power cut.
   */
  readonly synchronous?: 'full' | 'normal'
  /**
   * WAL pages past which a commit checkpoints itself (default checkpoints.ts WAL_BOUND_PAGES, 64
   * MiB); 0: no checkpoint but at close (tests: the log only grows).
   */
  readonly walAutoCheckpoint?: number
  /** Quiet time after the last commit before the store checkpoints (default checkpoints.ts IDLE_CHECKPOINT_MS); 0: never. */
  readonly idleCheckpointMs?: number
}

/**
 * SQLite's page cache of a connection, KiB. It fills with every page a write touches, up to this
 * size, and stays. With 64 MiB, a node that copied 100,000 records from a peer (a 90 MB store)
 * kept some 35 MB of it; 16 MiB left it 15 MB smaller at the same pace (peers bench: receiver
 * CPU 3.5 s against 3.2–3.4 s; 8 MiB: 25 MB smaller, 3.4 s). A page that falls out is read again
 * from the file, through the OS's cache, which is not counted against this process. A far-behind
 * catch-up into a large store grows it for a while (pageCache.ts). 8 MiB since the catch-up
 * leaves the secondary indexes out (deferredIndexes.ts): what it then writes at random places,
 * the id index, is 64 bytes a triple or less (a 100,000-record copy's: under 6.25 MiB). Receivers
 * of one build alternating against one source, 100,000 records, medians of four: the copy's peak
 * RSS 10–14 MiB lower than with 16 MiB, the peak until search found every record (the indexes
 * built after the copy) 9 MiB lower, receiver CPU −2 % and +2.5 %; a restart of that node reads
 * the same pages from the file (159 reads) and was as fast (startup bench: 0.98×, resume 1.01×).
 * A 1,000,000-record copy grows the cache as before.
 */
export const CACHE_KIB = 8 * 1024

/**
 * Connection settings. Used by the store and by the benchmark's raw baseline, so both write
 * under the same conditions.
 */
export function configure (db: DatabaseSync, file: string, opts: ConnectionOptions = {}): void {
  const mode = (db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string }).journal_mode
  if (mode !== 'wal') {
    throw STORE_UNAVAILABLE(`cannot use write-ahead logging on ${file} (journal mode stays "${mode}"); ` +
      'keep the data dir on a local file system', { file, journalMode: mode })
  }
  db.exec(`
    PRAGMA synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'};
    PRAGMA foreign_keys = OFF;
    PRAGMA temp_store = MEMORY;
    PRAGMA cache_size = -${CACHE_KIB};
    PRAGMA journal_size_limit = 67108864;
  `)
  db.exec(`PRAGMA wal_autocheckpoint = ${Math.max(0, Math.floor(opts.walAutoCheckpoint ?? WAL_BOUND_PAGES))}`)
}

const intPragma = (db: DatabaseSync, name: string): number =>
  Object.values(db.prepare(`PRAGMA ${name}`).get() as Record<string, number>)[0] ?? 0

/**
 * Brings the file to the last version of `migrations` (default: this build's), or refuses a file
 * this build cannot read. Each migration runs in its own transaction with its version number, so
 * a failing migration leaves the file at the version before it.
 */
export function migrate (db: DatabaseSync, file: string, migrations: readonly Migration[] = MIGRATIONS): void {
  const latest = migrations[migrations.length - 1]?.version ?? 0
  checkVersion(db, file, latest)
  for (const m of migrations) {
    if (intPragma(db, 'user_version') >= m.version) continue
    db.exec('BEGIN IMMEDIATE')
    try {
      // Another connection may have migrated the file while this one waited for the lock.
      if (intPragma(db, 'user_version') < m.version) {
        if (m.version === 1) checkEmpty(db, file)
        db.exec(m.sql)
        db.exec(`PRAGMA user_version = ${m.version}`)
        db.exec(`PRAGMA application_id = ${APPLICATION_ID}`)
      }
      db.exec('COMMIT')
    } catch (e) {
      db.exec('ROLLBACK')
      throw e
    }
  }
}

function checkVersion (db: DatabaseSync, file: string, known: number): void {
  const appId = intPragma(db, 'application_id')
  if (appId !== 0 && appId !== APPLICATION_ID) {
    throw STORE_UNAVAILABLE(`${file} is not an engram store (SQLite application_id ${appId})`, { file, applicationId: appId })
  }
  const version = intPragma(db, 'user_version')
  if (version > known) {
    throw STORE_UNAVAILABLE(`${file} has store schema version ${version}, written by a newer engram; ` +
      `this build knows versions up to ${known}. Upgrade engram, or point it at another data dir`,
    { file, version, known })
  }
}

function checkEmpty (db: DatabaseSync, file: string): void {
  const row = db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number }
  if (row.n > 0) {
    throw STORE_UNAVAILABLE(`${file} is an SQLite file with other tables, not an engram store; refusing to change it`, { file })
  }
}
