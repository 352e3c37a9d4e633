/**
 * Token buckets: the rate limits on what other machines send (REST requests, P2P messages,
 * tombstones for unknown records; docs/LIMITS.md).
 *
 * A bucket holds at most `burst` tokens and gains `ratePerSecond` tokens per second. `take(n)`
 * spends n tokens when the bucket holds them (else nothing, and the caller refuses). `takeDebt(n)`
 * admits whenever the bucket is not in debt and may leave it below zero: a batch larger than the
 * burst still passes once, and the next one waits until the debt is paid back — so a sender is
 * held to the rate on average without ever being refused for good.
 *
 * `KeyedBuckets` keeps one bucket per key (a client address, a peer) and forgets the least
 * recently used key beyond `maxKeys`, so a sender that changes keys cannot grow it without bound
 * (callers pair it with a global bucket for that case). Time is injected (`now`, ms).
 */

export interface RateSpec {
  /** Tokens gained per second. */
  readonly ratePerSecond: number
  /** Most tokens held (the largest burst). */
  readonly burst: number
}

export class TokenBucket {
  readonly spec: RateSpec
  private tokens: number
  private at: number
  private readonly now: () => number

  constructor (spec: RateSpec, now: () => number = Date.now) {
    if (!(spec.ratePerSecond > 0) || !(spec.burst >= 1)) throw new RangeError(`a token bucket needs a positive rate and a burst of at least 1 (got ${spec.ratePerSecond}/s, ${spec.burst})`)
    this.spec = spec
    this.now = now
    this.tokens = spec.burst
    this.at = now()
  }

  /** Tokens held now (negative while in debt). */
  get level (): number {
    this.refill()
    return this.tokens
  }

  /** Spends `n` tokens if the bucket holds them; false (and nothing spent) otherwise. */
  take (n = 1): boolean {
    this.refill()
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }

  /** Spends `n` tokens if the bucket is not in debt, possibly going below zero; false while in debt. */
  takeDebt (n: number): boolean {
    this.refill()
    if (this.tokens <= 0 && n > 0) return false
    this.tokens -= n
    return true
  }

  /** Milliseconds until `n` tokens (at most the burst) are held again. */
  retryAfterMs (n = 1): number {
    this.refill()
    const missing = Math.min(n, this.spec.burst) - this.tokens
    return missing <= 0 ? 0 : Math.ceil((missing / this.spec.ratePerSecond) * 1000)
  }

  private refill (): void {
    const t = this.now()
    const elapsed = t - this.at
    this.at = t
    if (elapsed > 0) this.tokens = Math.min(this.spec.burst, this.tokens + (elapsed / 1000) * this.spec.ratePerSecond)
  }
}

export class KeyedBuckets {
  readonly spec: RateSpec
  readonly maxKeys: number
  private readonly buckets = new Map<string, TokenBucket>()
  private readonly now: () => number

  constructor (spec: RateSpec, maxKeys: number, now: () => number = Date.now) {
    this.spec = spec
    this.maxKeys = maxKeys
    this.now = now
  }

  get size (): number {
    return this.buckets.size
  }

  /** The bucket of `key`, created full on first use; the least recently used key is forgotten beyond maxKeys. */
  get (key: string): TokenBucket {
    let b = this.buckets.get(key)
    if (b !== undefined) {
      this.buckets.delete(key)
    } else {
      b = new TokenBucket(this.spec, this.now)
      if (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value
        if (oldest !== undefined) this.buckets.delete(oldest)
      }
    }
    this.buckets.set(key, b)
    return b
  }

  /** The bucket of `key` if one is kept (never creates one). */
  peek (key: string): TokenBucket | undefined {
    return this.buckets.get(key)
  }
}
