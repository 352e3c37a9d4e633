/**
 * System records: notes engram itself writes and syncs, in the namespace `_engram`
 * (docs/DATA-MODEL.md, "System records"):
 *
 *   _engram:name:<node>                  {"name": "<device or agent name>"}   by <node>
 *   _engram:revoke:<target>:<issuer>     {"after": <ms>, "reason"?: "…"}      by <issuer>
 *
 * Each is written only by the node its key names as author (the stamp's node), signed, and never
 * as a derived deletion; a receiver refuses any other (`systemNoteProblem`). The local API cannot
 * write this namespace: the engine writes it (node names at start, revocations through their
 * own route), and sync always carries it, whatever namespaces a peer selects.
 */
import { isNodeId, type NodeId } from './ids.ts'
import type { Json, MemoryRecord, NoteRecord } from './model.ts'

export const SYSTEM_NAMESPACE = '_engram'
const NAME_PREFIX = `${SYSTEM_NAMESPACE}:name:`
const REVOKE_PREFIX = `${SYSTEM_NAMESPACE}:revoke:`

/** Longest node name, characters. */
export const MAX_NODE_NAME = 64
/** Longest revocation reason, characters. */
export const MAX_REVOCATION_REASON = 500

export const nameKey = (node: NodeId): string => `${NAME_PREFIX}${node}`
export const revocationKey = (target: NodeId, issuer: NodeId): string => `${REVOKE_PREFIX}${target}:${issuer}`
export const REVOCATION_PREFIX = REVOKE_PREFIX

/** The start of every name in the system namespace (namespaceOf: what comes before the first colon). */
const SYSTEM_PREFIX = `${SYSTEM_NAMESPACE}:`

/** Whether the record's namespace (recordNamespace) is the system's: asked of every record received, so no namespace string is cut out. */
export const isSystemRecord = (r: MemoryRecord): boolean => {
  switch (r.kind) {
    case 'note': return r.key.startsWith(SYSTEM_PREFIX)
    case 'triple': return r.subject.startsWith(SYSTEM_PREFIX)
    case 'episode': return r.id.startsWith(SYSTEM_PREFIX)
    case 'trace': return r.runId.startsWith(SYSTEM_PREFIX)
  }
}

export type SystemKey =
  | { readonly kind: 'name', readonly node: NodeId }
  | { readonly kind: 'revocation', readonly target: NodeId, readonly issuer: NodeId }

/** What a system note's key names, or undefined for a key that is not one. */
export function parseSystemKey (key: string): SystemKey | undefined {
  if (key.startsWith(NAME_PREFIX)) {
    const node = key.slice(NAME_PREFIX.length)
    return isNodeId(node) ? { kind: 'name', node } : undefined
  }
  if (key.startsWith(REVOKE_PREFIX)) {
    const parts = key.slice(REVOKE_PREFIX.length).split(':')
    if (parts.length !== 2 || !isNodeId(parts[0]) || !isNodeId(parts[1])) return undefined
    return { kind: 'revocation', target: parts[0], issuer: parts[1] }
  }
  return undefined
}

/** The node a system key says may write it. */
export const authorOf = (k: SystemKey): NodeId => (k.kind === 'name' ? k.node : k.issuer)

export interface Revocation {
  readonly target: NodeId
  readonly issuer: NodeId
  /** Records of the target stamped at or after this time (ms) are refused. */
  readonly after: number
  readonly reason?: string
  /** The note's stamp (its order among revocations). */
  readonly hlc: NoteRecord['hlc']
}

const isObject = (v: Json): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The name a live name note gives, or undefined when its value is not `{"name": …}`. */
export function nodeNameOf (value: Json): string | undefined {
  if (!isObject(value) || typeof value.name !== 'string') return undefined
  const name = value.name
  return name.length >= 1 && name.length <= MAX_NODE_NAME ? name : undefined
}

/** A live revocation note as a revocation, or undefined when its key or value is not one. */
export function revocationOf (note: NoteRecord): Revocation | undefined {
  const k = parseSystemKey(note.key)
  if (k?.kind !== 'revocation' || note.deleted || !isObject(note.value)) return undefined
  const { after, reason } = note.value
  if (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0) return undefined
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REVOCATION_REASON)) return undefined
  return { target: k.target, issuer: k.issuer, after, ...(typeof reason === 'string' ? { reason } : {}), hlc: note.hlc }
}

/**
 * Why a record in the system namespace is not acceptable from a peer, or undefined when it is:
 * only notes, with a key that names their author, stamped by that author, signed by it (a
 * derived deletion is not accepted here), with a value of the right shape.
 */
export function systemRecordProblem (r: MemoryRecord, signer: NodeId | undefined): string | undefined {
  if (r.kind !== 'note') return `only notes are written in the ${SYSTEM_NAMESPACE} namespace`
  const k = parseSystemKey(r.key)
  if (k === undefined) return `${r.key} is not a key of the ${SYSTEM_NAMESPACE} namespace (a node name or a revocation)`
  const author = authorOf(k)
  if (r.hlc.node !== author) return `${r.key} may only be written by ${author}`
  if (signer !== author) return `${r.key} must be signed by ${author}`
  if (r.deleted) return undefined
  if (k.kind === 'name') return nodeNameOf(r.value) === undefined ? `a node name must be {"name": "<1 to ${MAX_NODE_NAME} characters>"}` : undefined
  return revocationOf(r) === undefined ? 'a revocation must be {"after": <ms>, "reason"?: "<text>"}' : undefined
}
