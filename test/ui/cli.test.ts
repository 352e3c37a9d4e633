/**
 * `engram ui` as the built binary against a running daemon: it prints the dashboard's URL and
 * opens it with $BROWSER (here a script that writes down what it was given, a real second
 * process); without a display it prints the URL and says to open it; --json says what it did;
 * with no daemon it exits 3 and says how to start one.
 */
import assert from 'node:assert/strict'
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { engram, sandbox, startDaemon, waitFor, type Daemon, type Sandbox } from '../support/daemon.ts'

describe('engram ui', () => {
  let box: Sandbox
  let daemon: Daemon
  let dataDir: string
  before(async () => {
    box = sandbox()
    dataDir = join(box.root, 'node')
    daemon = await startDaemon(dataDir, box.env)
  })
  after(async () => {
    await daemon?.stop('SIGKILL')
    box.remove()
  })

  it('opens the dashboard with $BROWSER', async () => {
    const seen = join(box.root, 'opened.txt')
    const script = join(box.root, 'browser.sh')
    writeFileSync(script, `#!/bin/sh\nprintf '%s' "$1" > '${seen}'\n`)
    chmodSync(script, 0o755)
    const r = await engram(['ui', '--data-dir', dataDir], { ...box.env, BROWSER: script })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${daemon.url}/\n`)
    assert.match(r.stderr, /opened the dashboard/)
    const opened = await waitFor(() => (existsSync(seen) ? readFileSync(seen, 'utf8') : undefined) || undefined, 20_000, 'the browser script to run')
    assert.equal(opened, `${daemon.url}/`)
    const page = await fetch(opened)
    assert.equal(page.status, 200)
    assert.match(await page.text(), /<title>engram<\/title>/)
  })

  it('prints the URL when there is no display, and says what it did with --json', async () => {
    const env = { ...box.env }
    delete env.BROWSER
    delete env.DISPLAY
    delete env.WAYLAND_DISPLAY
    const r = await engram(['ui', '--data-dir', dataDir], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${daemon.url}/\n`)
    assert.match(r.stderr, /open the URL above in a browser \(no display here/)
    const j = await engram(['ui', '--no-open', '--json', '--url', daemon.url], env)
    assert.equal(j.code, 0, j.stderr)
    assert.deepEqual(JSON.parse(j.stdout), { url: `${daemon.url}/`, opened: false, reason: '--no-open' })
  })

  it('exits 3 when no daemon answers', async () => {
    const r = await engram(['ui', '--no-open', '--data-dir', join(box.root, 'nothing-here'), '--url', 'http://127.0.0.1:9'], box.env)
    assert.equal(r.code, 3, r.stderr)
    assert.match(r.stderr, /no engram daemon reachable at http:\/\/127\.0\.0\.1:9.*engram start/)
  })
})
