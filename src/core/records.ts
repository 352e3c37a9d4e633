/**
 * Building and checking whole records. `checkRecord` is the gate every record from outside
 * (a peer, a sync page, an import) passes before it reaches the store: shape, limits, stamp,
 * and content ids recomputed — a triple or trace whose id does not match its content is refused.
 */
import { Bytes, traceId, tripleIdOf, writeCanonicalJson } from './canonical.ts'
import { ID_MISMATCH, INVALID_INPUT } from './errors.ts'
import { validateHlc, type Hlc } from './hlc.ts'
import { isTripleId } from './ids.ts'
import { LIMITS } from './limits.ts'
import type { EpisodeRecord, Json, MemoryRecord, NoteRecord, Term, TraceRecord, TripleContent, TripleRecord } from './model.ts'
import { parseTerm, termToTagged, validateJson, validateJsonObject, validateString } from './validate.ts'

export function makeTriple (content: TripleContent, hlc: Hlc, deleted = false): TripleRecord {
  return tripleRecord(content.subject, content.predicate, content.object, hlc, deleted)
}

/** makeTriple of the content's three parts (no content object made). */
export function tripleRecord (subject: string, predicate: string, object: Term, hlc: Hlc, deleted: boolean): TripleRecord {
  return { kind: 'triple', id: tripleIdOf(subject, predicate, object), subject, predicate, object, hlc, deleted }
}

export function makeTrace (runId: string, type: string, data: Json, hlc: Hlc): TraceRecord {
  return { kind: 'trace', id: traceId(runId, type, data, hlc), runId, type, data, hlc }
}

export function validateNoteKey (key: unknown, field = 'key'): string {
  return validateString(key, field, LIMITS.noteKeyBytes)
}

export function validateEpisodeId (id: unknown, field = 'id'): string {
  return validateString(id, field, LIMITS.episodeIdBytes)
}

export interface CheckRecordOptions {
  /**
   * `'check'` (default): a triple's or trace's `id` is required and must match its content.
   * `'derive'`: the id is not read at all (native sync rows never carry it) and is computed.
   */
  readonly ids?: 'check' | 'derive'
}

/** Validates a record received from outside. Throws INVALID_INPUT or ID_MISMATCH. */
export function checkRecord (input: unknown, field = 'record', opts: CheckRecordOptions = {}): MemoryRecord {
  const derive = opts.ids === 'derive'
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw INVALID_INPUT(field, 'must be an object')
  const o = input as Record<string, unknown>
  const hlc = validateHlc(o.hlc, `${field}.hlc`)
  switch (o.kind) {
    case 'triple': {
      const content: TripleContent = {
        subject: validateString(o.subject, `${field}.subject`, LIMITS.nameBytes),
        predicate: validateString(o.predicate, `${field}.predicate`, LIMITS.nameBytes),
        object: parseTerm(o.object, `${field}.object`)
      }
      if (typeof o.deleted !== 'boolean') throw INVALID_INPUT(`${field}.deleted`, 'must be a boolean')
      if (derive) return makeTriple(content, hlc, o.deleted)
      if (!isTripleId(o.id)) throw INVALID_INPUT(`${field}.id`, 'must be 64 lowercase hex digits')
      const rec = makeTriple(content, hlc, o.deleted)
      if (rec.id !== o.id) throw ID_MISMATCH(o.id, rec.id)
      return rec
    }
    case 'note': {
      const key = validateNoteKey(o.key, `${field}.key`)
      if (typeof o.deleted !== 'boolean') throw INVALID_INPUT(`${field}.deleted`, 'must be a boolean')
      if (o.deleted) {
        if (o.value !== null && o.value !== undefined) throw INVALID_INPUT(`${field}.value`, 'must be null on a deleted note')
        return { kind: 'note', key, value: null, hlc, deleted: true } satisfies NoteRecord
      }
      if (o.value === undefined) throw INVALID_INPUT(`${field}.value`, 'is required')
      validateJson(o.value, `${field}.value`, LIMITS.noteValueBytes)
      return { kind: 'note', key, value: o.value as Json, hlc, deleted: false } satisfies NoteRecord
    }
    case 'episode': {
      const id = validateEpisodeId(o.id, `${field}.id`)
      const data = validateJsonObject(o.data, `${field}.data`, LIMITS.episodeBytes)
      return { kind: 'episode', id, data, hlc } satisfies EpisodeRecord
    }
    case 'trace': {
      const runId = validateString(o.runId, `${field}.runId`, LIMITS.traceNameBytes)
      const type = validateString(o.type, `${field}.type`, LIMITS.traceNameBytes)
      if (o.data === undefined) throw INVALID_INPUT(`${field}.data`, 'is required')
      validateJson(o.data, `${field}.data`, LIMITS.traceDataBytes)
      const rec = makeTrace(runId, type, o.data as Json, hlc)
      if (!derive && rec.id !== o.id) throw ID_MISMATCH(String(o.id), rec.id)
      return rec
    }
    default:
      throw INVALID_INPUT(`${field}.kind`, 'must be one of triple, note, episode, trace')
  }
}

