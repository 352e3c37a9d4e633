/**
 * Paths of a session read from its remote address (transport/path.ts): the transport that
 * carries it, and the order in which paths are preferred — direct QUIC, direct TCP, relayed —
 * which decides when a session moves onto a new connection (QuicTransport.ts).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { carrierOf, isBetterPath, pathRank } from '../../src/transport/path.ts'

const QUIC = '/ip4/127.0.0.1/udp/4001/quic-v1'
const TCP = '/ip4/127.0.0.1/tcp/4001'
const RELAYED = '/ip4/10.0.0.1/udp/4001/quic-v1/p2p/12D3KooWRelay/p2p-circuit/p2p/12D3KooWPeer'

describe('session paths', () => {
  it('the carrier of a remote address: its first hop', () => {
    assert.equal(carrierOf(QUIC), 'quic')
    assert.equal(carrierOf(`${QUIC}/p2p/12D3KooWPeer`), 'quic')
    assert.equal(carrierOf('/ip6/::1/udp/9/quic'), 'quic')
    assert.equal(carrierOf(TCP), 'tcp')
    assert.equal(carrierOf(`${TCP}/p2p/12D3KooWPeer`), 'tcp')
    assert.equal(carrierOf(RELAYED), 'quic', 'a relayed path: the transport to the relay')
    assert.equal(carrierOf('/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWRelay/p2p-circuit/p2p/12D3KooWPeer'), 'tcp')
    assert.equal(carrierOf('mem:node-b'), null)
  })

  it('direct QUIC is preferred to direct TCP, which is preferred to a relay', () => {
    assert.deepEqual([QUIC, TCP, RELAYED].map(pathRank), [2, 1, 0])
    assert.equal(isBetterPath(QUIC, TCP), true)
    assert.equal(isBetterPath(QUIC, RELAYED), true)
    assert.equal(isBetterPath(TCP, RELAYED), true)
    for (const [offered, current] of [[TCP, QUIC], [RELAYED, TCP], [QUIC, QUIC], [TCP, TCP], [RELAYED, QUIC]] as const) {
      assert.equal(isBetterPath(offered, current), false, `${offered} over ${current}`)
    }
  })
})
