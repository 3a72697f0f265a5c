import type { Clock } from '../../common/clock';

/**
 * A token bucket on an injected clock: holds up to `capacity` tokens, refilled continuously at
 * `perMinute / 60 000` tokens per millisecond. A call takes one token; an empty bucket refuses.
 * Time going backwards (a clock adjustment) never adds tokens.
 */
export class TokenBucket {
  private tokensAt: number;
  private updatedAt: number;

  constructor(
    readonly perMinute: number,
    readonly capacity: number,
    private readonly clock: Clock,
    initialTokens = capacity,
  ) {
    if (!(perMinute > 0) || !(capacity > 0)) throw new RangeError('a token bucket needs a positive rate and capacity');
    this.tokensAt = Math.min(capacity, Math.max(0, initialTokens));
    this.updatedAt = clock.now();
  }

  /** Tokens available now (fractional while refilling). */
  get tokens(): number {
    this.refill();
    return this.tokensAt;
  }

  /** Takes `n` tokens if available; false (and nothing taken) otherwise. */
  tryTake(n = 1): boolean {
    this.refill();
    if (this.tokensAt + 1e-9 < n) return false;
    this.tokensAt = Math.max(0, this.tokensAt - n);
    return true;
  }

  /** Milliseconds until `n` tokens are available (0 if they are now). */
  msUntil(n = 1): number {
    this.refill();
    const missing = n - this.tokensAt;
    if (missing <= 1e-9) return 0;
    return Math.ceil((missing * 60_000) / this.perMinute);
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.updatedAt;
    if (elapsed > 0) this.tokensAt = Math.min(this.capacity, this.tokensAt + (elapsed * this.perMinute) / 60_000);
    this.updatedAt = Math.max(this.updatedAt, now);
  }
}