/**
 * A record as plain JSON-able data (the form used on the wire and in dumps): the triple object
 * in tagged form, the stamp as {wall, counter, node}.
 */
export function recordToPlain (r: MemoryRecord): Record<string, Json> {
  const hlc = { wall: r.hlc.wall, counter: r.hlc.counter, node: r.hlc.node }
  switch (r.kind) {
    case 'triple': return { kind: r.kind, id: r.id, subject: r.subject, predicate: r.predicate, object: termToTagged(r.object), hlc, deleted: r.deleted }
    case 'note': return { kind: r.kind, key: r.key, value: r.value, hlc, deleted: r.deleted }
    case 'episode': return { kind: r.kind, id: r.id, data: r.data, hlc }
    case 'trace': return { kind: r.kind, id: r.id, runId: r.runId, type: r.type, data: r.data, hlc }
  }
}

const scratch = new Bytes()

/**
 * Canonical text of a record: equal records give equal text on every node. It is the
 * canonical JSON of the record's plain form (recordToPlain), as writeCanonicalRecord writes it.
 */
export function canonicalRecord (r: MemoryRecord): string {
  const out = scratch.reset()
  writeCanonicalRecord(out, r)
  return out.text()
}

/**
 * The UTF-8 bytes of `canonicalRecord(r)` written into `out`, straight from the record (keys in
 * canonical order, no plain form or text built): what the gossip window hashes for every record.
 */
export function writeCanonicalRecord (out: Bytes, r: MemoryRecord): void {
  switch (r.kind) {
    case 'triple': {
      out.ascii(r.deleted ? '{"deleted":true,"hlc":' : '{"deleted":false,"hlc":')
      writeStamp(out, r.hlc)
      out.ascii(',"id":')
      out.jsonString(r.id)
      const o = r.object
      out.ascii(',"kind":"triple","object":{"kind":"')
      out.ascii(o.kind)
      if (o.kind === 'lang') { out.ascii('","lang":'); out.jsonString(o.lang); out.ascii(',"value":') } else out.ascii('","value":')
      switch (o.kind) {
        case 'json': case 'number': writeCanonicalJson(out, o.value, 'object.value'); break
        case 'boolean': out.ascii(o.value ? 'true' : 'false'); break
        default: out.jsonString(o.value)
      }
      out.ascii('},"predicate":')
      out.jsonString(r.predicate)
      out.ascii(',"subject":')
      out.jsonString(r.subject)
      out.byte(0x7d)
      return
    }
    case 'note':
      out.ascii(r.deleted ? '{"deleted":true,"hlc":' : '{"deleted":false,"hlc":')
      writeStamp(out, r.hlc)
      out.ascii(',"key":')
      out.jsonString(r.key)
      out.ascii(',"kind":"note","value":')
      writeCanonicalJson(out, r.value, 'value.value')
      out.byte(0x7d)
      return
    case 'episode':
      out.ascii('{"data":')
      writeCanonicalJson(out, r.data, 'value.data')
      out.ascii(',"hlc":')
      writeStamp(out, r.hlc)
      out.ascii(',"id":')
      out.jsonString(r.id)
      out.ascii(',"kind":"episode"}')
      return
    case 'trace':
      out.ascii('{"data":')
      writeCanonicalJson(out, r.data, 'value.data')
      out.ascii(',"hlc":')
      writeStamp(out, r.hlc)
      out.ascii(',"id":')
      out.jsonString(r.id)
      out.ascii(',"kind":"trace","runId":')
      out.jsonString(r.runId)
      out.ascii(',"type":')
      out.jsonString(r.type)
      out.byte(0x7d)
  }
}

/** A stamp's plain form {counter, node, wall} as canonical JSON. */
function writeStamp (out: Bytes, h: Hlc): void {
  out.ascii('{"counter":')
  writeCanonicalJson(out, h.counter)
  out.ascii(',"node":')
  out.jsonString(h.node)
  out.ascii(',"wall":')
  writeCanonicalJson(out, h.wall)
  out.byte(0x7d)
}
