/** Conditions of the links of the in-memory network: loss, delay and reordering. */
import { INVALID_INPUT } from '../../core/errors.ts'

/** Conditions of the link between two nodes (both directions). */
export interface LinkConditions {
  /** Probability in [0, 1] that a frame is lost. Default 0. */
  dropRate?: number
  /** Each frame is delayed by 0..maxDelaySteps extra steps (uniform). Default 0. */
  maxDelaySteps?: number
  /** Let delays reorder frames within a connection. Default false: per-connection order is kept. */
  reorder?: boolean
}

/** The key of an unordered pair of nodes. */
export const pairKey = (a: string, b: string): string => a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`

/** Link-specific conditions over the network defaults. */
export function mergeConditions (defaults: Required<LinkConditions>, l: LinkConditions | undefined): Required<LinkConditions> {
  if (l === undefined) return defaults
  return {
    dropRate: l.dropRate ?? defaults.dropRate,
    maxDelaySteps: l.maxDelaySteps ?? defaults.maxDelaySteps,
    reorder: l.reorder ?? defaults.reorder
  }
}

export function checkConditions (c: LinkConditions): void {
  if (c.dropRate !== undefined && !(c.dropRate >= 0 && c.dropRate <= 1)) throw INVALID_INPUT('dropRate', `${c.dropRate} is not in 0-1`)
  if (c.maxDelaySteps !== undefined && !(Number.isInteger(c.maxDelaySteps) && c.maxDelaySteps >= 0)) {
    throw INVALID_INPUT('maxDelaySteps', `${c.maxDelaySteps} is not a non-negative integer`)
  }
}
