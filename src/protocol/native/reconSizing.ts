/**
 * How much each answer of a coded round carries (recon.ts, docs/PROTOCOL.md §3 "Coded rounds"):
 * the first batch of symbols for an estimated difference, the points of a version-2 polynomial
 * answer (and the estimate up to which it is sent instead of symbols), and the symbols asked for
 * after a batch that did not decode. Pure numbers: the margins are measured against the
 * difference sketch's error (diffEstimate.ts) and priced in bytes and round trips by the bench.
 */
import { VERIFY_POINTS } from './charPoly.ts'
import { RECON_LIMITS } from './reconMessages.ts'

/**
 * The margin on a large estimate: the sketch (diffEstimate.ts) is within about a third, and falls
 * below half the difference about once in twenty rounds; a first batch of 1.5 · 2.2 times the
 * estimate decodes in one go in about 97 % of rounds, where 1.5 times decodes in about half of them.
 * Measured (`npm run bench -- --only recon`): each symbol sent beyond the need costs 13 bytes, a
 * missed decode a round trip (`rmore`); 2.2 keeps the cost near 2× the floor at d ≥ 100.
 */
const LARGE_MARGIN = 2.2
/** The estimate at which the margin is halfway: below it, a few spare symbols (the +8) do the work. */
const MARGIN_KNEE = 16
/**
 * Most symbols of a first answer: one message (RECON_LIMITS.maxSymbolsPerMessage), enough for about
 * 11,000 differences. One message, because a node that gets a short batch asks for more at once
 * (`rmore`): a first answer in several messages would draw an `rmore` after each but the last.
 * Past it the margin would only add the sketch's overestimates (up to 2.7× the floor at
 * d = 10,000 with two messages, measured); a larger difference asks for the rest with `rmore`.
 */
export const FIRST_BATCH_MAX = RECON_LIMITS.maxSymbolsPerMessage

/**
 * The first batch of symbols for an estimated difference d̂: enough to decode in one go almost
 * always (decoding takes 1.35–2 symbols a difference, and the estimate is within about a third),
 * with a margin that grows with d̂ (small differences need a few spare symbols, large ones a
 * proportion): 1.5 · d̂ · (1 + 1.2 · d̂ / (d̂ + 16)) + 8, at most FIRST_BATCH_MAX.
 */
export function firstBatch (estimate: number): number {
  const margin = 1 + (LARGE_MARGIN - 1) * estimate / (estimate + MARGIN_KNEE)
  return Math.min(FIRST_BATCH_MAX, Math.ceil(1.5 * estimate * margin + 8))
}

/**
 * The estimated difference up to which version 2 answers an `rdigest` with the characteristic
 * polynomial (`rpoly`, charPoly.ts) instead of symbols: there 2.5 · d̂ + 6 points of 4 bytes cost a
 * third to a sixth of the first batch of 13-byte symbols, and evaluating them is O(n · points).
 */
export const POLY_MAX_ESTIMATE = 12

/**
 * Points of an `rpoly` for an estimated difference d̂: 2.5 · d̂ + 6, at most
 * RECON_LIMITS.maxPolyPoints. A difference up to 2.5 · d̂ + 4 decodes (VERIFY_POINTS more check it);
 * the sketch puts d̂ below 0.4 · d in about 1 % of rounds at d ≥ 4 (and a miss asks for symbols:
 * one more round trip).
 */
export function polyPoints (estimate: number): number {
  return Math.min(RECON_LIMITS.maxPolyPoints, Math.ceil(2.5 * estimate) + 4 + VERIFY_POINTS)
}

/** The symbols to ask for after `received` did not decode: a quarter more, at least 8. */
export function nextBatch (received: number): number {
  return Math.min(RECON_LIMITS.maxSymbols, received + Math.min(RECON_LIMITS.maxSymbolsPerMessage, Math.max(8, Math.ceil(received / 4))))
}
