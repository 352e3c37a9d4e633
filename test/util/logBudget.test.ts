/** LogBudget: a line per event up to the budget of a minute, then counted, and the count told. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LogBudget } from '../../src/util/logBudget.ts'

describe('LogBudget', () => {
  it('lets `perMinute` lines through, counts the rest, and reports them with the next line', () => {
    let now = 1_000_000
    const budget = new LogBudget(3, () => now)
    assert.deepEqual([budget.take(), budget.take(), budget.take()], [0, 0, 0])
    assert.equal(budget.take(), false)
    assert.equal(budget.take(), false)
    now += 59_999
    assert.equal(budget.take(), false, 'still the same minute')
    now += 1
    assert.equal(budget.take(), 3, 'a new minute: the line says how many went unlogged')
    assert.equal(budget.take(), 0)
  })
})
