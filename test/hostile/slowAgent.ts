/**
 * A process for the lock-out test (remote-lockout.test.ts), run inside a network namespace with
 * `ip netns exec`. Two modes, each printing JSON lines on stdout:
 *
 *   slowloris HOST PORT SOURCES PER_SOURCE MS  — from each source address (comma-separated),
 *     keeps PER_SOURCE connections to HOST:PORT open, each sending a request's headers one line a
 *     second and never finishing them; a connection that is closed is opened again (after 1 s).
 *     Prints {open} every 500 ms and {done, maxOpen, opened} at the end: after MS, or at once on
 *     SIGTERM (the test ends the attack as soon as what it measures under it is done).
 *   health URL MS — asks URL/api/v1/health one request after the other for MS milliseconds,
 *     each allowed 15 s; prints {done, asked, answered, failures}.
 */
import { connect, type Socket } from 'node:net'

const [mode, ...args] = process.argv.slice(2)
const print = (o: unknown): void => { process.stdout.write(JSON.stringify(o) + '\n') }

if (mode === 'slowloris') {
  const [host, port, sources, per, ms] = args as [string, string, string, string, string]
  const deadline = Date.now() + Number(ms)
  const open = new Set<Socket>()
  let maxOpen = 0
  let opened = 0
  const one = (source: string): void => {
    if (Date.now() > deadline) return
    const s = connect({ host, port: Number(port), localAddress: source })
    let drip: NodeJS.Timeout | undefined
    s.on('connect', () => {
      opened++
      open.add(s)
      maxOpen = Math.max(maxOpen, open.size)
      s.write(`GET /api/v1/health HTTP/1.1\r\nHost: ${host}\r\n`)
      drip = setInterval(() => { s.write('X-Slow: 1\r\n') }, 1000)
    })
    s.on('error', () => {})
    s.on('close', () => {
      clearInterval(drip)
      open.delete(s)
      setTimeout(() => { one(source) }, 1000)
    })
  }
  for (const source of sources.split(',')) for (let i = 0; i < Number(per); i++) one(source)
  const tick = setInterval(() => { print({ open: open.size }) }, 500)
  const finish = (): void => {
    clearInterval(tick)
    print({ done: true, maxOpen, opened })
    for (const s of open) s.destroy()
    process.exit(0)
  }
  setTimeout(finish, Number(ms))
  process.once('SIGTERM', finish)
} else if (mode === 'health') {
  const [url, ms] = args as [string, string]
  const deadline = Date.now() + Number(ms)
  let asked = 0
  let answered = 0
  const failures: string[] = []
  while (Date.now() < deadline) {
    asked++
    try {
      const r = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(15_000) })
      await r.text()
      if (r.status === 200) answered++
      else failures.push(`status ${r.status}`)
    } catch (e) {
      failures.push((e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  print({ done: true, asked, answered, failures: failures.slice(0, 10) })
} else {
  process.stderr.write(`unknown mode ${String(mode)}\n`)
  process.exit(2)
}
