/**
 * Discovery between real daemons on a LAN of network namespaces the test creates (../netns/Lab.ts: a
 * bridge in its own namespace, one namespace per node). Runs as root (CI does); elsewhere each
 * test says why it did not run.
 *
 * - two nodes with mDNS and no configured peers find each other and sync; a third node with
 *   another seed is discovered and refused, and nothing is exchanged with it;
 * - a node that stops is forgotten (its goodbye); a restarted node redials its peer book, with
 *   mDNS off;
 * - two daemons on one host do not clash;
 * - with UDP dropped between two namespaces (nftables), the nodes sync over TCP;
 * - with mDNS hearing nobody, the static list is dialled after the (shortened) wait; with mDNS
 *   unable to send at all, at once.
 *
 * The four groups (the first four tests, then each of the last three) share nothing but the lab:
 * their own nodes, addresses, seeds and mDNS service types. They run side by side; the tests of
 * the first group run one after the other, each starting where the one before left off.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { until } from '../native/daemons.ts'
import { cannotRun, Lab, type DaemonHandle, type LabNode } from '../netns/Lab.ts'

const SKIP = cannotRun()
const SKIP_NFT = SKIP ?? cannotRun(true)
if (SKIP !== undefined) process.stderr.write(`test/discovery/netns.test.ts does not run here: ${SKIP}\n`)
else if (SKIP_NFT !== undefined) process.stderr.write(`test/discovery/netns.test.ts: the tests that block traffic with nftables do not run here: ${SKIP_NFT}\n`)

interface BookEntry { addr: string, source: string, node_id: string | null, connected: boolean, refused: boolean, last_error: string | null }
interface PeersAnswer { peers: Array<{ node_id: string | null, addr: string, connected: boolean }>, book: BookEntry[] }

const P2P_PORT = 19091

describe('discovery in network namespaces', { skip: SKIP, concurrency: true }, () => {
  let lab: Lab
  before(() => { lab = new Lab() })
  after(async () => { await lab?.destroy() })

  const peers = (d: DaemonHandle): Promise<PeersAnswer> => lab.request<PeersAnswer>(d, 'GET', '/api/v1/p2p/peers?format=engram')
  const nodeId = async (d: DaemonHandle): Promise<string> => (await lab.request<{ node_id: string }>(d, 'GET', '/api/v1/p2p/status')).node_id
  const triples = async (d: DaemonHandle): Promise<number> =>
    (await lab.request<{ store: { stats: { triples: number } } }>(d, 'GET', '/api/v1/status')).store.stats.triples
  const add = (d: DaemonHandle, subject: string): Promise<unknown> =>
    lab.request(d, 'POST', '/api/v1/triples', { subject, predicate: 'written:on', object: d.node.name })
  const config = (seed: string, serviceType: string, extra: { p2p?: Record<string, unknown>, sync?: Record<string, unknown> } = {}): Record<string, unknown> => ({
    // A strong secret per name (a node refuses a weak one).
    p2p: { enabled: true, seed: `${seed}-Kq7Pw2mZ`, mdns: true, port: P2P_PORT, gossipIntervalMs: 500, ...extra.p2p },
    discovery: { bonjourServiceType: serviceType },
    sync: { intervalSeconds: 3600, ...extra.sync }
  })
  const connectedTo = async (d: DaemonHandle, id: string): Promise<boolean> => (await peers(d)).peers.some(p => p.node_id === id && p.connected)

  describe('mDNS, refusal, leaving and restarting', { concurrency: false }, () => {
    let a: DaemonHandle, b: DaemonHandle, c: DaemonHandle
    let na: LabNode
    let ida: string, idb: string, idc: string

    it('two nodes with mDNS and no configured peers find each other and sync', async () => {
      na = lab.addNode('a', 1)
      const nb = lab.addNode('b', 2)
      ;[a, b] = await Promise.all([lab.start(na, config('lan-seed', '_mayros-cortex._tcp')), lab.start(nb, config('lan-seed', '_mayros-cortex._tcp'))])
      ;[ida, idb] = await Promise.all([nodeId(a), nodeId(b)])
      await add(a, 'user:from-a')
      await add(b, 'user:from-b')
      await until(async () => (await triples(a)) === 2 && (await triples(b)) === 2, async () => `both with 2 triples (a ${await triples(a)}, b ${await triples(b)})`, 30_000, 200)
      const book = (await peers(a)).book
      const eb = book.find(e => e.node_id === idb)
      assert.equal(eb?.source, 'mdns')
      assert.equal(eb?.addr, `${nb.ip}:${P2P_PORT}`)
      assert.equal(eb?.connected, true)
      // a's log comes through its pipe, which may be read after the answers above: waited for
      const found = new RegExp(`mDNS found peer ${idb} at ${nb.ip.replaceAll('.', '\\.')}:${P2P_PORT}`)
      await until(async () => found.test(a.log()), () => `${found} in a's log:\n${a.log()}`, 10_000, 50)
    })

    it('a third node with another seed is discovered and refused: nothing is exchanged', async () => {
      c = await lab.start(lab.addNode('c', 3), config('another-seed', '_mayros-cortex._tcp'))
      idc = await nodeId(c)
      await add(c, 'user:from-c')
      await until(async () => (await peers(a)).book.some(e => e.node_id === idc && (e.refused || /auth failed/.test(e.last_error ?? ''))),
        async () => `a refusing c: ${JSON.stringify((await peers(a)).book)}`, 30_000, 200)
      await until(async () => (await peers(c)).book.some(e => e.node_id === ida && e.last_error !== null), async () => `c refused by a: ${JSON.stringify((await peers(c)).book)}`, 30_000, 200)
      assert.equal(await triples(c), 1, 'c received nothing')
      assert.equal(await triples(a), 2, 'a received nothing from c')
      assert.equal(await triples(b), 2, 'b received nothing from c')
      assert.ok(!(await connectedTo(a, idc)))
      const refusal = new RegExp(`refused P2P peer ${idc}|P2P peer ${idc} refused this node`)
      await until(async () => refusal.test(a.log()), () => `${refusal} in a's log:\n${a.log()}`, 10_000, 50)
    })

    it('forgets a node that stops (its goodbye)', async () => {
      assert.ok((await peers(a)).book.some(e => e.node_id === idc))
      assert.equal(await c.stop(), 0)
      await until(async () => !(await peers(a)).book.some(e => e.node_id === idc) && !(await peers(b)).book.some(e => e.node_id === idc),
        async () => `c forgotten: ${JSON.stringify((await peers(a)).book)}`, 15_000, 200)
      const left = new RegExp(`mDNS peer ${idc} left \\(said goodbye\\)`)
      await until(async () => left.test(a.log()), () => `${left} in a's log:\n${a.log()}`, 10_000, 50)
    })

    it('a restarted node redials its peer book (mDNS off this time)', async () => {
      assert.equal(await a.stop(), 0)
      a = await lab.start(na, config('lan-seed', '_mayros-cortex._tcp', { p2p: { mdns: false } }))
      await until(() => connectedTo(a, idb), async () => `a reconnected to b: ${JSON.stringify(await peers(a))}`, 30_000, 200)
      await add(b, 'user:after-restart')
      await until(async () => (await triples(a)) === 3, async () => `a with b's new write (${await triples(a)})`, 30_000, 200)
      assert.doesNotMatch(a.log(), /mDNS found peer/)
      await Promise.all([a.stop(), b.stop()])
    })
  })

  it('two daemons on one host do not clash: both publish, find each other and sync', async () => {
    const host = lab.addNode('host', 9)
    const x = await lab.start(host, config('host-seed', '_engram-host._tcp'), 'host-x')
    const y = await lab.start(host, config('host-seed', '_engram-host._tcp', { p2p: { port: P2P_PORT + 1 } }), 'host-y')
    const [idx, idy] = await Promise.all([nodeId(x), nodeId(y)])
    await add(x, 'user:from-x')
    await add(y, 'user:from-y')
    await until(async () => (await triples(x)) === 2 && (await triples(y)) === 2, async () => `x and y in sync (x ${await triples(x)}, y ${await triples(y)})`, 30_000, 200)
    assert.equal((await peers(x)).book.find(e => e.node_id === idy)?.addr, `${host.ip}:${P2P_PORT + 1}`)
    assert.equal((await peers(y)).book.find(e => e.node_id === idx)?.addr, `${host.ip}:${P2P_PORT}`)
    await Promise.all([x.stop(), y.stop()])
  })

  it('with UDP dropped between two namespaces (nftables), two nodes sync over TCP', { skip: SKIP_NFT }, async () => {
    const nd = lab.addNode('d', 4)
    const ne = lab.addNode('e', 5)
    // QUIC (unicast UDP) between d and e is dropped both ways; mDNS (port 5353) still works
    const drop = (other: string): string => `table inet engram_test {
  chain out { type filter hook output priority 0; policy accept; ip daddr ${other} udp dport != 5353 drop; }
  chain in { type filter hook input priority 0; policy accept; ip saddr ${other} udp dport != 5353 drop; }
}`
    lab.nft(nd, drop(ne.ip))
    lab.nft(ne, drop(nd.ip))
    const [d, e] = await Promise.all([lab.start(nd, config('tcp-seed', '_engram-tcp._tcp')), lab.start(ne, config('tcp-seed', '_engram-tcp._tcp'))])
    const ide = await nodeId(e)
    await add(d, 'user:from-d')
    await add(e, 'user:from-e')
    await until(async () => (await triples(d)) === 2 && (await triples(e)) === 2, async () => `d and e in sync (d ${await triples(d)}, e ${await triples(e)}): ${d.log().split('\n').slice(-5).join(' | ')}`, 60_000, 250)
    const p = (await peers(d)).peers.find(x => x.node_id === ide && x.connected)
    assert.ok(p !== undefined)
    assert.match(p.addr, /\/tcp\//, `the session runs over TCP: ${p.addr}`)
    await Promise.all([d.stop(), e.stop()])
  })

  it('static fallback: dialled after the shortened wait when mDNS hears nobody, at once when mDNS cannot send', { skip: SKIP_NFT }, async () => {
    const ng = lab.addNode('g', 7)
    const nf = lab.addNode('f', 6)
    const nh = lab.addNode('h', 8)
    // f can send mDNS but never hears an answer; h cannot send multicast at all
    lab.nft(nf, `table inet engram_test {
  chain in { type filter hook input priority 0; policy accept; udp dport 5353 drop; udp sport 5353 drop; }
}`)
    lab.nft(nh, `table inet engram_test {
  chain out { type filter hook output priority 0; policy accept; udp dport 5353 drop; }
}`)
    const g = await lab.start(ng, config('static-seed', '_engram-static._tcp', { p2p: { mdns: false } }))
    const idg = await nodeId(g)
    const staticList = { sync: { peers: [`${ng.ip}:${P2P_PORT}`], staticFallbackSeconds: 2 } }
    const [f, h] = await Promise.all([lab.start(nf, config('static-seed', '_engram-static._tcp', staticList)), lab.start(nh, config('static-seed', '_engram-static._tcp', staticList))])
    await until(async () => (await connectedTo(f, idg)) && (await connectedTo(h, idg)), async () => `f and h connected to g: ${f.log().split('\n').slice(-4).join(' | ')}`, 30_000, 200)
    const lines = (d: DaemonHandle): string[] => d.log().split('\n').filter(l => /static peer list|mDNS found no peer|mDNS cannot run/.test(l))
    assert.equal(lines(f).length, 1, lines(f).join('\n'))
    assert.match(lines(f)[0]!, /mDNS found no peer within 2 s: dialling the static peer list \(1 peer\).*open UDP port 5353/)
    assert.equal(lines(h).length, 1, lines(h).join('\n'))
    assert.match(lines(h)[0]!, /mDNS cannot run \(.*\): dialling the static peer list at once \(1 peer\)/)
    const book = (await peers(f)).book
    assert.equal(book.find(x => x.node_id === idg)?.source, 'static')
    await Promise.all([f.stop(), g.stop(), h.stop()])
  })
})
