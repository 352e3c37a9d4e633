/** The mailbox in memory, for tests and simulations; the same rules as `SqliteMailbox` (`Mailbox.ts`). */
import { fullestGroup, keyIdHex, type DepositResult, type HeldPage, type Mailbox, type MailboxLimits } from './Mailbox.ts'

interface Held extends HeldPage { readonly at: number }

export class MemoryMailbox implements Mailbox {
  private readonly limits: MailboxLimits
  private pages: Held[] = []
  private next = 1

  constructor (limits: MailboxLimits) {
    this.limits = limits
  }

  deposit (keyId: Uint8Array, writer: string, page: Uint8Array, now: number): DepositResult {
    const before = this.pages
    this.pages = before.filter(p => p.at >= now - this.limits.retentionMs)
    let dropped = before.length - this.pages.length
    let droppedBytes = before.reduce((n, p) => n + p.page.byteLength, 0) - this.usage().bytes
    if (page.byteLength > this.limits.maxBytes) return { seq: 0, dropped, droppedBytes }
    const depositor = keyIdHex(keyId)
    const held = new Map<string, number>()
    for (const p of this.pages) held.set(keyIdHex(p.keyId), (held.get(keyIdHex(p.keyId)) ?? 0) + p.page.byteLength)
    let bytes = this.usage().bytes
    while (bytes + page.byteLength > this.limits.maxBytes) {
      const group = fullestGroup(held, depositor, page.byteLength) as string
      const at = this.pages.findIndex(p => keyIdHex(p.keyId) === group)
      const [old] = this.pages.splice(at, 1) as [Held]
      held.set(group, (held.get(group) ?? 0) - old.page.byteLength)
      bytes -= old.page.byteLength
      dropped++
      droppedBytes += old.page.byteLength
    }
    const seq = this.next++
    this.pages.push({ seq, keyId: keyId.slice(), writer, page: page.slice(), at: now })
    return { seq, dropped, droppedBytes }
  }

  pull (keyId: Uint8Array, after: number, max: number, now: number): { pages: HeldPage[], more: boolean } {
    const k = keyIdHex(keyId)
    const all = this.pages.filter(p => p.seq > after && p.at >= now - this.limits.retentionMs && keyIdHex(p.keyId) === k)
    return { pages: all.slice(0, max).map(({ seq, keyId, writer, page }) => ({ seq, keyId, writer, page })), more: all.length > max }
  }

  usage (): { pages: number, bytes: number } {
    return { pages: this.pages.length, bytes: this.pages.reduce((n, p) => n + p.page.byteLength, 0) }
  }

  close (): void {}
}
