/**
 * The redial cadences (Redialer.ts) on an injected clock, random and sleep: dials that had no
 * answer back off to `unansweredMaxMs`, refusals to `maxMs` and keep growing across unanswered
 * dials until a healthy session; the jitter stays within ±20 %; a session opening elsewhere
 * (`nudge`) brings an unanswered peer's next dial within `nudgeMs`, at most once per
 * `unansweredMaxMs`, and leaves a refusing peer's wait alone.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PROTOCOL, TIMEOUT, UNAUTHORIZED, UNAVAILABLE } from '../../src/core/errors.ts'
import { dialFailureKind, Redialer, type BackoffOptions } from '../../src/sync/native/Redialer.ts'
import type { Connection } from '../../src/transport/Transport.ts'

/** A clock that moves only when the test says; sleeps are timers on it. */
class FakeTime {
  now = 0
  private timers: Array<{ at: number, resolve: () => void }> = []

  readonly sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason); return }
    const t = { at: this.now + ms, resolve }
    this.timers.push(t)
    signal.addEventListener('abort', () => {
      this.timers = this.timers.filter(x => x !== t)
      reject(signal.reason)
    }, { once: true })
  })

  /** Lets every settled promise run. */
  async settle (): Promise<void> {
    for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
  }

  /** Runs the earliest timer (moving the clock to it). */
  async next (): Promise<void> {
    await this.settle()
    const t = [...this.timers].sort((a, b) => a.at - b.at)[0]
    assert.ok(t !== undefined, 'a timer is pending')
    this.timers = this.timers.filter(x => x !== t)
    this.now = t.at
    t.resolve()
    await this.settle()
  }
}

type Step = 'timeout' | 'unavailable' | 'refused' | 'protocol' | 'healthy' | 'cut'

/** A redialer over a scripted peer: each dial takes the next step (the last one repeats). */
function scripted (steps: Step[], backoff: BackoffOptions = {}, random = (): number => 0.5): { time: FakeTime, dials: number[], r: Redialer } {
  const time = new FakeTime()
  const dials: number[] = []
  const conn = { remoteNode: 'node-peer' } as unknown as Connection
  let i = 0
  const take = (): Step => steps[Math.min(i++, steps.length - 1)]!
  let current: Step = 'healthy'
  const r = new Redialer({
    ...backoff,
    now: () => time.now,
    random,
    sleep: time.sleep,
    dial: async () => {
      dials.push(time.now)
      current = take()
      switch (current) {
        case 'timeout': throw TIMEOUT('dial peer', 10_000)
        case 'unavailable': throw UNAVAILABLE('cannot connect to peer: connection refused')
        case 'refused': throw UNAUTHORIZED('the peer refused the seed')
        case 'protocol': throw PROTOCOL('bad frame')
        default: return conn
      }
    },
    onConnected: async () => current === 'healthy'
  })
  return { time, dials, r }
}

const gaps = (dials: readonly number[]): number[] => dials.slice(1).map((t, i) => t - dials[i]!)

