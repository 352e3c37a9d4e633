/**
 * A member's side of the mailbox (docs/DISCOVERY.md "Mailbox", PROTOCOL.md §6): every `intervalMs`,
 * for each relay that admitted this node,
 *
 * - deposit: from its feed after the last seq deposited there, the records this node wrote (its
 *   own stamps; each member deposits its own) and those of writers that no page pulled from that
 *   mailbox has covered yet (a member that never reaches the mailbox: its records reach the
 *   mailbox through whoever holds them), cut into pages of at most `pageRecords` records, each
 *   sealed with the group's SEAL key (`protocol/mailbox/seal.ts`) and sent; the deposited seq
 *   moves when the mailbox answers;
 * - pull: the pages after the last mailbox seq taken from there, filed under this group's key id;
 *   each is opened (a page that fails to open is refused with a warning naming the writer and
 *   why: tampered, or sealed under another seed), its rows checked, and its records applied
 *   through the ordinary write path (`replication/applyPage.ts`, `via` = the writer), so
 *   signatures (checked ahead, then the engine's gate: a member holding the group's key can
 *   seal a page but not forge another node's records), tombstones, the conflict strategy and
 *   the drift guard apply as for any peer's page — except that a record its origin voided by a
 *   clock repair this node has learnt of, stamped above the void and still beyond the drift
 *   guard, is dropped rather than held (`voidedInTransit`, core/knowledge.ts: pages deposited
 *   while a clock ran ahead outlive its repair); consecutive pages of one writer are applied in
 *   one transaction, up to APPLY_RECORDS records. The pulled seq moves after the pages are
 *   applied or refused.
 *
 * Deposited pages carry the signatures of their records (core/seals.ts), as native pages do.
 *
 * The writers covered at a relay are those whose records were in a page another member
 * deposited there and this node pulled (at most MAX_COVERED). A member deposits another writer's
 * records until it has pulled a page with them: from then on it leaves them to whoever covers
 * them (the writer itself, or the member that deposits for it). So records go to the mailbox
 * twice only while two members deposit for the same writer before either has pulled the other's
 * pages (two members that both hold an absent writer's records and reach the mailbox in the same
 * round, or a writer whose records another member deposited before its own first round).
 * Coverage is per writer, not per record, and does not lapse: a record of a covered writer that
 * no page holds (the member that covers it lacks that record, or no longer reaches the mailbox)
 * reaches others from peers, not from the mailbox.
 *
 * Both positions and the covered writers are kept in the store's metadata, per relay, so a
 * restart resumes. Pages this node wrote itself are skipped. What the mailbox sees is in
 * docs/SECURITY.md.
 */
import type { NodeId } from '../../core/ids.ts'
import { voidedInTransit } from '../../core/knowledge.ts'
import type { MemoryRecord } from '../../core/model.ts'
import { joinSeals, sealPage as pageSignatures, sealsOfSubset, type PageSeals } from '../../core/seals.ts'
import type { SeedKeys } from '../../core/seedKeys.ts'
import type { Engine } from '../../engine/Engine.ts'
import { cutPages, decodeAnswer, decodePagePlaintext, encodePagePlaintext, encodeRequest, MAX_PULL_PAGES, MAX_PAGE_RECORDS, type MailboxAnswer } from '../../protocol/mailbox/messages.ts'
import { openPage, sealPage, type SealKey } from '../../protocol/mailbox/seal.ts'
import { applyPeerPage, type ConflictPolicy } from '../../replication/applyPage.ts'
import { BatchCache } from '../../replication/BatchCache.ts'
import type { Logger } from '../../util/log.ts'

/** A page pulled and opened: its writer, records and their signatures. */
interface OpenedPage {
  readonly writer: NodeId
  readonly records: MemoryRecord[]
  readonly seals?: PageSeals
}

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

/** What this node's mailbox rounds did since start: sealed pages and their bytes, records applied. */
export interface MailboxCounts {
  deposited: number
  depositedBytes: number
  /** Pages a mailbox did not store (larger than its p2p.mailbox.maxBytes). */
  notStored: number
  pulled: number
  pulledBytes: number
  /** Records from pulled pages that changed something here. */
  applied: number
  /** Pulled pages refused (they do not open, or their rows fail the checks). */
  refused: number
  /** Records dropped as voided by their origin's clock repair. */
  voided: number
}

const DEPOSITED = (relay: string): string => `mailbox.deposited.${relay}`
const PULLED = (relay: string): string => `mailbox.pulled.${relay}`
const COVERED = (relay: string): string => `mailbox.covered.${relay}`
/** Most writers remembered as covered per relay; past it others' records are deposited again (never lost). */
export const MAX_COVERED = 4096
/** Most records applied in one transaction: consecutive pulled pages of one writer are applied together up to it. */
const APPLY_RECORDS = 5000
/** Pages deposited per relay and round, so one round stays short. */
const PAGES_PER_ROUND = 64

