/**
 * The fault schedule of a chaos run, drawn from its seed before the run starts, so a seed
 * replays exactly the same faults at the same times (`npm run chaos -- --seed N`). One fault at
 * a time: it starts, lasts, heals; a quiet gap follows.
 *
 * Faults:
 * - `kill`: kill -9, restart after `ms`;
 * - `pause`: SIGSTOP for `ms`, then SIGCONT;
 * - `split`: two groups that cannot reach each other;
 * - `one-way`: one node drops everything that comes from some others (they still hear it);
 * - `bridge`: two groups that cannot reach each other, and one node both reach;
 * - `isolate`: one node cut off from everyone for longer than the tombstone TTL (deletes made
 *   meanwhile expire on the others before it returns);
 * - `clock`: one node's wall clock stepped by `offsetSeconds` for `ms`, then fixed — within
 *   the drift guard (the others accept its stamps) or far beyond it (hours ahead or behind).
 */
import { mulberry32 } from '../../src/util/random.ts'

export type Fault =
  | { readonly kind: 'kill', readonly node: string, readonly ms: number }
  | { readonly kind: 'pause', readonly node: string, readonly ms: number }
  | { readonly kind: 'split', readonly groups: readonly [readonly string[], readonly string[]], readonly ms: number }
  | { readonly kind: 'one-way', readonly node: string, readonly from: readonly string[], readonly ms: number }
  | { readonly kind: 'bridge', readonly bridge: string, readonly groups: readonly [readonly string[], readonly string[]], readonly ms: number }
  | { readonly kind: 'isolate', readonly node: string, readonly ms: number }
  | { readonly kind: 'clock', readonly node: string, readonly offsetSeconds: number, readonly ms: number }

export interface Step {
  /** ms after the start of the run. */
  readonly at: number
  readonly fault: Fault
}

export interface ScheduleOptions {
  readonly seed: number
  readonly nodes: readonly string[]
  readonly durationMs: number
  /** Writes run this long before the first fault. */
  readonly warmupMs: number
  /** No fault starts later than this before the end. */
  readonly cooldownMs: number
  /** The tombstone TTL, ms (an `isolate` lasts longer than it). */
  readonly ttlMs: number
  /** hlc.maxDriftMs: small clock steps stay within it, large ones go far beyond. */
  readonly maxDriftMs: number
  /**
   * Every fault and quiet gap lasts this fraction of its usual time (default 1); the faults drawn
   * are the same. An `isolate` still outlasts the tombstone TTL.
   */
  readonly timeScale?: number
}

const WEIGHTS: ReadonlyArray<readonly [Fault['kind'], number]> = [
  ['kill', 3], ['pause', 2], ['split', 3], ['one-way', 2], ['bridge', 2], ['isolate', 2], ['clock', 3]
]

export function makeSchedule (o: ScheduleOptions): Step[] {
  const rnd = mulberry32(o.seed)
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1))
  const scale = o.timeScale ?? 1
  /** A duration drawn from [lo, hi] ms, scaled (one draw whatever the scale, so a seed draws the same faults). */
  const span = (lo: number, hi: number): number => Math.round(int(lo, hi) * scale)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const shuffled = (): string[] => {
    const xs = [...o.nodes]
    for (let i = xs.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [xs[i], xs[j]] = [xs[j]!, xs[i]!] }
    return xs
  }
  const total = WEIGHTS.reduce((s, [, w]) => s + w, 0)
  const steps: Step[] = []
  let t = o.warmupMs
  for (let guard = 0; guard < 10_000; guard++) {
    let r = rnd() * total
    let kind: Fault['kind'] = 'kill'
    for (const [k, w] of WEIGHTS) { if ((r -= w) < 0) { kind = k; break } }
    const fault = draw(kind)
    if (t + fault.ms > o.durationMs - o.cooldownMs) break
    steps.push({ at: t, fault })
    t += fault.ms + span(3_000, 6_000)
  }
  return steps

  function draw (kind: Fault['kind']): Fault {
    const ms = span(4_000, 12_000)
    switch (kind) {
      case 'kill': return { kind, node: pick(o.nodes), ms: span(2_000, 8_000) }
      case 'pause': return { kind, node: pick(o.nodes), ms }
      case 'split': {
        const xs = shuffled()
        const k = int(1, xs.length - 1)
        return { kind, groups: [xs.slice(0, k).sort(), xs.slice(k).sort()], ms }
      }
      case 'one-way': {
        const [node, ...rest] = shuffled()
        return { kind, node: node!, from: rest.slice(0, int(1, rest.length)).sort(), ms }
      }
      case 'bridge': {
        const [bridge, ...rest] = shuffled()
        const k = int(1, Math.max(1, rest.length - 1))
        return { kind, bridge: bridge!, groups: [rest.slice(0, k).sort(), rest.slice(k).sort()], ms }
      }
      case 'isolate': return { kind, node: pick(o.nodes), ms: Math.round(o.ttlMs * 1.5) + span(2_000, 6_000) }
      case 'clock': {
        // Half the steps stay within the drift guard; the others go hours ahead or behind.
        const within = rnd() < 0.5
        const seconds = within
          ? (rnd() < 0.5 ? -1 : 1) * int(5, Math.max(5, Math.floor(o.maxDriftMs / 2000)))
          : (rnd() < 0.7 ? 1 : -1) * int(1, 3) * 3600
        return { kind, node: pick(o.nodes), offsetSeconds: seconds, ms: span(8_000, 16_000) }
      }
    }
  }
}

/** One line per step, for the run's log (with the seed, it says exactly what the run does). */
export function describeStep (s: Step): string {
  const f = s.fault
  const at = `${(s.at / 1000).toFixed(1).padStart(7)} s`
  switch (f.kind) {
    case 'kill': return `${at}  kill -9 ${f.node}, restart after ${f.ms} ms`
    case 'pause': return `${at}  SIGSTOP ${f.node} for ${f.ms} ms`
    case 'split': return `${at}  partition {${f.groups[0].join(',')}} | {${f.groups[1].join(',')}} for ${f.ms} ms`
    case 'one-way': return `${at}  ${f.node} drops what {${f.from.join(',')}} send, for ${f.ms} ms`
    case 'bridge': return `${at}  bridge ${f.bridge} between {${f.groups[0].join(',')}} and {${f.groups[1].join(',')}} for ${f.ms} ms`
    case 'isolate': return `${at}  isolate ${f.node} for ${f.ms} ms (longer than the tombstone TTL)`
    case 'clock': return `${at}  clock of ${f.node} ${f.offsetSeconds >= 0 ? '+' : ''}${f.offsetSeconds} s for ${f.ms} ms`
  }
}

/** The nftables cuts of a partition fault: node → the nodes it drops packets from and to. */
export function cutsOf (f: Fault, nodes: readonly string[]): Map<string, { from: string[], to: string[] }> {
  const cuts = new Map<string, { from: string[], to: string[] }>()
  const cut = (a: string, b: string): void => {
    for (const [x, y] of [[a, b], [b, a]] as const) {
      let c = cuts.get(x)
      if (c === undefined) cuts.set(x, c = { from: [], to: [] })
      c.from.push(y)
      c.to.push(y)
    }
  }
  switch (f.kind) {
    case 'split': case 'bridge':
      for (const a of f.groups[0]) for (const b of f.groups[1]) cut(a, b)
      break
    case 'isolate':
      for (const b of nodes) if (b !== f.node) cut(f.node, b)
      break
    case 'one-way':
      cuts.set(f.node, { from: [...f.from], to: [] })
      break
    default:
  }
  return cuts
}
