// Pins the queue's rate limits, with loose bounds (the machine is shared and noisy).
// RateLimits reference: max_dispatches_per_second feeds a token bucket whose size, max_burst_size,
// "Cloud Tasks will pick … based on the value of max_dispatches_per_second";
// max_concurrent_dispatches: "After this threshold has been reached, Cloud Tasks stops dispatching
// tasks until the number of concurrent requests decreases."
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { startHarness, type Harness } from './helpers/harness.js';

describe.concurrent.each(MODES)('rate limits (%s client)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('dispatches no faster than maxDispatchesPerSecond once the burst is spent', async () => {
    const rate = 10;
    const total = 30;
    const queue = h.uniqueQueueId('rate');
    await h.createQueue(queue, { rate: { maxDispatchesPerSecond: rate } });
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    const path = `/rate/${mode}`;
    await Promise.all(Array.from({ length: total }, () => h.createTask(queue, { path })));
    await h.client.resumeQueue({ name: h.queuePath(queue) });
    const reqs = await h.receiver.waitFor(path, total, 15_000);
    // Whatever burst the bucket allows (it is derived from the rate, so well under 20 at 10/s), the
    // last ten dispatches are paced by the refill rate: ~1 s, at least 0.7 s.
    expect(reqs[total - 1]!.at - reqs[total - 11]!.at).toBeGreaterThanOrEqual((10 / rate) * 1000 * 0.7);
    // …and the queue is not throttled far below its rate.
    expect(reqs[total - 1]!.at - reqs[0]!.at).toBeLessThan((total / rate) * 1000 + 6000);
  });

  it('never has more than maxConcurrentDispatches requests in flight, and does use that many', async () => {
    const cap = 3;
    const queue = h.uniqueQueueId('concurrency');
    await h.createQueue(queue, { rate: { maxDispatchesPerSecond: 500, maxConcurrentDispatches: cap } });
    const path = `/concurrency/${mode}`;
    h.receiver.on(path, () => ({ delayMs: 150 }));
    await Promise.all(Array.from({ length: 15 }, () => h.createTask(queue, { path })));
    await h.receiver.waitFor(path, 15, 10_000);
    await h.emulator.waitForIdle({ timeoutMs: 5000 });
    expect(h.receiver.peakInFlight(path)).toBeLessThanOrEqual(cap);
    expect(h.receiver.peakInFlight(path)).toBeGreaterThanOrEqual(2);
  });

  it("RunTask dispatches at once even when the queue's rate limits hold the task back", async () => {
    const queue = h.uniqueQueueId('run-ignores-rate');
    // One dispatch at a time, and the first one is slow: the others wait behind the cap.
    await h.createQueue(queue, { rate: { maxDispatchesPerSecond: 1, maxConcurrentDispatches: 1 } });
    const path = `/run-ignores-rate/${mode}`;
    h.receiver.on(path, (i) => (i === 0 ? { delayMs: 2500 } : { status: 200 }));
    await h.createTask(queue, { path });
    await h.createTask(queue, { path });
    await h.createTask(queue, { path });
    await h.receiver.waitFor(path, 1, 5000);
    const [tasks] = await h.client.listTasks({ parent: h.queuePath(queue) });
    const waiting = tasks.filter((t) => Number(t.dispatchCount ?? 0) === 0);
    expect(waiting.length).toBeGreaterThanOrEqual(1);
    const start = performance.now();
    await h.client.runTask({ name: waiting[0]!.name! });
    const reqs = await h.receiver.waitFor(path, 2, 3000);
    expect(reqs[1]!.at - start).toBeLessThan(5000);
    await h.client.purgeQueue({ name: h.queuePath(queue) });
  });
});
