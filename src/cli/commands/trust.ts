/**
 * `engram revoke`, `engram revocations`, `engram nodes`, `engram refused`: which nodes write
 * here, which are revoked, and the records that were refused.
 */
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, bool, str } from '../args.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { EXIT } from '../exit.ts'
import { columns, printJson } from '../io.ts'
import { cliTime } from '../time.ts'
import { who } from './provenance.ts'

export const revokeCommand: Command = {
  name: 'revoke',
  summary: 'revoke a node: its records stamped from then on are refused; or withdraw a revocation',
  help: `Usage: engram revoke NODE [--after TIME] [--reason TEXT]
       engram revoke NODE --withdraw

Revokes NODE (a lost or compromised machine): its records stamped at or after TIME (default:
now) are refused and listed in engram refused, on this node at once, and on every node that
honors the revocation — one where it was issued too, or where sync.revocationQuorum nodes
(default 2) issued one: so that one compromised node cannot cut off the others, revoke a node
from two of your machines. The revocation is a signed record that syncs like any other. Records
NODE wrote before TIME stay; engram revert --origin NODE --since TIME undoes what it wrote after
it. A revoked node still relays the records of others. Revoking does not change the seed: to cut
the machine off entirely, change p2p.seed and sync.passphrase on the others.

Options:
  --after TIME       refuse its records stamped from then (ISO-8601, ms, or 1h, 2d back; default: now)
  --reason TEXT      why, shown with the revocation
  --withdraw         withdraw this node's revocation of NODE
${CLIENT_OPTIONS_HELP}

Examples:
  engram revoke 12D3KooW… --reason "laptop stolen"
  engram revoke 12D3KooW… --after 2h
  engram revoke 12D3KooW… --withdraw
`,
  options: { ...CLIENT_OPTIONS, after: { type: 'string' }, reason: { type: 'string' }, withdraw: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const node = positionals[0]!
    const client = connect(values, io)
    if (bool(values, 'withdraw')) {
      const r = await client.withdrawRevocation(node)
      if (values.json === true) printJson(io, r)
      else io.out(`withdrew this node's revocation of ${node}\n`)
      return EXIT.ok
    }
    const after = str(values, 'after')
    const reason = str(values, 'reason')
    const r = await client.revoke(node, { ...(after !== undefined ? { after: cliTime(after, 'after', 'revoke') } : {}), ...(reason !== undefined ? { reason } : {}) })
    if (values.json === true) { printJson(io, r); return EXIT.ok }
    const from = (r.revocation.value as { after: number }).after
    io.out(`revoked ${node}: its records stamped from ${new Date(from).toISOString()} are refused here, and by every node where sync.revocationQuorum nodes revoked it\n`)
    return EXIT.ok
  }
}

export const revocationsCommand: Command = {
  name: 'revocations',
  summary: 'list revocations: who revoked which node, and whether this node honors it',
  help: `Usage: engram revocations

Lists every revocation this node knows of: the revoked node, from when its records are refused
here (or why not yet: fewer issuers than sync.revocationQuorum), who issued it and why, and how
many of its records stamped after that time this node held already (review them with engram
query --origin NODE, undo them with engram revert --origin NODE --since TIME).

Options:
${CLIENT_OPTIONS_HELP}

Examples:
  engram revocations
  engram revocations --json
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const r = await connect(values, io).revocations()
    if (values.json === true) { printJson(io, r); return EXIT.ok }
    if (r.revocations.length === 0) { io.err('no revocations\n'); return EXIT.ok }
    io.out(columns([
      ['NODE', 'REFUSED FROM', 'ISSUED BY', 'HELD AFTER'],
      ...r.revocations.map(v => [
        who(v.target, v.target_name),
        v.effective_after ?? `not honored here: ${v.pending ?? ''}`,
        v.issued.map(i => `${who(i.issuer, i.issuer_name)}${i.reason !== null ? ` ("${i.reason}")` : ''}`).join(', '),
        String(v.held_after)
      ])
    ]))
    return EXIT.ok
  }
}

export const nodesCommand: Command = {
  name: 'nodes',
  summary: 'list the nodes known here: names, whether they sign, whether they are revoked',
  help: `Usage: engram nodes

Lists the nodes this node knows of (itself, those that published a name, revoked ones): the
name each gave itself (node.name), whether it is known to sign its records, and from when its
records are refused if it is revoked.

Options:
${CLIENT_OPTIONS_HELP}

Examples:
  engram nodes
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const r = await connect(values, io).nodes()
    if (values.json === true) { printJson(io, r); return EXIT.ok }
    io.out(columns([
      ['NODE', 'NAME', 'SIGNS', 'REVOKED FROM'],
      ...r.nodes.map(n => [n.node + (n.self ? ' (this node)' : ''), n.name ?? '-', n.signs ? 'yes' : 'unknown', n.revoked_after ?? '-'])
    ]))
    return EXIT.ok
  }
}

export const refusedCommand: Command = {
  name: 'refused',
  summary: 'list records refused: bad signatures, forgeries, unsigned, revoked',
  help: `Usage: engram refused

Lists the records this node refused (the last 1,000), newest first: when, why, the peer that
relayed it, the node it claimed as its origin, and what it was. A peer that relays forged or
tampered records is compromised or broken; a record refused as unsigned came from a node of an
older version (or through one) while its origin is known to sign. Counts since start are in
engram status.

Options:
${CLIENT_OPTIONS_HELP}

Examples:
  engram refused
  engram refused --json
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const r = await connect(values, io).refused()
    if (values.json === true) { printJson(io, r); return EXIT.ok }
    if (r.refused.length === 0) { io.err('no records refused\n'); return EXIT.ok }
    io.out(columns([
      ['TIME', 'REASON', 'VIA', 'ORIGIN', 'RECORD'],
      ...r.refused.map(e => [e.at, e.reason, e.via ?? '-', e.origin, `${e.kind} ${e.key}`])
    ]))
    return EXIT.ok
  }
}
