import { describe, expect, it } from 'vitest';
import { simulateConfiguration, simulate } from '../../src/simulate/run.js';
import { loadScenario, type Scenario } from '../../src/simulate/scenario.js';
import { formatSvg, formatTable } from '../../src/simulate/report.js';

/** A scenario with fixed 50 ms work and 1 s backoffs, so every figure can be computed by hand. */
function scenario(extra: Record<string, unknown>): Scenario {
  return loadScenario({
    duration: '60s',
    drain: '60s',
    interval: '10s',
    arrivals: { ratePerSecond: 10 },
    work: { latency: { fixed: '50ms' } },
    configurations: [
      {
        name: 'tiers',
        tiers: [
          { queue: { retryConfig: { minBackoff: '1s', maxBackoff: '1s' }, throttling: 'off' }, executor: { maxAttempts: 3, concurrency: 10, instances: 10 } },
          { queue: { retryConfig: { minBackoff: '1s', maxBackoff: '1s' }, throttling: 'off' }, executor: { maxAttempts: 2, concurrency: 10, instances: 10 } },
        ],
      },
      { name: 'one queue', singleQueueOf: 'tiers' },
      { name: 'clean', singleQueueOf: 'tiers', clean: true },
    ],
    ...extra,
  });
}

describe('executor simulate', () => {
  it('runs good tasks once each, at the work latency, with nothing left waiting', () => {
    const s = scenario({});
    const r = simulateConfiguration(s, s.configurations[0]!);
    expect(r.tasks).toBeGreaterThan(450); // Poisson, 10/s for 60 s
    expect(r.goodSucceeded).toBe(r.tasks);
    expect(r.dispatches).toBe(r.tasks);
    expect(r.amplification).toBe(1);
    expect(r.latencyP50Ms).toBeGreaterThanOrEqual(50);
    expect(r.latencyP50Ms).toBeLessThan(51.1); // histogram buckets are 2 % wide
    expect(r.latencyP99Ms).toBeLessThan(51.1);
    expect(r.waiting).toBe(0);
    expect(r.poisonDispatches).toBe(0);
    // 50 ms per request, 10 requests per instance at once.
    expect(r.busyInstanceSeconds).toBeCloseTo((r.tasks * 0.05) / 10, 6);
    expect(r.goodputPerSecond).toBeCloseTo(r.goodSucceeded / 60, 0);
    expect(r.intervals).toHaveLength(12);
  });

  it('spends exactly the attempt budget on a poison task: 3 dispatches on tier 1, 2 on tier 2, then a failure', () => {
    const s = scenario({ jobs: { poison: 1 } });
    const [tiers, one, clean] = simulate(s);
    expect(tiers!.dispatches).toBe(tiers!.tasks * 5);
    expect(tiers!.poisonDispatches).toBe(tiers!.dispatches);
    expect(tiers!.failedTasks).toBe(tiers!.tasks);
    expect(tiers!.goodSucceeded).toBe(0);
    // Dispatch at 0, answer at 0.05 s, retries at 1.05 and 2.10 s, the third answer at 2.15 s: forwarded.
    expect(tiers!.poisonLeaveTier1P50Ms).toBeGreaterThanOrEqual(2150);
    expect(tiers!.poisonLeaveTier1P50Ms).toBeLessThan(2150 * 1.021);
    // One queue with the same budget: 5 dispatches in the first queue, leaving it at 4 × 1.05 + 0.05 s.
    expect(one!.attemptBudget).toBe(5);
    expect(one!.dispatches).toBe(one!.tasks * 5);
    expect(one!.poisonLeaveTier1P50Ms).toBeGreaterThanOrEqual(4250);
    expect(one!.poisonLeaveTier1P50Ms).toBeLessThan(4250 * 1.021);
    // The clean reference leaves the poison out of the same arrival stream: nothing arrives at all.
    expect(clean!.tasks).toBe(0);
  });

  it('sees the same arrival stream in every configuration and leaves out only the poison in the clean one', () => {
    const s = scenario({ jobs: { poison: 0.2 } });
    const [tiers, one, clean] = simulate(s);
    expect(one!.tasks).toBe(tiers!.tasks);
    expect(clean!.tasks).toBe(tiers!.goodTasks);
    expect(clean!.goodSucceeded).toBe(tiers!.goodSucceeded);
    const poison = tiers!.tasks - tiers!.goodTasks;
    expect(tiers!.dispatches).toBe(tiers!.goodTasks + poison * 5);
  });

  it('counts good tasks that never succeed as slower than every success in the p99', () => {
    // Flaky tasks that always fail spend the whole budget: a third of the good tasks never succeed.
    const s = scenario({ jobs: { flaky: { share: 0.34, failProbability: 1 } } });
    const r = simulateConfiguration(s, s.configurations[0]!);
    expect(r.latencyP50Ms).toBeLessThan(52);
    expect(r.latencyP99Ms).toBe(Infinity);
    expect(formatTable([r])).toMatch(/good-task latency p99\s+unfinished/);
  });

  it('shows the collapse of a shared queue under the throttling model, and tiers avoiding it', () => {
    const s = loadScenario({
      duration: '120s',
      arrivals: { ratePerSecond: 50 },
      jobs: { poison: 0.2 },
      work: { latency: { fixed: '20ms' } },
      configurations: [
        {
          name: 'tiers',
          tiers: [
            { queue: { rateLimits: { maxDispatchesPerSecond: 100 }, retryConfig: { minBackoff: '1s', maxBackoff: '2s' } }, executor: { maxAttempts: 1 } },
            { queue: { rateLimits: { maxDispatchesPerSecond: 10 }, retryConfig: { minBackoff: '1s', maxBackoff: '2s' } }, executor: { maxAttempts: 9 } },
          ],
        },
        { name: 'one queue', singleQueueOf: 'tiers' },
      ],
    });
    const [tiers, one] = simulate(s);
    // Tier 1 never sees a retry: its error share is the poison share, 20 %, under the 30 % threshold.
    expect(tiers!.intervals.every((i) => i.tier1EnforcedRate === 100)).toBe(true);
    // One queue: poison retries push the error share to ~70 %, the enforced rate falls, good work waits.
    expect(Math.min(...one!.intervals.map((i) => i.tier1EnforcedRate))).toBeLessThan(10);
    expect(one!.goodputPerSecond).toBeLessThan(tiers!.goodputPerSecond * 0.5);
  });

  it('draws one line per configuration in the chart', () => {
    const s = scenario({ jobs: { poison: 0.2 } });
    const svg = formatSvg(simulate(s), 'storm <test>');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('storm &#60;test&#62;');
    // Goodput and latency: two polylines per configuration.
    expect(svg.match(/<polyline/g)).toHaveLength(6);
  });
});
