/**
 * A token bucket as Cloud Tasks uses per queue: holds up to `burst` tokens, refills continuously
 * at `ratePerSecond`, each dispatch takes one. Pure arithmetic on a clock the caller passes in, so
 * no timers live here.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private ratePerSecond: number,
    private burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Changes the rate and burst (UpdateQueue), keeping the tokens already earned up to the new burst. */
  configure(ratePerSecond: number, burst: number, now: number): void {
    this.refill(now);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  /** Takes a token if one is available: returns 0, or else the milliseconds until one will be. */
  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    if (this.ratePerSecond <= 0) return Infinity;
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
  }

  /** Tokens currently available (fractional). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
      this.updatedAt = now;
    }
  }
}

/**
 * The burst size Cloud Tasks derives from maxDispatchesPerSecond (max_burst_size is output only).
 * Production does not publish the rule; it reports 100 for the default 500/s. We scale the same
 * ratio down for lower rates (rate / 5, at least 1) and cap at 100, below the documented maximum of 500.
 */
export function deriveBurstSize(maxDispatchesPerSecond: number): number {
  return Math.max(1, Math.min(100, Math.ceil(maxDispatchesPerSecond / 5)));
}
