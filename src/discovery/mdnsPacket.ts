/**
 * Reading mDNS responses (RFC 6762) for one DNS-SD service type: which engram nodes a packet
 * announces, with which addresses and for how long, and which said goodbye. A packet comes from
 * anyone on the LAN, so the reader takes `unknown` (the decoded DNS packet), never throws, and
 * reads at most `MDNS_LIMITS.maxRecords` records, `maxInstances` instances and `maxAddrs`
 * addresses per instance. Nothing read here is trusted: it only proposes addresses to dial.
 *
 * An announcement needs a PTR record `<service type>.local → <instance>` with a TTL above 0,
 * the instance's TXT record (`txt.ts`), and at least one address: the packet's source address
 * first, then the A and AAAA records of the instance's SRV target (link-local IPv6, multicast
 * and unspecified addresses are skipped). A PTR record with TTL 0 is a goodbye.
 */
import { isIPv4, isIPv6 } from 'node:net'
import { decodeTxtAdvert, type TxtAdvert } from './txt.ts'

export const MDNS_LIMITS = {
  maxRecords: 64,
  maxInstances: 16,
  maxAddrs: 8,
  /** Longest DNS name read, characters. */
  maxNameLength: 255,
  /** Longest lifetime taken from a record, seconds (one day). */
  maxTtlSeconds: 86_400
} as const

export interface Announcement {
  /** The instance's full name, e.g. `engram-12D3….\_mayros-cortex._tcp.local`. */
  readonly instance: string
  readonly advert: TxtAdvert
  /** Dial addresses of the P2P endpoint, "host:port" / "[v6]:port", best first. */
  readonly addrs: readonly string[]
  /** How long the announcement lives, ms (the smallest TTL of its PTR and SRV records). */
  readonly ttlMs: number
}

export interface ParsedResponse {
  readonly announcements: readonly Announcement[]
  /** Instances that said goodbye. */
  readonly goodbyes: readonly string[]
  /** Instances of the service that are not engram nodes, and why (for debug logs). */
  readonly rejected: ReadonlyArray<{ readonly instance: string, readonly problem: string }>
}

interface Rr {
  readonly name: string
  readonly type: string
  readonly ttl: number
  readonly data: unknown
}

const lower = (s: string): string => s.toLowerCase().replace(/\.$/, '')

function asRecords (list: unknown, out: Rr[]): void {
  if (!Array.isArray(list)) return
  for (const r of list as unknown[]) {
    if (out.length >= MDNS_LIMITS.maxRecords) return
    if (typeof r !== 'object' || r === null) continue
    const { name, type, ttl, data } = r as Record<string, unknown>
    if (typeof name !== 'string' || name.length > MDNS_LIMITS.maxNameLength || typeof type !== 'string') continue
    const t = typeof ttl === 'number' && Number.isFinite(ttl) && ttl >= 0 ? Math.min(ttl, MDNS_LIMITS.maxTtlSeconds) : 0
    out.push({ name, type, ttl: t, data })
  }
}

function usableIp (ip: unknown): ip is string {
  if (typeof ip !== 'string' || ip.length > 64) return false
  if (isIPv4(ip)) {
    const first = Number(ip.split('.')[0])
    return ip !== '0.0.0.0' && ip !== '255.255.255.255' && !(first >= 224 && first <= 239)
  }
  if (isIPv6(ip)) {
    const l = ip.toLowerCase()
    return l !== '::' && !/^fe[89ab]/.test(l) && !l.startsWith('ff') && !l.includes('%')
  }
  return false
}

const hostPort = (ip: string, port: number): string => isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`

/** Reads one decoded mDNS packet for the service `serviceName` (e.g. `_mayros-cortex._tcp.local`). */
export function parseResponse (packet: unknown, serviceName: string, sourceAddress?: string): ParsedResponse {
  const records: Rr[] = []
  if (typeof packet === 'object' && packet !== null) {
    const p = packet as Record<string, unknown>
    asRecords(p.answers, records)
    asRecords(p.additionals, records)
  }
  const service = lower(serviceName)
  const instances = new Map<string, { name: string, ttl: number }>()
  const goodbyes = new Set<string>()
  for (const r of records) {
    if (r.type !== 'PTR' || lower(r.name) !== service || typeof r.data !== 'string' || r.data.length > MDNS_LIMITS.maxNameLength) continue
    const key = lower(r.data)
    if (r.ttl === 0) { goodbyes.add(r.data); instances.delete(key); continue }
    if (!instances.has(key) && instances.size < MDNS_LIMITS.maxInstances) instances.set(key, { name: r.data, ttl: r.ttl })
  }
  const announcements: Announcement[] = []
  const rejected: Array<{ instance: string, problem: string }> = []
  for (const [key, inst] of instances) {
    const txt = records.find(r => r.type === 'TXT' && lower(r.name) === key && r.ttl > 0)
    if (txt === undefined) { rejected.push({ instance: inst.name, problem: 'no TXT record' }); continue }
    const advert = decodeTxtAdvert(txt.data)
    if (!advert.ok) { rejected.push({ instance: inst.name, problem: advert.problem }); continue }
    const srv = records.find(r => r.type === 'SRV' && lower(r.name) === key && r.ttl > 0)
    const target = srv !== undefined && typeof srv.data === 'object' && srv.data !== null
      ? (srv.data as Record<string, unknown>).target
      : undefined
    const ips: string[] = []
    if (usableIp(sourceAddress)) ips.push(sourceAddress)
    if (typeof target === 'string') {
      const t = lower(target)
      for (const r of records) {
        if ((r.type === 'A' || r.type === 'AAAA') && lower(r.name) === t && usableIp(r.data) && !ips.includes(r.data)) ips.push(r.data)
      }
    }
    // IPv4 first: the LAN path that mDNS itself used
    ips.sort((a, b) => Number(isIPv6(a)) - Number(isIPv6(b)))
    const addrs = ips.slice(0, MDNS_LIMITS.maxAddrs).map(ip => hostPort(ip, advert.value.p2pPort))
    if (addrs.length === 0) { rejected.push({ instance: inst.name, problem: 'no usable address' }); continue }
    const ttl = Math.min(inst.ttl, srv?.ttl ?? inst.ttl)
    announcements.push({ instance: inst.name, advert: advert.value, addrs, ttlMs: ttl * 1000 })
  }
  return { announcements, goodbyes: [...goodbyes], rejected }
}
