/**
 * What a chaos heal says about itself (heal.ts): the line for one heal names the figure and what
 * explains it, and the slowest heals come worst first, those that never converged before all.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { describeHeal, worstHeals } from './heal.ts'
import type { Heal } from './history.ts'

describe('chaos heal lines', () => {
  it('names the figure, the start-up, the sessions and the largest catch-ups', () => {
    const h: Heal = {
      at: 569_569,
      what: 'd restarted',
      convergedMs: 18_276,
      startupMs: 11_700,
      sessionsMs: 1_650,
      catchUps: [{ node: 'd', peer: 'e', records: 3012, rate: 190.4 }, { node: 'd', peer: 'a', records: 2990, rate: 185 }]
    }
    assert.equal(describeHeal(h), 'converged in 18.28 s; start-up 11.70 s before; sessions all up after 1.65 s; largest catch-ups: d<-e 3012 records at 190/s, d<-a 2990 records at 185/s')
    assert.equal(describeHeal({ at: 1, what: 'partition removed', convergedMs: undefined }), 'probes did NOT converge; sessions NOT all up')
  })

  it('lists the slowest heals worst first, unconverged ones before all', () => {
    const heals: Heal[] = [
      { at: 10_000, what: 'a', convergedMs: 1_000 },
      { at: 20_000, what: 'b', convergedMs: undefined },
      { at: 30_000, what: 'c', convergedMs: 7_000 },
      { at: 40_000, what: 'd', convergedMs: 3_000 }
    ]
    assert.deepEqual(worstHeals(heals, 3).map(l => l.split(':')[0]), ['20.0 s, b', '30.0 s, c', '40.0 s, d'])
  })
})
