/**
 * A log-bucketed histogram of latencies (milliseconds): fixed memory whatever the number of
 * samples, quantiles within about 1 % — a simulation of millions of tasks keeps counts, not samples.
 */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** 1 ms · 1.02^1100 ≈ 3 years: every latency a run can produce. */
const BUCKETS = 1100;

/** Counts per bucket; bucket i holds values in [1.02^(i-1), 1.02^i) ms, bucket 0 values below 1 ms. */
export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  /** Samples recorded. */
  count = 0;
  private sum = 0;

  record(ms: number): void {
    const i = ms < 1 ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms) / LOG_GROWTH));
    this.counts[i]!++;
    this.count++;
    this.sum += ms;
  }

  /**
   * The q-quantile (0..1), as the upper edge of its bucket; undefined when empty. `beyond` counts
   * samples known to exceed every recorded one (tasks that never finished): when the quantile falls
   * among them the answer is Infinity, rather than a figure flattered by leaving them out.
   */
  quantile(q: number, beyond = 0): number | undefined {
    if (this.count + beyond === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * (this.count + beyond)));
    if (rank > this.count) return Infinity;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i === 0 ? 1 : GROWTH ** i;
    }
    return GROWTH ** (BUCKETS - 1);
  }

  mean(): number | undefined {
    return this.count === 0 ? undefined : this.sum / this.count;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
  }
}