describe('redial cadence', () => {
  it('a dial error without an answer is unanswered; any other is a refusal', () => {
    assert.equal(dialFailureKind(TIMEOUT('dial x', 10)), 'unanswered')
    assert.equal(dialFailureKind(UNAVAILABLE('cannot connect to x: no route')), 'unanswered')
    assert.equal(dialFailureKind(UNAUTHORIZED('auth failed')), 'refused')
    assert.equal(dialFailureKind(PROTOCOL('bad frame')), 'refused')
    assert.equal(dialFailureKind(new Error('something else')), 'refused')
  })

  it('unanswered dials back off to unansweredMaxMs; refusals to maxMs', async () => {
    for (const [step, cap] of [['timeout', 5_000], ['unavailable', 5_000], ['refused', 30_000], ['protocol', 30_000], ['cut', 30_000]] as const) {
      const { time, dials, r } = scripted([step])
      r.start('peer')
      for (let i = 0; i < 10; i++) await time.next()
      await r.stopAll()
      const expected = Array.from({ length: 10 }, (_, i) => Math.min(cap, 500 * 2 ** i))
      assert.deepEqual(gaps(dials), expected, `${step}: gaps between dials`)
      assert.equal(r.state('peer'), undefined)
    }
  })

  it('refusals keep growing across unanswered dials; only a healthy session resets them', async () => {
    const { time, dials, r } = scripted(['refused', 'refused', 'timeout', 'timeout', 'refused', 'refused', 'healthy', 'refused'])
    r.start('peer')
    for (let i = 0; i < 7; i++) await time.next()
    const st = r.state('peer')!
    assert.equal(st.failures, 1)
    assert.equal(st.refusals, 1)
    assert.equal(st.lastFailure, 'refused')
    await r.stopAll()
    // refused 500, refused 1000, unanswered 500, unanswered 1000, refused (3rd) 2000, refused (4th) 4000, healthy: base 500
    assert.deepEqual(gaps(dials), [500, 1000, 500, 1000, 2000, 4000, 500])
  })

  it('jitters every delay within ±20 %', async () => {
    for (const [random, factor] of [[0, 0.8], [1, 1.2]] as const) {
      const { time, dials, r } = scripted(['refused'], { baseMs: 1_000, maxMs: 8_000 }, () => random)
      r.start('peer')
      for (let i = 0; i < 5; i++) await time.next()
      await r.stopAll()
      assert.deepEqual(gaps(dials), [1_000, 2_000, 4_000, 8_000, 8_000].map(d => Math.round(d * factor)))
    }
  })

  it('a session opening elsewhere brings an unanswered peer\'s dial within nudgeMs, once per unansweredMaxMs', async () => {
    const { time, dials, r } = scripted(['timeout'])
    r.start('peer')
    for (let i = 0; i < 5; i++) await time.next()
    // 5 unanswered dials: waiting 5,000 ms now
    await time.settle()
    const waitingSince = time.now
    assert.equal(r.state('peer')!.nextAttemptAt, waitingSince + 5_000)
    time.now += 100
    assert.equal(r.nudge(), 1)
    await time.next()
    // jitter 0.5 of [0.5, 1] × nudgeMs = 750 ms after the nudge
    assert.equal(dials.at(-1), waitingSince + 100 + 750)
    // nudged once within unansweredMaxMs: the next wait (5,000 ms) runs out
    await time.settle()
    time.now += 100
    assert.equal(r.nudge(), 0)
    await time.next()
    assert.equal(dials.at(-1)! - dials.at(-2)!, 5_000)
    // past unansweredMaxMs since the last nudge: nudged again
    await time.settle()
    time.now += 100
    assert.equal(r.nudge(), 1)
    await r.stopAll()
  })

  it('a nudge leaves a refusing peer, and a wait already shorter than nudgeMs, alone', async () => {
    const refusing = scripted(['refused'])
    refusing.r.start('peer')
    for (let i = 0; i < 5; i++) await refusing.time.next()
    await refusing.time.settle()
    assert.equal(refusing.r.nudge(), 0)
    await refusing.time.next()
    assert.equal(refusing.dials.at(-1)! - refusing.dials.at(-2)!, 16_000)
    await refusing.r.stopAll()

    const early = scripted(['timeout'])
    early.r.start('peer')
    await early.time.next()
    await early.time.settle()
    // waiting 1,000 ms (second unanswered dial): not more than nudgeMs
    assert.equal(early.r.nudge(), 0)
    await early.r.stopAll()
  })

  it('firstDialing: true while some peer\'s first dial is under way, and only then', async () => {
    const time = new FakeTime()
    let answer: { resolve: (c: Connection) => void, reject: (e: unknown) => void } | undefined
    const r = new Redialer({
      now: () => time.now,
      sleep: time.sleep,
      random: () => 0.5,
      dial: async (_addr, signal) => await new Promise<Connection>((resolve, reject) => {
        answer = { resolve, reject }
        signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
      }),
      onConnected: async () => false
    })
    assert.equal(r.firstDialing(), false, 'no peer')
    r.start('peer')
    assert.equal(r.firstDialing(), true, 'its first dial under way')
    answer!.reject(TIMEOUT('dialling peer', 10_000))
    await time.settle()
    assert.equal(r.firstDialing(), false, 'the first dial failed: the redials do not count')
    await time.next()
    assert.equal(r.firstDialing(), false, 'a redial under way')
    r.start('other')
    assert.equal(r.firstDialing(), true, 'another peer\'s first dial')
    await r.stopAll()
    assert.equal(r.firstDialing(), false, 'stopped')
  })
})
