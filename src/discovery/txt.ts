/**
 * The DNS-SD TXT record of an engram node (RFC 6763 §6): `key=value` strings, read with limits.
 *
 * | key   | value                                              |
 * |-------|----------------------------------------------------|
 * | `id`  | node id (the libp2p peer id of the node's key)     |
 * | `p2p` | P2P port, 1–65535 (UDP for QUIC, TCP on the same number) |
 * | `api` | REST API port, 1–65535                             |
 * | `v`   | highest native sync protocol version, 1–255         |
 *
 * Nothing secret and nothing derived from the seed is published. The decoder accepts anything
 * (records come from anyone on the LAN) and never throws: it answers `{ok: false, problem}`
 * for input over the limits or without the keys above. Keys are case-insensitive; the first
 * occurrence of a key wins (RFC 6763 §6.4); strings without `=` and unknown keys are ignored.
 */
import { isNodeId, type NodeId } from '../core/ids.ts'
import type { Advertisement } from './Discovery.ts'

export const TXT_LIMITS = {
  /** Most strings read from one record (the rest is refused). */
  maxStrings: 32,
  /** A DNS character-string is at most 255 bytes. */
  maxStringBytes: 255,
  /** Most bytes in all strings together (one UDP datagram's worth). */
  maxTotalBytes: 1300,
  /** Longest key (RFC 6763 suggests at most 9 characters). */
  maxKeyBytes: 9,
  /** Longest value read (engram's are far shorter). */
  maxValueBytes: 160
} as const

export const TXT_KEYS = { nodeId: 'id', p2pPort: 'p2p', apiPort: 'api', protocol: 'v' } as const

export type TxtResult<T> = { readonly ok: true, readonly value: T } | { readonly ok: false, readonly problem: string }

/** What a TXT record says about a node (its addresses come from the other records). */
export interface TxtAdvert {
  readonly nodeId: NodeId
  readonly p2pPort: number
  readonly apiPort: number
  readonly protocol: number
}

/** The TXT record of an advertisement, as key → value (bonjour-service writes `key=value`). */
export function encodeTxt (ad: Advertisement): Record<string, string> {
  return {
    [TXT_KEYS.nodeId]: ad.nodeId,
    [TXT_KEYS.p2pPort]: String(ad.p2pPort),
    [TXT_KEYS.apiPort]: String(ad.apiPort),
    [TXT_KEYS.protocol]: String(ad.protocol)
  }
}

/** The TXT record as the strings on the wire. */
export function encodeTxtStrings (ad: Advertisement): Uint8Array[] {
  return Object.entries(encodeTxt(ad)).map(([k, v]) => new TextEncoder().encode(`${k}=${v}`))
}

const fail = (problem: string): { ok: false, problem: string } => ({ ok: false, problem })

function toBytes (s: unknown): Uint8Array | undefined {
  if (s instanceof Uint8Array) return s
  if (typeof s === 'string') return s.length > TXT_LIMITS.maxTotalBytes ? undefined : new TextEncoder().encode(s)
  return undefined
}

/** A key: printable US-ASCII except '=' (RFC 6763 §6.4), folded to lower case. */
function keyOf (bytes: Uint8Array): string | undefined {
  if (bytes.length === 0 || bytes.length > TXT_LIMITS.maxKeyBytes) return undefined
  let k = ''
  for (const b of bytes) {
    if (b < 0x20 || b > 0x7e || b === 0x3d) return undefined
    k += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b + 32 : b)
  }
  return k
}

/** A value engram reads: printable US-ASCII only (anything else is not one of ours). */
function valueOf (bytes: Uint8Array): string | undefined {
  if (bytes.length > TXT_LIMITS.maxValueBytes) return undefined
  let v = ''
  for (const b of bytes) {
    if (b < 0x20 || b > 0x7e) return undefined
    v += String.fromCharCode(b)
  }
  return v
}

/**
 * The key → value pairs of a TXT record's strings (an array of byte strings, as DNS packets
 * carry them; a single string is read as a record of one). Pairs whose key or value engram
 * cannot read are skipped; a record over the limits is refused as a whole.
 */
export function decodeTxtStrings (input: unknown): TxtResult<ReadonlyMap<string, string>> {
  const list: unknown[] = Array.isArray(input) ? input : [input]
  if (list.length > TXT_LIMITS.maxStrings) return fail(`more than ${TXT_LIMITS.maxStrings} TXT strings`)
  const out = new Map<string, string>()
  let total = 0
  for (const raw of list) {
    const bytes = toBytes(raw)
    if (bytes === undefined) return fail('a TXT string that is not bytes, or too long')
    if (bytes.length > TXT_LIMITS.maxStringBytes) return fail(`a TXT string of ${bytes.length} bytes (at most ${TXT_LIMITS.maxStringBytes})`)
    total += bytes.length
    if (total > TXT_LIMITS.maxTotalBytes) return fail(`TXT strings of more than ${TXT_LIMITS.maxTotalBytes} bytes`)
    const eq = bytes.indexOf(0x3d)
    if (eq <= 0) continue
    const key = keyOf(bytes.subarray(0, eq))
    if (key === undefined || out.has(key)) continue
    const value = valueOf(bytes.subarray(eq + 1))
    if (value === undefined) continue
    out.set(key, value)
  }
  return { ok: true, value: out }
}

function port (v: string | undefined, what: string): TxtResult<number> {
  if (v === undefined) return fail(`no ${what}`)
  if (!/^\d{1,5}$/.test(v)) return fail(`${what} ${JSON.stringify(v)} is not a port number`)
  const n = Number(v)
  if (n < 1 || n > 65535) return fail(`${what} ${n} is outside 1-65535`)
  return { ok: true, value: n }
}

/** What an engram node's TXT record says, or why it is not one. */
export function decodeTxtAdvert (input: unknown): TxtResult<TxtAdvert> {
  const pairs = decodeTxtStrings(input)
  if (!pairs.ok) return pairs
  const m = pairs.value
  const id = m.get(TXT_KEYS.nodeId)
  if (id === undefined) return fail('no node id')
  if (!isNodeId(id)) return fail(`node id ${JSON.stringify(id.slice(0, 40))} is not a node id`)
  const p2p = port(m.get(TXT_KEYS.p2pPort), 'P2P port')
  if (!p2p.ok) return p2p
  const api = port(m.get(TXT_KEYS.apiPort), 'API port')
  if (!api.ok) return api
  const v = m.get(TXT_KEYS.protocol)
  if (v === undefined || !/^\d{1,3}$/.test(v) || Number(v) < 1 || Number(v) > 255) return fail('no protocol version from 1 to 255')
  return { ok: true, value: { nodeId: id, p2pPort: p2p.value, apiPort: api.value, protocol: Number(v) } }
}
