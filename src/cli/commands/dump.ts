/**
 * `engram export [--out FILE]` and `engram import FILE|-`: the whole store (triples, notes,
 * episodes, traces, tombstones included) as a dump (src/core/dump.ts), to move a store to a new
 * machine, keep a backup, or seed a node. An import merges by the usual rules, as records from a
 * peer: what is newer wins, a deletion stays deleted, every record keeps its stamp and the node
 * that wrote it, and importing twice changes nothing.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, renameSync, rmSync, type WriteStream } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { isDumpEnd, parseDumpHeader, type DumpHeader } from '../../core/dump.ts'
import { INVALID_INPUT, isEngramError, REMOTE_ERROR, UNAVAILABLE } from '../../core/errors.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, str, type Values } from '../args.ts'
import type { ApiClient } from '../../client/ApiClient.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { EXIT, USAGE } from '../exit.ts'
import { printJson, type CliIo } from '../io.ts'
import { Progress } from '../progress.ts'

/** Records sent in one import request, and their most bytes (the daemon's default body limit is 8 MiB). */
const IMPORT_BATCH = 5000
const IMPORT_BATCH_BYTES = 4 * 1024 * 1024

export const exportCommand: Command = {
  name: 'export',
  summary: 'export the whole store (every record, with its stamp) to a file',
  help: `Usage: engram export [--out FILE] [--namespaces a,b] [--kinds triple,note,episode,trace]

Writes every record of the store (triples, notes, episodes and traces, deletions included, each
with its stamp and the node that wrote it) as a dump: one JSON header line, one line per
record, and an end line. To stdout, or to FILE (written whole, then put in place: a cut-short
export never replaces a file). Progress goes to stderr. engram import reads it back, here or
on another machine.

Options:
  --out FILE         write to FILE instead of stdout
  --namespaces a,b   only records in these namespaces (the part of a subject or key before ":")
  --kinds k,…        only these kinds: triple, note, episode, trace
${CLIENT_OPTIONS_HELP}

Examples:
  engram export --out ~/backup/engram-$(date +%F).ndjson
  engram export --namespaces project,user | gzip > engram.ndjson.gz
`,
  options: { ...CLIENT_OPTIONS, out: { type: 'string' }, namespaces: { type: 'string' }, kinds: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const client = connect(values, io)
    const out = str(values, 'out')
    const file = out === undefined ? undefined : resolve(io.cwd, out)
    const tmp = file === undefined ? undefined : `${file}.${randomBytes(6).toString('hex')}.tmp`
    const sink = tmp === undefined ? undefined : createWriteStream(tmp, { mode: 0o600 })
    try {
      const result = await writeDump(client, values, io, sink)
      if (sink !== undefined) {
        sink.end()
        await finished(sink)
        renameSync(tmp!, file!)
      }
      if (values.json === true && file !== undefined) printJson(io, { file, records: result.records, nodeId: result.header.nodeId })
      else if (file !== undefined) io.err(`wrote ${result.records} records of node ${result.header.nodeId} to ${file}\n`)
      return EXIT.ok
    } catch (e) {
      sink?.destroy()
      if (tmp !== undefined) rmSync(tmp, { force: true })
      throw e
    }
  }
}

/** Streams the dump to `sink` (or stdout); answers its header and its number of records. */
async function writeDump (client: ApiClient, values: Values, io: CliIo, sink: WriteStream | undefined): Promise<{ header: DumpHeader, records: number }> {
  const write = async (text: string): Promise<void> => {
    if (sink === undefined) { io.out(text); return }
    if (!sink.write(text)) await new Promise<void>((resolve, reject) => { sink.once('drain', resolve).once('error', reject) })
  }
  let header: DumpHeader | undefined
  let records = 0
  let ended = false
  let progress: Progress | undefined
  for await (const line of client.exportDump({ namespaces: str(values, 'namespaces'), kinds: str(values, 'kinds') })) {
    if (header === undefined) {
      header = parseDumpHeader(line, 'the export')
      progress = new Progress(io, 'export', { unit: 'records', total: header.records })
    } else if (isDumpEnd(tryParse(line))) {
      ended = true
    } else {
      records++
      if (records % 1000 === 0) progress!.update(records)
    }
    await write(line + '\n')
  }
  if (header === undefined || !ended) throw UNAVAILABLE(`the export stopped after ${records} records, before its end; nothing was written in place of the file: try again`, { records })
  progress!.update(records)
  progress!.finish()
  return { header, records }
}

function tryParse (line: string): unknown {
  if (!line.startsWith('{"format"')) return undefined
  try { return JSON.parse(line) } catch { return undefined }
}

