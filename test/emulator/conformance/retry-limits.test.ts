// Pins when Cloud Tasks gives up, and the attempt bookkeeping on the task.
// RetryConfig reference: "Cloud Tasks stops retrying only when max_attempts and max_retry_duration are
// both satisfied, or when the task is successfully executed … If max_attempts is set to -1 and
// max_retry_duration is set to 0, the task is retried until the maximum task retention limit is reached."
// max_retry_duration is "measured from when the task was first attempted".
// Task reference: dispatch_count "includes attempts which have been dispatched but haven't received a
// response"; response_count is "the number of attempts which have received a response";
// first_attempt keeps only dispatch_time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { errorCode, startHarness, toMs, type Harness } from './helpers/harness.js';
import { sleep } from './helpers/receiver.js';

const NOT_FOUND = 5;

describe.concurrent.each(MODES)('retry limits and attempt bookkeeping (%s client)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('stops after maxAttempts dispatches, deletes the task and reports it as dropped with its last status', async () => {
    const queue = h.uniqueQueueId('max-attempts');
    await h.createQueue(queue, { retry: { maxAttempts: 3, minBackoff: 0.02, maxBackoff: 0.05 } });
    const path = `/max-attempts/${mode}`;
    h.receiver.on(path, () => ({ status: 500 }));
    const task = await h.createTask(queue, { path, id: 'gives-up' });
    await h.receiver.waitFor(path, 3);
    await h.emulator.waitForIdle({ timeoutMs: 5000 });
    await sleep(300);
    expect(h.receiver.at(path)).toHaveLength(3);
    expect(await errorCode(() => h.client.getTask({ name: task.name! }))).toBe(NOT_FOUND);
    const dropped = h.emulator.droppedTasks().find((t) => t.name.endsWith(`/gives-up`) && t.queue.endsWith(queue));
    expect(dropped).toMatchObject({ dispatchCount: 3, lastStatus: 500 });
    expect(h.emulator.stats().dropped).toBeGreaterThanOrEqual(1);
  });

  it('retries without end when maxAttempts is -1 (until the task is deleted)', async () => {
    const queue = h.uniqueQueueId('unlimited');
    await h.createQueue(queue, { retry: { maxAttempts: -1, minBackoff: 0.01, maxBackoff: 0.03, maxRetryDuration: 0 } });
    const path = `/unlimited/${mode}`;
    h.receiver.on(path, () => ({ status: 500 }));
    const task = await h.createTask(queue, { path, id: 'forever' });
    await h.receiver.waitFor(path, 12, 10_000);
    const [live] = await h.client.getTask({ name: task.name! });
    expect(live.dispatchCount).toBeGreaterThanOrEqual(11);
    await h.client.deleteTask({ name: task.name! });
    await h.emulator.waitForIdle({ timeoutMs: 5000 });
    const count = h.receiver.at(path).length;
    await sleep(200);
    expect(h.receiver.at(path)).toHaveLength(count);
  });

  it('keeps retrying past maxAttempts until maxRetryDuration has passed since the first attempt', async () => {
    const queue = h.uniqueQueueId('duration-wins');
    await h.createQueue(queue, { retry: { maxAttempts: 2, maxRetryDuration: 1, minBackoff: 0.1, maxBackoff: 0.1 } });
    const path = `/duration-wins/${mode}`;
    h.receiver.on(path, () => ({ status: 500 }));
    await h.createTask(queue, { path });
    await h.receiver.waitFor(path, 3, 5000);
    await h.emulator.waitForIdle({ timeoutMs: 10_000 });
    const reqs = h.receiver.at(path);
    const span = reqs.at(-1)!.at - reqs[0]!.at;
    expect(reqs.length).toBeGreaterThanOrEqual(5);
    // The last retry is scheduled before the 1 s limit ran out; nothing long after it.
    expect(span).toBeGreaterThanOrEqual(800);
    expect(span).toBeLessThan(6000);
  });

  it('keeps retrying past maxRetryDuration until maxAttempts is reached', async () => {
    const queue = h.uniqueQueueId('attempts-win');
    await h.createQueue(queue, { retry: { maxAttempts: 6, maxRetryDuration: 1, minBackoff: 0.3, maxBackoff: 0.3 } });
    const path = `/attempts-win/${mode}`;
    h.receiver.on(path, () => ({ status: 500 }));
    await h.createTask(queue, { path });
    const reqs = await h.receiver.waitFor(path, 6, 10_000);
    await h.emulator.waitForIdle({ timeoutMs: 10_000 });
    await sleep(400);
    expect(h.receiver.at(path)).toHaveLength(6);
    // 5 gaps of 300 ms: well past the 1 s duration limit.
    expect(reqs.at(-1)!.at - reqs[0]!.at).toBeGreaterThanOrEqual(1500 - 50);
  });

  it('maintains dispatchCount, responseCount, firstAttempt and lastAttempt on the task', async () => {
    const queue = h.uniqueQueueId('bookkeeping');
    await h.createQueue(queue, { retry: { maxAttempts: 10, minBackoff: 0.5, maxBackoff: 0.5 } });
    const path = `/bookkeeping/${mode}`;
    // 409 (a response), dropped connection (no response), 500 (a response).
    h.receiver.on(path, (i) => (i === 1 ? { destroy: true } : { status: i === 0 ? 409 : 500 }));
    const created = await h.createTask(queue, { path, id: 'counted' });
    expect(Number(created.dispatchCount ?? 0)).toBe(0);
    expect(Number(created.responseCount ?? 0)).toBe(0);
    const reqs = await h.receiver.waitFor(path, 3, 5000);
    // Freeze the task before the fourth attempt (due 500 ms later) so it can be inspected.
    await h.client.pauseQueue({ name: h.queuePath(queue) });
    await sleep(150);
    const [task] = await h.client.getTask({ name: created.name! });
    expect(Number(task.dispatchCount)).toBe(3);
    expect(Number(task.responseCount)).toBe(2);
    const first = toMs(task.firstAttempt?.dispatchTime);
    const last = toMs(task.lastAttempt?.dispatchTime);
    expect(first).toBeDefined();
    expect(last).toBeDefined();
    expect(Math.abs(first! - reqs[0]!.wallAt)).toBeLessThan(1000);
    expect(Math.abs(last! - reqs[2]!.wallAt)).toBeLessThan(1000);
    expect(toMs(task.lastAttempt?.responseTime)).toBeGreaterThanOrEqual(last!);
    // The next attempt is scheduled one backoff after the last one.
    expect(toMs(task.scheduleTime)).toBeGreaterThan(last!);
    await h.client.deleteTask({ name: created.name! });
  });
});
