import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isEngramError } from '../../src/core/errors.ts'
import {
  compareHlc, compareMark, formatHlc, HybridClock, MAX_COUNTER, MAX_WALL, parseHlc, validateHlc,
  type Hlc, type HlcMark
} from '../../src/core/hlc.ts'
import { asNodeId, isNodeId } from '../../src/core/ids.ts'
import { assertProperty, hlcArb, nodeIdArb, seedFor } from './arbitraries.ts'

const A = asNodeId('node-a')
const B = asNodeId('node-b')
const T0 = 1_763_600_000_000
const DRIFT = 60_000

/** A clock over a wall time the test sets by hand. */
function fakeClock (start: number, initial?: HlcMark): { clock: HybridClock, set: (ms: number) => void } {
  let wall = start
  const clock = new HybridClock({ node: A, maxDriftMs: DRIFT, now: () => wall, initial })
  return { clock, set: ms => { wall = ms } }
}

const mark = (wall: number, counter: number): HlcMark => ({ wall, counter })
const stamp = (wall: number, counter: number, node = B): Hlc => ({ wall, counter, node })

function assertCode (fn: () => unknown, code: string, messagePart?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isEngramError(e), `expected an EngramError, got ${String(e)}`)
    assert.equal(e.code, code)
    if (messagePart !== undefined) assert.ok(e.message.includes(messagePart), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(messagePart)}`)
    return true
  })
}

describe('HybridClock.now', () => {
  test('takes the wall time when it is ahead, with counter 0', () => {
    const { clock, set } = fakeClock(T0)
    assert.deepEqual(clock.now(), { wall: T0, counter: 0, node: A })
    set(T0 + 5)
    assert.deepEqual(clock.now(), { wall: T0 + 5, counter: 0, node: A })
  })

  test('counts up within one millisecond and when the wall clock steps back', () => {
    const { clock, set } = fakeClock(T0)
    clock.now()
    assert.deepEqual(clock.now(), stamp(T0, 1, A))
    set(T0 - 10_000)
    assert.deepEqual(clock.now(), stamp(T0, 2, A))
    set(T0)
    assert.deepEqual(clock.now(), stamp(T0, 3, A))
    set(T0 + 1)
    assert.deepEqual(clock.now(), stamp(T0 + 1, 0, A))
  })

  test('every stamp is strictly greater than the one before (frozen, forward and backward wall)', () => {
    const { clock, set } = fakeClock(T0)
    let prev = clock.now()
    const walls = [T0, T0, T0 + 3, T0 - 1_000, T0 - 1_000, T0 + 2, T0 + 4, 0, T0 + 5]
    for (const w of walls) {
      set(w)
      const next = clock.now()
      assert.ok(compareHlc(next, prev) > 0, `${formatHlc(next)} after ${formatHlc(prev)}`)
      prev = next
    }
  })

  test('counter overflow borrows the next millisecond', () => {
    const { clock } = fakeClock(T0, mark(T0, MAX_COUNTER - 1))
    assert.deepEqual(clock.now(), stamp(T0, MAX_COUNTER, A))
    assert.deepEqual(clock.now(), stamp(T0 + 1, 0, A))
    assert.deepEqual(clock.now(), stamp(T0 + 1, 1, A))
  })

  test('65,537 stamps in one frozen millisecond stay strictly increasing', () => {
    const { clock } = fakeClock(T0)
    let prev = clock.now()
    for (let i = 0; i < MAX_COUNTER + 1; i++) {
      const next = clock.now()
      assert.ok(compareMark(next, prev) > 0)
      prev = next
    }
    assert.deepEqual(prev, stamp(T0 + 1, 0, A))
  })

  test('a clock seeded with a mark ahead of the wall clock continues after the mark', () => {
    const { clock } = fakeClock(T0 - 3_600_000, mark(T0, 7))
    assert.deepEqual(clock.last, mark(T0, 7))
    assert.deepEqual(clock.now(), stamp(T0, 8, A))
  })

  test('last is the high-water mark of everything issued', () => {
    const { clock } = fakeClock(T0)
    const s = clock.now()
    assert.deepEqual(clock.last, mark(s.wall, s.counter))
  })
})

describe('HybridClock.observe (Kulkarni et al. receive rule)', () => {
  test('wall clock ahead of both: take it, counter 0', () => {
    const { clock } = fakeClock(T0 + 100, mark(T0, 5))
    clock.observe(stamp(T0 + 50, 9))
    assert.deepEqual(clock.last, mark(T0 + 100, 0))
  })

  test('local mark ahead: keep its wall, counter + 1', () => {
    const { clock } = fakeClock(T0 - 100, mark(T0, 5))
    clock.observe(stamp(T0 - 50, 9))
    assert.deepEqual(clock.last, mark(T0, 6))
  })

  test('remote stamp ahead: take its wall, its counter + 1', () => {
    const { clock } = fakeClock(T0, mark(T0 - 10, 5))
    clock.observe(stamp(T0 + 20, 9))
    assert.deepEqual(clock.last, mark(T0 + 20, 10))
  })

  test('local and remote on the same wall, ahead of the clock: max counter + 1', () => {
    const { clock } = fakeClock(T0 - 5, mark(T0, 5))
    clock.observe(stamp(T0, 9))
    assert.deepEqual(clock.last, mark(T0, 10))
    clock.observe(stamp(T0, 2))
    assert.deepEqual(clock.last, mark(T0, 11))
  })

  test('the next local stamp is greater than the observed one', () => {
    const { clock } = fakeClock(T0, mark(T0, 0))
    const remote = stamp(T0 + 30_000, 40)
    clock.observe(remote)
    const next = clock.now()
    assert.ok(compareMark(next, remote) > 0)
  })

  test('observing a counter at its maximum borrows the next millisecond', () => {
    const { clock } = fakeClock(T0 - 5, mark(T0, 3))
    clock.observe(stamp(T0, MAX_COUNTER))
    assert.deepEqual(clock.last, mark(T0 + 1, 0))
    assert.ok(compareMark(clock.now(), stamp(T0, MAX_COUNTER)) > 0)
  })

  test('advanceTo raises the mark and never lowers it', () => {
    const { clock } = fakeClock(T0, mark(T0, 5))
    clock.advanceTo(mark(T0 - 1, 99))
    assert.deepEqual(clock.last, mark(T0, 5))
    clock.advanceTo(mark(T0, 6))
    assert.deepEqual(clock.last, mark(T0, 6))
  })
})

describe('drift guard', () => {
  test('a stamp exactly maxDriftMs ahead is accepted', () => {
    const { clock } = fakeClock(T0)
    clock.observe(stamp(T0 + DRIFT, 0))
    assert.deepEqual(clock.last, mark(T0 + DRIFT, 1))
  })

  test('a stamp further ahead is rejected with HLC_DRIFT and the clock is unchanged', () => {
    const { clock } = fakeClock(T0, mark(T0 - 1, 4))
    const before = clock.last
    assertCode(() => clock.observe(stamp(T0 + DRIFT + 1, 0), 'peer-x'), 'HLC_DRIFT', 'peer-x')
    assert.deepEqual(clock.last, before)
    assertCode(() => clock.check(stamp(T0 + 86_400_000 * 365 * 70, 0)), 'HLC_DRIFT')
    assert.deepEqual(clock.last, before)
    assert.deepEqual(clock.now(), stamp(T0, 0, A))
  })

  test('the error names the distance, the allowance and what to do', () => {
    const { clock } = fakeClock(T0)
    try {
      clock.check(stamp(T0 + 90_000, 0), 'laptop')
      assert.fail('expected HLC_DRIFT')
    } catch (e) {
      assert.ok(isEngramError(e))
      assert.equal(e.code, 'HLC_DRIFT')
      assert.match(e.message, /laptop is 90000 ms ahead/)
      assert.match(e.message, /allowed: 60000 ms/)
      assert.match(e.message, /NTP/)
      assert.deepEqual(e.details, { remoteWallMs: T0 + 90_000, localWallMs: T0, maxDriftMs: DRIFT, from: 'laptop' })
    }
  })

  test('stamps far in the past are always accepted', () => {
    const { clock } = fakeClock(T0, mark(T0, 0))
    clock.observe(stamp(0, 0))
    assert.deepEqual(clock.last, mark(T0, 1))
  })
})

describe('text form', () => {
  test('format is 12 hex digits, 4 hex digits, node id', () => {
    assert.equal(formatHlc(stamp(0x193a2b4c5d6, 0x1f, A)), '0193a2b4c5d6.001f.node-a')
    assert.equal(formatHlc(stamp(0, 0, A)), '000000000000.0000.node-a')
    assert.equal(formatHlc(stamp(MAX_WALL, MAX_COUNTER, A)), 'ffffffffffff.ffff.node-a')
  })

  const ROUND = seedFor(0x4c0c1)
  test(`parseHlc(formatHlc(h)) == h (seed ${ROUND})`, () => {
    assertProperty(fc.property(hlcArb, h => {
      assert.deepEqual(parseHlc(formatHlc(h)), h)
      return true
    }), ROUND, 2_000)
  })

  const SORT = seedFor(0x50e7)
  test(`sorting the text form gives the compareHlc order (seed ${SORT})`, () => {
    // Stamps that often share a wall, a counter or a node-id prefix.
    const near = fc.record({
      wall: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: MAX_WALL })),
      counter: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: MAX_COUNTER })),
      node: fc.oneof(fc.constantFrom('a', 'a.b', 'a-', 'ab', 'B', 'a_').map(asNodeId), nodeIdArb)
    }, { noNullPrototype: true })
    assertProperty(fc.property(fc.array(near, { maxLength: 30 }), hs => {
      const byText = hs.map(formatHlc).sort()
      const byOrder = [...hs].sort(compareHlc).map(formatHlc)
      assert.deepEqual(byText, byOrder)
      for (const a of hs) {
        for (const b of hs) {
          const ta = formatHlc(a)
          const tb = formatHlc(b)
          assert.equal(Math.sign(compareHlc(a, b)), ta === tb ? 0 : ta < tb ? -1 : 1)
        }
      }
      return true
    }), SORT, 500)
  })

  test('parseHlc rejects malformed text with INVALID_INPUT naming the field', () => {
    for (const bad of ['', '0193a2b4c5d6.0000', '193a2b4c5d6.0000.node-a', '0193A2B4C5D6.0000.node-a',
      '0193a2b4c5d6.00000.node-a', '0193a2b4c5d6-0000-node-a']) {
      assertCode(() => parseHlc(bad, 'since'), 'INVALID_INPUT', 'since:')
    }
    assertCode(() => parseHlc('0193a2b4c5d6.0000.bad node'), 'INVALID_INPUT', 'node id')
    assertCode(() => parseHlc(`0193a2b4c5d6.0000.${'x'.repeat(129)}`), 'INVALID_INPUT', 'hlc:')
  })
})

describe('validateHlc', () => {
  test('accepts a valid stamp and returns only its three fields', () => {
    assert.deepEqual(validateHlc({ wall: 1, counter: 2, node: 'n', extra: true }), stamp(1, 2, asNodeId('n')))
    assert.deepEqual(validateHlc({ wall: MAX_WALL, counter: MAX_COUNTER, node: 'n' }), stamp(MAX_WALL, MAX_COUNTER, asNodeId('n')))
  })

  test('rejects each bad part, naming it', () => {
    const cases: [unknown, string][] = [
      [null, 'hlc:'],
      ['0193a2b4c5d6.0000.node-a', 'hlc:'],
      [{ counter: 0, node: 'n' }, 'hlc.wall:'],
      [{ wall: -1, counter: 0, node: 'n' }, 'hlc.wall:'],
      [{ wall: 1.5, counter: 0, node: 'n' }, 'hlc.wall:'],
      [{ wall: MAX_WALL + 1, counter: 0, node: 'n' }, 'hlc.wall:'],
      [{ wall: '1', counter: 0, node: 'n' }, 'hlc.wall:'],
      [{ wall: 1, counter: MAX_COUNTER + 1, node: 'n' }, 'hlc.counter:'],
      [{ wall: 1, counter: -1, node: 'n' }, 'hlc.counter:'],
      [{ wall: 1, counter: Number.NaN, node: 'n' }, 'hlc.counter:'],
      [{ wall: 1, counter: 0, node: '' }, 'hlc.node:'],
      [{ wall: 1, counter: 0, node: 'a b' }, 'hlc.node:'],
      [{ wall: 1, counter: 0, node: 'x'.repeat(129) }, 'hlc.node:'],
      [{ wall: 1, counter: 0 }, 'hlc.node:']
    ]
    for (const [input, field] of cases) assertCode(() => validateHlc(input), 'INVALID_INPUT', field)
    assertCode(() => validateHlc({ wall: -1, counter: 0, node: 'n' }, 'records[2].hlc'), 'INVALID_INPUT', 'records[2].hlc.wall:')
  })

  test('a node id checked just before does not let another through (the last valid one is remembered)', () => {
    const id = `12D3KooW${'a'.repeat(44)}`
    assert.equal(isNodeId(id), true)
    assert.equal(isNodeId(id.slice(0, 20) + id.slice(20)), true, 'the same text, another string')
    for (const bad of ['', `${id} `, `${id}/`, 'x'.repeat(129), 42, undefined]) {
      assert.equal(isNodeId(bad), false, JSON.stringify(bad))
      assert.equal(isNodeId(id), true)
    }
  })
})

describe('compareHlc', () => {
  test('orders by wall, then counter, then node id', () => {
    assert.ok(compareHlc(stamp(1, 9, B), stamp(2, 0, A)) < 0)
    assert.ok(compareHlc(stamp(2, 1, A), stamp(2, 0, B)) > 0)
    assert.ok(compareHlc(stamp(2, 1, A), stamp(2, 1, B)) < 0)
    assert.equal(compareHlc(stamp(2, 1, A), stamp(2, 1, A)), 0)
  })
})

// ---- restarts ----

/** What a process does while it runs: move the wall clock, issue stamps, observe a peer's stamp. */
type Op =
  | { readonly op: 'step', readonly ms: number }
  | { readonly op: 'issue', readonly n: number }
  | { readonly op: 'observe', readonly ahead: number, readonly counter: number }

interface Life {
  /** How far the wall clock moved while the process was down (often backwards). */
  readonly downtimeStep: number
  readonly ops: readonly Op[]
}

const HOUR = 3_600_000
const YEAR = 365 * 24 * HOUR
const wallStepArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -1_000, max: 1_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: HOUR }) },
  { weight: 2, arbitrary: fc.integer({ min: -HOUR, max: 0 }) },
  { weight: 1, arbitrary: fc.integer({ min: -10 * YEAR, max: -HOUR }) },
  { weight: 1, arbitrary: fc.constant(0) }
)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: wallStepArb.map(ms => ({ op: 'step', ms }) as const) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 5 }).map(n => ({ op: 'issue', n }) as const) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('observe' as const),
      // From far behind to a little beyond the drift allowance (those must be rejected).
      ahead: fc.oneof(fc.integer({ min: -YEAR, max: DRIFT }), fc.integer({ min: DRIFT - 5, max: DRIFT + 5 }),
        fc.integer({ min: DRIFT + 1, max: 10 * YEAR })),
      counter: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: MAX_COUNTER - 3, max: MAX_COUNTER }))
    }, { noNullPrototype: true })
  }
)
const lifeArb: fc.Arbitrary<Life> = fc.record({ downtimeStep: wallStepArb, ops: fc.array(opArb, { maxLength: 8 }) }, { noNullPrototype: true })

const RESTARTS = 10_000
const RESTART_SEED = seedFor(0x4e57a47)
test(`${RESTARTS} simulated restarts with a wall clock stepping back and forth never repeat or go back (seed ${RESTART_SEED})`, () => {
  let issuedInAllRuns = 0
  assertProperty(fc.property(fc.array(lifeArb, { minLength: RESTARTS, maxLength: RESTARTS }), lives => {
    let wall = T0
    const setWall = (ms: number): void => { wall = Math.min(Math.max(0, ms), MAX_WALL - 10 * YEAR) }
    /** The mark the store persisted with its last committed write. */
    let persisted: HlcMark | undefined
    /** The largest stamp issued by this node or accepted from the peer, over all processes. */
    let highest: HlcMark = mark(0, 0)
    for (const [i, life] of lives.entries()) {
      setWall(wall + life.downtimeStep)
      const clock = new HybridClock({ node: A, maxDriftMs: DRIFT, now: () => wall, initial: persisted })
      for (const op of life.ops) {
        if (op.op === 'step') {
          setWall(wall + op.ms)
        } else if (op.op === 'issue') {
          for (let k = 0; k < op.n; k++) {
            const s = clock.now()
            issuedInAllRuns++
            if (compareMark(s, highest) <= 0) {
              assert.fail(`process ${i}: issued ${formatHlc(s)} is not above ${JSON.stringify(highest)} (wall ${wall})`)
            }
            highest = s
            persisted = clock.last
          }
        } else {
          const remote = stamp(Math.max(0, wall + op.ahead), op.counter)
          const before = clock.last
          if (op.ahead > DRIFT) {
            assert.throws(() => clock.observe(remote, 'peer'), (e: unknown) => isEngramError(e) && e.code === 'HLC_DRIFT')
            assert.deepEqual(clock.last, before, `process ${i}: a rejected stamp moved the clock`)
          } else {
            clock.observe(remote, 'peer')
            if (compareMark(remote, highest) > 0) highest = { wall: remote.wall, counter: remote.counter }
            persisted = clock.last
          }
        }
        if (persisted !== undefined) assert.ok(compareMark(persisted, highest) >= 0, `process ${i}: persisted mark below a stamp`)
      }
      // The process crashes here: only `persisted` survives.
    }
    return true
  }), RESTART_SEED, 3)
  assert.ok(issuedInAllRuns > 3 * RESTARTS, `the runs issued ${issuedInAllRuns} stamps`)
})