export const importCommand: Command = {
  name: 'import',
  summary: 'import a dump of engram export into the store',
  help: `Usage: engram import FILE
       engram import -             (the dump from standard input)

Reads a dump written by engram export and merges every record into the store, by the rules
records from a peer follow: the newer state of a record wins, a deletion stays deleted, each
record keeps its stamp and the node that wrote it, and what is here already is left as it is,
so importing twice changes nothing. The records then reach the machines this node syncs with.
Batches of at most ${IMPORT_BATCH} records, each in one transaction; progress goes to stderr.
A record that cannot be read stops the import at that line, with its number; the batches
before it stay imported (import the file again once it is fixed).

Options:
${CLIENT_OPTIONS_HELP}

Examples:
  engram import ~/backup/engram-2026-11-20.ndjson
  gunzip -c engram.ndjson.gz | engram import -
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const client = connect(values, io)
    const name = positionals[0]!
    const input = name === '-' ? stdinStream(io) : openFile(resolve(io.cwd, name))
    const where = name === '-' ? 'standard input' : resolve(io.cwd, name)
    const totals = await readDump(client, input, where, io)
    const summary = { from: where, nodeId: totals.header.nodeId, exportedAt: totals.header.exportedAt, ...totals.counts }
    if (values.json === true) printJson(io, summary)
    else {
      io.out(`imported ${totals.counts.records} records of node ${totals.header.nodeId} (exported ${totals.header.exportedAt}): ` +
        `${totals.counts.applied} new or newer here, ${totals.counts.unchanged} here already\n`)
    }
    if (!totals.ended) io.err(`warning: ${where} ends without the end line of a dump: it may have been cut short\n`)
    return EXIT.ok
  }
}

function stdinStream (io: CliIo): Readable {
  if (io.readStdin === undefined) throw USAGE('"-" reads standard input, which this command cannot read here', 'import')
  return process.stdin
}

const openFile = (path: string): Readable => createReadStream(path)

interface ImportTotals {
  readonly header: DumpHeader
  readonly ended: boolean
  readonly counts: { records: number, applied: number, unchanged: number, batches: number }
}

async function readDump (client: ApiClient, input: Readable, where: string, io: CliIo): Promise<ImportTotals> {
  const lines = createInterface({ input, crlfDelay: Infinity })
  const counts = { records: 0, applied: 0, unchanged: 0, batches: 0 }
  let header: DumpHeader | undefined
  let ended = false
  let progress: Progress | undefined
  let batch: unknown[] = []
  let batchLines: number[] = []
  let bytes = 0
  let lineNo = 0
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    const r = await sendBatch(client, batch, batchLines)
    counts.records += batch.length
    counts.applied += r.applied
    counts.unchanged += r.unchanged
    counts.batches++
    progress!.update(counts.records)
    batch = []
    batchLines = []
    bytes = 0
  }
  try {
    for await (const line of lines) {
      lineNo++
      if (line.trim() === '') continue
      if (header === undefined) {
        header = parseDumpHeader(line, where)
        progress = new Progress(io, 'import', { unit: 'records', total: header.records })
        continue
      }
      let record: unknown
      try {
        record = JSON.parse(line)
      } catch {
        throw INVALID_INPUT(`${where} line ${lineNo}`, 'is not JSON; nothing from this line on was imported')
      }
      if (isDumpEnd(record)) { ended = true; continue }
      if (batch.length > 0 && (batch.length >= IMPORT_BATCH || bytes + line.length > IMPORT_BATCH_BYTES)) await flush()
      batch.push(record)
      batchLines.push(lineNo)
      bytes += line.length + 1
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw USAGE(`${where}: no such file`, 'import')
    throw e
  }
  if (header === undefined) throw INVALID_INPUT(where, 'is empty: an engram dump starts with its header line')
  await flush()
  progress!.finish()
  return { header, ended, counts }
}

/** One batch; a record the daemon refuses is reported with its line in the dump. */
async function sendBatch (client: ApiClient, batch: unknown[], lines: readonly number[]): Promise<{ applied: number, unchanged: number }> {
  try {
    return await client.importRecords(batch)
  } catch (e) {
    const m = isEngramError(e) ? /^records\[(\d+)\]/.exec(e.message) : null
    const line = m === null ? undefined : lines[Number(m[1])]
    if (line !== undefined && isEngramError(e)) {
      throw REMOTE_ERROR(e.code, `line ${line}: ${e.message.replace(/^records\[\d+\]\.?/, 'record ')}; the batches before it were imported, nothing from this batch`, { ...e.details, line })
    }
    throw e
  }
}
