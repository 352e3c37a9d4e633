/**
 * The mailbox in one SQLite file (`mailbox.db` in the data directory, WAL): one table of sealed
 * pages in arrival order. It holds ciphertext and the header fields a mailbox may read (key id,
 * writer node id, size, arrival time), never a key or a record. See `Mailbox.ts`.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { fullestGroup, keyIdHex, type DepositResult, type HeldPage, type Mailbox, type MailboxLimits } from './Mailbox.ts'

export class SqliteMailbox implements Mailbox {
  private readonly db: DatabaseSync
  private readonly limits: MailboxLimits
  private readonly st: Record<'insert' | 'expired' | 'groups' | 'oldest' | 'drop' | 'pull' | 'usage', StatementSync>

  constructor (file: string, limits: MailboxLimits) {
    this.limits = limits
    this.db = new DatabaseSync(file, { timeout: 5000 })
    this.db.exec(`PRAGMA journal_mode = WAL;
      CREATE TABLE IF NOT EXISTS pages (seq INTEGER PRIMARY KEY AUTOINCREMENT, key_id TEXT NOT NULL, writer TEXT NOT NULL, at_ms INTEGER NOT NULL, size INTEGER NOT NULL, page BLOB NOT NULL);
      CREATE INDEX IF NOT EXISTS pages_key ON pages (key_id, seq);`)
    this.st = {
      insert: this.db.prepare('INSERT INTO pages (key_id, writer, at_ms, size, page) VALUES (?, ?, ?, ?, ?)'),
      expired: this.db.prepare('DELETE FROM pages WHERE at_ms < ? RETURNING size'),
      groups: this.db.prepare('SELECT key_id, sum(size) AS bytes FROM pages GROUP BY key_id'),
      oldest: this.db.prepare('SELECT seq, size FROM pages WHERE key_id = ? ORDER BY seq LIMIT 1'),
      drop: this.db.prepare('DELETE FROM pages WHERE seq = ?'),
      pull: this.db.prepare('SELECT seq, key_id, writer, page FROM pages WHERE key_id = ? AND seq > ? AND at_ms >= ? ORDER BY seq LIMIT ?'),
      usage: this.db.prepare('SELECT count(*) AS pages, coalesce(sum(size), 0) AS bytes FROM pages')
    }
  }

  deposit (keyId: Uint8Array, writer: string, page: Uint8Array, now: number): DepositResult {
    this.db.exec('BEGIN IMMEDIATE')
    try {
      let dropped = 0
      let droppedBytes = 0
      for (const r of this.st.expired.all(now - this.limits.retentionMs) as Array<{ size: number }>) { dropped++; droppedBytes += r.size }
      let seq = 0
      if (page.byteLength <= this.limits.maxBytes) {
        const depositor = keyIdHex(keyId)
        let { bytes } = this.usage()
        if (bytes + page.byteLength > this.limits.maxBytes) {
          const held = new Map((this.st.groups.all() as Array<{ key_id: string, bytes: number }>).map(g => [g.key_id, Number(g.bytes)]))
          while (bytes + page.byteLength > this.limits.maxBytes) {
            const group = fullestGroup(held, depositor, page.byteLength) as string
            const r = this.st.oldest.get(group) as { seq: number, size: number }
            this.st.drop.run(r.seq)
            held.set(group, (held.get(group) ?? 0) - r.size)
            bytes -= r.size
            dropped++
            droppedBytes += r.size
          }
        }
        seq = Number(this.st.insert.run(keyIdHex(keyId), writer, now, page.byteLength, page).lastInsertRowid)
      }
      this.db.exec('COMMIT')
      return { seq, dropped, droppedBytes }
    } catch (err) {
      this.db.exec('ROLLBACK')
      throw err
    }
  }

  pull (keyId: Uint8Array, after: number, max: number, now: number): { pages: HeldPage[], more: boolean } {
    const rows = this.st.pull.all(keyIdHex(keyId), after, now - this.limits.retentionMs, max + 1) as Array<{ seq: number, key_id: string, writer: string, page: Uint8Array }>
    const pages = rows.slice(0, max).map(r => ({ seq: r.seq, keyId: Uint8Array.from(Buffer.from(r.key_id, 'hex')), writer: r.writer, page: new Uint8Array(r.page) }))
    return { pages, more: rows.length > max }
  }

  usage (): { pages: number, bytes: number } {
    const r = this.st.usage.get() as { pages: number, bytes: number }
    return { pages: Number(r.pages), bytes: Number(r.bytes) }
  }

  close (): void {
    if (this.db.isOpen) this.db.close()
  }
}
