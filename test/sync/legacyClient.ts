/**
 * A polled sync client that behaves as the existing (Mayros-style, Cortex) client does, so that
 * engram is held to what that client really sends and reads:
 *
 *   - one request per pull: `POST <endpoint>/api/v1/sync/delta`, `Content-Type:
 *     application/json`, body `{since, namespaces, nodeId}` (`nodeId` the name it gave the peer),
 *     no signature, nothing else; a non-2xx answer is a failed pull;
 *   - one answer per pull: it reads `triples` (and `deletions`) of that answer and never asks
 *     for more (it knows nothing of `cursor` or `hasMore`);
 *   - its own clock as "last sync": after applying an answer, `since` becomes its clock's time,
 *     not anything the server said; the first pull asks since the epoch;
 *   - it applies through its own Cortex-style sidecar (`local`), one REST call per record:
 *     `POST /api/v1/triples` for a triple it does not hold exactly, `DELETE /api/v1/triples/<id>`
 *     for a deletion, every call with `Content-Type: application/json` (a DELETE too, with no
 *     body), as the Cortex client sends them.
 *
 * One difference, on purpose: the existing client ignores `deletions`; this one applies them, so
 * a test can check that deletions reach it too.
 */

interface LegacyAnswer {
  readonly triples: ReadonlyArray<{ id?: string, subject: string, predicate: string, object: unknown }>
  readonly deletions: readonly string[]
}

export interface LegacyPull {
  readonly received: number
  readonly applied: number
  readonly deleted: number
}

export class LegacyClient {
  /** "Last sync" as the client keeps it: its own clock, ISO; empty before the first pull. */
  lastSyncAt = ''
  private readonly endpoint: string
  private readonly local: string
  private readonly peerName: string
  private readonly namespaces: readonly string[]

  constructor (opts: { endpoint: string, local: string, peerName: string, namespaces: readonly string[] }) {
    this.endpoint = opts.endpoint
    this.local = opts.local
    this.peerName = opts.peerName
    this.namespaces = opts.namespaces
  }

  async pull (): Promise<LegacyPull> {
    const since = this.lastSyncAt || new Date(0).toISOString()
    const res = await fetch(`${this.endpoint}/api/v1/sync/delta`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ since, namespaces: this.namespaces, nodeId: this.peerName }),
      signal: AbortSignal.timeout(60_000)
    })
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`)
    const delta = await res.json() as LegacyAnswer
    const held = await this.localKeys()
    let applied = 0
    for (const t of delta.triples) {
      if (held.has(key(t))) continue
      await this.call('POST', '/api/v1/triples', { subject: t.subject, predicate: t.predicate, object: t.object })
      applied++
    }
    let deleted = 0
    for (const id of delta.deletions) if (await this.call('DELETE', `/api/v1/triples/${encodeURIComponent(id)}`)) deleted++
    this.lastSyncAt = new Date().toISOString()
    return { received: delta.triples.length, applied, deleted }
  }

  /** Every live triple of its own store in the namespaces it syncs, as exact keys. */
  async localKeys (): Promise<Set<string>> {
    const out = new Set<string>()
    for (const ns of this.namespaces) {
      for (let offset = 0; ; offset += 10_000) {
        const page = await this.get<{ triples: Array<{ subject: string, predicate: string, object: unknown }>, total: number }>(`/api/v1/triples?namespace=${encodeURIComponent(ns)}&limit=10000&offset=${offset}`)
        for (const t of page.triples) out.add(key(t))
        if (offset + 10_000 >= page.total) break
      }
    }
    return out
  }

  private async get<T> (path: string): Promise<T> {
    const res = await fetch(this.local + path, { headers: { 'Content-Type': 'application/json' } })
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}: ${await res.text()}`)
    return await res.json() as T
  }

  /** A write to its sidecar; false for a 404 (a deletion of what it never held). */
  private async call (method: string, path: string, body?: unknown): Promise<boolean> {
    const res = await fetch(this.local + path, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body !== undefined ? JSON.stringify(body) : undefined
    })
    if (res.status === 404 && method === 'DELETE') return false
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status}: ${await res.text()}`)
    return true
  }
}

/** The exact identity the existing client compares triples by. */
export const key = (t: { subject: string, predicate: string, object: unknown }): string => `${t.subject}::${t.predicate}::${JSON.stringify(t.object)}`
