/**
 * The one way a test waits: a condition polled until it holds, with a deadline generous enough
 * for a loaded 2-core machine. A test never sleeps for a fixed time and then asserts; it waits
 * for what it means to see, and says what it was waiting for when the deadline passes.
 *
 *   await eventually(() => store.stats().triples === 3, 'three triples')
 *   const peer = await eventually(async () => (await api.peers()).find(p => p.ok), () => `a peer; saw ${…}`)
 *
 * The condition may be synchronous or asynchronous; a value that is not `false`, `undefined` or
 * `null` ends the wait and is returned. A condition that throws is retried (the last error is
 * reported at the deadline). Bounded in time and in count.
 */

/** Default deadline: long enough for anything a test waits for on a loaded machine. */
export const DEFAULT_DEADLINE_MS = 60_000

export interface EventuallyOptions {
  /** Deadline, ms (default DEFAULT_DEADLINE_MS). */
  readonly ms?: number
  /** Pause between two polls, ms (default 10). */
  readonly everyMs?: number
}

type Falsy = false | undefined | null

export async function eventually<T> (cond: () => T | Falsy | Promise<T | Falsy>, what: string | (() => string | Promise<string>),
  opts: EventuallyOptions | number = {}): Promise<T> {
  const { ms = DEFAULT_DEADLINE_MS, everyMs = 10 } = typeof opts === 'number' ? { ms: opts } : opts
  const end = Date.now() + ms
  let lastError: unknown
  for (let i = 0; i < 10_000_000; i++) {
    try {
      const v = await cond()
      if (v !== false && v !== undefined && v !== null) return v
      lastError = undefined
    } catch (e) {
      lastError = e
    }
    if (Date.now() > end) break
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
  const said = typeof what === 'string' ? what : await what()
  const cause = lastError instanceof Error ? `; last error: ${lastError.message}` : ''
  throw new Error(`timed out after ${ms} ms waiting for ${said}${cause}`, { cause: lastError })
}
