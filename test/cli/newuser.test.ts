/**
 * What a new user meets walking through the CLI, each behaviour run as they would run it: the
 * built `engram` in a child process against a real daemon, on a terminal (script(1)) where the
 * behaviour is about terminals. Large note values from a file and from stdin; episodes and
 * traces; a pattern delete that asks first, refuses without a terminal unless --yes, and shows
 * what it would do with --dry-run; a whole-store export imported into a second node; progress
 * as a bar on a terminal and as plain lines elsewhere; `engram stop`. The steps a behaviour only
 * needs done (the writes that set it up, the reads that check it) run the binary's dispatcher in
 * this process (`dispatch`), sparing a process start each.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { makeTrace, recordToPlain } from '../../src/core/records.ts'
import { engram, engramOnTerminal, sandbox, startDaemon, type Daemon, type Result, type Sandbox } from './helpers.ts'
import { inProcess } from './inProcess.ts'

const MiB = 1024 * 1024
const errorLine = (r: Result): string => r.stderr.trim().split('\n').at(-1) ?? ''

describe('the CLI, as a new user walks through it', () => {
  let box: Sandbox
  let daemon: Daemon
  const run = (args: readonly string[], input?: string | Buffer): Promise<Result> => engram([...args, '--url', daemon.url], box.env, input !== undefined ? { input } : {})
  /** As `run`, by the binary's dispatcher in this process (no stdin, no terminal). */
  const dispatch = (args: readonly string[]): Promise<Result> => inProcess([...args, '--url', daemon.url], box.env, box.root)

  before(async () => {
    box = sandbox()
    daemon = await startDaemon(join(box.root, 'node'), box.env)
  })
  after(async () => {
    await daemon?.stop()
    box?.remove()
  })

  it('note set reads a value of any size from a file or from stdin', async () => {
    const big = 'x'.repeat(MiB - 16) // over the 128 KiB a command-line argument may hold
    const file = join(box.root, 'big.txt')
    writeFileSync(file, big)
    const fromFile = await run(['note', 'set', 'doc:big', '--file', file])
    assert.equal(fromFile.code, 0, fromFile.stderr)
    assert.equal(fromFile.stdout, 'set doc:big\n')
    const stored = JSON.parse((await dispatch(['note', 'get', 'doc:big', '--json'])).stdout) as { value: string }
    assert.equal(stored.value, big)

    const fromStdin = await run(['note', 'set', 'doc:piped', '-'], 'line one\n{not json}\n')
    assert.equal(fromStdin.code, 0, fromStdin.stderr)
    assert.equal((await run(['note', 'get', 'doc:piped'])).stdout, 'line one\n{not json}\n\n')
    assert.equal((await run(['note', 'set', 'doc:json', '-'], '{"tokens": 4000}\n')).code, 0)
    assert.deepEqual(JSON.parse((await dispatch(['note', 'get', 'doc:json', '--json'])).stdout).value, { tokens: 4000 })

    writeFileSync(file, 'y'.repeat(MiB + 100_000))
    const tooBig = await run(['note', 'set', 'doc:toobig', '--file', file])
    assert.equal(tooBig.code, 2)
    assert.match(errorLine(tooBig), /value: is \d+ bytes as canonical JSON; at most 1048576 are allowed/)
    const both = await run(['note', 'set', 'doc:x', 'v', '--file', file])
    assert.match(errorLine(both), /give VALUE either as an argument or with --file, not both; see engram note set --help/)
    assert.equal(both.code, 2)
  })

  it('episodes and traces have commands: record, get, list; append, get, list', async () => {
    const rec = await run(['episode', 'record', 'coder:s1', '--agent', 'coder', '--summary', 'fixed the build', '--tag', 'ci', '--tag', 'fast', '--data', '{"files": 3}'])
    assert.equal(rec.code, 0, rec.stderr)
    assert.equal(rec.stdout, 'coder:s1\n')
    const got = JSON.parse((await dispatch(['episode', 'get', 'coder:s1', '--json'])).stdout) as { data: unknown }
    assert.deepEqual(got.data, { files: 3, agent: 'coder', summary: 'fixed the build', tags: ['ci', 'fast'] })
    const generated = (await run(['episode', 'record', '--data', '-'], '{"summary": "from stdin"}')).stdout.trim()
    assert.match(generated, /^ep-[0-9a-f-]{36}$/)
    const list = await run(['episode', 'list'])
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, /^ep-\S+ +\S+ +from stdin$/m)
    assert.match(list.stdout, /^coder:s1 +\S+ +fixed the build$/m)
    const text = await dispatch(['episode', 'get', 'coder:s1'])
    assert.match(text.stdout, /^id +coder:s1$/m)
    assert.equal((await dispatch(['episode', 'get', 'nope'])).code, 1)

    const id = (await run(['trace', 'append', 'run-1', 'tool_call', '{"tool": "grep"}'])).stdout.trim()
    assert.match(id, /^[0-9a-f]{64}$/)
    assert.equal((await run(['trace', 'append', 'run-1', 'output', '-'], 'build passed\n')).code, 0)
    const traces = JSON.parse((await dispatch(['trace', 'list', '--run', 'run-1', '--json'])).stdout) as { traces: { id: string, type: string, data: unknown }[], total: number }
    assert.deepEqual(traces.traces.map(t => [t.type, t.data]), [['tool_call', { tool: 'grep' }], ['output', 'build passed\n']])
    assert.equal(traces.traces[0]!.id, id)
    assert.match((await dispatch(['trace', 'list'])).stdout, /run-1 +tool_call +\{"tool":"grep"\}/)
    assert.match((await dispatch(['trace', 'get', id])).stdout, /^type +tool_call$/m)
  })

  it('a pattern delete shows what it would do with --dry-run, asks on a terminal, and needs --yes elsewhere', async () => {
    for (const i of [1, 2, 3]) assert.equal((await dispatch(['add', `scratch:n${i}`, 'p', 'o'])).code, 0)
    const dry = await run(['delete', '--namespace', 'scratch', '--dry-run'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.equal(dry.stdout.trim().split('\n').length, 3)
    assert.match(dry.stderr, /dry run: would delete 3 triples, here and on every machine this node syncs with; nothing deleted/)

    const refused = await run(['delete', '--namespace', 'scratch'])
    assert.equal(refused.code, 2)
    assert.match(errorLine(refused), /3 triples match namespace=scratch; deleting them deletes them on every machine this node syncs with: add --yes to delete them, or --dry-run to see them/)

    const no = await engramOnTerminal(['delete', '--namespace', 'scratch', '--url', daemon.url], box.env, { input: 'n\n' })
    assert.equal(no.code, 1, no.stdout)
    assert.match(no.stdout, /3 triples match namespace=scratch\. Delete them here and on every machine this node syncs with\? \[y\/N\]/)
    assert.match(no.stdout, /nothing deleted/)
    assert.equal(JSON.parse((await dispatch(['query', '--namespace', 'scratch', '--json'])).stdout).total, 3)

    const yes = await engramOnTerminal(['delete', '--namespace', 'scratch', '--url', daemon.url], box.env, { input: 'y\n' })
    assert.equal(yes.code, 0, yes.stdout)
    assert.match(yes.stdout, /deleted 3 triples/)
    assert.equal((await dispatch(['add', 'scratch:again', 'p', 'o'])).code, 0)
    assert.equal((await dispatch(['add', 'scratch:again', 'p', 'o2'])).code, 0)
    assert.equal((await run(['delete', '--namespace', 'scratch', '--yes'])).stdout, 'deleted 2 triples\n')
    const one = await dispatch(['add', 'solo:x', 'p', 'o'])
    assert.equal((await dispatch(['delete', '--subject', 'solo:x'])).stdout, 'deleted 1 triple\n', 'one triple needs no confirmation')
    assert.ok(one.stdout.length > 0)
  })

  it('export writes the whole store, and import merges it into another node: equal, and once only', async () => {
    await dispatch(['note', 'set', 'dump:note', '{"n": 1}'])
    await dispatch(['note', 'set', 'dump:gone', 'bye'])
    await dispatch(['note', 'delete', 'dump:gone'])
    await dispatch(['add', 'dump:a', 'likes', 'tea'])
    const out = join(box.root, 'store.ndjson')
    const exp = await run(['export', '--out', out])
    assert.equal(exp.code, 0, exp.stderr)
    assert.match(exp.stderr, /^export: [\d,]+ of [\d,]+ records \(100 %\)/m)
    const lines = readFileSync(out, 'utf8').trim().split('\n')
    const header = JSON.parse(lines[0]!) as { format: string, records: number, nodeId: string }
    assert.equal(header.format, 'engram-dump')
    assert.deepEqual(JSON.parse(lines.at(-1)!), { format: 'engram-dump', end: true, records: lines.length - 2 })
    assert.ok(lines.some(l => l.includes('"key":"dump:gone"') && l.includes('"deleted":true')), 'deletions are exported')

    const other = await startDaemon(join(box.root, 'other'), box.env)
    try {
      const imp = await engram(['import', out, '--url', other.url], box.env)
      assert.equal(imp.code, 0, imp.stderr)
      assert.match(imp.stdout, new RegExp(`^imported ${lines.length - 2} records of node ${header.nodeId} \\(exported .*\\): ${lines.length - 2} new or newer here, 0 here already\\n$`))
      const again = await engram(['import', '-', '--url', other.url], box.env, { input: readFileSync(out) })
      assert.match(again.stdout, /: 0 new or newer here, \d+ here already\n$/)
      const reexport = await engram(['export', '--url', other.url], box.env)
      const records = (text: string): string[] => text.trim().split('\n').slice(1, -1).sort()
      assert.deepEqual(records(reexport.stdout), records(readFileSync(out, 'utf8')), 'the same records, with the same stamps and origins')
      const found = await engram(['search', 'tea', '--json', '--url', other.url], box.env)
      assert.equal(found.code, 0, found.stderr)
      assert.deepEqual((JSON.parse(found.stdout) as { results: Array<{ subject?: string }> }).results.map(r => r.subject), ['dump:a'], 'imported records are in the full-text index')
      const memoryFile = join(box.root, 'memory.jsonl')
      writeFileSync(memoryFile, '{"type":"entity","name":"A","entityType":"t","observations":[]}\n')
      const wrong = await engram(['import', memoryFile, '--url', other.url], box.env)
      assert.equal(wrong.code, 2)
      assert.match(errorLine(wrong), /is not an engram dump: .*import-memory reads memory-server files/)
    } finally {
      await other.stop()
    }
  })

  it('shows progress as a bar with count, total, rate and ETA on a terminal, and as plain lines elsewhere', async () => {
    const n = 30_000
    const node = asNodeId('12D3KooWProgressTestNode')
    const records = Array.from({ length: n }, (_, i) => JSON.stringify(recordToPlain(makeTrace('progress', 'step', i, { wall: 1_700_000_000_000 + i, counter: 0, node }))))
    const header = JSON.stringify({ format: 'engram-dump', version: 1, nodeId: node, exportedAt: new Date().toISOString(), records: n })
    const file = join(box.root, 'progress.ndjson')
    writeFileSync(file, [header, ...records, JSON.stringify({ format: 'engram-dump', end: true, records: n })].join('\n') + '\n')

    const tty = await engramOnTerminal(['import', file, '--url', daemon.url], box.env, { timeoutMs: 120_000 })
    assert.equal(tty.code, 0, tty.stdout)
    const draws = tty.stdout.split('\r').map(d => d.replaceAll('\x1b[K', '').trim()).filter(d => d.startsWith('import  ['))
    assert.ok(draws.length >= 1, tty.stdout)
    assert.match(draws.at(-1)!, /^import {2}\[█+\] {2}30,000\/30,000 records {2}[\d,]+\/s {2}ETA 0:00$/)
    assert.ok(draws.every(d => /^import {2}\[[█░]+\] {2}[\d,]+\/30,000 records/.test(d)), draws.join('\n'))

    const plain = await engram(['import', file, '--url', daemon.url], box.env, { timeoutMs: 120_000 })
    assert.equal(plain.code, 0, plain.stderr)
    assert.ok(!plain.stderr.includes('\r') && !plain.stderr.includes('█'), 'no redraws in a log')
    assert.match(plain.stderr, /^import: 30,000 of 30,000 records \(100 %\)(, [\d,]+\/s, about 0:00 left)?$/m)
  })

  it('engram stop stops the daemon of a data directory and waits until it has exited, also one that requires the API token', async () => {
    const dir = join(box.root, 'to-stop')
    const env = { ...box.env, ENGRAM_API_REQUIRE_TOKEN: '1' }
    const d = await startDaemon(dir, env)
    // the commands of a data directory send its API token, which this daemon requires
    const set = await engram(['note', 'set', 'locked:note', '-', '--data-dir', dir], env, { input: 'from stdin' })
    assert.equal(set.code, 0, set.stderr)
    const exp = await engram(['export', '--data-dir', dir], env)
    assert.equal(exp.code, 0, exp.stderr)
    assert.ok(exp.stdout.includes('"key":"locked:note"'), exp.stdout)
    const found = await engram(['search', 'stdin', '--data-dir', dir, '--json'], env)
    assert.equal(found.code, 0, found.stderr)
    assert.equal((JSON.parse(found.stdout) as { results: unknown[] }).results.length, 1)
    const stop = await engram(['stop', '--data-dir', dir], env)
    assert.equal(stop.code, 0, stop.stderr)
    assert.match(stop.stdout, new RegExp(`^stopped node 12D3KooW\\S+ \\(pid ${d.child.pid}, ${dir.replace(/[.]/g, '\\.')}\\)\\n$`))
    assert.deepEqual(await d.stop(), { code: 0, signal: null }, 'it stopped cleanly, by itself')
    assert.ok(!existsSync(join(dir, 'api.json')))
    const again = await engram(['stop', '--data-dir', dir], box.env)
    assert.equal(again.code, 3)
    assert.match(errorLine(again), /no engram daemon is running for .*to-stop/)
  })
})
