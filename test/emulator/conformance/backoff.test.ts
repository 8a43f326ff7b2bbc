// Pins the retry schedule. RetryConfig reference (cloud.google.com/tasks/docs/reference/rest/v2/projects.locations.queues#RetryConfig):
// "A task's retry interval starts at min_backoff, then doubles max_doublings times, then increases
// linearly, and finally retries at intervals of max_backoff up to max_attempts times" — e.g. min 10s,
// max 300s, doublings 3 gives 10s, 20s, 40s, 80s, 160s, 240s, 300s, 300s. As a formula, retry k (0-based):
//   min(maxBackoff, k <= d ? minBackoff·2^k : minBackoff·2^d·(k−d+1)).
// HttpRequest reference: on 429 and 503 "Cloud Tasks will use a higher backoff rate. The retry
// specified in the Retry-After HTTP response header is considered."
// Production truncates backoffs to whole seconds; the emulator keeps sub-second values so tests run fast.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { startHarness, type Harness } from './helpers/harness.js';
import { gaps, statuses } from './helpers/receiver.js';

/** The documented delay before retry k (seconds). */
function expectedDelay(k: number, min: number, max: number, d: number): number {
  return Math.min(max, k <= d ? min * 2 ** k : min * 2 ** d * (k - d + 1));
}

// Timers may fire late on a busy machine, never early; allow a little clock skew below.
const EARLY_MS = 25;
const LATE_MS = 1500; // generous: a loaded machine fires timers late, never early

describe('the documented backoff formula', () => {
  it('reproduces the example of the RetryConfig reference (10s, 20s, 40s, 80s, 160s, 240s, 300s, 300s)', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((k) => expectedDelay(k, 10, 300, 3))).toEqual([10, 20, 40, 80, 160, 240, 300, 300]);
  });
});

describe.concurrent.each(MODES)('retry backoff (%s client)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('spaces retries by doubling, then linear growth, then maxBackoff', async () => {
    const min = 0.1;
    const max = 1.0;
    const d = 1;
    const queue = h.uniqueQueueId('backoff');
    await h.createQueue(queue, { retry: { minBackoff: min, maxBackoff: max, maxDoublings: d, maxAttempts: 7 } });
    const path = `/backoff/${mode}`;
    h.receiver.on(path, () => ({ status: 500 }));
    await h.createTask(queue, { path });
    const reqs = await h.receiver.waitFor(path, 7, 15_000);
    const measured = gaps(reqs);
    const expected = [0, 1, 2, 3, 4, 5].map((k) => Math.round(expectedDelay(k, min, max, d) * 1000));
    // 100, 200, 400 (linear: 200·2), 600 (200·3), 800 (200·4), 1000 (capped from 1000)
    expect(expected).toEqual([100, 200, 400, 600, 800, 1000]);
    measured.forEach((gap, k) => {
      expect(gap, `gap before retry ${k}`).toBeGreaterThanOrEqual(expected[k]! - EARLY_MS);
      expect(gap, `gap before retry ${k}`).toBeLessThan(expected[k]! + LATE_MS);
    });
    // The linear phase is visible: the gaps keep growing by the same step, not by doubling.
    expect(measured[4]! - measured[3]!).toBeLessThan(expected[4]! - expected[3]! + LATE_MS);
  });

  it('caps the delay at maxBackoff when doublings would exceed it', async () => {
    const queue = h.uniqueQueueId('backoff-cap');
    await h.createQueue(queue, { retry: { minBackoff: 0.1, maxBackoff: 0.3, maxDoublings: 16, maxAttempts: 5 } });
    const path = `/backoff-cap/${mode}`;
    h.receiver.on(path, () => ({ status: 500 }));
    await h.createTask(queue, { path });
    const measured = gaps(await h.receiver.waitFor(path, 5, 10_000));
    const expected = [100, 200, 300, 300];
    measured.forEach((gap, k) => {
      expect(gap, `gap before retry ${k}`).toBeGreaterThanOrEqual(expected[k]! - EARLY_MS);
      expect(gap, `gap before retry ${k}`).toBeLessThan(expected[k]! + LATE_MS);
    });
  });

  it.each([429, 503])('honours Retry-After (seconds) on a %i answer', async (status) => {
    const queue = h.uniqueQueueId(`retry-after-${status}`);
    await h.createQueue(queue, { retry: { minBackoff: 0.05, maxBackoff: 10, maxAttempts: 5 } });
    const path = `/retry-after-${status}/${mode}`;
    h.receiver.on(path, (i) => (i === 0 ? { status, headers: { 'Retry-After': '1' } } : { status: 200 }));
    await h.createTask(queue, { path });
    const reqs = await h.receiver.waitFor(path, 2, 10_000);
    const gap = reqs[1]!.at - reqs[0]!.at;
    // Without Retry-After the next try would come after 50 ms.
    expect(gap).toBeGreaterThanOrEqual(1000 - EARLY_MS);
    expect(gap).toBeLessThan(1000 + 2000);
    await h.emulator.waitForIdle({ timeoutMs: 5000 });
  });

  it.each([429, 503])('backs off at least as much as the retry config on a %i answer without Retry-After', async (status) => {
    const queue = h.uniqueQueueId(`harder-${status}`);
    await h.createQueue(queue, { retry: { minBackoff: 0.2, maxBackoff: 2, maxAttempts: 5 } });
    const path = `/harder-${status}/${mode}`;
    h.receiver.on(path, statuses(status, 200));
    await h.createTask(queue, { path });
    const reqs = await h.receiver.waitFor(path, 2, 10_000);
    const gap = reqs[1]!.at - reqs[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(200 - EARLY_MS);
    // "Higher backoff rate" is unquantified in production; bound it so a test setup stays usable.
    expect(gap).toBeLessThan(10_000);
    await h.emulator.waitForIdle({ timeoutMs: 5000 });
  });
});
