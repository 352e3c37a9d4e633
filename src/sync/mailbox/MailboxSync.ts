/**
 * A member's side of the mailbox (docs/DISCOVERY.md "Mailbox", PROTOCOL.md §6): every `intervalMs`,
 * for each relay that admitted this node,
 *
 * - deposit: the records this node wrote (its own stamps; each member deposits its own) from its
 *   feed after the last seq deposited there, cut into pages of at most
 *   `pageRecords` records, each sealed with the group's SEAL key (`protocol/mailbox/seal.ts`)
 *   and sent; the deposited seq moves only when the mailbox says it stored the page;
 * - pull: the pages after the last mailbox seq taken from there, filed under this group's key id;
 *   each is opened (a page that fails to open is refused with a warning naming the writer and
 *   why: tampered, or sealed under another seed), its rows checked, and its records applied
 *   through the ordinary write path (`replication/applyPage.ts`, `via` = the writer), so
 *   signatures (checked ahead, then the engine's gate: a member holding the group's key can
 *   seal a page but not forge another node's records), tombstones, the conflict strategy and
 *   the drift guard apply as for any peer's page. The pulled seq moves after each page is
 *   applied or refused.
 *
 * Deposited pages carry the signatures of their records (core/seals.ts), as native pages do.
 *
 * Both positions are kept in the store's metadata, per relay, so a restart resumes. Pages this
 * node wrote itself are skipped. What the mailbox sees is in docs/SECURITY.md.
 */
import type { NodeId } from '../../core/ids.ts'
import { sealPage as pageSignatures } from '../../core/seals.ts'
import type { SeedKeys } from '../../core/seedKeys.ts'
import type { Engine } from '../../engine/Engine.ts'
import { cutPages, decodeAnswer, decodePagePlaintext, encodePagePlaintext, encodeRequest, MAX_PULL_PAGES, MAX_PAGE_RECORDS, type MailboxAnswer } from '../../protocol/mailbox/messages.ts'
import { openPage, sealPage, type SealKey } from '../../protocol/mailbox/seal.ts'
import { applyPeerPage, type ConflictPolicy } from '../../replication/applyPage.ts'
import { BatchCache } from '../../replication/BatchCache.ts'
import type { Logger } from '../../util/log.ts'

/** What the member side needs of the transport: its admitted relays and one exchange with one. */
export interface MailboxLink {
  relays (): string[]
  exchange (relay: string, request: Uint8Array, maxFrames: number): Promise<Uint8Array[]>
}

export interface MailboxSyncOptions {
  readonly engine: Engine
  readonly link: MailboxLink
  readonly keys: Pick<SeedKeys, 'seal' | 'keyId'>
  readonly log: Logger
  readonly intervalMs: number
  /** Records per sealed page (at most MAX_PAGE_RECORDS). */
  readonly pageRecords?: number
  readonly conflicts?: ConflictPolicy
}

export interface MailboxCounts {
  deposited: number
  pulled: number
  applied: number
  refused: number
}

const DEPOSITED = (relay: string): string => `mailbox.deposited.${relay}`
const PULLED = (relay: string): string => `mailbox.pulled.${relay}`
/** Pages deposited per relay and round, so one round stays short. */
const PAGES_PER_ROUND = 64

export class MailboxSync {
  readonly counts: MailboxCounts = { deposited: 0, pulled: 0, applied: 0, refused: 0 }
  private readonly o: MailboxSyncOptions
  private readonly seal: SealKey
  /** The signed batches of the pages deposited last (a bulk write spans several pages). */
  private readonly batches: BatchCache
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = false
  /** Relays that answered that they hold no mailbox, logged once each. */
  private readonly noMailbox = new Set<string>()
  /** Relays whose mailbox answered at least once (the first round is logged). */
  private readonly reached = new Set<string>()

  constructor (o: MailboxSyncOptions) {
    this.o = o
    this.seal = { key: o.keys.seal, keyId: o.keys.keyId }
    this.batches = new BatchCache(o.engine.store)
  }

  start (): void {
    this.stopped = false
    this.schedule(0)
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    await this.running
  }

