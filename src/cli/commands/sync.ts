/** `engram sync status|now|pair|unpair|pause|resume`: sync with other engram nodes (polled, and native P2P when enabled). */
import type { PeerRunResult } from '../../sync/polled/PolledSync.ts'
import type { PullProgress } from '../../sync/polled/DeltaClient.ts'
import type { PeerView } from '../../client/ApiClient.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, str } from '../args.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { EXIT, USAGE } from '../exit.ts'
import { columns, printJson, type CliIo } from '../io.ts'
import { gossipStatsText, nativeStatusText } from '../nativeStatus.ts'
import { Progress } from '../progress.ts'

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`

/**
 * The progress of pulls on stderr: one display for all peers together, the records received of
 * the records the peers said were to come (once each said). `listener` goes to the client's
 * call; `finish` ends the display (nothing was drawn when no page came).
 */
function pullProgress (io: CliIo, label: string): { listener: (peer: string, p: PullProgress) => void, finish: () => void } {
  const progress = new Progress(io, label, { unit: 'records' })
  const seen = new Map<string, { received: number, remaining?: number }>()
  return {
    listener (name, p) {
      seen.set(name, { received: p.received, ...(p.remaining !== undefined ? { remaining: p.remaining } : {}) })
      const views = [...seen.values()]
      const done = views.reduce((n, v) => n + v.received, 0)
      progress.setTotal(views.every(v => v.remaining !== undefined) ? done + views.reduce((n, v) => n + (v.remaining ?? 0), 0) : undefined)
      progress.update(done)
    },
    finish () { if (seen.size > 0) progress.finish() }
  }
}

/** What a pull did, for people. */
const pulled = (x: PeerRunResult): string => `${x.received} received, ${x.applied} applied${x.conflicts > 0 ? `, ${x.conflicts} conflicts` : ''} in ${seconds(x.durationMs)}`

/**
 * The pull a pairing or a resume started, told as it went: what it brought, that the peer is
 * synced natively, or why it failed (and that the peer stays paired). Answers the exit code.
 */
function reportPull (io: CliIo, name: string, x: PeerRunResult | undefined): number {
  if (x === undefined) { io.err(`${name}: no pull was made (is it paused?)\n`); return EXIT.failed }
  if (x.skipped !== undefined) { io.out(`${name}: ${x.skipped}\n`); return EXIT.ok }
  if (x.ok) { io.out(`${name}: pulled, ${pulled(x)}; this node pulls from it every sync.intervalSeconds from now on\n`); return EXIT.ok }
  io.err(`${name}: the pull failed: ${x.error ?? 'unknown error'} (${x.code ?? '?'})\n` +
    `${name} stays paired and is tried again with backoff; fix the cause, then check with: engram sync now ${name}\n`)
  return EXIT.failed
}

function peerRows (peers: readonly PeerView[]): string[][] {
  return [
    ['PEER', 'STATUS', 'LAST SYNC', 'RECEIVED', 'APPLIED', 'CONFLICTS', 'FAILURES', 'CURSOR', 'URL'],
    ...peers.map(p => [
      p.name, p.status, p.lastSyncAt ?? 'never', String(p.counters.received), String(p.counters.applied),
      String(p.counters.conflicts), String(p.counters.failures), String(p.cursor), p.url
    ])
  ]
}

export const syncStatusCommand: Command = {
  name: 'sync status',
  summary: 'show sync: mode, peers with their status, last sync, counters',
  help: `Usage: engram sync status [--json]

