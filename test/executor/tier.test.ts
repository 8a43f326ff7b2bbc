import { describe, expect, it } from 'vitest';
import { readDelivery } from '../../src/executor/delivery.js';
import { makeTier, queueIdOf, tierNumberOf } from '../../src/executor/tier.js';
import { Q, pushHeaders, testConfig } from '../helpers/executor-fixtures.js';

describe('makeTier', () => {
  it("derives decide's policy from the handoff targets, so the two cannot disagree", () => {
    const full = makeTier(testConfig({ deadLetterQueue: Q.deadLetter, deadLetterUrl: 'https://dl.example.test/', notifyUrl: 'https://hook.example.test/' }));
    expect(full.policy).toEqual({ maxAttempts: 3, hasNext: true, hasDeadLetter: true, hasNotifier: true, hasDefaultWebhook: true, hasTopic: false });
    expect(full.targets).toMatchObject({ next: { queue: Q.incoming2 }, deadLetter: { queue: Q.deadLetter }, notifierQueue: Q.notifier });

    // A dead-letter queue without its URL is no target, so decide may not choose it.
    const bare = makeTier(testConfig({ next: undefined, notifierQueue: undefined, deadLetterQueue: Q.deadLetter }));
    expect(bare.policy).toEqual({ maxAttempts: 3, hasNext: false, hasDeadLetter: false, hasNotifier: false, hasDefaultWebhook: false, hasTopic: false });
    expect(bare.targets).toEqual({ serviceAccount: 'tasks@test-project.iam.gserviceaccount.com' });
  });

  it('numbers a push by TIER, else by the tier that forwarded it, and names its queue by header, EXECUTOR_QUEUE or tier-N', () => {
    const plain = readDelivery({});
    const forwarded = readDelivery({ 'x-executor-tier': '3' });
    expect(tierNumberOf(makeTier(testConfig({ tier: 2 })), forwarded)).toBe(2);
    expect(tierNumberOf(makeTier(testConfig()), forwarded)).toBe(3);
    expect(tierNumberOf(makeTier(testConfig()), plain)).toBe(1);

    const own = makeTier(testConfig({ executorQueue: Q.incoming }));
    expect(queueIdOf(own, readDelivery(pushHeaders({ queue: 'from-header' })), 1)).toBe('from-header');
    expect(queueIdOf(own, plain, 1)).toBe('incoming');
    expect(queueIdOf(makeTier(testConfig()), plain, 4)).toBe('tier-4');
  });
});
