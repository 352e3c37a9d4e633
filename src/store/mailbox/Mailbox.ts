/**
 * What a mailbox keeps: sealed pages (ciphertext the mailbox cannot open) filed under their key
 * id, each with the mailbox's own sequence number, bounded by a byte cap and a retention time.
 * Past either, pages are dropped and the drop is reported to the caller, which logs it; a member
 * that missed dropped pages catches up from a peer instead. Past the byte cap the oldest page of
 * the group (key id) holding the most bytes goes first (`fullestGroup`, the one rule both
 * implementations follow), so one group depositing much pushes out its own pages, not another's:
 * a group's pages are dropped for another's deposit only while it holds more than that group.
 * Two implementations pass one conformance suite (test/store/mailbox.test.ts): `SqliteMailbox`
 * (mailbox.db in the data directory) and `MemoryMailbox`.
 */

/** A stored page as the mailbox sees it: header fields it may read, and the sealed bytes. */
export interface HeldPage {
  readonly seq: number
  readonly keyId: Uint8Array
  readonly writer: string
  readonly page: Uint8Array
}

export interface MailboxLimits {
  /** Most bytes of pages held, all key ids together. */
  readonly maxBytes: number
  /** Pages older than this are dropped. */
  readonly retentionMs: number
}

/** What one deposit did. */
export interface DepositResult {
  /** The page's mailbox seq; 0 when the page alone is larger than the cap (not stored). */
  readonly seq: number
  /** Pages dropped to make room or past retention, and their bytes. */
  readonly dropped: number
  readonly droppedBytes: number
}

export interface Mailbox {
  /** Stores `page` at time `now`, dropping expired pages and then, past the cap, the fullest group's oldest. */
  deposit (keyId: Uint8Array, writer: string, page: Uint8Array, now: number): DepositResult
  /** Pages of `keyId` with seq > `after`, oldest first, at most `max`; `more` when others remain. */
  pull (keyId: Uint8Array, after: number, max: number, now: number): { pages: HeldPage[], more: boolean }
  /** Pages and bytes held now. */
  usage (): { pages: number, bytes: number }
  close (): void
}

/** Hex of a key id: how pages are filed. */
export function keyIdHex (keyId: Uint8Array): string {
  return Buffer.from(keyId).toString('hex')
}

/**
 * The group whose oldest page is dropped next to make room for a page of `depositor`'s key id:
 * the key id holding the most bytes, counting the incoming page (`incoming` bytes) as the
 * depositor's; only key ids with pages held (`held` > 0) can be chosen; ties go to the depositor,
 * then to the smallest key id. Undefined when nothing is held.
 */
export function fullestGroup (held: ReadonlyMap<string, number>, depositor: string, incoming: number): string | undefined {
  let best: string | undefined
  let most = -1
  for (const [key, bytes] of held) {
    if (bytes <= 0) continue
    const total = bytes + (key === depositor ? incoming : 0)
    const tieWins = total === most && best !== depositor && (key === depositor || key < (best as string))
    if (total > most || tieWins) { best = key; most = total }
  }
  return best
}
