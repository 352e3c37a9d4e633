/**
 * Where a P2P peer came from: the one vocabulary of the peer registry, of what the API answers
 * (`source` in GET /api/v1/p2p/status, /api/v1/p2p/peers and its peer book) and of `engram peers`.
 *
 *   config  p2p.manualPeers, discovery.manualPeers — dialled always, removed only there
 *   api     POST /api/v1/p2p/peers, `engram sync pair` in native mode — dialled always, kept
 *           across restarts until DELETE /api/v1/p2p/peers/:id removes it
 *   static  sync.peers / ENGRAM_SYNC_PEERS, once the static fallback dialled them
 *   mdns    announced on the local network; forgotten when it leaves
 *   relay   a node of this seed holding a slot on one of this node's relays (p2p.relays),
 *           dialled through it; found again on every start (native sync proposes it itself)
 *
 * A peer known from several sources keeps the strongest, in that order (an mDNS announcement of
 * a configured peer does not make it forgettable). Native sync dials `config` and `api` peers
 * itself; discovery proposes `static` and `mdns` ones, the relays `relay` ones. Paired REST peers (RestPeers.ts) are
 * always paired through the API and carry no source.
 */

export type PeerSource = 'config' | 'api' | 'static' | 'mdns' | 'relay'

/** Every source, strongest first. */
export const PEER_SOURCES: readonly PeerSource[] = ['config', 'api', 'static', 'mdns', 'relay']

/** The sources of peers proposed to native sync (by discovery, or by the relays), beside the ones it dials always. */
export type ProposedSource = Extract<PeerSource, 'static' | 'mdns' | 'relay'>

/** Whether native sync dials a peer of this source by itself, always (config and API peers). */
export function dialledAlways (source: PeerSource): source is 'config' | 'api' {
  return source === 'config' || source === 'api'
}

/** Whether `a` is a stronger source than `b`. */
export function stronger (a: PeerSource, b: PeerSource): boolean {
  return PEER_SOURCES.indexOf(a) < PEER_SOURCES.indexOf(b)
}

/** Whether `x` is one of the sources. */
export function isPeerSource (x: unknown): x is PeerSource {
  return typeof x === 'string' && (PEER_SOURCES as readonly string[]).includes(x)
}
