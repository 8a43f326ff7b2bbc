// RunTask on a task whose dispatch is still in flight dispatches it again at once (production does
// the same). Whatever order the concurrent dispatches finish in, a task that none of them
// completed must be retried: it may never be left neither scheduled nor in flight.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODES } from './helpers/clients.js';
import { startHarness, type Harness } from './helpers/harness.js';
import { header } from './helpers/receiver.js';

describe.each(MODES)('RunTask on a task in flight (%s client)', (mode) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(mode);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('retries the task when the newer dispatch fails first and the older one fails after it', async () => {
    const queue = h.uniqueQueueId('run-concurrent');
    await h.createQueue(queue, { retry: { minBackoff: 0.05, maxBackoff: 0.1, maxAttempts: -1 } });
    const path = `/run-concurrent/${mode}`;
    // The scheduled dispatch answers 500 late; the RunTask one 500 at once; the retry 200.
    h.receiver.on(path, (i) => (i === 0 ? { delayMs: 400, status: 500 } : i === 1 ? { status: 500 } : { status: 200 }));
    const task = await h.createTask(queue, { path, id: 'twice' });
    await h.receiver.waitFor(path, 1);
    await h.client.runTask({ name: task.name! });
    const received = await h.receiver.waitFor(path, 3, 10_000);
    expect(received.map((r) => header(r, 'X-CloudTasks-TaskRetryCount'))).toEqual(['0', '1', '2']);
    await h.emulator.waitForIdle({ timeoutMs: 10_000 });
    expect(h.emulator.stats()).toMatchObject({ dropped: 0 });
  });
});
