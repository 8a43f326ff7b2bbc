/**
 * A model of Cloud Tasks' system throttling: the queue's *enforced* dispatch rate, which production
 * lowers below `maxDispatchesPerSecond` when the target answers 429 or 503 or when its error rate is
 * high, and raises again as the target recovers (target.proto, `HttpRequest`; the "common pitfalls"
 * page, "enforced rate"). Google does not publish the algorithm: this is a documented, parameterised
 * stand-in (docs/emulator.md, "Throttling model"), pure arithmetic on a clock the caller passes in.
 *
 * - A 429 or 503 answer, or an error share over the sliding window above the threshold, multiplies
 *   the enforced rate by `decreaseFactor` — at most once per `decreaseIntervalMs`, so one burst of
 *   answers to dispatches already in flight counts as one signal (as TCP halves once per round trip).
 * - Each 2xx while the share is below the threshold multiplies it by `1 + increasePerSuccess`,
 *   never above the queue's configured limit.
 * - A `Retry-After` on a 429 or 503 holds the whole queue's dispatch back for that long (capped).
 */

/** The parameters of the model; defaults in {@link DEFAULT_THROTTLE}. */
export interface ThrottleParams {
  /** Factor applied to the enforced rate on a throttling signal (0 < f < 1). */
  decreaseFactor: number;
  /** Shortest time between two decreases, in milliseconds. */
  decreaseIntervalMs: number;
  /** Length of the sliding window over which the error share is measured, in milliseconds. */
  windowMs: number;
  /** Error share (non-2xx answers and failed dispatches ÷ all) above which the rate is lowered. */
  errorShareThreshold: number;
  /** Fewest outcomes in the window before the error share is trusted. */
  minSamples: number;
  /** Relative increase of the enforced rate per success (0.02 = 2 %). */
  increasePerSuccess: number;
  /** Floor of the enforced rate, dispatches per second (or the configured limit, if lower). */
  minRatePerSecond: number;
  /** Longest hold a Retry-After can put on the queue, in milliseconds. */
  maxHoldMs: number;
}

/** The model's default parameters (named in docs/emulator.md). */
export const DEFAULT_THROTTLE: Readonly<ThrottleParams> = Object.freeze({
  decreaseFactor: 0.5,
  decreaseIntervalMs: 1000,
  windowMs: 10_000,
  errorShareThreshold: 0.3,
  minSamples: 20,
  increasePerSuccess: 0.02,
  minRatePerSecond: 1,
  maxHoldMs: 60_000,
});

/** Whether a queue's dispatch follows the model or only its configured limits. */
export type ThrottlingMode = 'model' | 'off';

/** What one dispatch came back with, as the model sees it. */
export interface ThrottleSignal {
  /** HTTP status, or undefined when no answer came (timeout, connection failure). */
  status: number | undefined;
  /** Milliseconds the target asked to wait (parsed Retry-After), if any. */
  retryAfterMs?: number;
}

/** What a queue's throttling looks like now (stats, logs). */
export interface ThrottleState {
  mode: ThrottlingMode;
  /** Dispatches per second the queue may use now (≤ maxDispatchesPerSecond). */
  enforcedRate: number;
  /** Share of failed outcomes over the window (0 before `minSamples`). */
  errorShare: number;
  /** Outcomes in the window. */
  samples: number;
  /** Epoch ms until which a Retry-After holds dispatch back (absent when not held). */
  heldUntilMs?: number;
}

const SLOTS = 10;

/** One queue's enforced rate and its error window. */
export class Throttle {
  private rate: number;
  private lastDecreaseAt = -Infinity;
  private heldUntil = 0;
  /** Ring of window slots: outcomes and errors per `windowMs / SLOTS`. */
  private readonly totals = new Float64Array(SLOTS);
  private readonly errors = new Float64Array(SLOTS);
  private slotStart = 0;
  private slot = 0;
  private sumTotal = 0;
  private sumErrors = 0;

  constructor(
    private maxRate: number,
    readonly mode: ThrottlingMode,
    private readonly params: Readonly<ThrottleParams> = DEFAULT_THROTTLE,
  ) {
    this.rate = maxRate;
  }

  /** The rate the queue may dispatch at now. */
  get enforcedRate(): number {
    return this.mode === 'off' ? this.maxRate : this.rate;
  }

  /** Epoch ms until which dispatch is held back (0: not held). */
  holdUntil(now: number): number {
    return this.mode === 'off' || this.heldUntil <= now ? 0 : this.heldUntil;
  }

  /** UpdateQueue changed the configured limit: the enforced rate never exceeds it. */
  setMaxRate(maxRate: number): void {
    this.maxRate = maxRate;
    this.rate = Math.min(this.rate, maxRate);
    if (this.rate < this.floor()) this.rate = this.floor();
  }

  /** Records one outcome; returns true when the enforced rate changed. */
  observe(signal: ThrottleSignal, now: number): boolean {
    if (this.mode === 'off') return false;
    const p = this.params;
    const { status } = signal;
    const ok = status !== undefined && status >= 200 && status < 300;
    this.advance(now);
    this.totals[this.slot]!++;
    this.sumTotal++;
    if (!ok) {
      this.errors[this.slot]!++;
      this.sumErrors++;
    }
    const overloaded = status === 429 || status === 503;
    if (overloaded && signal.retryAfterMs !== undefined && signal.retryAfterMs > 0) {
      this.heldUntil = Math.max(this.heldUntil, now + Math.min(signal.retryAfterMs, p.maxHoldMs));
    }
    const before = this.rate;
    const share = this.share();
    if (overloaded || share > p.errorShareThreshold) {
      if (now - this.lastDecreaseAt >= p.decreaseIntervalMs) {
        this.lastDecreaseAt = now;
        this.rate = Math.max(this.floor(), this.rate * p.decreaseFactor);
      }
    } else if (ok && this.rate < this.maxRate) {
      this.rate = Math.min(this.maxRate, this.rate * (1 + p.increasePerSuccess));
    }
    return this.rate !== before;
  }

  /** A snapshot for stats and logs. */
  state(now: number): ThrottleState {
    this.advance(now);
    const s: ThrottleState = { mode: this.mode, enforcedRate: this.enforcedRate, errorShare: this.share(), samples: this.sumTotal };
    const held = this.holdUntil(now);
    if (held > 0) s.heldUntilMs = held;
    return s;
  }

  private floor(): number {
    return Math.min(this.maxRate, this.params.minRatePerSecond);
  }

  private share(): number {
    return this.sumTotal >= this.params.minSamples ? this.sumErrors / this.sumTotal : 0;
  }

  /** Moves the ring to the slot holding `now`, emptying the slots that fell out of the window. */
  private advance(now: number): void {
    const width = this.params.windowMs / SLOTS;
    if (now < this.slotStart + width) return;
    const steps = Math.floor((now - this.slotStart) / width);
    for (let i = 0; i < Math.min(steps, SLOTS); i++) {
      this.slot = (this.slot + 1) % SLOTS;
      this.sumTotal -= this.totals[this.slot]!;
      this.sumErrors -= this.errors[this.slot]!;
      this.totals[this.slot] = 0;
      this.errors[this.slot] = 0;
    }
    this.slotStart += steps * width;
  }
}
