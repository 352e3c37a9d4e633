/**
 * `npm test`'s checks before the tests: the build (which type-checks src, test, bench and
 * scripts), the lint and the layer check (depcheck), run side by side. None needs another's
 * output, and each is mostly one busy thread: side by side they take about as long as the build
 * alone instead of the three one after another. Each one's output is printed whole once it ends
 * (never interleaved), with its time; the exit code is 1 when any of them failed.
 *
 *   node scripts/pretest.ts
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CHECKS = ['build', 'lint', 'depcheck'] as const

/** Runs `npm run <script>`; resolves with its exit code once it has exited and printed. */
function check (script: string): Promise<number> {
  const started = performance.now()
  const child = spawn('npm', ['run', '--silent', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  child.stdout.on('data', (d: Buffer) => out.push(d))
  child.stderr.on('data', (d: Buffer) => out.push(d))
  return new Promise(resolve => {
    child.on('error', e => { out.push(Buffer.from(`could not run npm: ${e.message}\n`)) })
    child.on('close', (code, signal) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1)
      const status = code === 0 ? 'ok' : `FAILED (${code ?? signal})`
      process.stdout.write(`> npm run ${script}: ${status} in ${seconds} s\n${Buffer.concat(out).toString('utf8')}`)
      resolve(code ?? 1)
    })
  })
}

const codes = await Promise.all(CHECKS.map(check))
if (codes.some(c => c !== 0)) process.exitCode = 1
