/** `engram peers`: the peer book of native P2P sync (every known peer, where it came from, its state). */
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP } from '../args.ts'
import type { P2pPeersAnswer, PeerBookView } from '../../api/contract.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { isEngramError, ABSENT } from '../../core/errors.ts'
import { EXIT } from '../exit.ts'
import { columns, printJson } from '../io.ts'
import { pathText } from '../nativeStatus.ts'

const short = (id: string | null): string => (id === null ? '?' : id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id)

function state (e: PeerBookView): string {
  if (e.connected) return 'connected'
  if (e.refused) return 'refused'
  return e.announced ? 'announced' : 'offline'
}

export const peersCommand: Command = {
  name: 'peers',
  summary: 'list the known P2P peers: source, state, last seen, last error',
  help: `Usage: engram peers [--json]

Lists the peer book of native P2P sync: every peer this node knows, where it came from
(config: p2p.manualPeers or discovery.manualPeers; api: engram sync pair or the API; static:
the static list sync.peers / ENGRAM_SYNC_PEERS; mdns: announced on this network; relay: found
on one of the relays of p2p.relays), the path of its session (direct, or relayed via which
relay), its node
id, its state (connected; announced: seen on mDNS, no session now; refused: it failed the
seed handshake; offline), when it was last seen, and its last error. The book is kept across
restarts: a restarted node dials its mDNS and static peers at once.

Options:
${CLIENT_OPTIONS_HELP}

Examples:
  engram peers
  engram peers --json
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    let r: P2pPeersAnswer
    try {
      r = await connect(values, io).request('GET', '/api/v1/p2p/peers', { query: { format: 'engram' } })
    } catch (e) {
      if (isEngramError(e) && e.code === 'NOT_FOUND') {
        throw ABSENT('native P2P sync is not enabled on this node, so it has no peer book: set p2p.enabled and p2p.seed', { what: 'p2p' })
      }
      throw e
    }
    const book = r.book ?? []
    if (values.json === true) { printJson(io, { book, peers: r.peers }); return EXIT.ok }
    if (book.length === 0) {
      io.out('no known P2P peers; add one with engram sync pair NAME URL, p2p.manualPeers, ENGRAM_SYNC_PEERS, or turn on p2p.mdns\n')
      return EXIT.ok
    }
    // the path of each open session (direct, or through which relay), from the live peer list
    const live = new Map((r.peers ?? []).filter(p => p.connected && p.node_id !== null).map(p => [p.node_id as string, p]))
    const relayed = [...live.values()].filter(p => p.source === 'relay')
    io.out(columns([
      ['NODE', 'SOURCE', 'STATE', 'PATH', 'LAST SEEN', 'ADDRESS'],
      ...book.map(e => [short(e.node_id), e.source, state(e), pathText(live.get(e.node_id ?? '') ?? {}), e.last_seen ?? 'never', e.addr]),
      ...relayed.filter(p => !book.some(e => e.node_id === p.node_id)).map(p => [short(p.node_id), 'relay', 'connected', pathText(p), p.last_sync ?? '-', p.addr])
    ]))
    for (const e of book) if (!e.connected && e.last_error !== null) io.out(`${e.addr}: ${e.last_error}\n`)
    return EXIT.ok
  }
}
