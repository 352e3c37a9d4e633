/**
 * A mailbox's side of the protocol (docs/PROTOCOL.md §6): answers one request from an admitted
 * member over a `Mailbox` store. A deposit is checked as far as a mailbox can (the sealed page's
 * header: version, key id, writer, range, size; it cannot open the page) and stored under its key
 * id; when the cap or retention dropped older pages, one warning says how many and what to do. A
 * pull answers the pages of the key id asked for after the seq asked for, then `end`.
 */
import { decodeRequest, encodeAnswer } from '../../protocol/mailbox/messages.ts'
import { readHeader } from '../../protocol/mailbox/seal.ts'
import type { Mailbox } from '../../store/mailbox/Mailbox.ts'
import type { Logger } from '../../util/log.ts'

export class MailboxHost {
  private readonly box: Mailbox
  private readonly log: Logger
  private readonly now: () => number

  constructor (box: Mailbox, log: Logger, now: () => number = Date.now) {
    this.box = box
    this.log = log
    this.now = now
  }

  /** The answer frames to one request frame from `peer`; PROTOCOL errors for malformed ones. */
  answer (peer: string, frame: Uint8Array): Uint8Array[] {
    const req = decodeRequest(frame)
    if (req.op === 'pull') {
      const { pages, more } = this.box.pull(req.keyId, req.after, req.max, this.now())
      return [...pages.map(p => encodeAnswer({ op: 'page', seq: p.seq, page: p.page })), encodeAnswer({ op: 'end', more })]
    }
    const h = readHeader(req.page)
    const r = this.box.deposit(h.keyId, h.writer, req.page, this.now())
    if (r.dropped > 0) {
      const { pages, bytes } = this.box.usage()
      this.log.warn(`mailbox full: dropped the ${r.dropped} oldest pages (${r.droppedBytes} bytes) past p2p.mailbox.maxBytes or p2p.mailbox.retentionHours; members offline longer catch up from a peer. Raise p2p.mailbox.maxBytes to keep more`, { pages, bytes })
    }
    if (r.seq === 0) this.log.warn('mailbox: refused a page larger than p2p.mailbox.maxBytes', { peer, bytes: req.page.byteLength })
    else this.log.debug('mailbox: stored a page', { peer, writer: h.writer, bytes: req.page.byteLength, seq: r.seq })
    return [encodeAnswer({ op: 'deposited', stored: r.seq > 0, seq: r.seq })]
  }
}
