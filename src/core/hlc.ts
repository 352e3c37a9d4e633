/**
 * Hybrid logical clock (Kulkarni et al., 2014).
 *
 * A stamp is (wall ms, counter, node id). Stamps are totally ordered by wall, then counter,
 * then node id, so two different nodes never produce equal stamps and every merge rule that
 * picks "the larger stamp" is deterministic everywhere.
 *
 * The clock is pure: the wall clock is injected (`now`), and persistence is the caller's job —
 * the store saves `clock.last` in the same transaction as every write that used a stamp, and a
 * restarted clock is seeded with it, so no stamp is re-issued or goes back, even when the wall
 * clock steps backwards across a restart.
 *
 * Drift guard: a remote stamp more than `maxDriftMs` ahead of our wall clock is never adopted
 * (`observe` refuses it with HLC_DRIFT; the engine holds such records aside until the clock
 * reaches them), so one machine with a clock set to 2099 cannot drag every node's clock (and
 * every future write) into the future.
 */
import { HLC_DRIFT, INVALID_INPUT } from './errors.ts'
import { isNodeId, type NodeId } from './ids.ts'

export interface Hlc {
  /** Wall-clock milliseconds since the Unix epoch (logical: may run ahead of real time). */
  readonly wall: number
  /** Logical counter within one millisecond, 0..65535. */
  readonly counter: number
  /** The node that issued the stamp. */
  readonly node: NodeId
}

/** The persisted part of a clock: the largest (wall, counter) it has issued or seen. */
export interface HlcMark {
  readonly wall: number
  readonly counter: number
}

export const MAX_COUNTER = 0xffff
/** Wall values are kept below 2^48 ms (year 10889), so they fit 12 hex digits. */
export const MAX_WALL = 2 ** 48 - 1

export function compareMark (a: HlcMark, b: HlcMark): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1
  return 0
}

/** Total order: wall, counter, then node id (code-unit order). */
export function compareHlc (a: Hlc, b: Hlc): number {
  const m = compareMark(a, b)
  if (m !== 0) return m
  if (a.node === b.node) return 0
  return a.node < b.node ? -1 : 1
}

export const maxMark = (a: HlcMark, b: HlcMark): HlcMark => (compareMark(a, b) >= 0 ? a : b)

export const makeMark = (wall: number, counter: number): HlcMark => ({ wall, counter })

/**
 * Text form, sortable as a string: 12 hex digits of wall, '.', 4 hex digits of counter, '.', node.
 * e.g. `0193a2b4c5d6.0000.12D3KooW...`
 */
export function formatHlc (h: Hlc): string {
  return `${h.wall.toString(16).padStart(12, '0')}.${h.counter.toString(16).padStart(4, '0')}.${h.node}`
}

const HLC_TEXT = /^([0-9a-f]{12})\.([0-9a-f]{4})\.(.+)$/
export function parseHlc (s: string, field = 'hlc'): Hlc {
  const m = HLC_TEXT.exec(s)
  if (m === null) throw INVALID_INPUT(field, 'must be "<12 hex wall>.<4 hex counter>.<node id>"')
  const node = m[3]!
  if (!isNodeId(node)) throw INVALID_INPUT(field, 'node id part is not a valid node id')
  return { wall: parseInt(m[1]!, 16), counter: parseInt(m[2]!, 16), node }
}

/** Whether the three parts make a valid stamp (what checkStamp takes without a word). */
export function isStamp (wall: unknown, counter: unknown, node: unknown): node is NodeId {
  return typeof wall === 'number' && Number.isInteger(wall) && wall >= 0 && wall <= MAX_WALL &&
    typeof counter === 'number' && Number.isInteger(counter) && counter >= 0 && counter <= MAX_COUNTER && isNodeId(node)
}

/** Structural validity of a stamp received from elsewhere (not the drift check). */
export function validateHlc (h: unknown, field = 'hlc'): Hlc {
  if (typeof h !== 'object' || h === null) throw INVALID_INPUT(field, 'must be an object {wall, counter, node}')
  const { wall, counter, node } = h as Record<string, unknown>
  return checkStamp(wall, counter, node, field)
}