  private schedule (ms: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => { this.running = undefined; this.schedule(this.o.intervalMs) })
    }, ms)
    this.timer.unref()
  }

  /** One round with every admitted relay: pull, then deposit. Never throws. */
  async round (): Promise<void> {
    for (const relay of this.o.link.relays()) {
      if (this.stopped) return
      try {
        const before = { ...this.counts }
        await this.pull(relay)
        await this.deposit(relay)
        this.noMailbox.delete(relay)
        const c = this.counts
        const first = !this.reached.has(relay)
        this.reached.add(relay)
        if (first || c.deposited !== before.deposited || c.pulled !== before.pulled) {
          this.o.log.info(first ? 'using the relay\'s mailbox' : 'mailbox round', {
            relay,
            deposited: c.deposited - before.deposited,
            depositedTo: Number(this.o.engine.store.getMeta(DEPOSITED(relay)) ?? '0'),
            pulled: c.pulled - before.pulled,
            applied: c.applied - before.applied,
            refused: c.refused - before.refused
          })
        }
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err)
        if (/protocol selection failed|not supported/i.test(msg)) {
          if (!this.noMailbox.has(relay)) this.o.log.info('the relay holds no mailbox (p2p.mailbox.enabled is off there); changes are not deposited on it', { relay })
          this.noMailbox.add(relay)
        } else {
          this.o.log.warn(`mailbox exchange with the relay failed: ${msg}; retried in ${this.o.intervalMs} ms`, { relay })
        }
      }
    }
  }

  private async ask (relay: string, request: Uint8Array, maxFrames: number): Promise<MailboxAnswer[]> {
    return (await this.o.link.exchange(relay, request, maxFrames)).map(decodeAnswer)
  }

  private async deposit (relay: string): Promise<void> {
    const store = this.o.engine.store
    const per = Math.min(this.o.pageRecords ?? 500, MAX_PAGE_RECORDS)
    for (let n = 0; n < PAGES_PER_ROUND && !this.stopped; n++) {
      const after = Number(store.getMeta(DEPOSITED(relay)) ?? '0')
      const page = store.changesSince(after, { limit: per })
      if (page.entries.length === 0) {
        if (page.lastSeq > after) store.setMeta(DEPOSITED(relay), String(page.lastSeq))
        return
      }
      const own = page.entries.filter(e => e.record.hlc.node === this.o.engine.node)
      const [c] = cutPages(own, per, e => e.seq)
      if (c === undefined) {
        store.setMeta(DEPOSITED(relay), String(page.lastSeq))
        if (!page.hasMore) return
        continue
      }
      const signatures = pageSignatures(c.records, this.batches.load, this.batches.reload)
      const sealed = sealPage(this.seal, this.o.engine.node, c.from, c.to, encodePagePlaintext(c.records.map(e => e.record), signatures))
      const [a] = await this.ask(relay, encodeRequest({ op: 'deposit', page: sealed }), 1)
      if (a?.op !== 'deposited') throw new Error('the mailbox answered a deposit with something else')
      if (!a.stored) {
        this.o.log.warn('the mailbox refused a page (larger than its p2p.mailbox.maxBytes); peers get these changes directly', { relay, bytes: sealed.byteLength })
      }
      store.setMeta(DEPOSITED(relay), String(page.lastSeq))
      this.counts.deposited++
      if (!page.hasMore) return
    }
  }

  private async pull (relay: string): Promise<void> {
    for (let more = true; more && !this.stopped;) {
      const after = Number(this.o.engine.store.getMeta(PULLED(relay)) ?? '0')
      const answers = await this.ask(relay, encodeRequest({ op: 'pull', keyId: this.seal.keyId, after, max: MAX_PULL_PAGES }), MAX_PULL_PAGES + 1)
      more = false
      for (const a of answers) {
        if (a.op === 'end') more = a.more
        if (a.op !== 'page') continue
        if (a.seq <= after) throw new Error(`the mailbox sent page ${a.seq}, not after ${after}`)
        await this.take(relay, a.seq, a.page)
      }
    }
  }

  /** Opens, checks and applies one page; refuses it with a warning when it does not open. */
  private async take (relay: string, seq: number, page: Uint8Array): Promise<void> {
    const store = this.o.engine.store
    this.counts.pulled++
    let opened: ReturnType<typeof openPage> | undefined
    try {
      opened = openPage([this.seal], page)
    } catch (err) {
      this.o.log.warn(`refused a mailbox page: ${err instanceof Error ? err.message : String(err)}`, { relay, page: seq })
    }
    if (opened !== undefined && 'failure' in opened) {
      this.o.log.warn(`refused a mailbox page: ${opened.failure === 'tampered' ? 'it does not open (tampered, or forged)' : 'sealed under another seed\'s key'}`, { relay, page: seq, writer: opened.header.writer, from: opened.header.from, to: opened.header.to })
    }
    if (opened === undefined || 'failure' in opened) {
      this.counts.refused++
      store.setMeta(PULLED(relay), String(seq))
      return
    }
    const writer = opened.header.writer as NodeId
    if (writer !== this.o.engine.node) {
      let body
      try {
        body = decodePagePlaintext(opened.plaintext)
      } catch (err) {
        this.o.log.warn(`refused a mailbox page: ${err instanceof Error ? err.message : String(err)}`, { relay, page: seq, writer })
        this.counts.refused++
        store.setMeta(PULLED(relay), String(seq))
        return
      }
      const { records, seals } = body
      // Signatures are checked ahead, yielding between batches (a page may hold many single writes); the gate uses the result.
      await this.o.engine.verifyAhead(records, seals)
      const view = { node: writer, cursor: 0, namespaces: null }
      const conflicts = this.o.conflicts !== undefined ? { pass: this.o.conflicts.pass(writer), log: this.o.conflicts.log } : undefined
      this.counts.applied += applyPeerPage(this.o.engine, { peer: writer, records, seals, view }, conflicts).applied
    }
    store.setMeta(PULLED(relay), String(seq))
  }
}