Shows the sync mode of the node and why (native, polled, or none when the store is unhealthy
or no shared secret is set), its settings, and every peer: status (active, unreachable,
paused, removed), last sync, counters (records received and applied, conflicts, failures),
the cursor (how far into the peer's changes this node is), and the last error if any. In
native mode (p2p.enabled) it shows the P2P peers (node id, mode, last sync, bytes, failures,
address), the gossip statistics (round, pending announcements, known ids, bloom filter) and
the sync statistics too.

Options:
${CLIENT_OPTIONS_HELP}

Examples:
  engram sync status
  engram sync status --json
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const s = await connect(values, io).syncStatus()
    if (values.json === true) { printJson(io, s); return EXIT.ok }
    const set = s.settings as { intervalSeconds: number, conflictStrategy: string, autoSync: boolean }
    io.out(columns([
      ['mode', `${s.mode} (${s.reason})`],
      ['node', s.nodeId],
      ['settings', `every ${set.intervalSeconds} s, ${set.conflictStrategy}, auto-sync ${set.autoSync ? 'on' : 'off'}`],
      ['last sync', s.lastSyncAt ?? 'never'],
      ['conflicts', String(s.conflicts)]
    ]))
    if (s.native !== undefined) io.out('\n' + nativeStatusText(s.native))
    if (s.peers.length === 0) {
      if (s.native === undefined) io.out('\nno peers; pair one with: engram sync pair NAME URL\n')
      return EXIT.ok
    }
    io.out('\n' + columns(peerRows(s.peers)))
    for (const p of s.peers) {
      if (p.lastResult !== undefined && !p.lastResult.ok) io.out(`${p.name}: last attempt failed at ${p.lastResult.at}: ${p.lastResult.error ?? '?'} (${p.lastResult.code ?? '?'})\n`)
    }
    return EXIT.ok
  }
}

export const syncNowCommand: Command = {
  name: 'sync now',
  summary: 'sync now with every peer, or one',
  help: `Usage: engram sync now [PEER] [--json]

Pulls from every active peer now (or from PEER only) and prints, per peer, the records
received and applied, the conflicts met and the duration. A pull already under way (the one a
pairing or a resume started) is followed to its end and counted, then a fresh one is made.
Progress goes to stderr: a bar with the records received, of how many the peers said were to
come, the rate and the time left on a terminal; a line every few seconds elsewhere. Exits with
1 when any peer failed. In native mode gossip is
already running: it starts a round with every P2P peer and shows the gossip statistics;
peers with an open P2P session are shown as native (not pulled).

Options:
${CLIENT_OPTIONS_HELP}

Examples:
  engram sync now
  engram sync now laptop
  engram sync now --json
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 0, max: 1 },
  async run ({ values, positionals }, io) {
    const client = connect(values, io)
    const progress = pullProgress(io, positionals[0] === undefined ? 'sync' : `sync ${positionals[0]}`)
    const r = await client.syncNow(positionals[0], progress.listener)
    progress.finish()
    // native mode: gossip is already running (a round was just started); show its statistics
    const native = await client.p2pStatus().catch(() => undefined)
    if (values.json === true) { printJson(io, native !== undefined ? { ...r, native } : r); return r.ok ? EXIT.ok : EXIT.failed }
    if (native !== undefined) io.out(`native P2P sync is running: ${native.peer_count} peers connected; writes are pushed at once and gossip rounds run on their own\n${gossipStatsText(native)}\n`)
    if (r.results.length === 0) {
      if (native === undefined) io.err('no peers to sync with; pair one with: engram sync pair NAME URL\n')
    } else {
      io.out(columns([
        ['PEER', 'RESULT', 'RECEIVED', 'APPLIED', 'CONFLICTS', 'DURATION'],
        ...r.results.map(x => [x.peer, x.skipped !== undefined ? 'native' : x.ok ? 'ok' : 'failed', String(x.received), String(x.applied), String(x.conflicts), seconds(x.durationMs)])
      ]))
      for (const x of r.results) if (!x.ok) io.err(`${x.peer}: ${x.error ?? 'failed'} (${x.code ?? '?'})\n`)
    }
    return r.ok ? EXIT.ok : EXIT.failed
  }
}

export const syncPairCommand: Command = {
  name: 'sync pair',
  summary: 'pair a peer: pull from the node at URL',
  help: `Usage: engram sync pair NAME URL [--namespaces a,b]

Adds the engram node at URL (its REST API) as the peer NAME: this node pulls its changes
every sync.intervalSeconds, starting now. The command follows that first pull to its end,
with its progress, and says what it brought, or why it failed (a peer that is down, another
passphrase…: exit 1; the peer stays paired and is tried again with backoff). Pairing is one
way; the command prints what to run on the other machine so that it pulls from this one too. Both nodes need the same
sync.passphrase (or p2p.seed), and the other node's API must be reachable from here (its
api.host set to an address other than 127.0.0.1). In native mode (p2p.enabled here) the
node is added as a P2P peer too: the host of URL with the UDP port its P2P status reports.

Options:
  --namespaces a,b   pull only these namespaces (the part of a subject or key before ":")
${CLIENT_OPTIONS_HELP}

