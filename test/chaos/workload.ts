/**
 * The writers of a chaos run: one sequential writer per node, drawing its operations from the
 * run's seed, through the node's REST API. Keys are shared, so writes race across nodes: triples
 * of a small pool are added, deleted and added again; a few notes are set and deleted by
 * everyone; episodes are put again and again; every trace entry is new (a unique marker).
 *
 * While a node's clock is far off, its writer uses keys of its own (`private`): stamps of such a
 * node do not follow real time, so races with it would test the clocks, not the store. Every
 * write it acknowledges must still be everywhere at the end.
 */
import { tripleId } from '../../src/core/canonical.ts'
import type { Json } from '../../src/core/model.ts'
import { mulberry32 } from '../../src/util/random.ts'
import type { Answer, Cluster, ClusterNode } from './Cluster.ts'
import type { Op, OpKind } from './history.ts'

export interface WorkloadOptions {
  readonly seed: number
  /** Triples in the shared pool. */
  readonly elements: number
  readonly notes: number
  readonly episodes: number
  /** Pause between two writes of one writer, ms. */
  readonly paceMs: number
  /** Time limit of one request, ms (a paused node answers nothing). */
  readonly requestTimeoutMs: number
}

/** What the run tells the writers: the clock (ms since start), and whether a node's keys are its own now / its stamps near real time. */
export interface RunClock {
  now (): number
  isPrivate (node: string, at: number): boolean
  clockSafe (from: number, to: number): boolean
}

const WEIGHTS: ReadonlyArray<readonly [OpKind, number]> = [
  ['add', 35], ['delete', 25], ['note-set', 15], ['note-delete', 5], ['episode', 10], ['trace', 10]
]

export const PREDICATE = 'chaos:in'
export const OBJECT = 'set'

/** The triple id of a pool element's subject. */
export function elementId (subject: string): string {
  return tripleId({ subject, predicate: PREDICATE, object: { kind: 'string', value: OBJECT } })
}

/** A seed of its own for each node, from the run's seed and the node's name. */
function nodeSeed (seed: number, node: string): number {
  let h = seed >>> 0
  for (const c of node) h = Math.imul(h ^ c.charCodeAt(0), 0x9e3779b1) >>> 0
  return h
}

export class Writer {
  private readonly cluster: Cluster
  private readonly node: ClusterNode
  private readonly opts: WorkloadOptions
  private readonly clock: RunClock
  private readonly record: (op: Omit<Op, 'id'>) => Op
  private readonly rnd: () => number
  private stopped = false
  private n = 0
  private readonly done: Promise<void>

  constructor (cluster: Cluster, node: ClusterNode, opts: WorkloadOptions, clock: RunClock, record: (op: Omit<Op, 'id'>) => Op) {
    this.cluster = cluster
    this.node = node
    this.opts = opts
    this.clock = clock
    this.record = record
    this.rnd = mulberry32(nodeSeed(opts.seed, node.name))
    this.done = this.loop()
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.done
  }

  private async loop (): Promise<void> {
    for (let i = 0; i < 10_000_000 && !this.stopped; i++) {
      const t0 = this.clock.now()
      const refused = await this.step()
      const wait = Math.max(0, this.opts.paceMs - (this.clock.now() - t0)) + (refused ? 250 : 0)
      await new Promise(resolve => setTimeout(resolve, wait))
    }
  }

  /** One write; true when the node refused it (down). */
  private async step (): Promise<boolean> {
    const total = WEIGHTS.reduce((s, [, w]) => s + w, 0)
    let r = this.rnd() * total
    let kind: OpKind = 'add'
    for (const [k, w] of WEIGHTS) { if ((r -= w) < 0) { kind = k; break } }
    const pick = (n: number): number => Math.floor(this.rnd() * n)
    const invokedAt = this.clock.now()
    const priv = this.clock.isPrivate(this.node.name, invokedAt)
    const ns = priv ? `skew${this.node.name}` : 'chaos'
    const name = this.node.name
    const seq = ++this.n
    switch (kind) {
      case 'add': case 'delete': {
        const subject = `${ns}:e${pick(this.opts.elements)}`
        const id = elementId(subject)
        return kind === 'add'
          ? await this.write(kind, `t:${id}`, undefined, priv, invokedAt, 'POST', '/api/v1/triples', { subject, predicate: PREDICATE, object: OBJECT }, b => (b as { hlc: string }).hlc)
          : await this.write(kind, `t:${id}`, undefined, priv, invokedAt, 'DELETE', `/api/v1/triples/${id}`, undefined, b => (b as { hlc: string }).hlc)
      }
      case 'note-set': case 'note-delete': {
        const key = `${ns}:note${pick(this.opts.notes)}`
        const value: Json = { by: name, n: seq }
        return kind === 'note-set'
          ? await this.write(kind, `n:${key}`, value, priv, invokedAt, 'PUT', `/api/v1/notes/${encodeURIComponent(key)}`, { value }, b => (b as { hlc: string }).hlc)
          : await this.write(kind, `n:${key}`, undefined, priv, invokedAt, 'DELETE', `/api/v1/notes/${encodeURIComponent(key)}`, undefined, b => (b as { hlc: string }).hlc)
      }
      case 'episode': {
        const id = `${ns}:ep${pick(this.opts.episodes)}`
        const data: Json = { by: name, n: seq }
        return await this.write(kind, `e:${id}`, data, priv, invokedAt, 'POST', '/api/v1/episodes', { id, data }, b => (b as { hlc: string }).hlc)
      }
      case 'trace': {
        const marker = `${name}-${seq}`
        const data: Json = { marker }
        return await this.write(kind, `r:${marker}`, data, priv, invokedAt, 'POST', '/api/v1/traces', { runId: `${ns}:run`, type: 'step', data },
          b => (b as { hlc: string }).hlc)
      }
    }
  }

  private async write (kind: OpKind, key: string, value: Json | undefined, priv: boolean, invokedAt: number,
    method: string, path: string, body: unknown, stampOf: (body: unknown) => string): Promise<boolean> {
    const a = await this.cluster.call(this.node, method, path, body, this.opts.requestTimeoutMs)
    const completedAt = this.clock.now()
    const base = { node: this.node.name, kind, key, ...(value !== undefined ? { value } : {}), invokedAt, completedAt, private: priv, clockSafe: this.clock.clockSafe(invokedAt, completedAt) }
    this.record({ ...base, ...outcomeOf(a, stampOf) })
    return a.kind === 'refused'
  }
}

/** How an answer goes into the history. */
export function outcomeOf (a: Answer, stampOf: (body: unknown) => string): Pick<Op, 'outcome' | 'stamp' | 'error'> {
  if (a.kind === 'refused') return { outcome: 'fail', error: a.error }
  if (a.kind === 'indeterminate') return { outcome: 'info', error: a.error }
  if (a.status >= 200 && a.status < 300) return { outcome: 'ok', stamp: stampOf(a.body) }
  // 4xx: refused, nothing written (a delete of what is absent here: 404). 5xx: may have been written.
  return { outcome: a.status < 500 ? 'fail' : 'info', error: `${a.status} ${JSON.stringify(a.body).slice(0, 200)}` }
}
