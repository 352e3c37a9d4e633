/**
 * The store migration for provenance (docs/DATA-MODEL.md, "Signed records" and "History"):
 *
 * - `batch`, `leaf` on every record table: the state's place in a signed batch (both NULL: the
 *   state is unsigned — every state written before this migration, until its origin signs it);
 *   and on `held`: a record held aside keeps its seal until it is released.
 * - `batches`: the signed batches stored states belong to. `id` is never reused (AUTOINCREMENT), so
 *   a batch's number names it for as long as anything holds it; `key` is BLAKE3 of the signed
 *   message (the batch's identity on every node), `known` the tree hashes this node knows of it
 *   (core/merkle.ts KnownHashes), `refs` how many stored states (current, history or held) belong
 *   to it; a batch no state belongs to is dropped by history collection.
 * - `history`: replaced states, and collected tombstones. `kind` 0 triple, 1 note, 2 episode
 *   (traces never change); `key` the triple id (hex), note key or episode id; the stamp, origin,
 *   via and seal of the state; `until_*` the stamp of the state that replaced it (a collected
 *   tombstone: its own), which decides when it is collected; `body` a note's value or an
 *   episode's data (JSON), and a triple's content in the columns of the triples table, so a
 *   state stays readable after its record's tombstone is collected.
 *
 * Re-signing this node's own existing states needs its key, so it is not done here: the engine
 * does it at start (Engine.sealOwnStates).
 */
export const PROVENANCE_MIGRATION_SQL = `
  ALTER TABLE triples ADD COLUMN batch INTEGER;
  ALTER TABLE triples ADD COLUMN leaf INTEGER;
  ALTER TABLE notes ADD COLUMN batch INTEGER;
  ALTER TABLE notes ADD COLUMN leaf INTEGER;
  ALTER TABLE episodes ADD COLUMN batch INTEGER;
  ALTER TABLE episodes ADD COLUMN leaf INTEGER;
  ALTER TABLE traces ADD COLUMN batch INTEGER;
  ALTER TABLE traces ADD COLUMN leaf INTEGER;
  ALTER TABLE held ADD COLUMN batch INTEGER;
  ALTER TABLE held ADD COLUMN leaf INTEGER;

  CREATE TABLE batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key BLOB NOT NULL UNIQUE,
    signer INTEGER NOT NULL,
    at_wall INTEGER NOT NULL,
    at_counter INTEGER NOT NULL,
    n INTEGER NOT NULL,
    root BLOB NOT NULL,
    sig BLOB NOT NULL,
    known BLOB NOT NULL,
    refs INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE history (
    id INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL,
    key TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    hlc_wall INTEGER NOT NULL,
    hlc_counter INTEGER NOT NULL,
    origin INTEGER NOT NULL,
    via INTEGER,
    batch INTEGER,
    leaf INTEGER,
    until_wall INTEGER NOT NULL,
    until_counter INTEGER NOT NULL,
    until_origin INTEGER NOT NULL,
    body TEXT,
    subject TEXT,
    predicate TEXT,
    okind INTEGER,
    ovalue ANY,
    olang TEXT
  ) STRICT;
  CREATE INDEX history_key ON history (kind, key);
  CREATE INDEX history_until ON history (until_wall);
  CREATE INDEX history_origin ON history (origin, hlc_wall);
`
