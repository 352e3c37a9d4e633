/**
 * The built `engram` binary against a daemon started as a real child process. Run after
 * `npm run build` (npm test does it first).
 *
 * The binary only binds the dispatcher (src/cli/run.ts) to its process: its arguments, its
 * output streams, its exit code. Each kind of outcome (exit 0, 1, 2, 3 and 78; data on stdout,
 * one error line on stderr) is checked through the binary; the many cases of one kind run the
 * same dispatcher in this process (`inProcess`), as the help test does, instead of paying a
 * process start each for what the process adds nothing to.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, describe, it } from 'node:test'
import { BIN, closedPort, engram, sandbox, startDaemon, type Daemon, type Result, type Sandbox } from './helpers.ts'
import { inProcess } from './inProcess.ts'
import { COMMANDS, runCli } from '../../src/cli/run.ts'

/** The one error line of a failed command. */
function errorLine (r: Result): string {
  const lines = r.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`)
  assert.match(lines[0]!, /^engram: .+ \([A-Z_]+\)$/)
  return lines[0]!
}

describe('engram CLI', () => {
  let box: Sandbox
  before(() => {
    assert.ok(existsSync(BIN), `${BIN} is missing: run npm run build first (npm test does)`)
    box = sandbox()
  })
  after(() => box.remove())

  describe('without a daemon', () => {
    it('prints help for every command, with examples', async () => {
      const main = await engram(['--help'], box.env)
      assert.equal(main.code, 0)
      // every command and group, in process (the dispatcher is the one the binary runs)
      const helpOf = async (args: string[]): Promise<{ code: number, out: string }> => {
        let out = ''
        const code = await runCli(args, { env: box.env, cwd: box.root, out: t => { out += t }, err: () => {} })
        return { code, out }
      }
      for (const c of COMMANDS.map(x => x.name)) {
        assert.ok(main.stdout.includes(`  ${c} `), `main help lists ${c}`)
        const r = await helpOf([...c.split(' '), '--help'])
        assert.equal(r.code, 0, `${c} --help`)
        assert.match(r.out, /^Usage: engram /)
        assert.match(r.out, /\nExamples?:\n {2}\S/, `${c} --help has examples`)
      }
      // a group that is a command too (relay, relay key) shows that command's help, checked above
      const names = new Set(COMMANDS.map(x => x.name))
      for (const group of new Set(COMMANDS.filter(x => x.name.includes(' ')).map(x => x.name.split(' ')[0]!).filter(g => !names.has(g)))) {
        const r = await helpOf([group, '--help'])
        assert.equal(r.code, 0, `${group} --help`)
        assert.match(r.out, /\nExamples:\n {2}engram /, `${group} --help has examples`)
      }
      assert.match((await engram(['note', 'set', '--help'], box.env)).stdout, /^Usage: engram note set/)
      const none = await engram([], box.env)
      assert.equal(none.code, 2)
      assert.match(none.stderr, /Usage: engram <command>/)
      assert.equal((await engram(['note', '--help'], box.env)).code, 0)
      assert.match((await engram(['--version'], box.env)).stdout, /^\d+\.\d+\.\d+\n$/)
    })

    it('exits 2 with one line on bad usage', async () => {
      const cases: [string[], RegExp][] = [
        [['frobnicate'], /unknown command "frobnicate"; see engram --help/],
        [['quey', '--subject', 's'], /unknown command "quey" \(did you mean "engram query"\?\); see engram --help/],
        [['stats'], /unknown command "stats" \(did you mean "engram status"\?\)/],
        [['note', 'sett', 'k', 'v'], /unknown command "note sett" \(did you mean "engram note set"\?\); see engram note --help/],
        [['relay', 'kee'], /unknown command "relay kee" \(did you mean "engram relay key"\?\); see engram relay --help/],
        [['query', '--limt', '3'], /Unknown option '--limt' \(did you mean --limit\?\); see engram query --help/],
        [['note', 'frob'], /unknown command "note frob"; see engram note --help/],
        [['add', 'a', 'b'], /add: expected 3 argument\(s\), got 2; see engram add --help/],
        [['query', '--bogus'], /Unknown option '--bogus'.*see engram query --help/],
        [['query', '--limit', 'many'], /--limit must be a non-negative integer/],
        [['add', 's', 'p', 'x', '--type', 'number'], /"x" is not a number/],
        [['add', 's', 'p', 'x', '--type', 'tuple'], /--type must be one of node, string, number, boolean, datetime, json/],
        [['add', 's', 'p', 'x', '--type', 'node', '--lang', 'en'], /--lang applies to string objects only/],
        [['delete'], /give the ID of a triple, or a pattern/],
        [['status', '--url', 'ftp://x'], /--url must be an http\(s\) URL/]
      ]
      // the binary for an unknown command and for a bad option; the dispatcher for every case
      for (const [args, re] of [cases[0]!, cases[5]!]) {
        const r = await engram(args, box.env)
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
        assert.equal(r.stdout, '')
        assert.match(errorLine(r), re)
        assert.match(errorLine(r), /\(INVALID_INPUT\)$/)
      }
      for (const [args, re] of cases) {
        const r = await inProcess(args, box.env, box.root)
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
        assert.equal(r.stdout, '')
        assert.match(errorLine(r), re)
        assert.match(errorLine(r), /\(INVALID_INPUT\)$/)
      }
    })

    it('exits 3 when the daemon is not reachable, saying how to start it', async () => {
      const port = await closedPort()
      const env = { ...box.env, ENGRAM_API_PORT: String(port) }
      const commands = [['status', '--url', `http://127.0.0.1:${port}`], ['query'], ['add', 's', 'p', 'o'], ['note', 'list']]
      // the binary once, the dispatcher for every command
      const runs: [string[], Result][] = [[commands[0]!, await engram(commands[0]!, env)]]
      for (const args of commands) runs.push([args, await inProcess(args, env, box.root)])
      for (const [args, r] of runs) {
        assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`)
        const line = errorLine(r)
        assert.ok(line.includes(`no engram daemon reachable at http://127.0.0.1:${port}`), line)
        assert.match(line, /start one with `engram start` \(or `npm start`/)
        assert.match(line, /\(UNAVAILABLE\)$/)
      }
    })

    it('config print shows every value with its source, and works without a daemon', async () => {
      const file = join(box.root, 'engram.json5')
      writeFileSync(file, '{ sync: { intervalSeconds: 60 }, p2p: { seed: "s3cret-seed" } }', { mode: 0o600 })
      const env = { ...box.env, ENGRAM_SYNC_CONFLICT_STRATEGY: 'keep-both' }
      const r = await engram(['config', 'print', '--config', file, '--port', '19999'], env)
      assert.equal(r.code, 0, r.stderr)
      const row = (key: string): string[] => r.stdout.split('\n').find(l => l.startsWith(key + ' '))!.trim().split(/\s{2,}/)
      assert.deepEqual(row('api.port'), ['api.port', '19999', 'flag:--port'])
      assert.deepEqual(row('sync.intervalSeconds'), ['sync.intervalSeconds', '60', `file:${file}`])
      assert.deepEqual(row('sync.conflictStrategy'), ['sync.conflictStrategy', 'keep-both', 'env:ENGRAM_SYNC_CONFLICT_STRATEGY'])
      assert.deepEqual(row('api.host'), ['api.host', '127.0.0.1', 'default'])
      assert.deepEqual(row('sync.passphrase'), ['sync.passphrase', '(unset)', 'default'])
      assert.deepEqual(row('dataDir'), ['dataDir', join(box.root, 'data', 'engram'), 'default'])
      assert.ok(!r.stdout.includes('s3cret-seed'), 'secrets are not printed')

      const j = await engram(['config', 'print', '--config', file, '--json'], env)
      assert.equal(j.code, 0)
      const parsed = JSON.parse(j.stdout) as { config: { sync: { intervalSeconds: number }, p2p: { seed: string }, tls: { cert: null } }, sources: Record<string, string>, file: string }
      assert.equal(parsed.config.sync.intervalSeconds, 60)
      assert.equal(parsed.config.p2p.seed, '<hidden>')
      assert.equal(parsed.config.tls.cert, null)
      assert.equal(parsed.sources['sync.conflictStrategy'], 'env:ENGRAM_SYNC_CONFLICT_STRATEGY')
      assert.equal(parsed.file, file)
    })

    it('exits 78 with one line naming the key, the value and what is allowed on an invalid config', async () => {
      const r = await engram(['config', 'print'], { ...box.env, ENGRAM_SYNC_INTERVAL_SECONDS: '5' })
      assert.equal(r.code, 78)
      assert.equal(errorLine(r), 'engram: config sync.intervalSeconds = "5" (from env:ENGRAM_SYNC_INTERVAL_SECONDS): must be an integer from 10 to 86400 (CONFIG_INVALID)')

      const file = join(box.root, 'typo.json5')
      writeFileSync(file, '{ p2p: { enable: true } }')
      const s = await engram(['start', '--config', file, '--data-dir', join(box.root, 'never')], box.env)
      assert.equal(s.code, 78)
      assert.equal(errorLine(s), `engram: config p2p.enable = true (from file:${file}): unknown key; did you mean p2p.enabled? (CONFIG_INVALID)`)

      const u = await engram(['start', '--port', '70000', '--data-dir', join(box.root, 'never')], box.env)
      assert.equal(u.code, 78)
      assert.match(errorLine(u), /config api\.port = "70000" \(from flag:--port\): must be an integer from 0 to 65535/)

      const v = await inProcess(['query'], { ...box.env, ENGRAM_P2P_PORTT: '1' }, box.root)
      assert.equal(v.code, 78, 'client commands read the config too (to find the daemon)')
      assert.match(errorLine(v), /did you mean ENGRAM_P2P_PORT\?/)
      assert.ok(!existsSync(join(box.root, 'never')), 'nothing was created')
    })

    it('refuses to start with p2p.enabled and no p2p.seed', async () => {
      const dataDir = join(box.root, 'p2p-no-seed')
      const r = await engram(['start', '--data-dir', dataDir, '--port', '0'], { ...box.env, ENGRAM_P2P_ENABLED: 'true' })
      assert.equal(r.code, 78)
      assert.match(errorLine(r), /^engram: config p2p\.seed is not set: must be set because p2p\.enabled is true \(env:ENGRAM_P2P_ENABLED\).*ENGRAM_P2P_SEED/)
      assert.ok(!existsSync(join(dataDir, 'api.json')))
    })
  })

  describe('against a running daemon', () => {
    let daemon: Daemon
    let dataDir: string
    /** `engram …args --data-dir DIR` (the option goes before a `--`, if any), in this process unless through the `binary`. */
    const run = (args: string[], opts: { binary?: boolean } = {}): Promise<Result> => {
      const dash = args.includes('--') ? args.indexOf('--') : args.length
      const full = [...args.slice(0, dash), '--data-dir', dataDir, ...args.slice(dash)]
      return opts.binary === true ? engram(full, box.env) : inProcess(full, box.env, box.root)
    }

    before(async () => {
      dataDir = join(box.root, 'daemon')
      mkdirSync(dataDir, { recursive: true })
      daemon = await startDaemon(dataDir, box.env)
    })
    after(async () => { await daemon.stop('SIGKILL') })

    it('add prints the id; --json prints the triple', async () => {
      const r = await run(['add', 'user:alice', 'prefers:editor', 'vim'], { binary: true })
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^[0-9a-f]{64}\n$/)
      const j = await run(['add', 'user:alice', 'knows', 'user:bob', '--type', 'node', '--json'])
      assert.equal(j.code, 0, j.stderr)
      const t = JSON.parse(j.stdout) as { id: string, object: unknown, origin: string }
      assert.deepEqual(t.object, { node: 'user:bob' })
      for (const args of [['age', '42', '--type', 'number'], ['greeting', 'bonjour', '--lang', 'fr'], ['born', '2026-11-20T09:30:00Z', '--type', 'datetime'],
        ['settings', '{"theme":"dark"}', '--type', 'json'], ['active', 'true', '--type', 'boolean'], ['balance', '--type', 'number', '--', '-5']]) {
        const a = await run(['add', 'user:alice', ...args])
        assert.equal(a.code, 0, `${args.join(' ')}: ${a.stderr}`)
      }
      const again = await run(['add', 'user:alice', 'prefers:editor', 'vim'])
      assert.equal(again.stdout, r.stdout, 'the same triple has the same id')
    })

    it('query lists, filters and pages; --json parses', async () => {
      const r = await run(['query', '--subject', 'user:alice'], { binary: true })
      assert.equal(r.code, 0, r.stderr)
      const lines = r.stdout.trim().split('\n')
      assert.equal(lines.length, 8)
      assert.ok(lines.some(l => /^[0-9a-f]{64} {2}user:alice {2}prefers:editor +"vim"$/.test(l)), r.stdout)
      assert.ok(lines.some(l => /knows +user:bob$/.test(l)))
      assert.ok(lines.some(l => /greeting +"bonjour"@fr$/.test(l)))
      assert.ok(lines.some(l => /balance +-5$/.test(l)))

      const j = await run(['query', '--predicate', 'knows', '--object', 'user:bob', '--type', 'node', '--json'])
      const page = JSON.parse(j.stdout) as { triples: { subject: string }[], total: number, limit: number, offset: number }
      assert.equal(page.total, 1)
      assert.equal(page.triples[0]!.subject, 'user:alice')

      const lit = JSON.parse((await run(['query', '--object', 'vim', '--json'])).stdout) as { total: number }
      assert.equal(lit.total, 1)
      const num = JSON.parse((await run(['query', '--object', '42', '--type', 'number', '--json'])).stdout) as { total: number }
      assert.equal(num.total, 1)
      const ns = JSON.parse((await run(['query', '--namespace', 'user', '--limit', '3', '--offset', '1', '--json'])).stdout) as { triples: unknown[], total: number, limit: number, offset: number }
      assert.deepEqual([ns.triples.length, ns.total, ns.limit, ns.offset], [3, 8, 3, 1])

      const none = await run(['query', '--subject', 'user:nobody'])
      assert.equal(none.code, 0)
      assert.equal(none.stdout, '')
      assert.match(none.stderr, /no triples match/)
    })

    it('delete by id, then by pattern; a missing id exits 1', async () => {
      const id = (await run(['add', 'tmp:x', 'p', 'o'])).stdout.trim()
      const d = await run(['delete', id])
      assert.equal(d.code, 0, d.stderr)
      assert.equal(d.stdout, 'deleted 1 triple\n')
      const again = await run(['delete', id], { binary: true })
      assert.equal(again.code, 1)
      assert.match(errorLine(again), /triple not found: [0-9a-f]{64} \(NOT_FOUND\)$/)

      await run(['add', 'tmp:y', 'p', 'a'])
      await run(['add', 'tmp:y', 'p', 'b'])
      await run(['add', 'tmp:y', 'q', 'c'])
      const byPattern = await run(['delete', '--subject', 'tmp:y', '--predicate', 'p', '--yes', '--json'])
      assert.equal(byPattern.code, 0, byPattern.stderr)
      assert.deepEqual(JSON.parse(byPattern.stdout), { deleted: 2 })
      const left = JSON.parse((await run(['query', '--namespace', 'tmp', '--json'])).stdout) as { total: number }
      assert.equal(left.total, 1)
      const bad = await run(['delete', 'not-an-id'], { binary: true })
      assert.equal(bad.code, 2, 'invalid input from the daemon exits 2')
      assert.match(errorLine(bad), /\(INVALID_INPUT\)$/)
    })

    it('note set, get, list, delete', async () => {
      assert.equal((await run(['note', 'set', 'project:engram/goal', 'replicate agent memory'])).stdout, 'set project:engram/goal\n')
      assert.equal((await run(['note', 'set', 'project:engram/limits', '{"tokens": 4000}'])).code, 0)
      assert.equal((await run(['note', 'set', 'build:count', '42'])).code, 0)

      assert.equal((await run(['note', 'get', 'project:engram/goal'], { binary: true })).stdout, 'replicate agent memory\n')
      assert.equal((await run(['note', 'get', 'project:engram/limits'])).stdout, '{"tokens":4000}\n')
      const j = JSON.parse((await run(['note', 'get', 'build:count', '--json'])).stdout) as { key: string, value: unknown }
      assert.deepEqual([j.key, j.value], ['build:count', 42])

      const list = await run(['note', 'list', '--prefix', 'project:'])
      assert.equal(list.stdout, 'project:engram/goal\treplicate agent memory\nproject:engram/limits\t{"tokens":4000}\n')
      const lj = JSON.parse((await run(['note', 'list', '--json'])).stdout) as { notes: unknown[], total: number }
      assert.equal(lj.total, 3)

      assert.equal((await run(['note', 'delete', 'build:count'])).stdout, 'deleted build:count\n')
      const gone = await run(['note', 'get', 'build:count'])
      assert.equal(gone.code, 1)
      assert.match(errorLine(gone), /note not found: build:count \(NOT_FOUND\)/)
    })

    it('status shows the node; --json parses', async () => {
      const r = await run(['status'], { binary: true })
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /^node +12D3KooW\w+$/m)
      assert.match(r.stdout, new RegExp(`^api +${daemon.url.replace(/\./g, '\\.')}$`, 'm'))
      assert.match(r.stdout, /^store +sqlite ok /m)
      assert.match(r.stdout, /^p2p +disabled$/m)
      const j = JSON.parse((await run(['status', '--json'])).stdout) as { url: string, health: { status: string }, status: { dataDir: string, store: { stats: { triples: number } } } }
      assert.equal(j.url, daemon.url)
      assert.equal(j.health.status, 'healthy')
      assert.equal(j.status.dataDir, dataDir)
      assert.ok(j.status.store.stats.triples >= 8)
      // ENGRAM_URL and --url reach it too, without --data-dir.
      assert.equal((await inProcess(['status'], { ...box.env, ENGRAM_URL: daemon.url }, box.root)).code, 0)
      assert.equal((await inProcess(['status', '--url', daemon.url], box.env, box.root)).code, 0)
    })

    it('refuses a second daemon on the same data directory', async () => {
      const r = await engram(['start', '--data-dir', dataDir, '--port', '0'], box.env)
      assert.equal(r.code, 1)
      assert.match(r.stderr, /another engram node \(pid \d+\) is already running on/)
    })
  })

  it('SIGTERM stops the daemon: exit 0, API closed, store closed cleanly, api.json removed', async () => {
    const dataDir = join(box.root, 'sigterm')
    const daemon = await startDaemon(dataDir, box.env)
    const add = await engram(['add', 'user:carol', 'likes', 'tea', '--data-dir', dataDir], box.env)
    assert.equal(add.code, 0, add.stderr)
    const exit = await daemon.stop('SIGTERM')
    assert.deepEqual(exit, { code: 0, signal: null }, daemon.stderr())
    assert.match(daemon.stderr(), /info {2}received SIGTERM; stopping/)
    assert.match(daemon.stderr(), /info {2}engram node stopped/)
    assert.ok(!existsSync(join(dataDir, 'api.json')), 'api.json removed')
    assert.ok(!existsSync(join(dataDir, 'engram.db-wal')), 'WAL checkpointed: the store was closed')
    const db = new DatabaseSync(join(dataDir, 'engram.db'), { readOnly: true })
    try {
      assert.deepEqual(db.prepare('PRAGMA integrity_check').all().map(r => ({ ...r })), [{ integrity_check: 'ok' }])
    } finally {
      db.close()
    }
    const after = await engram(['status', '--data-dir', dataDir], box.env)
    assert.equal(after.code, 3, 'nothing answers any more')
  })

  it('SIGINT stops the daemon with exit 0 too', async () => {
    const daemon = await startDaemon(join(box.root, 'sigint'), box.env)
    assert.deepEqual(await daemon.stop('SIGINT'), { code: 0, signal: null }, daemon.stderr())
  })

  it('a stop signal that comes while the daemon starts stops it cleanly once started', async () => {
    const dataDir = join(box.root, 'early-signal')
    const child = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--port', '0'], { env: box.env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    // 'close': stderr is read to its end by then (at 'exit' the pipe may still hold the last lines)
    const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => child.on('close', (code, signal) => resolve({ code, signal })))
    // the first line comes from inside the start (the identity is made before the API listens)
    await new Promise<void>(resolve => child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; if (stderr.includes('created a new node identity')) resolve() }))
    child.kill('SIGTERM')
    assert.deepEqual(await exited, { code: 0, signal: null }, stderr)
    assert.match(stderr, /received SIGTERM; stopping/)
    assert.ok(!existsSync(join(dataDir, 'api.json')), 'api.json removed')
  })
})
