/**
 * Runs inside a network namespace for the namespace tests (Lab.ts): answers HTTP requests to
 * the daemons of its namespace (whose APIs listen on that namespace's loopback, out of the test
 * process's reach). One JSON request per stdin line, `{id, method, url, body?, timeoutMs?}`; one
 * JSON answer per stdout line, `{id, status, body}` or `{id, error}` (the error names its cause,
 * e.g. `ECONNREFUSED`, or says the request timed out). Exits when stdin closes.
 */
import { createInterface } from 'node:readline'

const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => {
  void (async () => {
    let id: unknown
    try {
      const req = JSON.parse(line) as { id: unknown, method: string, url: string, body?: unknown, timeoutMs?: number }
      id = req.id
      const res = await fetch(req.url, {
        method: req.method,
        ...(req.body !== undefined ? { body: JSON.stringify(req.body), headers: { 'content-type': 'application/json' } } : {}),
        signal: AbortSignal.timeout(req.timeoutMs ?? 10_000)
      })
      process.stdout.write(JSON.stringify({ id, status: res.status, body: await res.text() }) + '\n')
    } catch (e) {
      const cause = e instanceof Error && e.cause instanceof Error ? ` (${(e.cause as NodeJS.ErrnoException).code ?? e.cause.message})` : ''
      process.stdout.write(JSON.stringify({ id, error: (e instanceof Error ? `${e.name}: ${e.message}` : String(e)) + cause }) + '\n')
    }
  })()
})
rl.on('close', () => { process.exit(0) })
