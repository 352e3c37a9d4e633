/**
 * Sealing mailbox pages end to end: a writer seals each page of its changes with the group's SEAL
 * key (`core/seedKeys.ts`, SEAL) before any mailbox sees it; only members open it. XChaCha20-Poly1305
 * (@noble/ciphers) with a fresh random 24-byte nonce per page (192 bits: no nonce is ever reused
 * in practice, whatever the number of writers, with no counter to keep), and associated data that
 * binds the header: version, key id, writer node id and the page's range of the writer's feed. A
 * mailbox that moves a page to another writer or range, or changes one byte, makes it fail to open.
 *
 *   page   = [version 1][key id 8][writer length 1][writer id][from seq u64][to seq u64][nonce 24][ciphertext ‖ tag 16]
 *   AD     = "engram/mailbox-page/v1" ‖ 0x00 ‖ page[0 .. the nonce)
 *
 * What a mailbox sees of a page: its size, when it arrived, the writer's node id and its seq range
 * (how many changes it spans). Never a record, a key, a triple id or another node's id: those are
 * inside the ciphertext.
 */
import { randomBytes } from 'node:crypto'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { PROTOCOL } from '../../core/errors.ts'
import { KEY_BYTES, KEY_ID_BYTES } from '../../core/seedKeys.ts'

export const PAGE_VERSION = 1
export const NONCE_BYTES = 24
export const TAG_BYTES = 16
/** The largest plaintext of one page (docs/LIMITS.md). */
export const MAX_PAGE_PLAINTEXT = 1024 * 1024
/** The largest sealed page a mailbox takes. */
export const MAX_SEALED_PAGE = MAX_PAGE_PLAINTEXT + 1 + KEY_ID_BYTES + 1 + 128 + 16 + NONCE_BYTES + TAG_BYTES

const AD_LABEL = new TextEncoder().encode('engram/mailbox-page/v1\u0000')

/** The header of a sealed page: what a mailbox may read. */
export interface PageHeader {
  readonly keyId: Uint8Array
  readonly writer: string
  /** The first and last seq of the writer's feed the page covers. */
  readonly from: number
  readonly to: number
}

export interface SealKey {
  readonly key: Uint8Array
  readonly keyId: Uint8Array
}

function header (h: PageHeader): Uint8Array {
  const w = new TextEncoder().encode(h.writer)
  if (w.byteLength < 1 || w.byteLength > 128) throw PROTOCOL(`mailbox page: writer id of ${w.byteLength} bytes (1-128)`)
  if (!Number.isSafeInteger(h.from) || !Number.isSafeInteger(h.to) || h.from < 1 || h.to < h.from) throw PROTOCOL(`mailbox page: range ${h.from}-${h.to} is not 1 <= from <= to`)
  const out = new Uint8Array(1 + KEY_ID_BYTES + 1 + w.byteLength + 16)
  out[0] = PAGE_VERSION
  out.set(h.keyId, 1)
  out[1 + KEY_ID_BYTES] = w.byteLength
  out.set(w, 2 + KEY_ID_BYTES)
  const v = new DataView(out.buffer)
  v.setBigUint64(2 + KEY_ID_BYTES + w.byteLength, BigInt(h.from))
  v.setBigUint64(10 + KEY_ID_BYTES + w.byteLength, BigInt(h.to))
  return out
}

function ad (head: Uint8Array): Uint8Array {
  const out = new Uint8Array(AD_LABEL.byteLength + head.byteLength)
  out.set(AD_LABEL, 0)
  out.set(head, AD_LABEL.byteLength)
  return out
}

/** Seals one page of `writer`'s feed, seqs `from`..`to`. */
export function sealPage (k: SealKey, writer: string, from: number, to: number, plaintext: Uint8Array): Uint8Array {
  if (k.key.byteLength !== KEY_BYTES || k.keyId.byteLength !== KEY_ID_BYTES) throw PROTOCOL('mailbox seal key: wrong size')
  if (plaintext.byteLength > MAX_PAGE_PLAINTEXT) throw PROTOCOL(`mailbox page: ${plaintext.byteLength} bytes, more than ${MAX_PAGE_PLAINTEXT}`)
  const head = header({ keyId: k.keyId, writer, from, to })
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES))
  const sealed = xchacha20poly1305(k.key, nonce, ad(head)).encrypt(plaintext)
  const out = new Uint8Array(head.byteLength + NONCE_BYTES + sealed.byteLength)
  out.set(head, 0)
  out.set(nonce, head.byteLength)
  out.set(sealed, head.byteLength + NONCE_BYTES)
  return out
}

/** The header of a sealed page (what a mailbox stores it under); PROTOCOL when malformed. */
export function readHeader (page: Uint8Array): PageHeader & { readonly bodyAt: number } {
  if (page.byteLength > MAX_SEALED_PAGE) throw PROTOCOL(`mailbox page: ${page.byteLength} bytes, more than ${MAX_SEALED_PAGE}`)
  if (page.byteLength < 2 + KEY_ID_BYTES) throw PROTOCOL('mailbox page: too short')
  if (page[0] !== PAGE_VERSION) throw PROTOCOL(`mailbox page: version ${page[0]} (this node reads ${PAGE_VERSION})`)
  const wl = page[1 + KEY_ID_BYTES] as number
  const bodyAt = 2 + KEY_ID_BYTES + wl + 16
  if (wl < 1 || wl > 128 || page.byteLength < bodyAt + NONCE_BYTES + TAG_BYTES) throw PROTOCOL('mailbox page: truncated header')
  const v = new DataView(page.buffer, page.byteOffset, page.byteLength)
  const writer = new TextDecoder('utf-8', { fatal: false }).decode(page.subarray(2 + KEY_ID_BYTES, 2 + KEY_ID_BYTES + wl))
  const from = Number(v.getBigUint64(2 + KEY_ID_BYTES + wl))
  const to = Number(v.getBigUint64(10 + KEY_ID_BYTES + wl))
  if (!/^[A-Za-z0-9]{1,128}$/.test(writer)) throw PROTOCOL('mailbox page: the writer is not a node id')
  if (!Number.isSafeInteger(to) || from < 1 || to < from) throw PROTOCOL(`mailbox page: range ${from}-${to} is not 1 <= from <= to`)
  return { keyId: page.slice(1, 1 + KEY_ID_BYTES), writer, from, to, bodyAt }
}

/** Why a page did not open. */
export type OpenFailure = 'unknown key' | 'tampered'

/**
 * Opens a sealed page with the first of `keys` whose id it names. Returns the header and the
 * plaintext, or the reason it did not open: `unknown key` (sealed under another seed, or an old
 * one), `tampered` (any byte of header, nonce or ciphertext changed, or a forged page).
 */
export function openPage (keys: readonly SealKey[], page: Uint8Array): { header: PageHeader, plaintext: Uint8Array } | { failure: OpenFailure, header: PageHeader } {
  const h = readHeader(page)
  const header: PageHeader = { keyId: h.keyId, writer: h.writer, from: h.from, to: h.to }
  const k = keys.find(x => Buffer.compare(Buffer.from(x.keyId), Buffer.from(h.keyId)) === 0)
  if (k === undefined) return { failure: 'unknown key', header }
  const nonce = page.subarray(h.bodyAt, h.bodyAt + NONCE_BYTES)
  try {
    const plaintext = xchacha20poly1305(k.key, nonce, ad(page.subarray(0, h.bodyAt))).decrypt(page.subarray(h.bodyAt + NONCE_BYTES))
    return { header, plaintext }
  } catch {
    return { failure: 'tampered', header }
  }
}
