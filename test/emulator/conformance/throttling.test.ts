// Pins the emulator's model of Cloud Tasks' system throttling (docs/emulator.md, "Throttling model").
// HttpRequest reference: "If the target answers 429 or 503, or the rate of errors is high, Cloud Tasks
// will use a higher backoff rate ... and lower the queue's enforced rate"; "The retry specified in the
// Retry-After HTTP response header is considered." The algorithm is not published: these tests pin
// the model's observable behaviour over the real wire, through the queue stats.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueStats } from '../../../src/emulator/index.js';
import { startHarness, type Harness } from './helpers/harness.js';
import { sleep } from './helpers/receiver.js';

async function queueStats(h: Harness, id: string): Promise<QueueStats> {
  const res = await fetch(`${h.emulator.url}/emulator/stats`);
  const body = (await res.json()) as { queues: QueueStats[] };
  const q = body.queues.find((s) => s.queue === h.queuePath(id));
  if (q === undefined) throw new Error(`queue ${id} missing from /emulator/stats`);
  return q;
}

describe('system throttling (model)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('grpc');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lowers the enforced rate when the target answers 503, and raises it back as it succeeds', async () => {
    const queue = h.uniqueQueueId('throttle-503');
    await h.createQueue(queue, { retry: { minBackoff: 0.01, maxBackoff: 0.05 }, rate: { maxDispatchesPerSecond: 200 } });
    const path = '/throttle/503';
    h.receiver.on(path, (i) => ({ status: i < 3 ? 503 : 200 }));
    await h.createTask(queue, { path });
    await h.receiver.waitFor(path, 1);
    await h.emulator.waitForIdle();
    const throttled = await queueStats(h, queue);
    expect(throttled.mode).toBe('model');
    expect(throttled.maxDispatchesPerSecond).toBe(200);
    expect(throttled.enforcedRate).toBeLessThan(200);
    // Successes bring it back: 2 % per success from at least 25/s needs about 105 of them.
    const ok = '/throttle/503-recovery';
    for (let i = 0; i < 150; i++) await h.createTask(queue, { path: ok });
    await h.emulator.waitForIdle();
    const recovered = await queueStats(h, queue);
    expect(recovered.enforcedRate).toBe(200);
    expect(recovered.errorShare).toBeLessThan(0.1);
  });

  it('keeps the full rate when a few answers are 409 (a low error share)', async () => {
    const queue = h.uniqueQueueId('throttle-409');
    await h.createQueue(queue, { retry: { minBackoff: 0.01, maxBackoff: 0.05 }, rate: { maxDispatchesPerSecond: 200 } });
    const path = '/throttle/409';
    let n = 0;
    // Every tenth task answers 409 once, then 200.
    h.receiver.on(path, (_i, req) => ({ status: req.headers['x-cloudtasks-taskretrycount'] === '0' && n++ % 10 === 0 ? 409 : 200 }));
    for (let i = 0; i < 60; i++) await h.createTask(queue, { path });
    await h.emulator.waitForIdle();
    const stats = await queueStats(h, queue);
    expect(h.receiver.at(path).filter((r) => r.headers['x-cloudtasks-taskretrycount'] !== '0').length).toBe(6);
    expect(stats.errorShare).toBeGreaterThan(0);
    expect(stats.enforcedRate).toBe(200);
  });

  it('holds the whole queue back for the Retry-After of a 503', async () => {
    const queue = h.uniqueQueueId('throttle-retry-after');
    await h.createQueue(queue, { retry: { minBackoff: 0.01, maxBackoff: 0.05 } });
    const first = '/throttle/retry-after';
    const second = '/throttle/retry-after-other';
    h.receiver.on(first, (i) => (i === 0 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }));
    await h.createTask(queue, { path: first });
    const [answered] = await h.receiver.waitFor(first, 1);
    await sleep(50);
    const held = await queueStats(h, queue);
    expect(held.heldUntilMs).toBeGreaterThan(Date.now());
    // Another task created during the hold waits for it too.
    await h.createTask(queue, { path: second });
    const [other] = await h.receiver.waitFor(second, 1, 5000);
    expect(other!.at - answered!.at).toBeGreaterThanOrEqual(1000 - 25);
    await h.emulator.waitForIdle();
  });
});

describe('system throttling switched off', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('rest', { throttling: 'off' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('keeps the configured rate whatever the target answers', async () => {
    const queue = h.uniqueQueueId('throttle-off');
    await h.createQueue(queue, { retry: { minBackoff: 0.01, maxBackoff: 0.05, maxAttempts: 5 }, rate: { maxDispatchesPerSecond: 200 } });
    const path = '/throttle/off';
    h.receiver.on(path, () => ({ status: 503 }));
    await h.createTask(queue, { path });
    await h.receiver.waitFor(path, 5);
    await h.emulator.waitForIdle();
    const stats = await queueStats(h, queue);
    expect(stats.mode).toBe('off');
    expect(stats.enforcedRate).toBe(200);
  });
});