export class MailboxSync {
  readonly counts: MailboxCounts = { deposited: 0, depositedBytes: 0, notStored: 0, pulled: 0, pulledBytes: 0, applied: 0, refused: 0, voided: 0 }
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
  /** Writers covered per relay (read from the metadata on first use). */
  private readonly covered = new Map<string, Set<string>>()

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
      const covered = this.coveredAt(relay)
      const due = page.entries.filter(e => e.record.hlc.node === this.o.engine.node || !covered.has(e.record.hlc.node))
      const [c] = cutPages(due, per, e => e.seq)
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
        this.counts.notStored++
        this.o.log.warn('the mailbox refused a page (larger than its p2p.mailbox.maxBytes); peers get these changes directly', { relay, bytes: sealed.byteLength })
      }
      store.setMeta(DEPOSITED(relay), String(page.lastSeq))
      this.counts.deposited++
      this.counts.depositedBytes += sealed.byteLength
      if (!page.hasMore) return
    }
  }

  private async pull (relay: string): Promise<void> {
    const store = this.o.engine.store
    for (let more = true; more && !this.stopped;) {
      const after = Number(store.getMeta(PULLED(relay)) ?? '0')
      const answers = await this.ask(relay, encodeRequest({ op: 'pull', keyId: this.seal.keyId, after, max: MAX_PULL_PAGES }), MAX_PULL_PAGES + 1)
      more = false
      // consecutive pages of one writer are applied together, up to APPLY_RECORDS records
      let run: { writer: NodeId, pages: OpenedPage[], count: number, seq: number } | undefined
      const flush = async (): Promise<void> => {
        if (run === undefined) return
        const { writer, pages, seq } = run
        run = undefined
        await this.apply(relay, writer, pages.flatMap(p => p.records), joinSeals(pages))
        store.setMeta(PULLED(relay), String(seq))
      }
      for (const a of answers) {
        if (a.op === 'end') more = a.more
        if (a.op !== 'page') continue
        if (a.seq <= after) throw new Error(`the mailbox sent page ${a.seq}, not after ${after}`)
        const taken = this.open(relay, a.seq, a.page)
        if (taken !== undefined && run?.writer === taken.writer && run.count + taken.records.length <= APPLY_RECORDS) {
          run.pages.push(taken)
          run.count += taken.records.length
          run.seq = a.seq
          continue
        }
        await flush()
        if (taken === undefined) store.setMeta(PULLED(relay), String(a.seq))
        else run = { writer: taken.writer, pages: [taken], count: taken.records.length, seq: a.seq }
      }
      await flush()
    }
  }

  /**
   * Opens and checks one page: its writer, records and their signatures, or undefined for a page
   * of this node's own or one refused (with a warning: it does not open, or its rows fail the checks).
   */
  private open (relay: string, seq: number, page: Uint8Array): OpenedPage | undefined {
    this.counts.pulled++
    this.counts.pulledBytes += page.byteLength
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
      return undefined
    }
    const writer = opened.header.writer as NodeId
    if (writer === this.o.engine.node) return undefined
    try {
      return { writer, ...decodePagePlaintext(opened.plaintext) }
    } catch (err) {
      this.o.log.warn(`refused a mailbox page: ${err instanceof Error ? err.message : String(err)}`, { relay, page: seq, writer })
      this.counts.refused++
      return undefined
    }
  }

  /**
   * Applies records a writer deposited, through the ordinary write path (`via` = the writer):
   * records voided in transit dropped, their signatures checked ahead, yielding between batches
   * (pages may hold many single writes), then the gate uses the result.
   */
  private async apply (relay: string, writer: NodeId, pulled: readonly MemoryRecord[], pulledSeals: PageSeals | undefined): Promise<void> {
    const { engine } = this.o
    const pt = engine.clock.wallNow()
    const records = pulled.filter(r => !voidedInTransit(r.hlc, engine.knowledge.voidOf(r.hlc.node), engine.clock.isTooFarAhead(r.hlc, pt)))
    if (records.length < pulled.length) {
      this.counts.voided += pulled.length - records.length
      this.o.log.info(`dropped ${pulled.length - records.length} records from the mailbox at ${relay}: stamped before their writer's clock repair (voided); their re-stamped states replace them`, { relay, writer })
    }
    const seals = sealsOfSubset(pulledSeals, pulled, records)
    await engine.verifyAhead(records, seals)
    const view = { node: writer, cursor: 0, namespaces: null }
    const conflicts = this.o.conflicts !== undefined ? { pass: this.o.conflicts.pass(writer), log: this.o.conflicts.log } : undefined
    this.counts.applied += applyPeerPage(engine, { peer: writer, records, seals, view }, conflicts).applied
    this.cover(relay, [writer, ...pulled.map(r => r.hlc.node)])
  }

  private coveredAt (relay: string): Set<string> {
    let set = this.covered.get(relay)
    if (set === undefined) {
      set = new Set<string>(JSON.parse(this.o.engine.store.getMeta(COVERED(relay)) ?? '[]') as string[])
      this.covered.set(relay, set)
    }
    return set
  }

  /** Remembers `writers` as covered at `relay` (up to MAX_COVERED). */
  private cover (relay: string, writers: readonly string[]): void {
    const set = this.coveredAt(relay)
    const before = set.size
    for (const w of writers) if (set.size < MAX_COVERED) set.add(w)
    if (set.size !== before) this.o.engine.store.setMeta(COVERED(relay), JSON.stringify([...set]))
  }
}