/** A stamp from its three parts as received (validateHlc, a native sync row); `field` names the stamp in errors. */
export function checkStamp (wall: unknown, counter: unknown, node: unknown, field: string): Hlc {
  if (isStamp(wall, counter, node)) return { wall: wall as number, counter: counter as number, node }
  if (typeof wall !== 'number' || !Number.isInteger(wall) || wall < 0 || wall > MAX_WALL) {
    throw INVALID_INPUT(`${field}.wall`, `must be an integer from 0 to ${MAX_WALL}`)
  }
  if (typeof counter !== 'number' || !Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER) {
    throw INVALID_INPUT(`${field}.counter`, `must be an integer from 0 to ${MAX_COUNTER}`)
  }
  if (!isNodeId(node)) throw INVALID_INPUT(`${field}.node`, 'must be a node id (1-128 of A-Z a-z 0-9 . _ -)')
  return { wall, counter, node }
}

export interface ClockOptions {
  node: NodeId
  /** Largest drift ahead of local wall time accepted from a remote stamp. */
  maxDriftMs: number
  /** Wall clock; defaults to Date.now. Tests inject a fake one. */
  now?: () => number
  /** Persisted high-water mark to resume from. */
  initial?: HlcMark
}

export class HybridClock {
  readonly node: NodeId
  readonly maxDriftMs: number
  private readonly wallClock: () => number
  private wall: number
  private counter: number

  constructor (opts: ClockOptions) {
    this.node = opts.node
    this.maxDriftMs = opts.maxDriftMs
    this.wallClock = opts.now ?? Date.now
    this.wall = opts.initial?.wall ?? 0
    this.counter = opts.initial?.counter ?? 0
  }

  /** The high-water mark: every stamp issued or seen is ≤ this. Persist it with each write. */
  get last (): HlcMark {
    return { wall: this.wall, counter: this.counter }
  }

  /** Issues a new stamp, strictly greater than every stamp issued or seen before. */
  now (): Hlc {
    const pt = this.wallClock()
    if (pt > this.wall) {
      this.wall = pt
      this.counter = 0
    } else {
      this.bump()
    }
    return { wall: this.wall, counter: this.counter, node: this.node }
  }

  /** Throws HLC_DRIFT when `remote` is further ahead of local wall time than allowed. */
  check (remote: HlcMark, from: string = 'peer', pt: number = this.wallClock()): void {
    if (remote.wall > pt + this.maxDriftMs) throw HLC_DRIFT(remote.wall, pt, this.maxDriftMs, from)
  }

  /**
   * Observes a remote stamp: checks drift, then advances so the next local stamp is larger.
   * The clock is unchanged when the check fails.
   */
  observe (remote: HlcMark, from?: string): void {
    const pt = this.wallClock()
    this.check(remote, from, pt)
    const wall = Math.max(this.wall, remote.wall, pt)
    let counter: number
    if (wall === this.wall && wall === remote.wall) counter = Math.max(this.counter, remote.counter) + 1
    else if (wall === this.wall) counter = this.counter + 1
    else if (wall === remote.wall) counter = remote.counter + 1
    else counter = 0
    this.wall = wall
    this.counter = counter
    if (this.counter > MAX_COUNTER) { this.wall += 1; this.counter = 0 }
  }

  /** Whether `remote` is further ahead of local wall time than the drift guard allows. */
  isTooFarAhead (remote: HlcMark, pt: number = this.wallClock()): boolean {
    return remote.wall > pt + this.maxDriftMs
  }

  /** Raises the mark to at least `mark` (used when reopening a store). Never lowers it. */
  advanceTo (mark: HlcMark): void {
    if (compareMark(mark, this.last) > 0) { this.wall = mark.wall; this.counter = mark.counter }
  }

  /**
   * Sets the mark to `mark`, lower or not: only a clock repair does this (Engine.repairClock),
   * after a wall clock that ran ahead was fixed; it voids the stamps above `mark` it issued.
   */
  reset (mark: HlcMark): void {
    this.wall = mark.wall
    this.counter = mark.counter
  }

  /** The wall clock's reading now. */
  wallNow (): number {
    return this.wallClock()
  }

  private bump (): void {
    if (this.counter < MAX_COUNTER) {
      this.counter += 1
    } else {
      // 65,536 stamps in one millisecond: borrow the next millisecond (the logical wall runs
      // ahead of real time briefly; the order stays strict).
      this.wall += 1
      this.counter = 0
    }
  }
}
