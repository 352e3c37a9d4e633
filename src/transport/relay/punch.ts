/**
 * The hole-punch messages: two members whose session runs through a relay tell each other where
 * to dial, then dial at the same moment (TCP simultaneous open, `transport/libp2p/punch/`). Pure:
 * encoding, decoding and their limits; the stream that carries them is `/engram/punch/1.0.0`,
 * opened over the relayed connection, each message length-prefixed (varint):
 *
 *   initiator → responder  CONNECT [version 1][type 1][count n ≤ 4] n × candidate
 *   responder → initiator  CONNECT (the same shape: its own candidates)
 *   initiator → responder  SYNC    [version 1][type 2]
 *
 *   candidate = [family 4|6][IPv4 4 bytes | IPv6 16 bytes][TCP port, 2 bytes big-endian]
 *
 * A candidate is the sender's address as the relay observed it (identify's observed address of
 * the relay connection), with the local TCP port the sender will dial from. On SYNC the responder
 * dials the initiator's candidates at once; the initiator dials the responder's half a round trip
 * (measured between its CONNECT and the answer) after sending SYNC, so both SYNs cross.
 * A node that does not speak the protocol refuses the stream, and the session stays relayed.
 */
import { isIPv4, isIPv6 } from 'node:net'
import { PROTOCOL } from '../../core/errors.ts'

export const PUNCH_PROTOCOL = '/engram/punch/1.0.0'
export const PUNCH_VERSION = 1
/** Most candidates one CONNECT carries. */
export const MAX_PUNCH_CANDIDATES = 4
/** The largest punch message (a CONNECT with the most IPv6 candidates). */
export const MAX_PUNCH_MESSAGE = 3 + MAX_PUNCH_CANDIDATES * (1 + 16 + 2)

const CONNECT = 1
const SYNC = 2

/** Where a member can be dialled for the punch: an IP literal and a TCP port. */
export interface Candidate {
  readonly host: string
  readonly port: number
}

export type PunchMessage = { readonly type: 'connect', readonly candidates: readonly Candidate[] } | { readonly type: 'sync' }

function ipBytes (host: string): Uint8Array {
  if (isIPv4(host)) return Uint8Array.from(host.split('.').map(Number))
  if (!isIPv6(host) || host.includes('.')) throw PROTOCOL(`punch candidate ${host} is not an IP literal (IPv4, or IPv6 without an embedded IPv4 part)`)
  const [head = '', tail = ''] = host.split('::')
  const groups = (s: string): number[] => s === '' ? [] : s.split(':').map(g => parseInt(g, 16))
  const h = groups(head)
  const t = host.includes('::') ? groups(tail) : []
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t]
  const out = new Uint8Array(16)
  all.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff })
  return out
}

function ipText (family: number, b: Uint8Array): string {
  if (family === 4) return [...b].join('.')
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push((((b[i] as number) << 8) | (b[i + 1] as number)).toString(16))
  return groups.join(':')
}

export function encodePunch (m: PunchMessage): Uint8Array {
  if (m.type === 'sync') return Uint8Array.of(PUNCH_VERSION, SYNC)
  if (m.candidates.length === 0 || m.candidates.length > MAX_PUNCH_CANDIDATES) {
    throw PROTOCOL(`a punch CONNECT carries 1 to ${MAX_PUNCH_CANDIDATES} candidates, not ${m.candidates.length}`)
  }
  const parts: number[] = [PUNCH_VERSION, CONNECT, m.candidates.length]
  for (const c of m.candidates) {
    if (!Number.isInteger(c.port) || c.port < 1 || c.port > 65535) throw PROTOCOL(`punch candidate port ${c.port} is not 1–65535`)
    const ip = ipBytes(c.host)
    parts.push(ip.length === 4 ? 4 : 6, ...ip, c.port >> 8, c.port & 0xff)
  }
  return Uint8Array.from(parts)
}

export function decodePunch (b: Uint8Array): PunchMessage {
  if (b.byteLength < 2 || b.byteLength > MAX_PUNCH_MESSAGE) throw PROTOCOL(`punch message of ${b.byteLength} bytes (2–${MAX_PUNCH_MESSAGE})`)
  if (b[0] !== PUNCH_VERSION) throw PROTOCOL(`punch message version ${b[0]} is not supported (this node speaks ${PUNCH_VERSION})`)
  if (b[1] === SYNC) {
    if (b.byteLength !== 2) throw PROTOCOL('punch SYNC carries nothing')
    return { type: 'sync' }
  }
  if (b[1] !== CONNECT) throw PROTOCOL(`punch message type ${b[1]} is unknown`)
  const n = b[2] ?? 0
  if (n < 1 || n > MAX_PUNCH_CANDIDATES) throw PROTOCOL(`a punch CONNECT carries 1 to ${MAX_PUNCH_CANDIDATES} candidates, not ${n}`)
  const candidates: Candidate[] = []
  let at = 3
  for (let i = 0; i < n; i++) {
    const family = b[at]
    const len = family === 4 ? 4 : family === 6 ? 16 : -1
    if (len < 0) throw PROTOCOL(`punch candidate family ${family} is not 4 or 6`)
    if (at + 1 + len + 2 > b.byteLength) throw PROTOCOL('punch CONNECT is cut short')
    const host = ipText(family as number, b.subarray(at + 1, at + 1 + len))
    const port = ((b[at + 1 + len] as number) << 8) | (b[at + 2 + len] as number)
    if (port === 0) throw PROTOCOL('punch candidate port 0')
    candidates.push({ host, port })
    at += 1 + len + 2
  }
  if (at !== b.byteLength) throw PROTOCOL(`punch CONNECT has ${b.byteLength - at} bytes past its candidates`)
  return { type: 'connect', candidates }
}
