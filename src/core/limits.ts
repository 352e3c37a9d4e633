/**
 * Limits on the size and shape of records. Every one applies to local writes and to data
 * received from peers alike, and every one is listed in docs/LIMITS.md.
 */
export const LIMITS = {
  /** Subject and predicate, UTF-8 bytes. */
  nameBytes: 2048,
  /** A string, language-tagged or node object, UTF-8 bytes. */
  literalBytes: 64 * 1024,
  /** A JSON object literal (canonical text), bytes. */
  jsonLiteralBytes: 64 * 1024,
  /** Language tag length (BCP 47), characters. */
  langTagChars: 35,
  /** A note key, UTF-8 bytes. */
  noteKeyBytes: 1024,
  /** A note value (canonical JSON), bytes. */
  noteValueBytes: 1024 * 1024,
  /** An episode id, UTF-8 bytes. */
  episodeIdBytes: 256,
  /** An episode's data (canonical JSON), bytes. */
  episodeBytes: 1024 * 1024,
  /** A trace run id or type, UTF-8 bytes. */
  traceNameBytes: 256,
  /** A trace entry's data (canonical JSON), bytes. */
  traceDataBytes: 256 * 1024,
  /** Nesting depth of any JSON value. */
  jsonDepth: 64,
  /** Records in one write batch (REST or library). */
  batchRecords: 10_000,
  /** Page size of a query. */
  queryLimitMax: 10_000,
  /** Most results of one search. */
  searchLimitMax: 100,
  /** Deepest graph expansion of a search, hops. */
  searchExpandMax: 3
} as const

/** Default largest frame, in bytes, that a transport sends or accepts (native sync frames fit in it). */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024
