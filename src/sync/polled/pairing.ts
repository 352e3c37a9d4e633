/**
 * How to pair the other side. Pairing is one-directional (each node pulls from the peers it
 * paired), so after `engram sync pair NAME URL` here, the other machine must pair this one
 * back. This says with which command and which of this node's URLs, and warns when this node's
 * API only listens on loopback (then the other machine cannot reach it at all).
 */
import { hostname, networkInterfaces } from 'node:os'
import { isIP } from 'node:net'

/** Where this node's API listens, to tell the other side how to pair back. */
export interface Endpoint {
  readonly url: string
  readonly host: string
  readonly port: number
}

export interface PairBack {
  /** Whether other machines can reach this node's API (api.host is not a loopback address). */
  readonly reachable: boolean
  /** Candidate URLs of this node for the other machine, best first. */
  readonly urls: readonly string[]
  /** The command to run on the other machine. */
  readonly command: string
  /** What to do first, when something is missing. */
  readonly note?: string
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1'])

export function isLoopbackHost (host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.')
}

const urlOf = (scheme: string, address: string, port: number): string => `${scheme}://${isIP(address) === 6 ? `[${address}]` : address}:${port}`

/** This machine's name, as a peer name (letters, digits, ".", "_", "-"). */
export function localPeerName (): string {
  const name = hostname().split('.')[0]!.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64)
  return name === '' ? 'this-machine' : name
}

export function pairBack (endpoint: Endpoint | undefined, secretSet: boolean, tls = false): PairBack {
  const name = localPeerName()
  const scheme = tls ? 'https' : 'http'
  if (endpoint === undefined) return { reachable: false, urls: [], command: `engram sync pair ${name} ${scheme}://<this machine>:<api.port>`, note: 'this node is not listening yet' }
  const { host, port } = endpoint
  let urls: string[]
  if (host === '0.0.0.0' || host === '::') {
    urls = Object.values(networkInterfaces()).flatMap(list => list ?? [])
      .filter(a => !a.internal && (a.family === 'IPv4' || host === '::') && !a.address.startsWith('fe80'))
      .sort((a, b) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1))
      .map(a => urlOf(scheme, a.address, port))
  } else {
    urls = [isLoopbackHost(host) ? endpoint.url : urlOf(scheme, host, port)]
  }
  const reachable = !isLoopbackHost(host)
  const command = `engram sync pair ${name} ${urls[0] ?? `${scheme}://<this machine's address>:${port}`}`
  const notes: string[] = []
  if (!reachable) {
    notes.push(`this node's API listens on ${host} only, so only a node on this machine can pull from it: for another machine, set api.host to an address it can reach (e.g. 0.0.0.0) and restart this node`)
  }
  if (!secretSet) notes.push('set the same sync.passphrase (or p2p.seed) on both nodes')
  return { reachable, urls, command, ...(notes.length > 0 ? { note: notes.join('; ') } : {}) }
}
