/** `engram status`: the running node's identity, store, API and P2P state. */
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP } from '../args.ts'
import type { Command } from '../command.ts'
import { resolveTarget } from '../connect.ts'
import { ApiClient } from '../../client/ApiClient.ts'
import type { ClockStatusView } from '../../api/contract.ts'
import { EXIT } from '../exit.ts'
import { columns, printJson } from '../io.ts'
import type { Status } from '../../client/ApiClient.ts'

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`

/** The clock lines: peers' offsets, records held aside, the last repair (docs/SYNC.md, "Clocks"). */
function clockRows (c: ClockStatusView | undefined): Array<[string, string]> {
  if (c === undefined) return []
  const rows: Array<[string, string]> = [['clock', `${c.now}${c.markAheadMs > c.maxDriftMs ? ` (its stamps run ${Math.round(c.markAheadMs / 1000)} s ahead until it repairs)` : ''}`]]
  for (const p of c.peers) rows.push(['peer clock', `${p.node}: ${p.offset}${Math.abs(p.offsetMs) > c.maxDriftMs ? ' (beyond hlc.maxDriftMs)' : ''}`])
  for (const h of c.held) rows.push(['held', `${count(h.count, 'record')} from ${h.node}, up to ${Math.round(h.aheadMs / 1000)} s ahead; they apply at ${h.appliesAt}`])
  if (c.lastRepair !== null) rows.push(['clock repair', `${c.lastRepair.at}: ${count(c.lastRepair.restamped, 'record')} re-stamped (void ${c.lastRepair.generation})`])
  if (c.members.gone.length > 0) rows.push(['gone', c.members.gone.join(', ')])
  return rows
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the running node: id, version, store, API, P2P',
  help: `Usage: engram status

Shows the node the CLI talks to: its node id, version, API URL, data directory, store health
and record counts, whether P2P is enabled, and its clock: how far each peer's clock is from
it, records held aside because they are stamped too far ahead (and when they apply), the last
clock repair. Exits with 3 when no daemon answers, with 1 when the daemon answers but its
store is not healthy.

Options:
${CLIENT_OPTIONS_HELP}

Examples:
  engram status
  engram status --data-dir /tmp/engram-test --json
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const target = resolveTarget(values, io)
    const client = new ApiClient(target.url, { tls: target.tls, token: target.token })
    const health = await client.health()
    const status = await client.status()
    const ok = health.status === 'healthy' || health.status === 'ok' // 'ok': daemons before the Cortex shape
    if (values.json === true) {
      printJson(io, { url: target.url, health, status })
      return ok ? EXIT.ok : EXIT.failed
    }
    const s = status.store.stats
    io.out(columns([
      ['node', status.nodeId],
      ['version', status.version],
      ['api', target.url],
      ['data dir', status.dataDir],
      ['store', `${status.store.kind} ${status.store.status} (${status.store.path})${ok ? '' : `: ${status.store.detail}`}`],
      ['records', `${count(s.triples, 'triple')}, ${count(s.notes, 'note')}, ${count(s.episodes, 'episode')}, ${count(s.traces, 'trace')}`],
      ['tombstones', `${count(s.tripleTombstones, 'triple')}, ${count(s.noteTombstones, 'note')}`],
      ['p2p', status.p2p.enabled ? 'enabled' : 'disabled'],
      ...provenanceRows(status.provenance),
      ['started', status.startedAt],
      ...clockRows(status.clock)
    ]))
    return ok ? EXIT.ok : EXIT.failed
  }
}

/** The provenance lines: signing, refusals since start (engram refused), unsigned records held. */
function provenanceRows (p: Status['provenance']): string[][] {
  if (p === undefined) return []
  const refused = p.refused.total ?? 0
  return [
    ['signing', p.signing ? 'every write is signed with this node\'s key' : 'off'],
    ['refused', refused === 0 ? 'none since start' : `${count(refused, 'record')} since start (${Object.entries(p.refused).filter(([k, n]) => k !== 'total' && n > 0).map(([k, n]) => `${k} ${n}`).join(', ')}): engram refused`],
    ['unsigned', `${count(p.unsigned_held, 'record')} held without a signature; ${count(p.accepted.unsigned, 'unsigned record')} taken since start`],
    ['history', `${count(p.history, 'replaced state')} kept${p.revoked > 0 ? `; ${count(p.revoked, 'node')} revoked` : ''}`]
  ]
}
