// The dispatch-deadline case of the header suite, in its own file, both transports concurrently so
// the two 15-second waits overlap. 15 s is the smallest legal
// dispatchDeadline in production ("must be in the interval [15 seconds, 30 minutes]", Task
// reference), so the receiver hangs exactly once and answers the retry at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { startHarness, type Harness } from './helpers/harness.js';
import { header } from './helpers/receiver.js';

const DEADLINE_S = 15;

describe.concurrent.each(MODES)('dispatch deadline (%s client)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  it(
    'treats no answer within the dispatch deadline as a failed attempt: RetryCount counts it, ExecutionCount does not',
    async () => {
      const queue = h.uniqueQueueId('timeout');
      await h.createQueue(queue, { retry: { minBackoff: 0.05, maxBackoff: 0.1, maxAttempts: 5 } });
      const path = `/timeout/${mode}`;
      h.receiver.on(path, (i) => (i === 0 ? { hang: true } : { status: 200 }));
      await h.createTask(queue, { path, id: 'slow', dispatchDeadlineSeconds: DEADLINE_S });
      const reqs = await h.receiver.waitFor(path, 2, (DEADLINE_S + 15) * 1000);
      const gap = reqs[1]!.at - reqs[0]!.at;
      // The deadline is approximate in production; the emulator must not give up early.
      expect(gap).toBeGreaterThanOrEqual(DEADLINE_S * 1000 - 250);
      expect(gap).toBeLessThan((DEADLINE_S + 10) * 1000);
      expect(header(reqs[1]!, 'X-CloudTasks-TaskRetryCount')).toBe('1');
      expect(header(reqs[1]!, 'X-CloudTasks-TaskExecutionCount')).toBe('0');
      expect(header(reqs[1]!, 'X-CloudTasks-TaskRetryReason')).toBeTruthy();
      expect(header(reqs[1]!, 'X-CloudTasks-QueueName')).toBe(queue);
      expect(header(reqs[1]!, 'X-CloudTasks-TaskName')).toBe('slow');
      expect(header(reqs[1]!, 'user-agent')).toBe('Google-Cloud-Tasks');
      await h.emulator.waitForIdle({ timeoutMs: 5000 });
      expect(h.receiver.at(path)).toHaveLength(2);
    },
    (DEADLINE_S + 30) * 1000,
  );
});
