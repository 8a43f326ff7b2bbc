import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadScenario } from '../../src/simulate/scenario.js';

const TIER = { executor: { maxAttempts: 3 } };
const BASE = { duration: '10m', arrivals: { ratePerSecond: 100 }, work: { latency: { fixed: '50ms' } }, configurations: [{ name: 'tiers', tiers: [TIER] }] };

function problemsOf(source: unknown): string[] {
  try {
    loadScenario(source);
  } catch (err) {
    if (err instanceof ConfigError) {
      expect(err.code).toBe('SIMULATE_SCENARIO_INVALID');
      return [...err.problems];
    }
    throw err;
  }
  return [];
}

describe('scenario file', () => {
  it('reads the documented example', () => {
    const s = loadScenario('examples/storm.yaml');
    expect(s.configurations.map((c) => c.name)).toEqual(['clean', 'tiers', 'one queue']);
    expect(s.configurations[0]!.clean).toBe(true);
    const one = s.configurations[2]!;
    expect(one.tiers).toHaveLength(1);
    expect(one.tiers[0]!.maxAttempts).toBe(10);
    expect(one.tiers[0]!.queue.input.rateLimits?.maxDispatchesPerSecond).toBe(500);
    expect(s.configurations[1]!.tiers[1]!.queue.input.retryConfig).toMatchObject({ minBackoffMs: 10_000, maxBackoffMs: 300_000, maxAttempts: -1 });
  });

  it('fills defaults: no poison, an interval of a sixtieth of the duration, the default throttling model', () => {
    const s = loadScenario(BASE);
    expect(s.configurations[0]!.jobs.poisonShare).toBe(0);
    expect(s.intervalMs).toBe(10_000);
    expect(s.throttle.errorShareThreshold).toBe(0.3);
    expect(s.configurations[0]!.tiers[0]).toMatchObject({ concurrency: 80, instances: 100 });
  });

  it('names the path of every problem, all at once', () => {
    const problems = problemsOf({
      ...BASE,
      duration: 'ten minutes',
      arrivals: { ratePerSecond: -1 },
      jobs: { poison: 1.5 },
      extra: true,
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^duration: must be a duration like/),
        'arrivals.ratePerSecond: must be > 0',
        'jobs.poison: must be between 0 and 1',
        "(file): unknown field(s) 'extra'",
      ]),
    );
  });

  it('reports the closest form of a configuration, and tier queue fields as the queues file does', () => {
    expect(problemsOf({ ...BASE, configurations: [{ name: 'tiers', tiers: [{ executor: { maxAttempts: 0 } }] }] })).toEqual([
      'configurations[0].tiers[0].executor.maxAttempts: must be a positive integer',
    ]);
    const queue = { rateLimits: { maxDispatchesPerSecond: 900 }, retryConfig: { minBackoff: 'soon' } };
    expect(problemsOf({ ...BASE, configurations: [{ name: 'tiers', tiers: [TIER, { queue, executor: { maxAttempts: 2 } }] }] })).toEqual([
      'configurations[0].tiers[1].queue.rateLimits.maxDispatchesPerSecond: must be at most 500 (the Cloud Tasks limit)',
      'configurations[0].tiers[1].queue.retryConfig.minBackoff: must be a duration like "0.1s", "250ms", "5m" or "1h"',
    ]);
  });

  it('rejects a baseline of an unknown configuration, duplicate names, shares above 1 and a p99 below the median', () => {
    const problems = problemsOf({
      ...BASE,
      jobs: { poison: 0.6, flaky: { share: 0.6, failProbability: 0.5 } },
      work: { latency: { lognormal: { median: '100ms', p99: '10ms' } } },
      configurations: [{ name: 'tiers', tiers: [TIER] }, { name: 'tiers', tiers: [TIER] }, { name: 'one', singleQueueOf: 'nope' }],
    });
    expect(problems).toEqual([
      'jobs: the shares of poison, flaky and outage tasks add up to 1.2, more than 1',
      'work.latency.lognormal: p99 must not be below median',
      "configurations[1].name: 'tiers' is used twice",
      "configurations[2].singleQueueOf: no configuration with tiers is named 'nope'",
    ]);
  });

  it('reports unreadable files and invalid YAML clearly', () => {
    expect(problemsOf('/nonexistent/storm.yaml')[0]).toMatch(/^cannot read \/nonexistent\/storm.yaml: /);
    expect(problemsOf({ text: 'duration: [' })[0]).toMatch(/^not valid YAML: /);
  });
});