Examples:
  engram sync pair desktop http://10.0.0.5:19090
  engram sync pair server http://server.lan:19090 --namespaces user,project
`,
  options: { ...CLIENT_OPTIONS, namespaces: { type: 'string' } },
  positionals: { min: 2, max: 2 },
  async run ({ values, positionals }, io) {
    const [name, url] = positionals as [string, string]
    const ns = str(values, 'namespaces')
    const namespaces = ns === undefined ? undefined : ns.split(',').map(x => x.trim()).filter(x => x !== '')
    if (namespaces?.some(n => n.includes(':')) === true) throw USAGE('--namespaces: a namespace has no ":" (user, not user:alice)', 'sync pair')
    const progress = pullProgress(io, `sync ${name}`)
    const r = await connect(values, io).pairAndPull(name, url, namespaces, progress.listener)
    progress.finish()
    if (values.json === true) {
      printJson(io, { ...r, pull: r.pull ?? null })
      return r.pull?.ok === true || r.pull?.skipped !== undefined ? EXIT.ok : EXIT.failed
    }
    io.out(`paired ${r.peer.name} (${r.peer.url})${namespaces !== undefined ? `, namespaces ${namespaces.join(',')}` : ''}\n`)
    if (r.p2p?.addr !== undefined) io.out(`native mode: ${r.peer.name} is a P2P peer too, at ${r.p2p.addr}\n`)
    if (r.p2p?.error !== undefined) io.err(`note: not added as a P2P peer: ${r.p2p.error}\n`)
    const code = reportPull(io, r.peer.name, r.pull)
    io.out(`For ${r.peer.name} to pull from this node, run on that machine:\n  ${r.pairBack.command}\n`)
    if (r.pairBack.urls.length > 1) io.out(`(this node's other addresses: ${r.pairBack.urls.slice(1).join(', ')})\n`)
    if (r.pairBack.note !== undefined) io.err(`note: ${r.pairBack.note}\n`)
    return code
  }
}

export const syncUnpairCommand: Command = {
  name: 'sync unpair',
  summary: 'stop syncing with a peer',
  help: `Usage: engram sync unpair NAME

Stops pulling from peer NAME. It stays listed as removed in engram sync status (with its
counters); engram sync pair NAME URL brings it back. The records already received stay.

Options:
${CLIENT_OPTIONS_HELP}

Example:
  engram sync unpair desktop
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const r = await connect(values, io).unpairPeer(positionals[0]!)
    if (values.json === true) printJson(io, r)
    else io.out(`unpaired ${r.peer.name}; this node no longer pulls from it\n`)
    return EXIT.ok
  }
}

function pauseCommand (paused: boolean): Command {
  const verb = paused ? 'pause' : 'resume'
  return {
    name: `sync ${verb}`,
    summary: paused ? 'stop pulling from a peer for now (it stays paired)' : 'pull from a paused peer again',
    help: `Usage: engram sync ${verb} NAME

${paused
  ? 'Pauses peer NAME: it stays paired, with its cursor, but is not pulled until resumed.'
  : 'Resumes peer NAME: it is pulled at once, then on schedule. The command follows that pull to its\nend, with its progress, and says what it brought or why it failed (exit 1).'}

Options:
${CLIENT_OPTIONS_HELP}

Example:
  engram sync ${verb} desktop
`,
    options: CLIENT_OPTIONS,
    positionals: { min: 1, max: 1 },
    async run ({ values, positionals }, io) {
      const client = connect(values, io)
      if (paused) {
        const r = await client.pausePeer(positionals[0]!, true)
        if (values.json === true) printJson(io, r)
        else io.out(`${r.peer.name} is ${r.peer.status}\n`)
        return EXIT.ok
      }
      const progress = pullProgress(io, `sync ${positionals[0]!}`)
      const r = await client.resumeAndPull(positionals[0]!, progress.listener)
      progress.finish()
      if (values.json === true) {
        printJson(io, { ...r, pull: r.pull ?? null })
        return r.pull?.ok === true || r.pull?.skipped !== undefined ? EXIT.ok : EXIT.failed
      }
      io.out(`${r.peer.name} is ${r.peer.status}\n`)
      return reportPull(io, r.peer.name, r.pull)
    }
  }
}

export const syncPauseCommand = pauseCommand(true)
export const syncResumeCommand = pauseCommand(false)
